package mitm

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
	"unsafe"
)

// originalDst is where a connection that the firewall redirected to us was
// going (SO_ORIGINAL_DST, from netfilter's connection tracking).
func originalDst(c net.Conn) (string, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return "", fmt.Errorf("not a TCP connection")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return "", err
	}
	const soOriginalDst = 80 // SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST
	var addr string
	var serr error
	err = rc.Control(func(fd uintptr) {
		var sa [28]byte // a sockaddr_in6 is the larger
		size := uint32(len(sa))
		level := syscall.SOL_IP
		if la, ok := c.LocalAddr().(*net.TCPAddr); ok && la.IP.To4() == nil {
			level = syscall.SOL_IPV6
		}
		_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, uintptr(level), soOriginalDst,
			uintptr(unsafe.Pointer(&sa[0])), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			serr = fmt.Errorf("SO_ORIGINAL_DST: %w (was the connection redirected by iptables/nftables?)", errno)
			return
		}
		port := int(sa[2])<<8 | int(sa[3])
		if level == syscall.SOL_IP {
			addr = net.JoinHostPort(net.IP(sa[4:8]).String(), strconv.Itoa(port))
		} else {
			addr = net.JoinHostPort(net.IP(sa[8:24]).String(), strconv.Itoa(port))
		}
	})
	if err != nil {
		return "", err
	}
	return addr, serr
}
