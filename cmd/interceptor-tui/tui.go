package main

import (
	"context"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/tui"
)

// The engine as the TUI sees it.
var _ tui.Engine = (*mitm.Proxy)(nil)
var _ tui.BreakpointLister = (*mitm.Proxy)(nil)

func runTUI(ctx context.Context, cfg *config, dir string, store *flowstore.Store, evlog *flowstore.EventLog, proxy *mitm.Proxy, flt *filter.Filter) error {
	return tui.Run(ctx, tui.Options{
		Store:   store,
		Log:     evlog,
		Engine:  proxy,
		ConfDir: dir,
		Filter:  flt.String(),
	})
}
