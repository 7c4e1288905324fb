package sampling

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestGetNoiseGolden(t *testing.T) {
	for _, f := range goldenCases(t, "sampling/get_noise") {
		atol, rtol := metaFloat(t, f, "atol"), metaFloat(t, f, "rtol")
		variants, ok := params(t, f)["variants"].(map[string]any)
		if !ok || len(variants) == 0 {
			t.Fatalf("%s: params has no variants", f.Path)
		}
		for name, v := range variants {
			args, ok := v.([]any)
			if !ok || len(args) != 4 {
				t.Fatalf("%s: variant %s: want [n, height, width, seed], got %v", f.Path, name, v)
			}
			var ints [3]int
			for i := range ints {
				n, err := args[i].(json.Number).Int64()
				if err != nil {
					t.Fatalf("variant %s: arg %d: %v", name, i, err)
				}
				ints[i] = int(n)
			}
			seed, err := ParseSeed(args[3].(json.Number).String())
			if err != nil {
				t.Fatal(err)
			}
			t.Run(name, func(t *testing.T) {
				want, shape := tensor(t, f, "out."+name)
				got, gotShape, err := GetNoise(ints[0], ints[1], ints[2], seed, MathAVX2)
				if err != nil {
					t.Fatal(err)
				}
				if !sameShape(shape, gotShape[:]...) {
					t.Fatalf("shape %v, want %v", gotShape, shape)
				}
				allClose(t, name, got, want, atol, rtol)
				exact, maxd := 0, 0.0
				for i := range got {
					if math.Float32bits(got[i]) == math.Float32bits(want[i]) {
						exact++
					}
					maxd = math.Max(maxd, math.Abs(float64(got[i]-want[i])))
				}
				t.Logf("%d of %d values bit-identical, max abs diff %g", exact, len(got), maxd)
			})
		}
	}
}

// TestFMA32 checks the single-rounding fused multiply-add against exact
// rational arithmetic, including cases built to expose double rounding.
func TestFMA32(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		r := new(big.Rat).Mul(new(big.Rat).SetFloat64(float64(a)), new(big.Rat).SetFloat64(float64(b)))
		r.Add(r, new(big.Rat).SetFloat64(float64(c)))
		f, _ := r.Float32()
		return f
	}
	cases := [][3]float32{
		{1, 1, 0},
		{0.1, 10, -1},
		{3, 5, 7},
		// (1 + 2^-23) + 2^-24 - 2^-70: the float64 sum rounds to the float32
		// midpoint 1 + 2^-23 + 2^-24, which would then round to even
		// (1 + 2^-22); the exact value lies below it and rounds to 1 + 2^-23.
		{(1 + 1.0/(1<<23)) / (1 << 24), 1 - 1.0/(1<<23), 1 + 1.0/(1<<23)},
		{float32(math.Pi), -float32(math.E), 8.5},
		{1e30, 1e30, 1},
		{-0.0, 1, 0},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50000; i++ {
		f := func() float32 {
			return float32((rng.Float64()*2 - 1) * math.Pow(2, float64(rng.IntN(20)-10)))
		}
		cases = append(cases, [3]float32{f(), f(), f()})
	}
	if c := cases[3]; float32(math.FMA(float64(c[0]), float64(c[1]), float64(c[2]))) == exact(c[0], c[1], c[2]) {
		t.Fatal("the double-rounding case does not double-round")
	}
	for _, c := range cases {
		got, want := fma32(c[0], c[1], c[2]), exact(c[0], c[1], c[2])
		if math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", c[0], c[1], c[2], got, want)
		}
	}
}
