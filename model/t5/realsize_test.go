package t5_test

import (
	"math/rand/v2"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/weights"
)

// BenchmarkForwardXXLLayer times one real-size T5-XXL block (d_model 4096,
// 64 heads, d_ff 10240, BF16 weights) with the embedding and final norm on a
// 512-token prompt, about 200 GFLOP; the full encoder is 24 such blocks.
func BenchmarkForwardXXLLayer(b *testing.B) {
	cfg := t5.XXL()
	cfg.NumLayers = 1
	shapes, err := t5.Shapes(cfg)
	if err != nil {
		b.Fatal(err)
	}
	src := weights.Map{}
	r := rand.New(rand.NewPCG(1, 2))
	for n, s := range shapes {
		k := backend.NumElements(s)
		data := make([]byte, 2*k)
		for i := range k {
			h := dtype.F32ToBF16(float32(r.NormFloat64() * 0.02))
			data[2*i], data[2*i+1] = byte(h), byte(h>>8)
		}
		src[n] = weights.Tensor{Info: weights.Info{DType: dtype.BF16, Shape: s}, Data: data}
	}
	be := cpu.New()
	m, err := t5.Load(be, src, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int32, 512)
	for b.Loop() {
		out, err := m.Forward(be, ids, 1, nil)
		if err != nil {
			b.Fatal(err)
		}
		be.ReadF32(out)
	}
}
