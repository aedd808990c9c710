package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"sync"
)

// runRelay is "proxybench relay": a TCP relay that copies bytes between a
// client and the origin, with no TLS and no HTTP of its own. Started like
// the proxies (a process of its own, pinned to the proxies' CPU), it
// measures what one more process on the path costs on this machine, chiefly
// the wake-ups of a CPU that went idle: the floor under any proxy's added
// latency, which no amount of work saved in a proxy can go below.
func runRelay(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxybench relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on")
	to := fs.String("to", "", "`address` to relay every connection to")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *to == "" {
		fmt.Fprintln(stderr, "relay: --to is required")
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "relay:", err)
		return 1
	}
	closeOnSignal(ln)
	for {
		c, err := ln.Accept()
		if err != nil {
			return 0 // closed by the signal
		}
		go relay(c, *to)
	}
}

func relay(c net.Conn, to string) {
	defer c.Close()
	u, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	defer u.Close()
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(u, c)
		_ = u.(*net.TCPConn).CloseWrite()
	})
	_, _ = io.Copy(c, u)
	_ = c.(*net.TCPConn).CloseWrite()
	wg.Wait()
}
