package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/ops"
)

// fluxShapes are the matmuls of a FLUX block at 1024×1024 (4096 image +
// 128 text tokens): qkv/proj (K 3072 → N 3072), MLP up (→ 12288) and MLP
// down (K 12288 → 3072).
var fluxShapes = []struct{ m, k, n int }{
	{4224, 3072, 3072},
	{4224, 3072, 12288},
	{4224, 12288, 3072},
}

func runBench(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	spec := fs.String("backend", "cpu", "backend to measure")
	m := fs.Int("m", 0, "override the token count M (smaller is quicker)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := backend.Open(*spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "matmul on %s (x F32 [M,K] · wᵀ, w [N,K])\n", b.Name())
	if d, ok := b.(describer); ok {
		fmt.Fprintln(w, d.Describe())
	}
	var peak float64
	if strings.HasPrefix(b.Name(), "cpu") {
		p := ops.MeasurePeak(300 * time.Millisecond)
		peak = p.Theoretical
		fmt.Fprintf(w, "CPU peak: %.2f GHz × %d cores × %d flops/cycle = %.1f GFLOPS theoretical; FMA loop %.1f GFLOPS\n",
			p.GHz, p.Cores, p.FlopsCycle, p.Theoretical, p.FMALoop)
	}
	for _, s := range fluxShapes {
		mm := s.m
		if *m > 0 {
			mm = *m
		}
		for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
			g, err := benchMatMul(b, mm, s.k, s.n, dt)
			if err != nil {
				return err
			}
			pct := ""
			if peak > 0 {
				pct = fmt.Sprintf("  (%.0f%% of peak)", 100*g/peak)
			}
			fmt.Fprintf(w, "  M %5d  K %5d  N %5d  %-4v weights: %7.1f GFLOPS%s\n", mm, s.k, s.n, dt, g, pct)
		}
	}
	return nil
}

// benchMatMul times Linear on random-ish data until at least a second
// has passed (after one warm-up call).
func benchMatMul(b backend.Backend, m, k, n int, dt dtype.DType) (gflops float64, err error) {
	defer backend.Catch(&err)
	x := make([]float32, m*k)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	wf := make([]float32, n*k)
	for i := range wf {
		wf[i] = float32(i%5) * 0.01
	}
	xt := b.FromF32([]int{m, k}, x)
	wt := b.Cast(b.FromF32([]int{n, k}, wf), dt)
	run := func() error {
		y := b.Linear(xt, wt, nil)
		_, err := b.ReadF32(y)
		b.Free(y)
		return err
	}
	if err := run(); err != nil {
		return 0, err
	}
	var iters int
	start := time.Now()
	for time.Since(start) < time.Second || iters == 0 {
		if err := run(); err != nil {
			return 0, err
		}
		iters++
	}
	sec := time.Since(start).Seconds() / float64(iters)
	return 2 * float64(m) * float64(k) * float64(n) / sec / 1e9, nil
}
