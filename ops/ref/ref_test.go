package ref

import (
	"math"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
)

// The reference kernels are checked here against values worked out by
// hand (the arithmetic is in the comments) or quoted from torch's
// documented semantics, so that the reference everything else is compared
// with is itself right.

func near(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i])-float64(want[i])) > tol {
			t.Errorf("%s: [%d] = %v, want %v\n got  %v\n want %v", name, i, got[i], want[i], got, want)
			return
		}
	}
}

func seq(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i + 1)
	}
	return s
}

func TestMatMulNT(t *testing.T) {
	// [1 2; 3 4]·[5 6; 7 8]ᵀ = [1·5+2·6, 1·7+2·8; 3·5+4·6, 3·7+4·8]
	c := make([]float32, 4)
	MatMulNT(c, []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}, 2, 2, 2)
	near(t, "2x2", c, []float32{17, 23, 39, 53}, 0)
	// K = 3, N = 1: a dot product
	c = make([]float32, 2)
	MatMulNT(c, []float32{1, 2, 3, -1, 0, 1}, []float32{4, 5, 6}, 2, 1, 3)
	near(t, "2x3·1x3ᵀ", c, []float32{32, 2}, 0)
}

func TestConv2D(t *testing.T) {
	x := seq(9) // 3×3: 1 2 3 / 4 5 6 / 7 8 9
	w := []float32{1, 0, 0, -1}
	tests := []struct {
		name                string
		x, w                []float32
		bias                []float32
		c, h, wd, o, kh, kw int
		opt                 backend.ConvOptions
		want                []float32
	}{
		// x[i,j] − x[i+1,j+1] = −4 everywhere
		{"2x2 diff", x, w, nil, 1, 3, 3, 1, 2, 2, backend.ConvOptions{}, []float32{-4, -4, -4, -4}},
		// with bias 0.5
		{"bias", x, w, []float32{0.5}, 1, 3, 3, 1, 2, 2, backend.ConvOptions{}, []float32{-3.5, -3.5, -3.5, -3.5}},
		// pad 1, stride 2: windows start at (−1,−1), (−1,1), (1,−1), (1,1):
		// 0−x[0,0] = −1, 0−x[0,2] = −3, 0−x[2,0] = −7, x[1,1]−x[2,2] = 5−9
		{"pad stride", x, w, nil, 1, 3, 3, 1, 2, 2,
			backend.ConvOptions{Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, []float32{-1, -3, -7, -4}},
		// dilation 2 spreads the 2×2 taps over the corners:
		// 1·x[0,0] + 2·x[0,2] + 3·x[2,0] + 4·x[2,2] = 1 + 6 + 21 + 36
		{"dilation", x, []float32{1, 2, 3, 4}, nil, 1, 3, 3, 1, 2, 2,
			backend.ConvOptions{Dilation: [2]int{2, 2}}, []float32{64}},
		// asymmetric padding: only a bottom row of zeros, 1×3 kernel of
		// ones sums rows: [6, 15, 24, 0]
		{"asymmetric pad", x, []float32{1, 1, 1}, nil, 1, 3, 3, 1, 1, 3,
			backend.ConvOptions{Pad: [4]int{0, 0, 1, 0}}, []float32{6, 15, 24, 0}},
		// two groups of one channel: each output sees its own input channel
		{"groups", []float32{2, 3}, []float32{10, 100}, []float32{1, 2}, 2, 1, 1, 2, 1, 1,
			backend.ConvOptions{Groups: 2}, []float32{21, 302}},
		// one group over both channels: 10·2 + 100·3 for the single output
		{"channels", []float32{2, 3}, []float32{10, 100}, nil, 2, 1, 1, 1, 1, 1,
			backend.ConvOptions{}, []float32{320}},
	}
	for _, tc := range tests {
		opt := tc.opt.Normalized()
		oh := backend.ConvOutSize(tc.h, tc.kh, opt.Stride[0], opt.Pad[0], opt.Pad[2], opt.Dilation[0], false)
		ow := backend.ConvOutSize(tc.wd, tc.kw, opt.Stride[1], opt.Pad[1], opt.Pad[3], opt.Dilation[1], false)
		out := make([]float32, tc.o*oh*ow)
		Conv2D(out, tc.x, tc.w, tc.bias, 1, tc.c, tc.h, tc.wd, tc.o, tc.kh, tc.kw, tc.opt)
		near(t, tc.name, out, tc.want, 0)
	}
}

func TestPool2D(t *testing.T) {
	x16 := make([]float32, 16) // 4×4: 0 … 15
	for i := range x16 {
		x16[i] = float32(i)
	}
	x25 := make([]float32, 25) // 5×5: 0 … 24
	for i := range x25 {
		x25[i] = float32(i)
	}
	k2 := [2]int{2, 2}
	tests := []struct {
		name string
		x    []float32
		h, w int
		opt  backend.PoolOptions
		want []float32
	}{
		{"max 2x2", x16, 4, 4, backend.PoolOptions{Kind: backend.MaxPool, Kernel: k2}, []float32{5, 7, 13, 15}},
		// (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, …
		{"avg 2x2", x16, 4, 4, backend.PoolOptions{Kind: backend.AvgPool, Kernel: k2}, []float32{2.5, 4.5, 10.5, 12.5}},
		// ceil mode on 5×5: a third window per axis hangs over the edge
		// and sees row/column 4 alone: max(4, 9) = 9, max(20, 21) = 21, 24
		{"max ceil", x25, 5, 5, backend.PoolOptions{Kind: backend.MaxPool, Kernel: k2, CeilMode: true},
			[]float32{6, 8, 9, 16, 18, 19, 21, 23, 24}},
		// torch never counts the overhang of ceil mode, even with
		// count_include_pad: (4+9)/2 = 6.5, (20+21)/2 = 20.5, 24/1
		{"avg ceil countpad", x25, 5, 5, backend.PoolOptions{Kind: backend.AvgPool, Kernel: k2, CeilMode: true, CountPad: true},
			[]float32{3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24}},
		// pad 1 on 2×2 [1 2; 3 4], kernel 2 stride 2: each window holds one
		// input cell and three pads
		{"max pad", []float32{1, 2, 3, 4}, 2, 2, backend.PoolOptions{Kind: backend.MaxPool, Kernel: k2, Pad: [4]int{1, 1, 1, 1}},
			[]float32{1, 2, 3, 4}},
		{"avg pad", []float32{1, 2, 3, 4}, 2, 2, backend.PoolOptions{Kind: backend.AvgPool, Kernel: k2, Pad: [4]int{1, 1, 1, 1}},
			[]float32{1, 2, 3, 4}},
		{"avg pad countpad", []float32{1, 2, 3, 4}, 2, 2,
			backend.PoolOptions{Kind: backend.AvgPool, Kernel: k2, Pad: [4]int{1, 1, 1, 1}, CountPad: true},
			[]float32{0.25, 0.5, 0.75, 1}},
		// stride 1 kernel 3 pad 1 (resnet-style) on the 4×4 ramp, corner:
		// max of 0,1,4,5 = 5; average of them (no pad counted) = 2.5
		{"max 3x3 s1", x16, 4, 4, backend.PoolOptions{Kind: backend.MaxPool, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pad: [4]int{1, 1, 1, 1}},
			[]float32{5, 6, 7, 7, 9, 10, 11, 11, 13, 14, 15, 15, 13, 14, 15, 15}},
	}
	for _, tc := range tests {
		o := tc.opt.Normalized()
		oh := backend.ConvOutSize(tc.h, o.Kernel[0], o.Stride[0], o.Pad[0], o.Pad[2], 1, o.CeilMode)
		ow := backend.ConvOutSize(tc.w, o.Kernel[1], o.Stride[1], o.Pad[1], o.Pad[3], 1, o.CeilMode)
		out := make([]float32, oh*ow)
		Pool2D(out, tc.x, 1, tc.h, tc.w, tc.opt)
		near(t, tc.name, out, tc.want, 0)
	}
}

func TestConvOutSize(t *testing.T) {
	for _, tc := range []struct {
		in, k, s, lo, hi, d int
		ceil                bool
		want                int
	}{
		{224, 7, 2, 3, 3, 1, false, 112}, // resnet stem
		{112, 3, 2, 1, 1, 1, false, 56},  // resnet max pool
		{7, 3, 2, 0, 0, 1, false, 3},
		{8, 3, 2, 0, 0, 1, false, 3},
		{8, 3, 2, 0, 0, 1, true, 4},  // ceil((8−3)/2)+1
		{5, 2, 2, 0, 0, 1, true, 3},  // ceil(3/2)+1
		{4, 2, 2, 1, 1, 1, true, 3},  // (4+2−2)/2+1 = 3; a 4th would start in the right pad
		{5, 3, 1, 0, 0, 2, false, 1}, // dilated span 5
		{2, 3, 1, 0, 0, 1, false, 0},
	} {
		if got := backend.ConvOutSize(tc.in, tc.k, tc.s, tc.lo, tc.hi, tc.d, tc.ceil); got != tc.want {
			t.Errorf("ConvOutSize(%+v) = %d, want %d", tc, got, tc.want)
		}
	}
}

func TestResize2D(t *testing.T) {
	tests := []struct {
		name   string
		x      []float32
		h, w   int
		oh, ow int
		mode   backend.ResizeMode
		ac     bool
		want   []float32
	}{
		{"nearest 2x", []float32{1, 2, 3, 4}, 2, 2, 4, 4, backend.Nearest, false,
			[]float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}},
		// nearest 3 → 2: source floor(o·3/2) = 0, 1
		{"nearest down", []float32{1, 2, 3}, 1, 3, 1, 2, backend.Nearest, false, []float32{1, 2}},
		// half-pixel centres: sources (o+0.5)/2−0.5 = −0.25 (clamped to 0),
		// 0.25, 0.75, 1.25 (clamped to the last pixel) on [0, 4]
		{"bilinear", []float32{0, 4}, 1, 2, 1, 4, backend.Bilinear, false, []float32{0, 1, 3, 4}},
		// corners aligned: sources 0, 0.5, 1
		{"bilinear aligned", []float32{0, 4}, 1, 2, 1, 3, backend.Bilinear, true, []float32{0, 2, 4}},
		// 2×2 → 3×3 aligned: the centre is the mean of the four
		{"bilinear 2d", []float32{0, 4, 8, 12}, 2, 2, 3, 3, backend.Bilinear, true,
			[]float32{0, 2, 4, 4, 6, 8, 8, 10, 12}},
		// cubic convolution with a = −0.75 at t = 0.5: weights
		// c2(1.5), c1(0.5), c1(0.5), c2(1.5) = −0.09375, 0.59375, 0.59375, −0.09375
		// (c1(x) = (1.25x − 2.25)x² + 1, c2(x) = ((−0.75x + 3.75)x − 6)x + 3).
		// On [0 1 8] aligned to 5 outputs the sources are 0, .5, 1, 1.5, 2:
		// at 0.5 the taps (clamped) are 0, 0, 1, 8 → 0.59375 − 0.75 = −0.15625;
		// at 1.5 they are 0, 1, 8, 8 → 0.59375 + 4.75 − 0.75 = 4.59375.
		{"bicubic aligned", []float32{0, 1, 8}, 1, 3, 1, 5, backend.Bicubic, true,
			[]float32{0, -0.15625, 1, 4.59375, 8}},
		// half-pixel 2× upsampling of [0 1 8]: sources −0.25, 0.25, 0.75, …
		// (not clamped for cubic). At −0.25: floor −1, t = 0.75, weights
		// c2(1.75), c1(0.75), c1(0.25), c2(1.25) =
		// −0.03515625, 0.26171875, 0.87890625, −0.10546875 over taps
		// x[−2..1] clamped = 0, 0, 0, 1 → −0.10546875. At 0.25: floor 0,
		// t = 0.25, weights reversed, taps x[−1..2] = 0, 0, 1, 8 →
		// 0.26171875 − 8·0.03515625 = −0.01953125.
		{"bicubic half-pixel", []float32{0, 1, 8}, 1, 3, 1, 6, backend.Bicubic, false, nil},
	}
	for _, tc := range tests {
		out := make([]float32, tc.oh*tc.ow)
		Resize2D(out, tc.x, 1, tc.h, tc.w, tc.oh, tc.ow, tc.mode, tc.ac)
		if tc.want == nil {
			near(t, tc.name, out[:2], []float32{-0.10546875, -0.01953125}, 1e-7)
			continue
		}
		near(t, tc.name, out, tc.want, 1e-6)
	}
}

