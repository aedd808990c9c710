package body

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

// Source is a body and what its headers say about it.
type Source struct {
	Data            []byte // the kept copy, as on the wire
	Size            int64  // the full size
	Truncated       bool   // Data is only the first part
	ContentType     string
	ContentEncoding string
}

// PrettyLimit is the largest body that is pretty-printed when the view is
// chosen automatically; larger ones are shown as text unless a view is
// asked for by hand.
const PrettyLimit = 16 << 20

// DecodeLimit bounds decoded output for display.
const DecodeLimit = 256 << 20

// Render makes the document of a body shown in mode, cut into lines of
// width cells. It may take a while on a large body: call it off the UI
// goroutine. It fails only when ctx is done.
func Render(ctx context.Context, src Source, mode Mode, width int) (*Doc, error) {
	asked := mode
	var notes []string
	if src.Truncated {
		notes = append(notes, fmt.Sprintf("truncated: %s of %s were kept", flowstore.FormatSize(int64(len(src.Data))), flowstore.FormatSize(src.Size)))
	}
	data := src.Data
	info := flowstore.FormatSize(src.Size)
	if mode != Raw && len(content.Encodings(src.ContentEncoding)) > 0 && len(data) > 0 {
		dec, err := content.Decode(data, src.ContentEncoding, DecodeLimit)
		if err != nil {
			notes = append(notes, fmt.Sprintf("cannot decode %s: %v; showing the raw bytes", src.ContentEncoding, err))
			mode = Raw
		} else {
			info = fmt.Sprintf("%s, %s → %s", info, strings.ToLower(src.ContentEncoding), flowstore.FormatSize(int64(len(dec))))
			data = dec
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(data) == 0 {
		d, _ := newText(ctx, nil, width)
		d.Mode, d.Asked, d.Info, d.Notes = Text, mode, "no body", notes
		if src.Size > 0 {
			d.Info = info + ", nothing kept"
		}
		return d, nil
	}

	kind := content.Classify(src.ContentType, data)
	if mode == Auto {
		mode = autoMode(kind)
		if len(data) > PrettyLimit && (mode == JSON || mode == XML || mode == HTML) {
			notes = append(notes, fmt.Sprintf("%s larger than %s: not pretty-printed (press the view key to force)", mode, flowstore.FormatSize(PrettyLimit)))
			mode = Text
		}
	}
	d, err := renderAs(ctx, mode, data, src)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		notes = append(notes, fmt.Sprintf("not %s: %v", mode, err))
		mode = Text
		if !content.LooksText(head(data)) {
			mode = Hex
		}
		d, err = renderAs(ctx, mode, data, src)
		if err != nil {
			return nil, err
		}
	}
	if !d.IsHex() {
		starts, err := wrap(ctx, d.text, width)
		if err != nil {
			return nil, err
		}
		d.starts, d.Width = starts, width
	}
	d.Mode, d.Asked = mode, asked
	// What the body is, not how it is shown: JSON viewed as a form is
	// still JSON (the title names the view apart).
	d.Info = kind.String() + ", " + info
	d.Notes = append(notes, d.Notes...)
	return d, nil
}

func head(b []byte) []byte { return b[:min(len(b), 4096)] }

func autoMode(k content.Kind) Mode {
	switch k {
	case content.KindJSON:
		return JSON
	case content.KindXML:
		return XML
	case content.KindHTML:
		return HTML
	case content.KindForm:
		return Form
	case content.KindMultipart:
		return Multipart
	case content.KindImage:
		return Image
	case content.KindBinary:
		return Hex
	}
	return Text
}

// renderAs builds the unwrapped document of data in one concrete mode.
func renderAs(ctx context.Context, mode Mode, data []byte, src Source) (*Doc, error) {
	switch mode {
	case JSON:
		t, err := prettyJSON(ctx, data)
		if err != nil {
			return nil, err
		}
		return &Doc{text: t, Lang: LangJSON}, nil
	case XML, HTML:
		t, err := indentMarkup(ctx, data, mode == HTML)
		if err != nil {
			return nil, err
		}
		return &Doc{text: t, Lang: LangXML}, nil
	case Form:
		t, keyW, err := formTable(data)
		if err != nil {
			return nil, err
		}
		return &Doc{text: t, Lang: LangTable, KeyW: keyW}, nil
	case Multipart:
		t, keyW, err := multipartTable(data, src.ContentType)
		if err != nil {
			return nil, err
		}
		return &Doc{text: t, Lang: LangTable, KeyW: keyW}, nil
	case Image:
		t, keyW, err := imageInfo(data, src.ContentType)
		if err != nil {
			return nil, err
		}
		return &Doc{text: t, Lang: LangTable, KeyW: keyW}, nil
	case Hex:
		return &Doc{hex: data}, nil
	case Raw:
		if content.LooksText(head(data)) {
			return &Doc{text: data}, nil
		}
		return &Doc{hex: data}, nil
	}
	return &Doc{text: data}, nil
}

// Preview is a cheap stand-in shown at once while a body renders: its
// first bytes as text or hex, undecoded, with its real size.
func Preview(src Source, width int) *Doc {
	const n = 64 << 10
	data := src.Data[:min(len(src.Data), n)]
	var d *Doc
	if content.LooksText(head(data)) && len(content.Encodings(src.ContentEncoding)) == 0 {
		// Cut at the last newline so a half line is not shown.
		if i := bytes.LastIndexByte(data, '\n'); i > 0 && len(data) < len(src.Data) {
			data = data[:i+1]
		}
		d, _ = newText(context.Background(), data, width)
		d.Mode = Text
	} else {
		d = &Doc{hex: data, Mode: Hex}
	}
	d.Info = fmt.Sprintf("%s, rendering…", flowstore.FormatSize(src.Size))
	return d
}
