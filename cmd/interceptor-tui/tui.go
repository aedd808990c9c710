package main

import (
	"context"
	"errors"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

func runTUI(ctx context.Context, cfg *config, dir string, store *flowstore.Store, evlog *flowstore.EventLog, proxy *mitm.Proxy, flt *filter.Filter) error {
	return errors.New("the terminal interface is not wired in yet; run with --headless")
}
