package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/ops/ref"
)

func randF32(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// kernels lists the micro-kernels this machine can run.
func kernels() map[string]func(k int, a, b, c []float32, ldc int) {
	ks := map[string]func(k int, a, b, c []float32, ldc int){"go": microKernelGo}
	if microKernel != nil && kernelName != "go" {
		ks[kernelName] = microKernel
	}
	return ks
}

// TestMicroKernels compares every micro-kernel with a float64 sum on
// packed panels of awkward depths, adding into a C with a row stride
// larger than the tile and checking that nothing outside it is touched.
func TestMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for name, kern := range kernels() {
		for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 17, 255, 256, 1000} {
			a, b := randF32(rng, mr*k), randF32(rng, nr*k)
			const ldc = nr + 5
			c := randF32(rng, mr*ldc)
			c0 := append([]float32(nil), c...)
			kern(k, a, b, c, ldc)
			for i := range mr {
				for j := range ldc {
					want := float64(c0[i*ldc+j])
					if j < nr {
						for p := range k {
							want += float64(a[mr*p+i]) * float64(b[nr*p+j])
						}
					}
					got := float64(c[i*ldc+j])
					if j >= nr && got != want {
						t.Fatalf("%s k=%d: c[%d][%d] outside the tile changed", name, k, i, j)
					}
					// float32 accumulation of k products of magnitude ≤ 1
					if math.Abs(got-want) > 1e-6*float64(k+1) {
						t.Fatalf("%s k=%d: c[%d][%d] = %v, want %v", name, k, i, j, got, want)
					}
				}
			}
		}
	}
}

// TestMatMul compares MatMul with ref.MatMulNT on sizes that exercise
// every edge: empty, single, odd, partial register tiles, K not a
// multiple of the block, and every weight type.
func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	sizes := [][3]int{
		{0, 5, 3}, {3, 0, 5}, {3, 5, 0}, {1, 1, 1}, {1, 7, 1}, {5, 3, 17}, {6, 16, 16}, {7, 17, 15},
		{13, 255, 31}, {12, 257, 33}, {145, 300, 47}, {150, 513, 100}, {2, 1000, 3000}, {300, 40, 2},
	}
	for _, s := range sizes {
		m, k, n := s[0], s[1], s[2]
		for _, dt := range []dtype.DType{dtype.F32, dtype.BF16, dtype.F16, dtype.F8E4M3, dtype.F8E5M2} {
			for _, withBias := range []bool{false, true} {
				a := randF32(rng, m*k)
				bm := Matrix{N: n, K: k, DType: dt}
				wf := make([]float32, n*k)
				if dt == dtype.F32 {
					bm.F32 = randF32(rng, n*k)
					copy(wf, bm.F32)
				} else {
					bm.Raw = make([]byte, n*k*dt.Size())
					for i := range bm.Raw {
						bm.Raw[i] = byte(rng.UintN(256)) & 0x3b // finite in every encoding
					}
					dtype.ToF32(dt, bm.Raw, wf)
				}
				var bias []float32
				if withBias {
					bias = randF32(rng, n)
				}
				want := make([]float32, m*n)
				ref.MatMulNT(want, a, wf, m, n, k)
				for i := range m {
					for j := range n {
						if bias != nil {
							want[i*n+j] += bias[j]
						}
					}
				}
				got := make([]float32, m*n)
				for i := range got {
					got[i] = float32(math.NaN()) // every element must be written
				}
				MatMul(got, a, m, bm, bias)
				var scale float64
				for _, v := range wf {
					scale = max(scale, math.Abs(float64(v)))
				}
				tol := 1e-6 * float64(k+1) * max(scale, 1)
				for i := range want {
					if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol) {
						t.Fatalf("m%d k%d n%d %v bias %v: [%d] = %v, want %v", m, k, n, dt, withBias, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestMatMulKernelsAgree runs the whole blocked product with each
// micro-kernel: the portable one must agree with the SIMD one.
func TestMatMulKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	m, k, n := 37, 700, 45
	a := randF32(rng, m*k)
	b := Matrix{N: n, K: k, DType: dtype.F32, F32: randF32(rng, n*k)}
	saved := microKernel
	defer func() { microKernel = saved }()
	var outs [][]float32
	for _, kern := range kernels() {
		microKernel = kern
		c := make([]float32, m*n)
		MatMul(c, a, m, b, nil)
		outs = append(outs, c)
	}
	for _, c := range outs[1:] {
		for i := range c {
			if math.Abs(float64(c[i]-outs[0][i])) > 1e-4 {
				t.Fatalf("[%d]: %v vs %v", i, c[i], outs[0][i])
			}
		}
	}
}

// reportPeak prints the machine's peak once per benchmark run.
var peakOnce = func() func(b *testing.B) {
	var p *Peak
	return func(b *testing.B) {
		if p == nil {
			pp := MeasurePeak(50 * time.Millisecond)
			p = &pp
			fmt.Printf("machine: %s; %d cores at %.2f GHz (measured), %d flops/cycle/core: theoretical peak %.1f GFLOPS; FMA loop %.1f GFLOPS\n",
				Describe(), p.Cores, p.GHz, p.FlopsCycle, p.Theoretical, p.FMALoop)
		}
		b.ReportMetric(p.Theoretical, "peak-GFLOPS")
	}
}()

// BenchmarkMatMulFLUX measures MatMul on FLUX.1's linear layers (4096
// image + 128 text tokens, hidden 3072, MLP 12288), reporting GFLOPS by
// the wall clock and per CPU second × cores (the rate with the cores to
// itself), next to the machine's theoretical peak.
func BenchmarkMatMulFLUX(b *testing.B) {
	for _, s := range [][3]int{{4224, 3072, 3072}, {4224, 3072, 12288}, {4224, 12288, 3072}} {
		for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
			b.Run(fmt.Sprintf("M%d_K%d_N%d_%v", s[0], s[1], s[2], dt), func(b *testing.B) {
				benchMatMul(b, s[0], s[1], s[2], dt)
			})
		}
	}
}

// BenchmarkMatMulSmall measures shapes that fit the caches.
func BenchmarkMatMulSmall(b *testing.B) {
	for _, s := range [][3]int{{256, 256, 256}, {512, 1024, 512}, {64, 3072, 3072}} {
		b.Run(fmt.Sprintf("M%d_K%d_N%d", s[0], s[1], s[2]), func(b *testing.B) {
			benchMatMul(b, s[0], s[1], s[2], dtype.F32)
		})
	}
}

func benchMatMul(b *testing.B, m, k, n int, dt dtype.DType) {
	rng := rand.New(rand.NewPCG(4, 4))
	a := randF32(rng, m*k)
	w := Matrix{N: n, K: k, DType: dt}
	if dt == dtype.F32 {
		w.F32 = randF32(rng, n*k)
	} else {
		w.Raw = make([]byte, n*k*dt.Size())
		for i := range w.Raw {
			w.Raw[i] = byte(rng.UintN(256)) & 0x3b
		}
	}
	c := make([]float32, m*n)
	peakOnce(b)
	cpu0 := processCPUTime()
	for b.Loop() {
		MatMul(c, a, m, w, nil)
	}
	cpu := (processCPUTime() - cpu0).Seconds()
	flops := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
	b.ReportMetric(flops/cpu/1e9*float64(min(Workers, runtime.NumCPU())), "GFLOPS-cpu")
}

// BenchmarkMicroKernel measures one micro-kernel on L1-resident panels
// by thread CPU time: the ceiling of the whole product, per core.
func BenchmarkMicroKernel(b *testing.B) {
	for name, kern := range kernels() {
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			rng := rand.New(rand.NewPCG(5, 5))
			a, bb := randF32(rng, mr*kc), randF32(rng, nr*kc)
			c := make([]float32, mr*nr)
			const calls = 1000 // per iteration, so that few iterations still time well
			t0 := threadCPUTime()
			for b.Loop() {
				for range calls {
					kern(kc, a, bb, c, nr)
				}
			}
			cpu := (threadCPUTime() - t0).Seconds()
			b.ReportMetric(2*mr*nr*kc*calls*float64(b.N)/cpu/1e9, "GFLOPS-core")
		})
	}
}

// BenchmarkGemmCore measures one worker's share of a FLUX product (half
// the columns) on one locked thread by its CPU time: the per-core rate
// with the influence of other processes on the cores reduced.
func BenchmarkGemmCore(b *testing.B) {
	for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
		b.Run(dt.String(), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			m, k, n := 4224, 3072, 1536
			rng := rand.New(rand.NewPCG(6, 6))
			a := randF32(rng, m*k)
			w := Matrix{N: n, K: k, DType: dt}
			if dt == dtype.F32 {
				w.F32 = randF32(rng, n*k)
			} else {
				w.Raw = make([]byte, n*k*2)
				for i := range w.Raw {
					w.Raw[i] = byte(rng.UintN(256)) & 0x3b
				}
			}
			c := make([]float32, m*n)
			t0 := threadCPUTime()
			for b.Loop() {
				gemm(c, a, w, 0, m, 0, n)
			}
			cpu := (threadCPUTime() - t0).Seconds()
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/cpu/1e9, "GFLOPS-core")
		})
	}
}

