package mitm

// Replay: a flow's request sent again as a new flow, the way live traffic
// goes.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Replay sends a flow's request again as a new flow linked to the original.
// It goes the way live traffic goes (hooks and breakpoints apply) and needs
// no client. It returns the new flow's ID.
func (p *Proxy) Replay(id string) (string, error) {
	src, ok := p.store.Get(id)
	if !ok {
		return "", fmt.Errorf("replay: no flow %s", id)
	}
	if src.Request == nil {
		return "", errors.New("replay: the flow has no request")
	}
	if src.Request.Body.Truncated {
		return "", fmt.Errorf("replay: the request body was cut at the body limit (%s of %s kept)",
			flowstore.FormatSize(int64(len(src.Request.Body.Data))), flowstore.FormatSize(src.Request.Body.Size))
	}
	fr := src.Request.Clone()
	req, err := http.NewRequestWithContext(p.ctx, fr.Method, fr.URL(), nil)
	if err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	if err := applyRequest(req, fr, true, fr); err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	if fr.Proto == "" || fr.Proto == "HTTP/2.0" {
		fr.Proto = "HTTP/1.1"
	}
	now := time.Now()
	f := &flowstore.Flow{
		ID:       flowstore.NewID(),
		State:    flowstore.StateActive,
		Client:   flowstore.Client{Addr: "replay"},
		Request:  fr,
		ReplayOf: src.ID,
		Timings:  flowstore.Timings{Start: now},
	}
	ex := &exchange{p: p, id: f.ID, killMode: killByError, headBytes: 0, out: fr, urlHost: req.URL.Host}
	// A flow that came through an upstream proxy is replayed through it
	// again (mitmproxy#7280), while the proxy still serves that mode.
	ex.replayMode = p.modeNamed(src.Client.Mode)
	f.Client.Mode = src.Client.Mode
	ex.timings.Start = now
	ex.reqBody, ex.reqRead = fr.Body, true
	ex.server.Addr = hostPort(fr)
	f.Server = ex.server
	p.store.Add(f)
	go func() {
		resp, err := ex.roundTrip(req)
		if err != nil || resp == nil {
			return
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			// An upgraded connection has no client to carry anything for:
			// the replay ends with the handshake.
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		_ = resp.Body.Close()
	}()
	return f.ID, nil
}
