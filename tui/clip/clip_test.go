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
	if got, want := string(clip.OSC52([]byte("hello"), false)), "\x1b]52;c;aGVsbG8=\x07"; got != want {
		t.Errorf("plain = %q, want %q", got, want)
	}
	if got, want := string(clip.OSC52([]byte("hello"), true)), "\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\"; got != want {
		t.Errorf("tmux = %q, want %q", got, want)
	}
	// Bytes of any kind travel: the payload is base64.
	if got, want := string(clip.OSC52([]byte{0, 0xff, '\a', 0x1b}, false)), "\x1b]52;c;AP8HGw==\x07"; got != want {
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
	if out.String() != string(clip.OSC52([]byte("curl 'https://example.test/'"), false)) {
		t.Errorf("terminal got %q", out.String())
	}
	if len(native) != 1 || native[0] != "curl 'https://example.test/'" {
		t.Errorf("native got %q", native)
	}

	t.Run("tmux", func(t *testing.T) {
		var out bytes.Buffer
		s := clip.Auto(&out, true, env(map[string]string{"TMUX": "/tmp/tmux-1000/default,1,0"}))
		r := s.Copy([]byte("hello"))
		if out.String() != "\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\x07\x1b\\" {
			t.Errorf("tmux-wrapped bytes = %q", out.String())
		}
		if !r.OK() || r.Via[0] != clip.ViaOSC52 {
			t.Errorf("result = %+v", r)
		}
		if s.Native != nil {
			t.Error("no DISPLAY, yet the desktop clipboard is used")
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