// TestDots checks the dot products used for few-row products on every
// length up to a few SIMD blocks (tails included).
func TestDots(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	for n := 0; n <= 100; n++ {
		a, b := randF32(rng, n), randF32(rng, n)
		raw := make([]byte, 2*n)
		var want, wantBF float64
		for i := range n {
			h := dtype.F32ToBF16(b[i])
			raw[2*i], raw[2*i+1] = byte(h), byte(h>>8)
			want += float64(a[i]) * float64(b[i])
			wantBF += float64(a[i]) * float64(dtype.BF16ToF32(h))
		}
		if got := dotF32(a, b); math.Abs(float64(got)-want) > 1e-5 {
			t.Fatalf("n=%d: dotF32 = %v, want %v", n, got, want)
		}
		if got := dotBF16(a, raw); math.Abs(float64(got)-wantBF) > 1e-5 {
			t.Fatalf("n=%d: dotBF16 = %v, want %v", n, got, wantBF)
		}
	}
}

// BenchmarkMatMulVec measures one-row products (FLUX's modulation: the
// conditioning vector through a 3072 → 18432 BF16 weight), which read
// the weight once and are bound by memory bandwidth: GB/s of weight.
func BenchmarkMatMulVec(b *testing.B) {
	for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
		b.Run(dt.String(), func(b *testing.B) {
			const k, n = 3072, 18432
			rng := rand.New(rand.NewPCG(14, 14))
			a := randF32(rng, k)
			w := Matrix{N: n, K: k, DType: dt}
			if dt == dtype.F32 {
				w.F32 = randF32(rng, n*k)
			} else {
				w.Raw = make([]byte, n*k*2)
				for i := range w.Raw {
					w.Raw[i] = byte(rng.UintN(256)) & 0x3b
				}
			}
			c := make([]float32, n)
			for b.Loop() {
				MatMul(c, a, 1, w, nil)
			}
			b.ReportMetric(float64(n*k*dt.Size())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
