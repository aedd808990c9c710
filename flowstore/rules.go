package flowstore

// Breakpoint pauses flows that match Filter at the request phase, the
// response phase, or both (mitmproxy's intercept filter is both). It is
// plain data here so the engine, the TUI and the flags share one type.
type Breakpoint struct {
	Filter   string
	Request  bool
	Response bool
	Disabled bool
}

// Phases names where a breakpoint pauses: "request", "response" or "both".
func (b Breakpoint) Phases() string {
	switch {
	case b.Request && b.Response:
		return "both"
	case b.Response:
		return "response"
	}
	return "request"
}

// Mock is a standing answer: requests that match get Response without the
// upstream being contacted ("keep this edit"). It matches by method and URL,
// or by a filter when Filter is set.
type Mock struct {
	Method   string
	URL      string
	Filter   string
	Response *Response
	Disabled bool
	// FlowID is the flow the mock was made from (it carries the mock, so
	// mocks are saved and loaded with the flows).
	FlowID string
	Hits   int64 // counted by the engine
}

// Describe is how a mock is named in lists.
func (m Mock) Describe() string {
	if m.Filter != "" {
		return m.Filter
	}
	return m.Method + " " + m.URL
}

// MockRule on a flow makes that flow a standing mock: its request's method
// and URL (or Filter) select requests, its response answers them.
type MockRule struct {
	Filter   string `json:"filter,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// MocksFrom collects the standing mocks carried by flows.
func MocksFrom(flows []*Flow) []Mock {
	var out []Mock
	for _, f := range flows {
		if f.Mock == nil || f.Request == nil || f.Response == nil {
			continue
		}
		out = append(out, Mock{
			Method: f.Request.Method, URL: f.Request.URL(), Filter: f.Mock.Filter,
			Response: f.Response, Disabled: f.Mock.Disabled, FlowID: f.ID,
		})
	}
	return out
}
