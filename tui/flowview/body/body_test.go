package body_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview/body"
)

var ctx = context.Background()

func dump(d *body.Doc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode=%s asked=%s info=%q\n", d.Mode, d.Asked, d.Info)
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for i := 0; i < d.Lines(); i++ {
		l, _ := d.Line(i)
		if d.IsHex() {
			fmt.Fprintf(&b, "%x\n", l)
			continue
		}
		fmt.Fprintf(&b, "|%s\n", l)
	}
	return b.String()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func src(ct string, data []byte) body.Source {
	return body.Source{Data: data, Size: int64(len(data)), ContentType: ct}
}

func pngBytes(w, h int) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)))
	return buf.Bytes()
}

func multipartBody() ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary("XyZ")
	mw.WriteField("user", "ada")
	fw, _ := mw.CreateFormFile("avatar", "me.png")
	fw.Write(pngBytes(2, 2))
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func TestRender(t *testing.T) {
	mp, mpType := multipartBody()
	gzJSON := gz([]byte(`{"b":[1,2.5,true,null],"a":"x"}`))
	tests := []struct {
		name  string
		src   body.Source
		mode  body.Mode
		width int
	}{
		{"json", src("application/json", []byte(`{"name":"ada","tags":["x","y"],"n":-1.5e3,"ok":true,"nil":null,"o":{}}`)), body.Auto, 40},
		{"json gzip", body.Source{Data: gzJSON, Size: int64(len(gzJSON)), ContentType: "application/json", ContentEncoding: "gzip"}, body.Auto, 40},
		{"ndjson", src("application/x-ndjson", []byte("{\"a\":1}\n{\"b\":2}\n")), body.Auto, 40},
		{"bad json falls back to text", src("application/json", []byte(`{"a":`)), body.Auto, 40},
		{"html", src("text/html", []byte(`<!DOCTYPE html><html><head><title>Hi</title><meta charset="utf-8"><script>var a = 1;
if (a) { go(); }</script></head><body><p class="x">Hello <b>world</b></p><br><!-- c --></body></html>`)), body.Auto, 60},
		{"xml", src("application/xml", []byte(`<?xml version="1.0"?><a x="1"><b>t</b><c/></a>`)), body.Auto, 40},
		{"form", src("application/x-www-form-urlencoded", []byte("user=ada+lovelace&pw=%C3%A9t%C3%A9&user=again&empty=")), body.Auto, 40},
		{"multipart", src(mpType, mp), body.Auto, 60},
		{"image", src("image/png", pngBytes(64, 32)), body.Auto, 40},
		{"binary", src("application/octet-stream", []byte("\x00\x01\x02hello, world\xff\xfe and more bytes")), body.Auto, 80},
		{"hex by hand", src("text/plain", []byte("hi")), body.Hex, 80},
		{"raw keeps encoding", body.Source{Data: gzJSON, Size: int64(len(gzJSON)), ContentType: "application/json", ContentEncoding: "gzip"}, body.Raw, 80},
		{"text wraps", src("text/plain", []byte("a short line\n"+strings.Repeat("0123456789", 5)+"\n\tx\n")), body.Auto, 20},
		{"truncated gzip", body.Source{Data: gzJSON[:10], Size: 400, Truncated: true, ContentType: "application/json", ContentEncoding: "gzip"}, body.Auto, 80},
		{"empty", src("text/plain", nil), body.Auto, 40},
		{"json asked for text", src("text/plain", []byte(`[1,2]`)), body.JSON, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := body.Render(ctx, tt.src, tt.mode, tt.width)
			if err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, []byte(dump(d)))
		})
	}
}

func TestWrapKeepsEveryByte(t *testing.T) {
	text := []byte("héllo wörld, ünïcode 日本語テキスト and\ttabs\nnext line\n\nend")
	for w := 8; w < 40; w++ {
		d, err := body.Render(ctx, src("text/plain", text), body.Text, w)
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for i := 0; i < d.Lines(); i++ {
			l, start := d.Line(i)
			if !bytes.Equal(text[start:start+len(l)], l) {
				t.Fatalf("width %d: line %d offset %d is wrong", w, i, start)
			}
			all = append(all, l...)
		}
		if want := bytes.ReplaceAll(text, []byte("\n"), nil); !bytes.Equal(all, want) {
			t.Fatalf("width %d: lines lose bytes:\n%q\n%q", w, all, want)
		}
	}
}

