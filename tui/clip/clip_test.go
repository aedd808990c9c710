package clip_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/tui/clip"
)

func TestOSC52Bytes(t *testing.T) {
	// "hello" is aGVsbG8= in base64.
	if got, want := string(clip.OSC52([]byte("hello"), clip.MuxNone)), "\x1b]52;c;aGVsbG8=\x07"; got != want {
		t.Errorf("plain = %q, want %q", got, want)
	}
	// Inside tmux, as it is: tmux's set-clipboard takes it; tmux drops its
	// passthrough form by default.
	if got, want := string(clip.OSC52([]byte("hello"), clip.MuxTmux)), "\x1b]52;c;aGVsbG8=\x07"; got != want {
		t.Errorf("tmux = %q, want %q", got, want)
	}
	if got, want := string(clip.OSC52([]byte("hello"), clip.MuxScreen)), "\x1bP\x1b]52;c;aGVsbG8=\x07\x1b\\"; got != want {
		t.Errorf("screen = %q, want %q", got, want)
	}
	// screen holds a DCS of limited length: long ones go in pieces of 76.
	long := clip.OSC52(bytes.Repeat([]byte("x"), 120), clip.MuxScreen) // 160 base64 bytes
	if got := strings.Count(string(long), "\x1b\\\x1bP"); got != 2 {
		t.Errorf("screen form of 160 base64 bytes has %d joins, want 2: %q", got, long)
	}
	// Bytes of any kind travel: the payload is base64.
	if got, want := string(clip.OSC52([]byte{0, 0xff, '\a', 0x1b}, clip.MuxNone)), "\x1b]52;c;AP8HGw==\x07"; got != want {
		t.Errorf("binary = %q, want %q", got, want)
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCopy(t *testing.T) {
	var out bytes.Buffer
	var native []string
	s := &clip.System{Out: &out, Native: func(s string) error { native = append(native, s); return nil }}
	r := s.Copy([]byte("curl 'https://example.test/'"))
	if !r.OK() || strings.Join(r.Via, ",") != clip.ViaOSC52+","+clip.ViaNative || len(r.Problems) != 0 {
		t.Fatalf("result = %+v", r)
	}
	if out.String() != string(clip.OSC52([]byte("curl 'https://example.test/'"), clip.MuxNone)) {
		t.Errorf("terminal got %q", out.String())
	}
	if len(native) != 1 || native[0] != "curl 'https://example.test/'" {
		t.Errorf("native got %q", native)
	}

	t.Run("tmux", func(t *testing.T) {
		var out bytes.Buffer
		var loaded []string
		s := clip.Auto(&out, true, env(map[string]string{"TMUX": "/tmp/tmux-1000/default,1,0"}))
		if s.Mux != clip.MuxTmux {
			t.Fatalf("Mux = %q inside tmux", s.Mux)
		}
		s.TmuxBuffer = func(b []byte) error { loaded = append(loaded, string(b)); return nil }
		r := s.Copy([]byte("hello"))
		if out.String() != "\x1b]52;c;aGVsbG8=\x07" {
			t.Errorf("terminal got %q", out.String())
		}
		if len(loaded) != 1 || loaded[0] != "hello" {
			t.Errorf("tmux buffer got %q", loaded)
		}
		if !r.OK() || !r.Sure() || strings.Join(r.Via, ",") != clip.ViaOSC52+","+clip.ViaTmux {
			t.Errorf("result = %+v", r)
		}
		if s.Native != nil {
			t.Error("no DISPLAY, yet the desktop clipboard is used")
		}
	})
	t.Run("tmux, too big for OSC 52: the buffer still takes it", func(t *testing.T) {
		var out bytes.Buffer
		s := &clip.System{Out: &out, Mux: clip.MuxTmux, Max: 3, TmuxBuffer: func([]byte) error { return nil }}
		r := s.Copy([]byte("hello"))
		if !r.OK() || !r.Sure() || !r.TooBig || out.Len() != 0 {
			t.Errorf("result = %+v, wrote %d bytes", r, out.Len())
		}
	})
	t.Run("only OSC 52: sent, not sure", func(t *testing.T) {
		var out bytes.Buffer
		r := clip.Auto(&out, true, env(nil)).Copy([]byte("hello"))
		if !r.OK() || r.Sure() {
			t.Errorf("result = %+v: OSC 52 alone is sent, never known to have worked", r)
		}
	})
	t.Run("screen", func(t *testing.T) {
		var out bytes.Buffer
		s := clip.Auto(&out, true, env(map[string]string{"STY": "1234.pts-0.host"}))
		s.Copy([]byte("hello"))
		if out.String() != "\x1bP\x1b]52;c;aGVsbG8=\x07\x1b\\" {
			t.Errorf("screen got %q", out.String())
		}
	})
	t.Run("too big for OSC 52", func(t *testing.T) {
		var out bytes.Buffer
		s := &clip.System{Out: &out, Max: 10}
		r := s.Copy([]byte("0123456789A"))
		if r.OK() || !r.TooBig || out.Len() != 0 {
			t.Errorf("result = %+v, wrote %d bytes", r, out.Len())
		}
	})
	t.Run("nothing works", func(t *testing.T) {
		s := &clip.System{Native: func(string) error { return errors.New("exit status 1") }}
		r := s.Copy([]byte("x"))
		if r.OK() || len(r.Problems) != 2 || !strings.Contains(r.Problems[1], "exit status 1") {
			t.Errorf("result = %+v", r)
		}
	})
}

func TestLocalDesktop(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"DISPLAY": ":0"}, true},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{map[string]string{"DISPLAY": "localhost:10.0", "SSH_CONNECTION": "10.0.0.2 5000 10.0.0.1 22"}, false},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0", "SSH_TTY": "/dev/pts/3"}, false},
		{nil, false},
	} {
		if got := clip.LocalDesktop(env(tc.env)); got != tc.want {
			t.Errorf("LocalDesktop(%v) = %v", tc.env, got)
		}
	}
}
