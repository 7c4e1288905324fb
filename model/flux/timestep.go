package flux

import "math"

// Timestep embedding constants of flux/modules/layers.py timestep_embedding.
const (
	TimestepDim       = 256
	TimestepMaxPeriod = 10000
	TimeFactor        = 1000
)

// TimestepEmbedding is the reference's timestep_embedding(t, dim,
// max_period, time_factor) for each t, row-major [len(t), dim], computed on
// the host in the reference's float32 steps:
//
//	t' = fl32(time_factor·t)            (the ×1000 happens inside: Flux passes t ∈ [0,1] and raw guidance)
//	freqs[k] = expf(fl32(fl32(−ln max_period)·k) / half)
//	args = fl32(t'·freqs[k])
//	emb = [cos(args) | sin(args)]      (cos first), a zero column if dim is odd
//
// The host is the right place: the arguments reach thousands of radians
// (guidance 4 → 4000), where only an accurately range-reduced sin/cos (Go's
// math) is usable, and the table is tiny.
func TimestepEmbedding(t []float32, dim int, maxPeriod, timeFactor float64) []float32 {
	half := dim / 2
	freqs := TimestepFreqs(half, maxPeriod)
	out := make([]float32, len(t)*dim)
	for i, ti := range t {
		ts := float32(timeFactor) * ti
		row := out[i*dim : (i+1)*dim]
		for k, f := range freqs {
			a := float64(ts * f)
			row[k] = float32(math.Cos(a))
			row[half+k] = float32(math.Sin(a))
		}
	}
	return out
}

// TimestepFreqs is torch.exp(-math.log(max_period) * torch.arange(half, dtype=float32) / half)
// with torch's vectorised expf, so the table is bit-identical to the reference's
// (a correctly rounded exp differs by 1 ulp in some entries, which at
// arguments of thousands of radians moves the embedding by ~1e-4).
func TimestepFreqs(half int, maxPeriod float64) []float32 {
	c := float32(-math.Log(maxPeriod))
	f := make([]float32, half)
	for k := range f {
		f[k] = sleefExpf(c * float32(k) / float32(half))
	}
	return f
}

// sleefExpf is SLEEF's 1-ulp expf (xexpf, the kernel behind torch's
// Vectorized<float>::exp on AVX2 CPUs, which fuses its multiply-adds):
// d = q·ln2 + s with q = rint(d/ln2) (Cody–Waite, two-part ln2), a degree-6
// polynomial for e^s, then scaling by 2^q.
func sleefExpf(d float32) float32 {
	const (
		rln2 = float32(1.442695040888963407359924681001892137426645954152985934135449406931)
		l2u  = float32(0.693145751953125)
		l2l  = float32(1.428606765330187045e-06)
	)
	switch {
	case d < -104:
		return 0
	case d > 100:
		return float32(math.Inf(1))
	}
	q := float32(math.RoundToEven(float64(d * rln2)))
	s := fma32(q, -l2u, d)
	s = fma32(q, -l2l, s)
	u := float32(0.000198527617612853646278381)
	u = fma32(u, s, 0.00139304355252534151077271)
	u = fma32(u, s, 0.00833336077630519866943359)
	u = fma32(u, s, 0.0416664853692054748535156)
	u = fma32(u, s, 0.166666671633720397949219)
	u = fma32(u, s, 0.5)
	u = 1 + fma32(s*s, u, s)
	return float32(math.Ldexp(float64(u), int(q)))
}

// fma32 is a float32 fused multiply-add (the float64 product of two
// float32 values is exact, so one rounding to float64 then to float32
// differs from a single rounding only in vanishingly rare double-rounding cases).
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }
