package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/ops/ref"
)

// TestConv2D compares the implicit-im2col convolution with ref.Conv2D on
// geometries that take each path of the patch packer: runs of 16 pixels
// inside one row (stride 1), runs crossing row ends and the padding,
// strides, dilations, groups, and more taps than one depth block.
func TestConv2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, tc := range []struct {
		n, c, h, w, o, kh, kw int
		opt                   backend.ConvOptions
		dt                    dtype.DType
	}{
		{1, 3, 20, 37, 5, 3, 3, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}, dtype.F32},
		{2, 4, 17, 16, 6, 1, 1, backend.ConvOptions{}, dtype.BF16},
		{1, 2, 33, 35, 3, 3, 3, backend.ConvOptions{Stride: [2]int{2, 2}, Pad: [4]int{0, 0, 1, 1}}, dtype.F32},
		{1, 2, 19, 40, 4, 3, 5, backend.ConvOptions{Dilation: [2]int{2, 1}, Pad: [4]int{2, 2, 2, 2}}, dtype.F16},
		{1, 4, 12, 21, 4, 3, 3, backend.ConvOptions{Groups: 2, Pad: [4]int{1, 1, 1, 1}}, dtype.F32},
		{1, 64, 9, 18, 7, 3, 3, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}, dtype.BF16}, // 576 taps: two depth blocks
		{1, 3, 5, 5, 2, 5, 5, backend.ConvOptions{Stride: [2]int{3, 1}}, dtype.F32},
		{1, 1, 1, 1, 1, 3, 3, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}, dtype.F32},
	} {
		name := fmt.Sprintf("%+v", tc)
		opt := tc.opt.Normalized()
		cg := tc.c / opt.Groups
		kk := cg * tc.kh * tc.kw
		x := randF32(rng, tc.n*tc.c*tc.h*tc.w)
		w := Matrix{N: tc.o, K: kk, DType: tc.dt}
		wf := randF32(rng, tc.o*kk)
		if tc.dt != dtype.F32 {
			w.Raw = make([]byte, len(wf)*2)
			for i, v := range wf {
				h := dtype.F32ToBF16(v)
				if tc.dt == dtype.F16 {
					h = dtype.F32ToF16(v)
				}
				w.Raw[2*i], w.Raw[2*i+1] = byte(h), byte(h>>8)
			}
			dtype.ToF32(tc.dt, w.Raw, wf)
		} else {
			w.F32 = wf
		}
		bias := randF32(rng, tc.o)
		oh := backend.ConvOutSize(tc.h, tc.kh, opt.Stride[0], opt.Pad[0], opt.Pad[2], opt.Dilation[0], false)
		ow := backend.ConvOutSize(tc.w, tc.kw, opt.Stride[1], opt.Pad[1], opt.Pad[3], opt.Dilation[1], false)
		want := make([]float32, tc.n*tc.o*oh*ow)
		ref.Conv2D(want, x, wf, bias, tc.n, tc.c, tc.h, tc.w, tc.o, tc.kh, tc.kw, tc.opt)
		got := make([]float32, len(want))
		for i := range got {
			got[i] = float32(math.NaN())
		}
		Conv2D(got, x, w, bias, tc.n, tc.c, tc.h, tc.w, tc.o, tc.kh, tc.kw, tc.opt)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*float64(kk)) {
				t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkConvAE measures a 3×3 convolution of the FLUX autoencoder's
// decoder at a quarter of its 1024² resolution (128 channels, 256²).
func BenchmarkConvAE(b *testing.B) {
	const c, o, h, w = 128, 128, 256, 256
	rng := rand.New(rand.NewPCG(12, 12))
	x := randF32(rng, c*h*w)
	wm := Matrix{N: o, K: c * 9, DType: dtype.F32, F32: randF32(rng, o*c*9)}
	out := make([]float32, o*h*w)
	opt := backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}
	cpu0 := processCPUTime()
	for b.Loop() {
		Conv2D(out, x, wm, nil, 1, c, h, w, o, 3, 3, opt)
	}
	cpu := (processCPUTime() - cpu0).Seconds()
	flops := 2 * float64(o*c*9*h*w) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
	b.ReportMetric(flops/cpu/1e9*float64(min(Workers, runtime.NumCPU())), "GFLOPS-cpu")
}
