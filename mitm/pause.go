package mitm

// Pausing a flow at a breakpoint until a person, the client's departure, the
// intercept timeout or the proxy's end resolves it; killing one.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// pause holds the flow until a person resolves it, the client goes away, the
// intercept timeout passes, or the proxy stops. The flow's state in the
// store shows the pause; edits a person makes there are picked up on
// resume.
func (ex *exchange) pause(ctx context.Context, w *flowstore.Flow, phase flowstore.Phase, beforeReq *flowstore.Request, beforeResp *flowstore.Response) resolution {
	p := ex.p
	g := make(gate, 1)
	p.gates.Store(ex.id, g)
	defer p.gates.Delete(ex.id)
	now := time.Now()
	ex.update(func(f *flowstore.Flow) {
		if (beforeReq != nil && !sameRequest(beforeReq, w.Request)) || (beforeResp != nil && !sameResponse(beforeResp, w.Response)) {
			f.KeepOriginal()
		}
		f.Request, f.Response, f.Notes = w.Request, w.Response, w.Notes
		f.State, f.Paused, f.Since = flowstore.StatePaused, phase, now
	})
	var timeout <-chan time.Time
	if d := time.Duration(p.pauseTimeout.Load()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	gone, stopWatch := ex.watchClient(ctx, phase)
	var res resolution
	select {
	case res = <-g:
	case <-gone:
		res = resolution{verdict: flowstore.Kill, reason: "the client disconnected while the flow was paused", gone: true}
	case <-timeout:
		res = resolution{verdict: flowstore.Continue}
		w.Notes = append(w.Notes, "resumed unchanged after the intercept timeout")
	case <-p.ctx.Done():
		res = resolution{verdict: flowstore.Kill, reason: "the proxy stopped while the flow was paused"}
	}
	stopWatch()
	if snap, ok := ex.snapshot(); ok {
		notes := w.Notes
		w.Request, w.Response = snap.Request.Clone(), snap.Response.Clone()
		w.Marked, w.Comment, w.Original = snap.Marked, snap.Comment, snap.Original
		w.Notes = slices.Concat(snap.Notes, notes[min(len(notes), len(snap.Notes)):])
	}
	if res.verdict != flowstore.Kill {
		ex.update(func(f *flowstore.Flow) {
			f.State, f.Paused, f.Since = flowstore.StateActive, flowstore.PhaseNone, time.Time{}
		})
	}
	p.log.Add(flowstore.LevelInfo, "intercept", ex.id, fmt.Sprintf("%s released (%s) after %s", phase, res.verdict, time.Since(now).Round(time.Millisecond)))
	return res
}

// watchClient reports a client that hangs up while its flow is paused.
// Nothing reads an HTTP/1 client's connection while its flow waits, so
// the connection is watched; HTTP/2 streams end with their context.
func (ex *exchange) watchClient(ctx context.Context, phase flowstore.Phase) (<-chan struct{}, func()) {
	if cc := ex.cc; cc != nil {
		gone := cc.watch()
		return gone, func() {
			if !cc.body.finished() {
				cc.unwatch() // the body is still to be read, by its reader alone
			}
		}
	}
	return ctx.Done(), func() {}
}

// clientGoneAt ends the flow because its client went away.
func (ex *exchange) clientGoneAt(phase flowstore.Phase, reason string) {
	ex.killReason, ex.clientGone, ex.killPhase = reason, true, phase
}

// killed ends a flow that a person, a hook or the client's departure
// killed, and closes the client's connection.
func (ex *exchange) killed(phase flowstore.Phase) (*http.Response, error) {
	now := time.Now()
	reason := ex.killReason
	if reason == "" {
		reason = "killed by a hook"
	}
	if ex.killPhase != "" {
		phase = ex.killPhase
	}
	f, _ := ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		if ex.clientGone {
			f.Fail(phase, reason, now)
			return
		}
		f.State, f.Paused = flowstore.StateKilled, flowstore.PhaseNone
		f.Error = &flowstore.Error{Phase: phase, Message: reason}
		f.Timings.End = now
	})
	ex.markFinished()
	ex.runEndHooks(f)
	if ex.killMode == killByPanic {
		panic(http.ErrAbortHandler) // the HTTP/2 server resets the stream
	}
	if ex.cc != nil {
		if ex.resetConn {
			resetTCP(ex.cc.nc)
		}
		_ = ex.cc.nc.Close()
	}
	return nil, errKilled
}
