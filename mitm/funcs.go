package mitm

import (
	"context"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Func adapters make a hook of one phase out of a function, as goproxy's
// FuncReqHandler and martian's modifier funcs do:
//
//	p.AddHook(mitm.RequestFunc(func(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) { ... }))

type RequestHeadersFunc func(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)

func (fn RequestHeadersFunc) RequestHeaders(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return fn(ctx, f)
}

type RequestFunc func(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)

func (fn RequestFunc) Request(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return fn(ctx, f)
}

type ResponseHeadersFunc func(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)

func (fn ResponseHeadersFunc) ResponseHeaders(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return fn(ctx, f)
}

type ResponseFunc func(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)

func (fn ResponseFunc) Response(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return fn(ctx, f)
}

type ResponseChunkFunc func(ctx context.Context, f *flowstore.Flow, chunk []byte, last bool) ([]byte, error)

func (fn ResponseChunkFunc) ResponseChunk(ctx context.Context, f *flowstore.Flow, chunk []byte, last bool) ([]byte, error) {
	return fn(ctx, f, chunk, last)
}

type ErrorFunc func(ctx context.Context, f *flowstore.Flow)

func (fn ErrorFunc) Error(ctx context.Context, f *flowstore.Flow) { fn(ctx, f) }

type DoneFunc func(ctx context.Context, f *flowstore.Flow)

func (fn DoneFunc) Done(ctx context.Context, f *flowstore.Flow) { fn(ctx, f) }

type WebSocketMessageFunc func(ctx context.Context, f *flowstore.Flow, m *flowstore.Message) (drop bool, err error)

func (fn WebSocketMessageFunc) WebSocketMessage(ctx context.Context, f *flowstore.Flow, m *flowstore.Message) (bool, error) {
	return fn(ctx, f, m)
}

var (
	_ RequestHeadersHook   = RequestHeadersFunc(nil)
	_ RequestHook          = RequestFunc(nil)
	_ ResponseHeadersHook  = ResponseHeadersFunc(nil)
	_ ResponseHook         = ResponseFunc(nil)
	_ ResponseChunkHook    = ResponseChunkFunc(nil)
	_ ErrorHook            = ErrorFunc(nil)
	_ DoneHook             = DoneFunc(nil)
	_ WebSocketMessageHook = WebSocketMessageFunc(nil)
)
