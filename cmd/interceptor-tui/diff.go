package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/compare"
)

// runDiff is `interceptor-tui diff FILE#N FILE#M`: the unified diff of two
// saved flows, for scripts. Exit status as diff(1)'s: 0 the same, 1
// different, 2 trouble.
func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	context := fs.Int("U", 3, "lines of `context` around each change")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: interceptor-tui diff [-U N] FILE#N FILE#M\n\n"+
			"Compares two flows saved in JSON lines or HAR files (N counts a file's flows from 1),\n"+
			"bodies normalised first (JSON keys sorted, forms by field, compressed bodies decoded).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	var flows [2]*flowstore.Flow
	for i, ref := range fs.Args() {
		f, err := flowAt(ref, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "interceptor-tui diff:", err)
			return 2
		}
		flows[i] = f
	}
	d := compare.Flows(flows[0], flows[1], fs.Arg(0), fs.Arg(1))
	if d.Same {
		return 0
	}
	io.WriteString(stdout, d.Unified(*context))
	return 1
}

// flowAt reads FILE#N: the Nth flow of FILE, counted from 1.
func flowAt(ref string, stderr io.Writer) (*flowstore.Flow, error) {
	i := strings.LastIndexByte(ref, '#')
	if i < 0 {
		return nil, fmt.Errorf("%q: want FILE#N, N counting the file's flows from 1", ref)
	}
	n, err := strconv.Atoi(ref[i+1:])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%q: %q is not a flow number (1, 2, ...)", ref, ref[i+1:])
	}
	log := flowstore.NewEventLog(100)
	log.PrintTo(stderr, flowstore.LevelWarn)
	flows, err := readFlowFile(ref[:i], log)
	if err != nil {
		return nil, err
	}
	if n > len(flows) {
		return nil, fmt.Errorf("%q: the file holds %d flows", ref, len(flows))
	}
	return flows[n-1], nil
}
