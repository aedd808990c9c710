package flowstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// spoolLoc is where one flow's record sits in the spool.
type spoolLoc struct {
	seg uint32
	off uint32
	n   uint32
}

// segMax bounds a spool segment. Segments are the unit disk is given back
// in: one is deleted when the last flow in it is gone, or when the disk
// budget needs room (its flows are evicted then).
const segMax = 64 << 20

// spool is a directory of append-only segment files holding spooled flows
// (encodeRecord's format).
type spool struct {
	dir    string
	segMax int64
	create func(name string) (*os.File, error) // os.Create's kin; tests make it fail

	mu    sync.Mutex
	segs  map[uint32]*segment
	cur   *segment
	next  uint32
	bytes int64 // on disk, all segments
}

type segment struct {
	id   uint32
	f    *os.File
	size int64
	live int // records still referenced by the store
}

const spoolPrefix = "interceptor-tui-spool-"

// openSpool makes a fresh private directory under parent ("" for the
// system's temporary directory), after removing spools that processes
// killed before they could clean up left there.
func openSpool(parent string) (*spool, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	sweepStale(parent)
	dir, err := os.MkdirTemp(parent, spoolPrefix)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("spool: %w", err)
	}
	create := func(name string) (*os.File, error) {
		return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	}
	return &spool{dir: dir, segMax: segMax, create: create, segs: make(map[uint32]*segment), next: 1}, nil
}

// writeAll appends records, one write per segment they land in, and
// fills in where each went. It returns how many were written: on an error,
// the first n are in the spool and the rest are not.
func (sp *spool) writeAll(recs [][]byte, locs []spoolLoc) (n int, err error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var buf []byte
	for n < len(recs) {
		if sp.cur == nil || (sp.cur.size > 0 && sp.cur.size+int64(len(recs[n])) > sp.segMax) {
			if err := sp.rotate(); err != nil {
				return n, err
			}
		}
		seg, start := sp.cur, n
		buf = buf[:0]
		// An empty segment takes one record whatever its size.
		for n < len(recs) && (len(buf) == 0 && seg.size == 0 || seg.size+int64(len(buf)+len(recs[n])) <= sp.segMax) {
			locs[n] = spoolLoc{seg: seg.id, off: uint32(seg.size + int64(len(buf))), n: uint32(len(recs[n]))}
			buf = append(buf, recs[n]...)
			n++
		}
		if _, err := seg.f.WriteAt(buf, seg.size); err != nil {
			return start, fmt.Errorf("spool: write %s: %w", seg.f.Name(), err)
		}
		seg.size += int64(len(buf))
		seg.live += n - start
		sp.bytes += int64(len(buf))
	}
	return n, nil
}

func (sp *spool) rotate() error {
	if old := sp.cur; old != nil {
		sp.cur = nil
		if old.live == 0 {
			sp.removeLocked(old)
		}
	}
	name := filepath.Join(sp.dir, fmt.Sprintf("seg-%06d", sp.next))
	f, err := sp.create(name)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	seg := &segment{id: sp.next, f: f}
	sp.next++
	sp.segs[seg.id] = seg
	sp.cur = seg
	return nil
}

// read returns a record's bytes.
func (sp *spool) read(loc spoolLoc) ([]byte, error) {
	sp.mu.Lock()
	seg := sp.segs[loc.seg]
	sp.mu.Unlock()
	if seg == nil {
		return nil, fmt.Errorf("spool: segment %d is gone", loc.seg)
	}
	buf := make([]byte, loc.n)
	if _, err := seg.f.ReadAt(buf, int64(loc.off)); err != nil {
		return nil, fmt.Errorf("spool: read %s at %d: %w", seg.f.Name(), loc.off, err)
	}
	return buf, nil
}

// release says a record is no longer needed; a segment with none left is
// deleted unless it is still being written.
func (sp *spool) release(loc spoolLoc) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	seg := sp.segs[loc.seg]
	if seg == nil {
		return
	}
	seg.live--
	if seg.live <= 0 && seg != sp.cur {
		sp.removeLocked(seg)
	}
}

// has reports whether a segment is still there.
func (sp *spool) has(id uint32) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.segs[id] != nil
}

// oldest is the ID of the oldest segment, 0 when there is none.
func (sp *spool) oldest() uint32 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var min uint32
	for id := range sp.segs {
		if min == 0 || id < min {
			min = id
		}
	}
	return min
}

// drop deletes a segment whatever it still holds (the store evicts its
// flows first).
func (sp *spool) drop(id uint32) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if seg := sp.segs[id]; seg != nil {
		if seg == sp.cur {
			sp.cur = nil
		}
		sp.removeLocked(seg)
	}
}

func (sp *spool) removeLocked(seg *segment) {
	delete(sp.segs, seg.id)
	sp.bytes -= seg.size
	_ = seg.f.Close()
	_ = os.Remove(seg.f.Name())
}

// writing is the ID of the segment being written, 0 when none is.
func (sp *spool) writing() uint32 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.cur == nil {
		return 0
	}
	return sp.cur.id
}

// size is the bytes on disk.
func (sp *spool) size() int64 {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.bytes
}

// close deletes the spool directory and everything in it.
func (sp *spool) close() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, seg := range sp.segs {
		_ = seg.f.Close()
	}
	sp.segs, sp.cur, sp.bytes = map[uint32]*segment{}, nil, 0
	return os.RemoveAll(sp.dir)
}

// sweepStale removes spool directories under parent whose owner process is
// gone (a kill -9 leaves its spool behind; it is nobody's any more).
func sweepStale(parent string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue // not made by us, or still being made
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}
