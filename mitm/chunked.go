package mitm

// Message bodies on the HTTP/1 wire: the chunked coding (read strictly,
// written anew) and bodies of a known length.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// errMalformedChunk is a chunked body that breaks the coding's grammar.
var errMalformedChunk = errors.New("malformed chunked encoding")

// chunkedReader decodes a chunked body strictly: hexadecimal sizes that fit
// in 63 bits, CRLF line ends, CRLF after each chunk's data; trailer lines
// are kept in order. Anything else is errMalformedChunk, and nothing after
// it is read as the next message.
type chunkedReader struct {
	br       *bufio.Reader
	left     int64 // of the current chunk
	started  bool
	done     bool
	err      error
	lim      headLimits
	trailers flowstore.Headers
}

func newChunkedReader(br *bufio.Reader, lim headLimits) *chunkedReader {
	return &chunkedReader{br: br, lim: lim}
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if c.started {
			if err := c.crlf(); err != nil {
				return 0, c.fail(err)
			}
		}
		c.started = true
		n, err := c.size()
		if err != nil {
			return 0, c.fail(err)
		}
		if n == 0 {
			if err := c.readTrailers(); err != nil {
				return 0, c.fail(err)
			}
			c.done = true
			c.err = io.EOF
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *chunkedReader) fail(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	c.err = err
	return err
}

func (c *chunkedReader) crlf() error {
	b, err := c.br.Peek(2)
	if err != nil {
		return err
	}
	if b[0] != '\r' || b[1] != '\n' {
		return errMalformedChunk
	}
	_, _ = c.br.Discard(2)
	return nil
}

// size reads a chunk-size line: 1*HEXDIG, then optional extensions.
func (c *chunkedReader) size() (int64, error) {
	used := 0
	line, err := readStrictLine(c.br, &used, 4096)
	if err != nil {
		return 0, err
	}
	digits := line
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		digits = bytes.TrimRight(line[:i], " \t")
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, errMalformedChunk
	}
	var n int64
	for _, d := range digits {
		var v byte
		switch {
		case d >= '0' && d <= '9':
			v = d - '0'
		case d >= 'a' && d <= 'f':
			v = d - 'a' + 10
		case d >= 'A' && d <= 'F':
			v = d - 'A' + 10
		default:
			return 0, errMalformedChunk
		}
		n = n<<4 | int64(v)
	}
	return n, nil
}

func (c *chunkedReader) readTrailers() error {
	used := 0
	for {
		line, err := readStrictLine(c.br, &used, c.lim.bytes)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if len(c.trailers) >= c.lim.lines {
			return errMalformedChunk
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !isTokenBytes(name) {
			return errMalformedChunk
		}
		c.trailers = append(c.trailers, flowstore.Header{Name: string(name), Value: string(bytes.Trim(value, " \t"))})
	}
}

// readStrictLine reads a line of a chunked body, which must end in CRLF:
// a line a lenient parser would end elsewhere is how a smuggled request
// hides.
func readStrictLine(br *bufio.Reader, used *int, max int) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		*used += len(frag)
		if *used > max {
			return nil, errMalformedChunk
		}
		switch {
		case err == nil:
			if long != nil {
				frag = append(long, frag...)
			}
			n := len(frag)
			if n < 2 || frag[n-2] != '\r' || bytes.IndexByte(frag[:n-2], '\r') >= 0 {
				return nil, errMalformedChunk
			}
			return frag[:n-2], nil
		case err == bufio.ErrBufferFull:
			long = append(long, frag...)
		case err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// lengthReader reads exactly n bytes; an early end is io.ErrUnexpectedEOF.
type lengthReader struct {
	r    io.Reader
	left int64
}

func (l *lengthReader) Close() error { return nil }

func (l *lengthReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err == io.EOF {
		if l.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		err = nil
	}
	if l.left == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// chunkedWriter frames what is written as chunks; close writes the last
// chunk and the trailers.
type chunkedWriter struct{ bw *bufio.Writer }

func (c chunkedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var buf [20]byte
	c.bw.Write(strconv.AppendInt(buf[:0], int64(len(p)), 16))
	c.bw.WriteString("\r\n")
	c.bw.Write(p)
	_, err := c.bw.WriteString("\r\n")
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c chunkedWriter) close(trailers flowstore.Headers) error {
	c.bw.WriteString("0\r\n")
	for _, h := range trailers {
		c.bw.WriteString(h.Name)
		c.bw.WriteString(": ")
		c.bw.WriteString(h.Value)
		c.bw.WriteString("\r\n")
	}
	_, err := c.bw.WriteString("\r\n")
	return err
}
