package sampling

import (
	"math"
	"testing"
)

// Values torch prints for torch.manual_seed(0) followed by torch.rand /
// torch.randn (torch 1.x on x86-64, 4 decimals): widely reproduced in its
// documentation and tutorials, and independent of this code.
func TestTorchKnownValues(t *testing.T) {
	tests := []struct {
		name string
		got  func() []float64
		want []float64
	}{
		{"rand(2)", func() []float64 {
			g := NewTorchCPUGenerator(0)
			return []float64{float64(g.uniform32()), float64(g.uniform32())}
		}, []float64{0.4963, 0.7682}},
		// Fewer than 16 values: the scalar double Box-Muller with its cache.
		{"randn(2, 3)", func() []float64 { return f64s(NewTorchCPUGenerator(0).RandnF32(6, MathAVX2)) },
			[]float64{1.5410, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986}},
		{"randn(6, dtype=float64)", func() []float64 { return NewTorchCPUGenerator(0).RandnF64(6) },
			[]float64{1.5410, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986}},
		// 16 values: the vectorised block path.
		{"randn(4, 4)", func() []float64 { return f64s(NewTorchCPUGenerator(0).RandnF32(16, MathAVX2)) },
			[]float64{-1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.6920, -0.3160, -2.1152,
				0.3223, -1.2633, 0.3500, 0.3081, 0.1198, 1.2377, 1.1168, -0.2473}},
	}
	for _, tc := range tests {
		got := tc.got()
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d values", tc.name, len(got))
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 0.5e-4+1e-7 {
				t.Errorf("%s[%d] = %.6f, torch prints %.4f", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestMT19937 checks the engine against the C++ standard's requirement
// that the 10000th output of a default-constructed std::mt19937 (seed 5489)
// is 4123659995; its first output is 3499211612.
func TestMT19937(t *testing.T) {
	var m mt19937
	m.seed(5489)
	if v := m.next(); v != 3499211612 {
		t.Errorf("first output %d, want 3499211612", v)
	}
	for i := 2; i < 10000; i++ {
		m.next()
	}
	if v := m.next(); v != 4123659995 {
		t.Errorf("10000th output %d, want 4123659995", v)
	}
}

func TestSeedLow32Bits(t *testing.T) {
	a, _, err := GetNoise(1, 64, 64, 7, MathAVX2)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := GetNoise(1, 64, 64, 7+1<<32, MathAVX2)
	c, _, _ := GetNoise(1, 64, 64, 8, MathAVX2)
	allClose(t, "seed 7 vs 7+2^32", b, a, 0, 0)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > len(a)/100 {
		t.Errorf("seeds 7 and 8 share %d of %d values", same, len(a))
	}
}

// TestRandnTail: with n % 16 != 0 the last 16 outputs are recomputed from
// 16 fresh uniforms; the first n-16 equal those of the complete blocks.
func TestRandnTail(t *testing.T) {
	const n = 40 // blocks [0,16) and [16,32), then a tail over [24,40)
	full := NewTorchCPUGenerator(3).RandnF32(32, MathAVX2)
	got := NewTorchCPUGenerator(3).RandnF32(n, MathAVX2)
	allClose(t, "head", got[:24], full[:24], 0, 0)

	// The tail is a block made from uniforms 40..55 of the stream.
	g := NewTorchCPUGenerator(3)
	for i := 0; i < n; i++ {
		g.random()
	}
	tail := make([]float32, 16)
	for i := range tail {
		tail[i] = g.uniform32()
	}
	normalBlock16F32(tail, MathAVX2)
	allClose(t, "tail", got[24:], tail, 0, 0)
}

// TestMathLibm: the portable kernel differs from the AVX2 one only by the
// accuracy of log/sin/cos, a few float32 ulps.
func TestMathLibm(t *testing.T) {
	a, _, err := GetNoise(1, 256, 256, 1234, MathAVX2)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := GetNoise(1, 256, 256, 1234, MathLibm)
	allClose(t, "libm vs avx2", b, a, 2e-6, 2e-6)
	var sum, sq float64
	for _, v := range b {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean, std := sum/float64(len(b)), math.Sqrt(sq/float64(len(b)))
	if math.Abs(mean) > 0.02 || math.Abs(std-1) > 0.02 {
		t.Errorf("mean %v std %v of %d normals", mean, std, len(b))
	}
}

func TestParseSeed(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"42", 42, true},
		{"2680261499100305976", 2680261499100305976, true},
		{"9223372036854775808", 1 << 63, true}, // 2^63: beyond int64
		{"18446744073709551615", math.MaxUint64, true},
		{" 7 ", 7, true},
		{"-1", math.MaxUint64, true},
		{"-9223372036854775808", 1 << 63, true},
		{"18446744073709551616", 0, false},
		{"-9223372036854775809", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
		{"seed", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSeed(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseSeed(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestNoiseShape(t *testing.T) {
	s, err := NoiseShape(2, 1152, 896)
	if err != nil || s != [4]int{2, 16, 144, 112} {
		t.Errorf("NoiseShape(2, 1152, 896) = %v, %v", s, err)
	}
	s, err = NoiseShape(1, 65, 100) // rounded up to whole 16 px patches
	if err != nil || s != [4]int{1, 16, 10, 14} {
		t.Errorf("NoiseShape(1, 65, 100) = %v, %v", s, err)
	}
	for _, bad := range [][3]int{{0, 64, 64}, {1, 0, 64}, {1, 64, -16}} {
		if _, _, err := GetNoise(bad[0], bad[1], bad[2], 1, MathAVX2); err == nil {
			t.Errorf("GetNoise%v accepted", bad)
		}
	}
}

func BenchmarkGetNoise1152x896(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, _, err := GetNoise(1, 1152, 896, uint64(i), MathAVX2); err != nil {
			b.Fatal(err)
		}
	}
}