func TestSearch(t *testing.T) {
	text := strings.Repeat("x", 1<<20-2) + "NeEdle needle " + strings.Repeat("y", 100) + "needle"
	d, err := body.Render(ctx, src("text/plain", []byte(text)), body.Text, 80)
	if err != nil {
		t.Fatal(err)
	}
	ms, total, err := body.Search(ctx, d, "needle")
	if err != nil {
		t.Fatal(err)
	}
	if total != 3 || len(ms) != 3 || ms[0].Start != 1<<20-2 {
		t.Fatalf("smartcase search across a chunk seam: total %d, %+v", total, ms)
	}
	if _, total, _ := body.Search(ctx, d, "NeEdle"); total != 1 {
		t.Fatalf("case-sensitive search: %d", total)
	}
	if got := d.LineOf(ms[2].Start); got != d.Lines()-1 {
		t.Fatalf("LineOf last match = %d of %d lines", got, d.Lines())
	}
	in, first := body.MatchesIn(ms, ms[1].Start-1, ms[1].Start+1)
	if len(in) != 1 || first != 1 {
		t.Fatalf("MatchesIn = %v, %d", in, first)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := body.Search(cctx, d, "needle"); err == nil {
		t.Fatal("search ignores cancellation")
	}
}

func TestSpans(t *testing.T) {
	d, _ := body.Render(ctx, src("application/json", []byte(`{"k": "v", "n": 12, "t": true}`)), body.Auto, 80)
	l, _ := d.Line(1)
	var got []string
	for _, s := range d.Spans(1) {
		got = append(got, fmt.Sprintf("%d:%s", s.Class, l[s.Start:s.End]))
	}
	if strings.Join(got, " ") != `1:"k" 5:: 2:"v" 5:,` {
		t.Errorf("json spans = %v", got)
	}
	d, _ = body.Render(ctx, src("text/xml", []byte(`<a href="x" b='y'>t</a>`)), body.Auto, 80)
	l, _ = d.Line(0)
	got = nil
	for _, s := range d.Spans(0) {
		got = append(got, fmt.Sprintf("%d:%s", s.Class, l[s.Start:s.End]))
	}
	if strings.Join(got, " ") != `5:< 6:a 7:href 5:= 2:"x" 7:b 5:= 2:'y' 5:> 5:</ 6:a 5:>` {
		t.Errorf("xml spans = %v", got)
	}
}

func TestPreviewIsCheap(t *testing.T) {
	big := bytes.Repeat([]byte("line of text\n"), 8<<20/13)
	p := body.Preview(body.Source{Data: big, Size: 100 << 20}, 80)
	if p.Lines() > 64<<10/13+1 || !strings.Contains(p.Info, "100M") {
		t.Fatalf("preview has %d lines, info %q", p.Lines(), p.Info)
	}
}

func BenchmarkRenderJSON5MiB(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i := 0; buf.Len() < 5<<20; i++ {
		fmt.Fprintf(&buf, `{"id":%d,"name":"user %d","tags":["a","b"],"active":true},`, i, i)
	}
	buf.WriteString(`{}]`)
	s := src("application/json", buf.Bytes())
	for b.Loop() {
		if _, err := body.Render(ctx, s, body.Auto, 120); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearch100MiB(b *testing.B) {
	data := bytes.Repeat([]byte("lorem ipsum dolor sit amet, consectetur adipiscing elit\n"), 100<<20/56)
	d, err := body.Render(ctx, src("text/plain", data), body.Text, 120)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := body.Search(ctx, d, "adipiscing"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderText100MiB(b *testing.B) {
	data := bytes.Repeat([]byte("lorem ipsum dolor sit amet, consectetur adipiscing elit\n"), 100<<20/56)
	s := src("text/plain", data)
	for b.Loop() {
		if _, err := body.Render(ctx, s, body.Auto, 120); err != nil {
			b.Fatal(err)
		}
	}
}
