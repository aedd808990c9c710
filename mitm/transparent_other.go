//go:build !linux

package mitm

import (
	"errors"
	"net"
)

func originalDst(net.Conn) (string, error) {
	return "", errors.New("transparent mode needs Linux (SO_ORIGINAL_DST)")
}