func TestNorms(t *testing.T) {
	out := make([]float32, 2)
	// softmax(0, ln 3) = (1, 3)/4
	Softmax(out, []float32{0, float32(math.Log(3))}, 2)
	near(t, "softmax", out, []float32{0.25, 0.75}, 1e-7)
	// a huge common offset cancels
	Softmax(out, []float32{1000, 1000}, 2)
	near(t, "softmax offset", out, []float32{0.5, 0.5}, 0)

	// [1 2 3 4]: mean 2.5, variance 1.25 → ±1.5/√1.25 = ±1.3416408, ±0.4472136
	out = make([]float32, 4)
	LayerNorm(out, []float32{1, 2, 3, 4}, nil, nil, 4, 0)
	near(t, "layernorm", out, []float32{-1.3416408, -0.4472136, 0.4472136, 1.3416408}, 1e-6)
	LayerNorm(out, []float32{1, 2, 3, 4}, []float32{1, 2, 0, -1}, []float32{0, 0, 5, 1}, 4, 0)
	near(t, "layernorm affine", out, []float32{-1.3416408, -0.8944272, 5, -0.3416408}, 1e-6)

	// [3 4]: mean square 12.5, √12.5 = 3.5355339
	out = make([]float32, 2)
	RMSNorm(out, []float32{3, 4}, nil, 2, 0)
	near(t, "rmsnorm", out, []float32{0.8485281, 1.1313709}, 1e-6)
	RMSNorm(out, []float32{3, 4}, []float32{2, -1}, 2, 0)
	near(t, "rmsnorm weight", out, []float32{1.6970563, -1.1313709}, 1e-6)

	// x [1, 2 channels, 2]: [1 3 | 5 7]; one group: mean 4, variance 5
	out = make([]float32, 4)
	GroupNorm(out, []float32{1, 3, 5, 7}, 1, 2, 2, 1, nil, nil, 0)
	s := float32(math.Sqrt(5))
	near(t, "groupnorm 1", out, []float32{-3 / s, -1 / s, 1 / s, 3 / s}, 1e-6)
	// two groups, one channel each: ±1, then channel weights 2, 3 and biases 0, 1
	GroupNorm(out, []float32{1, 3, 5, 7}, 1, 2, 2, 2, []float32{2, 3}, []float32{0, 1}, 0)
	near(t, "groupnorm 2", out, []float32{-2, 2, -2, 4}, 1e-6)

	red := make([]float32, 2)
	for _, tc := range []struct {
		op   backend.ReduceOp
		want []float32
	}{{backend.Sum, []float32{4, -1}}, {backend.Mean, []float32{4.0 / 3, -1.0 / 3}}, {backend.ReduceMax, []float32{5, 0}}} {
		Reduce(tc.op, red, []float32{1, -2, 5, 0, -1, 0}, 3)
		near(t, tc.op.String(), red, tc.want, 1e-7)
	}
}

