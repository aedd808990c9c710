package mitm

import (
	"bufio"
	"fmt"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// serveTransparent serves a connection the firewall redirected to a
// transparent listener: a tunnel to where it was going.
func (p *Proxy) serveTransparent(c *trackedConn, remote string, m *Mode) {
	defer c.Close()
	target, err := originalDst(c.Conn)
	if err != nil {
		p.log.Add(flowstore.LevelWarn, "proxy", "", fmt.Sprintf("transparent client %s: %v", remote, err))
		return
	}
	if target == c.LocalAddr().String() {
		// Sent to the listener itself, not redirected: serving it would
		// dial ourselves for ever.
		p.log.Add(flowstore.LevelWarn, "proxy", "", "transparent client "+remote+" connected to the listener directly; it takes only redirected connections")
		return
	}
	p.tunnelTo(&peekedConn{Conn: c, r: bufio.NewReader(c)}, target, remote, m, "HTTP/1.1")
}
