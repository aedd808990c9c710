package mitm

import (
	"bufio"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// A SOCKS5 listener (RFC 1928) takes CONNECT requests for IPv4, IPv6 and
// domain-name targets, with no authentication or, when --proxyauth is set,
// a username and password (RFC 1929); the tunnel is then served as a
// CONNECT tunnel is. No maintained Go SOCKS5 server module is on hand, and
// the protocol is small.

const (
	socksVersion    = 5
	socksNoAuth     = 0x00
	socksUserPass   = 0x02
	socksNoMethod   = 0xff
	socksConnect    = 0x01
	socksIPv4       = 0x01
	socksDomain     = 0x03
	socksIPv6       = 0x04
	socksOK         = 0x00
	socksFailure    = 0x01
	socksBadCommand = 0x07
	socksBadAddress = 0x08
)

// serveSOCKS5 serves one SOCKS5 client.
func (p *Proxy) serveSOCKS5(c *trackedConn, remote string, m *Mode) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(p.opts.HeaderTimeout))
	br := bufio.NewReader(c)
	target, err := p.socksHandshake(br, c)
	if err != nil {
		p.log.Add(flowstore.LevelWarn, "proxy", "", fmt.Sprintf("SOCKS5 client %s: %v", remote, err))
		return
	}
	_ = c.SetDeadline(time.Time{})
	p.tunnelTo(&peekedConn{Conn: c, r: br}, target, remote, m, "HTTP/1.1")
}

// socksHandshake negotiates a method, authenticates, reads the request and
// answers it; it returns the target host:port.
func (p *Proxy) socksHandshake(br *bufio.Reader, w io.Writer) (string, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return "", fmt.Errorf("reading the greeting: %w", err)
	}
	if hdr[0] != socksVersion {
		return "", fmt.Errorf("not a SOCKS5 greeting (version byte %#x)", hdr[0])
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return "", fmt.Errorf("reading the methods: %w", err)
	}
	want := byte(socksNoAuth)
	if p.opts.ProxyAuth != "" {
		want = socksUserPass
	}
	if !containsByte(methods, want) {
		_, _ = w.Write([]byte{socksVersion, socksNoMethod})
		if want == socksUserPass {
			return "", errors.New("the client offers no username and password, which --proxyauth requires")
		}
		return "", errors.New("the client offers no method this proxy accepts (no authentication)")
	}
	if _, err := w.Write([]byte{socksVersion, want}); err != nil {
		return "", err
	}
	if want == socksUserPass {
		if err := p.socksAuth(br, w); err != nil {
			return "", err
		}
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil {
		return "", fmt.Errorf("reading the request: %w", err)
	}
	if req[0] != socksVersion {
		return "", fmt.Errorf("a request of version %#x", req[0])
	}
	var host string
	switch req[3] {
	case socksIPv4, socksIPv6:
		n := net.IPv4len
		if req[3] == socksIPv6 {
			n = net.IPv6len
		}
		ip := make(net.IP, n)
		if _, err := io.ReadFull(br, ip); err != nil {
			return "", fmt.Errorf("reading the address: %w", err)
		}
		host = ip.String()
	case socksDomain:
		l, err := br.ReadByte()
		if err != nil {
			return "", fmt.Errorf("reading the name: %w", err)
		}
		name := make([]byte, l)
		if _, err := io.ReadFull(br, name); err != nil || l == 0 {
			return "", errors.New("reading the name: it is empty or cut short")
		}
		if !isHostName(name) {
			socksReply(w, socksBadAddress)
			return "", fmt.Errorf("%q is not a host name", name)
		}
		host = string(name)
	default:
		socksReply(w, socksBadAddress)
		return "", fmt.Errorf("address type %#x is not IPv4, IPv6 or a name", req[3])
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return "", fmt.Errorf("reading the port: %w", err)
	}
	if req[1] != socksConnect {
		socksReply(w, socksBadCommand)
		return "", fmt.Errorf("command %#x is not CONNECT (only CONNECT is served)", req[1])
	}
	n := binary.BigEndian.Uint16(port[:])
	if n == 0 {
		socksReply(w, socksFailure)
		return "", errors.New("port 0")
	}
	// Success is said before the origin is dialled, as CONNECT's 200 is:
	// what the client sends first decides how the tunnel is served.
	if err := socksReply(w, socksOK); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(int(n))), nil
}

// socksAuth is RFC 1929's username and password subnegotiation.
func (p *Proxy) socksAuth(br *bufio.Reader, w io.Writer) error {
	ver, err := br.ReadByte()
	if err != nil || ver != 1 {
		return errors.New("a username and password subnegotiation of another version")
	}
	field := func() ([]byte, error) {
		l, err := br.ReadByte()
		if err != nil {
			return nil, err
		}
		b := make([]byte, l)
		_, err = io.ReadFull(br, b)
		return b, err
	}
	user, err := field()
	if err != nil {
		return fmt.Errorf("reading the username: %w", err)
	}
	pass, err := field()
	if err != nil {
		return fmt.Errorf("reading the password: %w", err)
	}
	got := append(append(user, ':'), pass...)
	if subtle.ConstantTimeCompare(got, []byte(p.opts.ProxyAuth)) != 1 {
		_, _ = w.Write([]byte{1, 1})
		return errors.New("wrong username or password")
	}
	_, err = w.Write([]byte{1, 0})
	return err
}

// socksReply answers the request with code; the bound address is left
// empty (0.0.0.0:0), as clients ignore it for CONNECT.
func socksReply(w io.Writer, code byte) error {
	_, err := w.Write([]byte{socksVersion, code, 0, socksIPv4, 0, 0, 0, 0, 0, 0})
	return err
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// isHostName accepts the letters of a DNS name (an international one
// arrives as punycode): nothing that would change how host:port reads.
func isHostName(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
