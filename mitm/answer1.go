package mitm

// Writing an answer to an HTTP/1 client: its head as the exchange says it goes, its
// body framed as that head says, 1xx answers before it, an upgraded
// connection after it.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// interim passes a 1xx answer from the origin to the client, which an
// HTTP/1.0 client must not be sent (RFC 9110 §15.2).
func (cc *conn1) interim(hd *head) {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	if cc.final || cc.http10 {
		return
	}
	if hd.b == "100" {
		if cc.sent100 {
			return
		}
		cc.sent100 = true
	}
	writeHead(cc.bw, hd.a, hd.b, hd.c, hd.hs)
	_ = cc.bw.Flush()
}

// send100 says 100 Continue when a body that expects it is first read.
func (cc *conn1) send100() error {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	if cc.final || cc.sent100 {
		return nil
	}
	cc.sent100 = true
	cc.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	return cc.bw.Flush()
}

// writeResponse writes the answer to the client, its head as the exchange
// says it goes (the origin's lines, or those a hook or a person left) and
// its body framed as that head says. It reports whether the connection may
// carry another request.
func (cc *conn1) writeResponse(ex *exchange, req *http.Request, resp *http.Response) bool {
	defer resp.Body.Close()
	var out *head
	ready := true // the whole body is at hand: its head need not go ahead of it
	if ex != nil && ex.respFor == resp {
		out = ex.respOut
		ready = ex.ready == nil || ex.ready()
	}
	if out == nil {
		// An answer of the proxy's own (an error, a page): its headers are ours.
		out = &head{a: "HTTP/1.1", b: strconv.Itoa(resp.StatusCode), c: reasonPhrase(resp.Status, resp.StatusCode), hs: flowstore.FromHTTP(resp.Header)}
		if resp.Close || cc.closing(req) {
			out.hs = append(out.hs, flowstore.Header{Name: "Connection", Value: "close"})
		}
	}
	status := resp.StatusCode
	frame, n, err := responseFraming(out.hs, req.Method, status)
	if err != nil {
		frame = frameClose
	}
	hs := out.hs
	if frame == frameChunked && cc.http10 {
		// An HTTP/1.0 client cannot read chunks: the body runs to the
		// connection's end instead, as HTTP/1.0 has it.
		hs = hs.Clone()
		hs.Del("Transfer-Encoding")
		frame = frameClose
	}
	cc.wmu.Lock()
	cc.final = true
	cc.wmu.Unlock()
	writeHead(cc.bw, out.a, out.b, out.c, hs)
	if status == http.StatusSwitchingProtocols {
		if err := cc.bw.Flush(); err != nil {
			return false
		}
		cc.endRequest() // the relay reads the connection from now on
		cc.relayUpgraded(resp.Body)
		return false
	}
	if !ready && frame != frameNone {
		// A body slow to follow must not hold its head up.
		if err := cc.bw.Flush(); err != nil {
			return false
		}
	}
	keep := !wantsClose(hs, out.a == "HTTP/1.0") && frame != frameClose
	if err := cc.writeBody(ex, resp, frame, n); err != nil {
		return false
	}
	return keep
}

// writeBody copies the body as it comes, flushing each piece: a stream
// reaches the client as the origin sends it.
func (cc *conn1) writeBody(ex *exchange, resp *http.Response, frame framing, n int64) error {
	if frame == frameNone {
		// An empty body still ends, for the flow and for the connection it
		// came on; one that is not empty has no place in this answer.
		var one [1]byte
		if _, err := resp.Body.Read(one[:]); err != nil && err != io.EOF {
			return err
		}
		return cc.bw.Flush()
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	var w io.Writer = cc.bw
	cw := chunkedWriter{bw: cc.bw}
	if frame == frameChunked {
		w = cw
	}
	var total int64
	for {
		k, rerr := resp.Body.Read(*buf)
		if k > 0 {
			if frame == frameLength && total+int64(k) > n {
				k = int(n - total) // more than the head announced: never sent
				rerr = errors.New("the body is longer than its Content-Length")
			}
			total += int64(k)
			if _, err := w.Write((*buf)[:k]); err != nil {
				return err
			}
			if err := cc.bw.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			_ = cc.bw.Flush()
			return rerr
		}
	}
	if frame == frameLength && total != n {
		_ = cc.bw.Flush()
		return fmt.Errorf("the body ended after %d of %d bytes", total, n)
	}
	if frame == frameChunked {
		var trailers flowstore.Headers
		if ex != nil && ex.respFor == resp && ex.trail != nil {
			trailers = ex.trail() // the origin's, in their order
		}
		if err := cw.close(trailers); err != nil {
			return err
		}
	}
	return cc.bw.Flush()
}

// relayUpgraded carries bytes both ways after a 101 until either side ends.
func (cc *conn1) relayUpgraded(up io.ReadCloser) {
	rw, ok := up.(io.ReadWriter)
	if !ok {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(rw, cc.br) // what the client sends, after anything buffered
		_ = up.Close()
	}()
	_, _ = io.Copy(cc.nc, rw)
	_ = cc.nc.Close()
	_ = up.Close()
	<-done
}
