// Command interceptor-tui is an interactive terminal debugging proxy. This
// package only parses flags and wires the packages together: the engine
// (mitm), the store (flowstore), hooks (scripting), the CA (certs) and the
// interface (tui).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch args[0] {
		case "ca":
			return runCA(ctx, args[1:], stdin, stdout, stderr)
		case "browser":
			return runBrowser(ctx, args[1:], stdout, stderr)
		case "diff":
			return runDiff(args[1:], stdout, stderr)
		case "run":
			args = args[1:]
		case "help", "-h", "-help", "--help":
			// The usage with every flag, on stdout: asked for, not an error.
			_, _ = parseRunFlags([]string{"-h"}, stdout)
			return 0
		}
	}
	cfg, err := parseRunFlags(args, stderr)
	if err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintln(stderr, "interceptor-tui:", err)
		return 2
	}
	if err := runProxy(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "interceptor-tui:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `interceptor-tui: an interactive terminal debugging proxy

Usage:
  interceptor-tui [flags]            run the proxy with the terminal interface
  interceptor-tui --headless [flags] run the proxy, one line per flow on stdout
  interceptor-tui ca <command>       the CA certificate: path, show, export, install, doctor
  interceptor-tui browser [URL]      a Chromium that uses the proxy and trusts its CA
  interceptor-tui diff FILE#N FILE#M compare two saved flows (N counts a file's flows from 1)

Run "interceptor-tui --help" for the flags, "interceptor-tui ca help" for CA commands.
`)
}

// version names this build in HAR files and --version.
var version = "0.1.0-dev"
