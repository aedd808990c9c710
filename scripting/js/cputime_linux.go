package js

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

func gettid() int32 { return int32(syscall.Gettid()) }

// threadCPU is how long a thread of this process has run, from the first
// field of /proc/self/task/TID/schedstat (nanoseconds on a CPU).
func threadCPU(tid int32) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(int(tid)) + "/schedstat")
	if err != nil {
		return 0, false
	}
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(n), true
}
