package share

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// Job is something to write to a file once a path is chosen.
type Job struct {
	What   string // "curl command", "3 flows"
	Name   string // default file name
	Data   []byte // the bytes, or nil for flows
	Note   string // said after writing
	Path   string // the path chosen
	Format string // for flows: "har" or "jsonl"; "" until known

	flows   iter.Seq[*flowstore.Flow] // read as they are written
	creator har.Creator               // us, in HAR files
	chosen  int                       // flows chosen; fewer are written when some go meanwhile
	written int                       // flows written, counted by flows as it yields them
	drafts  int                       // of those, drafts a HAR file leaves out
}

// Flows saves the flows ids from s; they are read from the store one at a
// time while the file is written, since whole flows of a long session do
// not fit in memory together (most are spooled).
func Flows(s *flowstore.Store, ids []string, creator har.Creator, now time.Time) *Job {
	j := &Job{What: countFlows(len(ids)), chosen: len(ids), creator: creator}
	j.Name = "flows-" + now.Format("20060102-150405") + ".har"
	j.flows = func(yield func(*flowstore.Flow) bool) {
		j.written = 0
		for _, id := range ids {
			f, ok := s.Get(id)
			if !ok {
				continue // deleted or evicted since: left out, and counted out
			}
			j.written++
			if !yield(f) {
				return
			}
		}
	}
	return j
}

// SavesFlows reports whether j saves flows (HAR or JSON lines), not bytes.
func (j *Job) SavesFlows() bool { return j.flows != nil }

// Chosen is the number of flows chosen to save.
func (j *Job) Chosen() int { return j.chosen }

// FormatOf is the flow file format a path's extension names, "" for none.
func FormatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".har":
		return "har"
	case ".jsonl", ".ndjson", ".flows":
		return "jsonl"
	}
	return ""
}

// ExpandPath resolves ~/ and makes a relative path relative to dir.
func ExpandPath(p, dir string) string {
	p = strings.TrimSpace(p)
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(p) && dir != "" && !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") {
		return filepath.Join(dir, p)
	}
	return p
}

// Wrote says what a finished Write of n bytes put in the file.
func (j *Job) Wrote(n int64) string {
	what, note := j.What, j.Note
	if j.flows != nil {
		// The file holds the flows still there when it was written.
		what = countFlows(j.written-j.drafts) + map[string]string{"har": " as HAR", "jsonl": " as JSON lines"}[j.Format]
		if gone := j.chosen - j.written; gone > 0 {
			note += fmt.Sprintf("; %s of those chosen had gone meanwhile (past --max-flows, or cleared)", countFlows(gone))
		}
		if j.drafts > 0 {
			note += fmt.Sprintf("; %d unsent draft(s) left out (HAR holds exchanges; JSON lines keeps drafts)", j.drafts)
		}
	}
	return fmt.Sprintf("wrote %s to %s (%s)%s", what, j.Path, flowstore.FormatSize(n), note)
}

func countFlows(n int) string {
	if n == 1 {
		return "1 flow"
	}
	return fmt.Sprintf("%d flows", n)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Write writes the job to its Path through a temporary file renamed into
// place, and says how many bytes.
func (j *Job) Write() (int64, error) {
	dir := filepath.Dir(j.Path)
	tmp, err := os.CreateTemp(dir, ".interceptor-tui-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return 0, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 64<<10)
	cw := &countWriter{w: bw}
	switch {
	case j.flows == nil:
		_, err = cw.Write(j.Data)
	case j.Format == "har":
		j.drafts = 0
		err = har.WriteSeq(cw, func(yield func(*flowstore.Flow) bool) {
			for f := range j.flows {
				if !har.Holds(f) {
					j.drafts++
				}
				if !yield(f) {
					return
				}
			}
		}, j.creator)
	default:
		s := flowstore.NewSaver(cw)
		for f := range j.flows {
			if err = s.Save(f); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.Path)
	}
	return cw.n, err
}
