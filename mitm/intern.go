package mitm

// Header names and values repeat from flow to flow; held flows share one
// copy of each.

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// commonNames are header names as they usually appear on the wire; a flow
// that uses one shares the string instead of holding its own copy.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
		"Connection", "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Date",
		"Server", "Cache-Control", "Cookie", "Set-Cookie", "Authorization", "Referer", "Origin",
		"If-None-Match", "If-Modified-Since", "ETag", "Last-Modified", "Expires", "Vary", "Location",
		"Keep-Alive", "Proxy-Connection", "Upgrade", "Pragma", "Age", "Via", "X-Forwarded-For",
		"X-Requested-With", "Access-Control-Allow-Origin", "Strict-Transport-Security"} {
		m[n] = n
		m[strings.ToLower(n)] = strings.ToLower(n)
	}
	return m
}()

func internName(b []byte) string {
	if s, ok := commonNames[string(b)]; ok { // no allocation for the lookup
		return s
	}
	return string(b)
}

// Header values repeat from flow to flow (user agents, content types,
// accepted encodings...). A small direct-mapped cache lets thousands of
// held flows share one copy of each; a miss just allocates, as before.
var valueCache [4096]atomic.Pointer[string]

func internValue(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 96 {
		return string(b)
	}
	slot := &valueCache[maphash.Bytes(valueSeed, b)%uint64(len(valueCache))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	v := string(b)
	slot.Store(&v)
	return v
}

var valueSeed = maphash.MakeSeed()
