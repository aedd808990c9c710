package main

import (
	"context"
	"fmt"
	"io"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

func runCA(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprintln(stdout, "usage: interceptor-tui ca path|show [--confdir DIR]")
		return 0
	}
	dir := ""
	for i := 1; i < len(args); i++ {
		if (args[i] == "--confdir" || args[i] == "-confdir") && i+1 < len(args) {
			dir = args[i+1]
		}
	}
	dir, err := confDir(dir)
	if err != nil {
		fmt.Fprintln(stderr, "interceptor-tui:", err)
		return 1
	}
	ca, err := loadCA(dir, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "interceptor-tui:", err)
		return 1
	}
	switch args[0] {
	case "path":
		fmt.Fprintf(stdout, "certificate: %s\nkey:         %s\n", ca.CertPath(), ca.KeyPath())
	case "show":
		fmt.Fprintf(stdout, "subject: %s\nSHA-256: %s\nSHA-1:   %s\nvalid:   %s to %s\n", ca.Cert.Subject, ca.FingerprintSHA256(), ca.FingerprintSHA1(), ca.Cert.NotBefore.Format("2006-01-02"), ca.Cert.NotAfter.Format("2006-01-02"))
	default:
		fmt.Fprintf(stderr, "interceptor-tui ca: unknown command %q\n", args[0])
		return 2
	}
	return 0
}

var _ = certs.CertFile
