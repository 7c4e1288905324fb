package dtype

import (
	"math"
	"testing"
)

func TestHalfRoundTrip(t *testing.T) {
	// Every finite half converts to float32 and back to itself.
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			continue
		}
		if got := F32ToF16(f); got != uint16(h) {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)=%g) = %#04x", h, f, got)
		}
	}
}

func TestKnownValues(t *testing.T) {
	cases := []struct {
		name string
		got  float32
		want float32
	}{
		{"f16 1", F16ToF32(0x3c00), 1},
		{"f16 -2", F16ToF32(0xc000), -2},
		{"f16 min subnormal", F16ToF32(0x0001), 5.960464477539063e-08},
		{"f16 max", F16ToF32(0x7bff), 65504},
		{"bf16 1", BF16ToF32(0x3f80), 1},
		{"bf16 -0.5", BF16ToF32(0xbf00), -0.5},
		{"e4m3 1", F8E4M3ToF32(0x38), 1},
		{"e4m3 max 448", F8E4M3ToF32(0x7e), 448},
		{"e4m3 min subnormal", F8E4M3ToF32(0x01), 1.0 / 512},
		{"e4m3 -1.5", F8E4M3ToF32(0xbc), -1.5},
		{"e5m2 1", F8E5M2ToF32(0x3c), 1},
		{"e5m2 57344", F8E5M2ToF32(0x7b), 57344},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %g want %g", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(float64(F8E4M3ToF32(0x7f))) {
		t.Error("e4m3 0x7f should be NaN")
	}
}

func TestBF16Rounding(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80},
		{0x3f808000, 0x3f80}, // tie to even (down)
		{0x3f818000, 0x3f82}, // tie to even (up)
		{0x3f808001, 0x3f81},
		{0x7fc00001, 0x7fc0},
	}
	for _, c := range cases {
		if got := F32ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	for d := F64; d <= Bool; d++ {
		got, err := Parse(d.String())
		if err != nil || got != d {
			t.Errorf("Parse(%q) = %v, %v", d.String(), got, err)
		}
	}
	if _, err := Parse("Q4_0"); err == nil {
		t.Error("Parse accepted an unknown name")
	}
}
