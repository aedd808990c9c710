package mitm

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// ServerReplayOptions choose what a request must share with a recorded one
// to be answered from it (after mitmproxy's server_replay_* options).
type ServerReplayOptions struct {
	// Strict answers unmatched requests with 404 instead of sending them
	// upstream.
	Strict bool
	// IgnoreHost matches on method, scheme, path and query alone.
	IgnoreHost bool
	// IgnoreParams are query parameters left out of the match.
	IgnoreParams []string
	// IgnoreQuery leaves the whole query out of the match.
	IgnoreQuery bool
}

// ServerReplay answers requests from recorded flows without contacting the
// upstream: working offline against a recorded API. It is a
// RequestHeadersHook, so it runs before anything else.
type ServerReplay struct {
	opts  ServerReplayOptions
	mu    sync.Mutex
	byKey map[string]*replayQueue
}

// Recorded responses for one key are served in the order they were
// recorded; the last one keeps being served once the others are used.
type replayQueue struct {
	responses []*flowstore.Response
	next      int
}

// NewServerReplay indexes the flows that have a response.
func NewServerReplay(flows []*flowstore.Flow, opts ServerReplayOptions) *ServerReplay {
	s := &ServerReplay{opts: opts, byKey: make(map[string]*replayQueue)}
	for _, f := range flows {
		if f.Request == nil || f.Response == nil || f.Response.Body.Truncated {
			continue
		}
		k := s.key(f.Request)
		q := s.byKey[k]
		if q == nil {
			q = &replayQueue{}
			s.byKey[k] = q
		}
		q.responses = append(q.responses, f.Response)
	}
	return s
}

// Len is how many distinct requests can be answered.
func (s *ServerReplay) Len() int { return len(s.byKey) }

func (s *ServerReplay) key(r *flowstore.Request) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(r.Method))
	b.WriteByte(' ')
	if !s.opts.IgnoreHost {
		b.WriteString(r.Scheme + "://" + strings.ToLower(r.Host) + ":" + strconv.Itoa(r.Port))
	}
	b.WriteString(r.PathOnly())
	if !s.opts.IgnoreQuery {
		q, _ := url.ParseQuery(r.Query())
		for _, p := range s.opts.IgnoreParams {
			q.Del(p)
		}
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vs := append([]string(nil), q[k]...)
			sort.Strings(vs)
			for _, v := range vs {
				b.WriteString("&" + k + "=" + v)
			}
		}
	}
	return b.String()
}

// RequestHeaders answers a matching request from the recording.
func (s *ServerReplay) RequestHeaders(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	s.mu.Lock()
	q := s.byKey[s.key(f.Request)]
	var resp *flowstore.Response
	if q != nil {
		resp = q.responses[q.next]
		if q.next < len(q.responses)-1 {
			q.next++
		}
	}
	s.mu.Unlock()
	switch {
	case resp != nil && !answerStatus(resp.Status):
		// A recorded answer that cannot be sent (a loaded file can hold any
		// number) must not quietly become a visit to the real upstream.
		msg := fmt.Sprintf("server replay: the recorded answer for %s %s has status %d, which cannot be sent; the upstream was not contacted", f.Request.Method, f.Request.URL(), resp.Status)
		f.Response = &flowstore.Response{Status: 502, Reason: "Bad Gateway",
			Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
			Body:    flowstore.NewBody([]byte("interceptor-tui: " + msg + "\n"))}
		f.Notes = append(f.Notes, msg)
		return flowstore.Respond, nil
	case resp != nil:
		f.Response = resp.Clone()
		f.Notes = append(f.Notes, "answered by server replay")
		return flowstore.Respond, nil
	case s.opts.Strict:
		body := "interceptor-tui: no recorded response for " + f.Request.Method + " " + f.Request.URL() + " (--server-replay-strict)\n"
		f.Response = &flowstore.Response{Status: 404, Reason: "Not Found",
			Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
			Body:    flowstore.NewBody([]byte(body))}
		f.Notes = append(f.Notes, "server replay: no match (strict)")
		return flowstore.Respond, nil
	}
	return flowstore.Continue, nil
}
