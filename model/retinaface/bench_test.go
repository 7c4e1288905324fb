package retinaface_test

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/model/internal/randweights"
	"github.com/fluxpulid/fluxpulid/model/retinaface"
)

// BenchmarkDetectR50 runs detect_faces with a real-size (random) R50 on a
// 640×480 photo.
func BenchmarkDetectR50(b *testing.B) {
	be := cpu.New()
	m, err := retinaface.Load(be, randweights.Map(retinaface.R50.Shapes(), dtype.F32, 1))
	if err != nil {
		b.Fatal(err)
	}
	const h, w = 480, 640
	img := make([]byte, h*w*3)
	for i := range img {
		img[i] = byte(i * 31)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Detect(img, h, w, 0.97, 0.4); err != nil {
			b.Fatal(err)
		}
	}
}