func TestRoPEAndAttention(t *testing.T) {
	// rotation by 90°: (1, 0) → (0, 1), (0, 1) → (−1, 0); by 0: unchanged
	out := make([]float32, 4)
	RoPE(out, []float32{1, 0, 0, 1}, []float32{0, 1}, []float32{1, 0}, 1, 1, 2, 2, false)
	near(t, "rope", out, []float32{0, 1, 0, 1}, 0)

	// one query, two keys, D = 1, scale 1: scores 0 and ln 3, weights
	// 1/4 and 3/4 over values 0 and 4 → 3
	ln3 := float32(math.Log(3))
	q, k, v := []float32{1, 1}, []float32{0, ln3}, []float32{0, 4}
	o := make([]float32, 2)
	Attention(o, q, k, v, 1, 1, 2, 2, 1, 1, 1, false, nil, [4]int{})
	near(t, "attention", o, []float32{3, 3}, 1e-6)
	// causal: query 0 sees key 0 alone → 0; query 1 sees both → 3
	Attention(o, q, k, v, 1, 1, 2, 2, 1, 1, 1, true, nil, [4]int{})
	near(t, "causal", o, []float32{0, 3}, 1e-6)
	// a bias of (ln 3, 0) on every row equalises the scores → 2
	Attention(o, q, k, v, 1, 1, 2, 2, 1, 1, 1, false, []float32{ln3, 0}, [4]int{0, 0, 0, 1})
	near(t, "bias", o, []float32{2, 2}, 1e-6)
}

