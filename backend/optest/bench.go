package optest

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// PerfCases are cases sized like FLUX's and its autoencoder's layers, for
// the performance report only (the reference would take minutes on them).
func PerfCases() []Case {
	const tokens, hidden = 4224, 3072 // 1024×1024 image + 128 text tokens
	var cs []Case
	for _, s := range [][3]int{{tokens, hidden, hidden}, {tokens, hidden, 4 * hidden}, {tokens, 4 * hidden, hidden}} {
		for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
			m, k, n := s[0], s[1], s[2]
			cs = append(cs, Case{
				Op:    "matmul",
				Name:  fmt.Sprintf("flux_m%d_k%d_n%d_%v", m, k, n, dt),
				In:    []Input{f32(m, k), typed(dt, n, k)},
				Run:   func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.MatMul(x[0], x[1]) },
				Flops: 2 * float64(m*k*n),
			})
		}
	}
	cs = append(cs,
		Case{
			Op: "attention", Name: "flux_b1_h24_l4224_d128_one_head_of_24",
			In: []Input{f32(1, 1, tokens, 128), f32(1, 1, tokens, 128), f32(1, 1, tokens, 128)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Attention(x[0], x[1], x[2], backend.AttentionOptions{})
			},
			Flops: 2 * float64(tokens*tokens*256),
		},
		Case{
			Op: "unary", Name: "flux_gelu_tanh_4224x12288", In: []Input{rng(-6, 6, tokens, 4*hidden)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Unary(backend.GELUTanh, x[0]) },
		},
		Case{
			Op: "unary", Name: "flux_silu_4224x3072", In: []Input{rng(-6, 6, tokens, hidden)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Unary(backend.SiLU, x[0]) },
		},
		Case{
			Op: "layernorm", Name: "flux_4224x3072", In: []Input{f32(tokens, hidden)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.LayerNorm(x[0], nil, nil, 1e-6) },
		},
		Case{
			Op: "softmax", Name: "rows_4224x4224", In: []Input{rng(-10, 10, tokens, tokens)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Softmax(x[0]) },
		},
		Case{
			Op: "binary", Name: "flux_mul_4224x3072_by_3072", In: []Input{f32(tokens, hidden), f32(hidden)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Binary(backend.Mul, x[0], x[1]) },
		},
		Case{
			Op: "conv2d", Name: "ae_x1x128x256x256_w128x128x3x3_p1", In: []Input{f32(1, 128, 256, 256), typed(dtype.BF16, 128, 128, 3, 3)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Conv2D(x[0], x[1], nil, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}})
			},
			Flops: 2 * float64(128*256*256*128*9),
		},
	)
	return cs
}

// Bench measures every case of Cases and PerfCases on be, one
// sub-benchmark per case, reporting GFLOPS where the case counts flops
// and GB/s (inputs read plus output written once) otherwise.
func Bench(b *testing.B, be backend.Backend) {
	for _, c := range append(Cases(), PerfCases()...) {
		b.Run(c.FullName(), func(b *testing.B) {
			x := tensors(be, c.generate())
			var out []int
			for b.Loop() {
				r, err := c.apply(be, x)
				if err != nil {
					b.Fatal(err)
				}
				out = r.shape
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			if c.Flops > 0 {
				b.ReportMetric(c.Flops/sec/1e9, "GFLOPS")
			} else {
				b.ReportMetric(c.bytes(out)/sec/1e9, "GB/s")
			}
		})
	}
}

// Report runs each case whose full name match accepts (all if nil) once (after one
// warm-up run) on be and prints its time and GFLOPS or GB/s, for the
// command line's bench (no testing framework needed).
func Report(w io.Writer, be backend.Backend, cases []Case, match func(name string) bool) error {
	for _, c := range cases {
		if match != nil && !match(c.FullName()) {
			continue
		}
		x := tensors(be, c.generate())
		if _, err := c.apply(be, x); err != nil {
			return fmt.Errorf("%s: %w", c.FullName(), err)
		}
		start := time.Now()
		r, err := c.apply(be, x)
		if err != nil {
			return fmt.Errorf("%s: %w", c.FullName(), err)
		}
		sec := time.Since(start).Seconds()
		rate := fmt.Sprintf("%8.1f GB/s  ", c.bytes(r.shape)/sec/1e9)
		if c.Flops > 0 {
			rate = fmt.Sprintf("%8.1f GFLOPS", c.Flops/sec/1e9)
		}
		fmt.Fprintf(w, "%-70s %10.3f ms %s\n", c.FullName(), sec*1e3, rate)
		for _, t := range x {
			be.Free(t)
		}
	}
	return nil
}
