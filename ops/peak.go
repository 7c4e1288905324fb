package ops

import (
	"runtime"
	"sync"
	"time"
)

// Peak describes the machine's floating-point throughput, measured.
type Peak struct {
	GHz         float64 // core clock, from a chain of dependent additions
	Cores       int     // workers measured at once
	FlopsCycle  int     // float32 flops per cycle per core of the widest FMA in use (0: none)
	Theoretical float64 // Cores·GHz·FlopsCycle GFLOPS
	FMALoop     float64 // GFLOPS of a loop of independent FMAs on all cores at once
}

// MeasurePeak measures the clock and the FMA throughput of every worker
// at once, each for about d of its own CPU time (thread CPU time, so that
// other processes on the cores do not lower the figures).
func MeasurePeak(d time.Duration) Peak {
	p := Peak{Cores: Workers}
	if !hasFMALoop() {
		return p
	}
	p.FlopsCycle = fmaFlopsPerCycle()
	rates := make([]float64, Workers)
	clocks := make([]float64, Workers)
	var wg sync.WaitGroup
	for w := range Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			clocks[w] = perCPUSecond(d, 1<<20, func(n int) { addChain(n) }) * 8 / 1e9
			rates[w] = perCPUSecond(d, 1<<18, func(n int) { fmaLoop(n) }) * 192 / 1e9
		}()
	}
	wg.Wait()
	for w := range Workers {
		p.FMALoop += rates[w]
		p.GHz += clocks[w] / float64(Workers)
	}
	p.Theoretical = float64(p.Cores) * p.GHz * float64(p.FlopsCycle)
	return p
}

// perCPUSecond runs f(n), n growing from n0, until one run used d of
// thread CPU time, and returns iterations per CPU second of that run.
func perCPUSecond(d time.Duration, n0 int, f func(int)) float64 {
	n := n0
	for {
		t0 := threadCPUTime()
		f(n)
		el := threadCPUTime() - t0
		if el >= d || n > 1<<40 {
			return float64(n) / el.Seconds()
		}
		// aim just past d
		if el > time.Millisecond {
			n = int(float64(n) * 1.1 * d.Seconds() / el.Seconds())
		} else {
			n *= 8
		}
	}
}