func TestElementwise(t *testing.T) {
	x := []float32{-1, 0, 1, 2}
	// torch: F.silu, F.gelu (erf), F.gelu(approximate="tanh"), sigmoid
	for _, tc := range []struct {
		op   backend.UnaryOp
		want []float32
	}{
		{backend.SiLU, []float32{-0.26894142, 0, 0.7310586, 1.7615942}},
		{backend.GELUErf, []float32{-0.15865526, 0, 0.8413447, 1.9544997}},
		{backend.GELUTanh, []float32{-0.15880801, 0, 0.841192, 1.9545977}},
		{backend.QuickGELU, []float32{-0.15420423, 0, 0.8457958, 1.9356586}},
		{backend.Sigmoid, []float32{0.26894142, 0.5, 0.7310586, 0.8807971}},
		{backend.ReLU, []float32{0, 0, 1, 2}},
		{backend.Tanh, []float32{-0.7615942, 0, 0.7615942, 0.9640276}},
		{backend.Exp, []float32{0.36787944, 1, 2.7182817, 7.389056}},
		{backend.Neg, []float32{1, 0, -1, -2}},
		{backend.Abs, []float32{1, 0, 1, 2}},
		{backend.Square, []float32{1, 0, 1, 4}},
	} {
		out := make([]float32, 4)
		Unary(tc.op, out, x)
		near(t, tc.op.String(), out, tc.want, 2e-7)
	}
	out := make([]float32, 3)
	Unary(backend.Sqrt, out, []float32{0, 4, 2})
	near(t, "sqrt", out, []float32{0, 2, 1.4142135}, 1e-7)
	Unary(backend.Recip, out, []float32{4, -0.5, 3})
	near(t, "recip", out, []float32{0.25, -2, 0.33333334}, 0)

	// [[1],[2]] + [10 20 30] broadcasts to 2×3
	sum := make([]float32, 6)
	Binary(backend.Add, sum, []int{2, 3}, []float32{1, 2}, []int{2, 1}, []float32{10, 20, 30}, []int{3})
	near(t, "broadcast add", sum, []float32{11, 21, 31, 12, 22, 32}, 0)
	// max/min propagate NaN from either side, as torch.maximum
	nan := float32(math.NaN())
	mx := BinaryFunc(backend.Max)
	if v := mx(1, nan); v == v {
		t.Errorf("max(1, NaN) = %v, want NaN", v)
	}
	if v := mx(nan, 1); v == v {
		t.Errorf("max(NaN, 1) = %v, want NaN", v)
	}
	aff := make([]float32, 2)
	Affine(aff, []float32{1, -2}, 3, 0.5)
	near(t, "affine", aff, []float32{3.5, -5.5}, 0)
}

