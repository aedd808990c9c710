//go:build !linux

package js

import "time"

func gettid() int32 { return 0 }

// threadCPU cannot be read here: a hook past its deadline is taken to be
// running.
func threadCPU(int32) (time.Duration, bool) { return 0, false }
