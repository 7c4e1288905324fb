//go:build !purego

package ops

//go:noescape
func fmaLoopAVX2(n int)

//go:noescape
func addChain(n int)

func hasFMALoop() bool { return CPU.AVX2 && CPU.FMA3 }

func fmaLoop(n int) { fmaLoopAVX2(n) }

// fmaFlopsPerCycle is the nominal float32 FMA throughput per core of the
// kernels in use: two 256-bit FMA pipes (Haswell and later, Zen 2 and
// later), 2 × 8 lanes × 2 flops.
func fmaFlopsPerCycle() int { return 32 }
