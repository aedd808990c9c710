package flowstore

// Verdict is what a hook, a breakpoint or a person decides about a flow. It
// lives here, beside the model, so that hook implementations (scripting)
// need not import the engine that calls them.
type Verdict uint8

const (
	// Continue: go on with the (possibly changed) flow.
	Continue Verdict = iota
	// Respond: answer the client with the flow's Response without going
	// (further) upstream. Later hooks of the phase are skipped.
	Respond
	// Kill: close the client's connection; the flow ends killed.
	Kill
	// Intercept: pause the flow for a person, as a breakpoint does.
	Intercept
)

func (v Verdict) String() string {
	switch v {
	case Continue:
		return "continue"
	case Respond:
		return "respond"
	case Kill:
		return "kill"
	case Intercept:
		return "intercept"
	}
	return "verdict?"
}

// The phases at which hooks run, as hooks and scripts spell them. The
// request and response phases (PhaseRequest, PhaseResponse) are also where
// a flow pauses or fails (Flow.Paused, Error.Phase): one vocabulary for
// both.
const (
	PhaseRequestHeaders   Phase = "requestheaders"
	PhaseResponseHeaders  Phase = "responseheaders"
	PhaseResponseChunk    Phase = "responsechunk"
	PhaseError            Phase = "error"
	PhaseDone             Phase = "done"
	PhaseWebSocketMessage Phase = "websocket_message"
)
