package ops

import (
	"runtime"
	"sync"
)

// Workers is the number of goroutines kernels split work across.
var Workers = runtime.GOMAXPROCS(0)

// Parallel calls fn on disjoint ranges covering [0, n), splitting into at
// most Workers pieces of at least grain items. Small jobs run inline.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if grain < 1 {
		grain = 1
	}
	pieces := min(Workers, (n+grain-1)/grain)
	if pieces <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	step := (n + pieces - 1) / pieces
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// ParallelRows runs fn over [0, rows) in row ranges, each range of at
// least grainElems/rowLen rows, for row-wise kernels.
func ParallelRows(rows, rowLen, grainElems int, fn func(lo, hi int)) {
	Parallel(rows, max(1, grainElems/max(rowLen, 1)), fn)
}