func TestLayout(t *testing.T) {
	// [[1 2 3] [4 5 6]]ᵀ
	out := make([]float32, 6)
	Permute(out, seq(6), []int{2, 3}, []int{1, 0})
	near(t, "transpose", out, []float32{1, 4, 2, 5, 3, 6}, 0)
	// [2,1,3] → perm (2,0,1) → [3,2,1]: out[c][a][0] = x[a][0][c]
	Permute(out, seq(6), []int{2, 1, 3}, []int{2, 0, 1})
	near(t, "permute 3d", out, []float32{1, 4, 2, 5, 3, 6}, 0)

	// concat [[1 2] [3 4]] and [[5] [6]] on the last axis
	cat := make([]float32, 6)
	Concat(cat, [][]float32{{1, 2, 3, 4}, {5, 6}}, 2, []int{2, 1})
	near(t, "concat", cat, []float32{1, 2, 5, 3, 4, 6}, 0)

	// every second element from 1 of [1 … 6] → 2, 4, 6; along axis 1 of 2×3
	sl := make([]float32, 3)
	Slice(sl, seq(6), []int{6}, 0, 1, 6, 2)
	near(t, "slice", sl, []float32{2, 4, 6}, 0)
	sl = make([]float32, 2)
	Slice(sl, seq(6), []int{2, 3}, 1, 2, 3, 1)
	near(t, "slice axis 1", sl, []float32{3, 6}, 0)

	// [1 2 3] padded by 1 before and cropped by 1 after → [9 1 2]
	pd := make([]float32, 3)
	Pad(pd, seq(3), []int{3}, []int{1}, []int{-1}, 9)
	near(t, "pad crop", pd, []float32{9, 1, 2}, 0)
}
