package flowstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatSize renders a byte count the way people read it: 512B, 3.4k, 12M.
func FormatSize(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 10*1024:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + "k"
	case n < 1024*1024:
		return strconv.FormatInt(n/1024, 10) + "k"
	case n < 10*1024*1024:
		return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + "M"
	case n < 1024*1024*1024:
		return strconv.FormatInt(n/(1024*1024), 10) + "M"
	}
	return strconv.FormatFloat(float64(n)/(1024*1024*1024), 'f', 1, 64) + "G"
}

// FormatSizeExact writes n so that ParseSize reads back exactly n, in the
// largest binary unit that divides it: 512MiB, 16GiB, 1500B. Flag values
// and their defaults use it, where the number must be the one given;
// FormatSize, which rounds, is for reading at a glance.
func FormatSizeExact(n int64) string {
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// ParseSize reads a byte count with an optional binary unit, in any case,
// as people write them in flags: 1500, 512k, 8MiB, 1.5G, 64KB (k, KB and
// KiB all mean 1024). Negative, infinite and overflowing sizes are errors;
// zero is not, callers that need a positive size say so.
func ParseSize(v string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || math.IsNaN(f) || f*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (try 512k, 8MiB, 1G)", v)
	}
	return int64(f * float64(mult)), nil
}

// FormatDuration renders a duration compactly: 850µs, 12ms, 1.3s, 2m05s.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	m := int(d / time.Minute)
	s := int((d % time.Minute) / time.Second)
	return strconv.Itoa(m) + "m" + pad2(s) + "s"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// FormatLine is the one-line summary headless mode prints for a flow:
// time, client, method, URL, then status, response size and duration, or
// the error. Control bytes from the network or a loaded file (a reason
// phrase "OK\x1b]0;owned\x07") are written escaped, as EscapeControl
// does: the line goes to a terminal, which must show them, not obey them.
func FormatLine(f *Flow) string { return string(AppendLine(nil, f)) }

// AppendLine appends FormatLine's line to b, for a printer that writes
// many without making a string of each.
func AppendLine(b []byte, f *Flow) []byte {
	start := len(b)
	b = appendLine(b, f)
	for _, c := range b[start:] {
		if c < 0x20 || c >= 0x7f { // rare: only then is the line looked at closely
			esc := EscapeControl(string(b[start:]))
			return append(b[:start], esc...)
		}
	}
	return b
}

func appendLine(b []byte, f *Flow) []byte {
	b = f.Timings.Start.Local().AppendFormat(b, "15:04:05.000")
	b = append(b, ' ')
	b = append(b, f.Client.Addr...)
	b = append(b, ' ')
	if f.Request != nil {
		b = append(b, f.Request.Method...)
		b = append(b, ' ')
		b = f.Request.AppendURL(b)
	}
	if f.Response != nil {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(f.Response.Status), 10)
		if f.Response.Reason != "" {
			b = append(b, ' ')
			b = append(b, f.Response.Reason...)
		}
		b = append(b, ' ')
		b = append(b, FormatSize(f.Response.Body.Size)...)
	}
	if d := f.Timings.Duration(); d > 0 {
		b = append(b, ' ')
		b = append(b, FormatDuration(d)...)
	}
	switch {
	case f.State == StateKilled:
		// "killed by the user" says it already; "killed: killed by…" stutters.
		b = append(b, " !! "...)
		if f.Error == nil || !strings.HasPrefix(f.Error.Message, "killed") {
			b = append(b, "killed"...)
			if f.Error != nil {
				b = append(b, ": "...)
			}
		}
		if f.Error != nil {
			b = append(b, f.Error.Message...)
		}
	case f.Error != nil:
		b = append(b, " !! "...)
		b = append(b, f.Error.Message...)
	}
	return b
}

// Follow calls fn with the flows that finished since the last call (in
// the order they finished, as far as coalescing lets it tell) until ctx is
// done; then it drains what is left, closes the subscription and returns.
// fn runs on Follow's goroutine, never on a writer's; batching lets it
// write a batch with one system call. Subscribe before starting Follow in
// a goroutine, so that no flow added in between is missed; SubscribeTo
// (EventFinished) spares the subscription every other change.
func (sub *Subscription) Follow(ctx context.Context, fn func([]*Flow)) {
	sub.FollowEvery(ctx, 0, fn)
}

// FollowEvery is Follow waiting at least every between batches. On a busy
// proxy flows finish every few microseconds, and a wake-up and a write for
// each cost more than capturing the flow: a printer that batches for 20 ms
// does a fraction of the work, and a person still sees each line at once.
// (A saver does not wait: what finished before a crash must be on disk.)
func (sub *Subscription) FollowEvery(ctx context.Context, every time.Duration, fn func([]*Flow)) {
	defer sub.Close()
	var batch []*Flow
	drain := func() {
		events, reset := sub.Drain()
		if reset && sub.Lost != nil {
			sub.mu.Lock()
			n := sub.dropped
			sub.dropped = 0
			sub.mu.Unlock()
			sub.Lost(n)
		}
		batch = batch[:0]
		for _, ev := range events {
			if ev.Kind&EventFinished != 0 {
				batch = append(batch, ev.Flow)
			}
		}
		if len(batch) > 0 {
			fn(batch)
		}
	}
	var linger *time.Timer
	if every > 0 {
		linger = time.NewTimer(every)
		linger.Stop()
	}
	for {
		select {
		case <-sub.C:
			drain()
		case <-ctx.Done():
			drain()
			return
		}
		if linger == nil {
			continue
		}
		linger.Reset(every)
		select {
		case <-linger.C:
		case <-ctx.Done():
			drain()
			return
		}
	}
}
