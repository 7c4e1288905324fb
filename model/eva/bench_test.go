package eva_test

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/model/eva"
	"github.com/fluxpulid/fluxpulid/model/internal/randweights"
)

// BenchmarkVisualL14 runs the real-size (random, F16) EVA02-CLIP-L-14-336
// tower on one 336×336 image.
func BenchmarkVisualL14(b *testing.B) {
	be := cpu.New()
	m, err := eva.LoadConfig(be, randweights.Map(eva.L14_336.Shapes(), dtype.F16, 1), eva.L14_336)
	if err != nil {
		b.Fatal(err)
	}
	x := be.Zeros([]int{1, 3, 336, 336})
	b.ResetTimer()
	for b.Loop() {
		out, err := m.Forward(x, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := be.ReadF32(out.EmbedNorm); err != nil {
			b.Fatal(err)
		}
	}
}
