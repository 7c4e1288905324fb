//go:build !linux

package ops

import "time"

// threadCPUTime falls back to the wall clock where the thread's CPU time
// is not available.
func threadCPUTime() time.Duration { return time.Duration(time.Now().UnixNano()) }

// processCPUTime falls back to the wall clock.
func processCPUTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
