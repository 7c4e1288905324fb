package bisenet_test

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/model/bisenet"
	"github.com/fluxpulid/fluxpulid/model/internal/randweights"
)

// BenchmarkParseReal parses a 512×512 aligned face with a real-size
// (random) BiSeNet.
func BenchmarkParseReal(b *testing.B) {
	be := cpu.New()
	m, err := bisenet.Load(be, randweights.Map(bisenet.Real.Shapes(), dtype.F32, 1))
	if err != nil {
		b.Fatal(err)
	}
	x := be.Zeros([]int{1, 3, 512, 512})
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Parse(x); err != nil {
			b.Fatal(err)
		}
	}
}
