//go:build unix

package mitm

import (
	"net"
	"syscall"
)

// quiet reports whether nothing is waiting to be read on c and its peer has
// not hung up, without reading or waiting: a peek that may not block.
// A connection it cannot look into counts as quiet.
func quiet(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ok = true
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// n == 0: the peer closed; n > 0: bytes nobody asked for (a TLS
		// close_notify, say); an error other than "nothing yet": broken.
		ok = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true // never wait for readiness
	})
	return ok && err == nil
}
