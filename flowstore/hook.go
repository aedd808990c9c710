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

// Hook phase names, as hooks and scripts spell them.
const (
	HookRequestHeaders   = "requestheaders"
	HookRequest          = "request"
	HookResponseHeaders  = "responseheaders"
	HookResponse         = "response"
	HookResponseChunk    = "responsechunk"
	HookError            = "error"
	HookDone             = "done"
	HookWebSocketMessage = "websocket_message"
)
