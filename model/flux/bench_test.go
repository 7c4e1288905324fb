package flux_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/internal/randweights"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/sampling"
)

// realBlock holds what a real-size block benchmark needs: flux-dev's
// configuration, random BF16 weights of one block under its real names,
// and the activations of a 1024×1024 image (64×64 = 4096 image tokens)
// with a 128-token prompt, as PuLID's default max_sequence_length gives.
type realBlock struct {
	cfg      flux.Config
	img, txt backend.Tensor
	x, vec   backend.Tensor
	pe       flux.PE
}

const realImgSide, realTxt = 64, 128

func newRealBlock(b *testing.B, be backend.Backend, prefix string) (*realBlock, map[string][]int) {
	cfg := flux.Configs["flux-dev"]
	all, err := flux.Shapes(cfg)
	if err != nil {
		b.Fatal(err)
	}
	shapes := map[string][]int{}
	for n, s := range all {
		if strings.HasPrefix(n, prefix) {
			shapes[n] = s
		}
	}
	h := cfg.HiddenSize
	li := realImgSide * realImgSide
	r := rand.New(rand.NewPCG(1, 2))
	act := func(shape ...int) backend.Tensor {
		v := make([]float32, backend.NumElements(shape))
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return be.FromF32(shape, v)
	}
	imgIDs, err := sampling.ImageIDs(1, 2*realImgSide, 2*realImgSide)
	if err != nil {
		b.Fatal(err)
	}
	ids := append(make([]float32, 3*realTxt), imgIDs.Data...)
	cos, sin, err := flux.EmbedND(ids, cfg.AxesDim, cfg.Theta)
	if err != nil {
		b.Fatal(err)
	}
	half := cfg.HeadDim() / 2
	n := realTxt + li
	return &realBlock{
		cfg: cfg,
		img: act(1, li, h), txt: act(1, realTxt, h), x: act(1, n, h), vec: act(1, h),
		pe: flux.PE{Cos: be.FromF32([]int{n, half}, cos), Sin: be.FromF32([]int{n, half}, sin)},
	}, shapes
}

// BenchmarkDoubleBlockReal times one flux-dev double-stream block at
// 1024×1024 (19 of them run per model call).
func BenchmarkDoubleBlockReal(b *testing.B) {
	be := cpu.New()
	rb, shapes := newRealBlock(b, be, "double_blocks.0.")
	blk, err := flux.LoadDoubleBlock(be, randweights.Map(shapes, dtype.BF16, 1), "double_blocks.0.", rb.cfg)
	if err != nil {
		b.Fatal(err)
	}
	o := nn.Ops{Backend: be}
	b.ResetTimer()
	for b.Loop() {
		img, txt := blk.Forward(o, rb.img, rb.txt, rb.vec, rb.pe, nil)
		if _, err := be.ReadF32(img); err != nil {
			b.Fatal(err)
		}
		be.Free(img)
		be.Free(txt)
	}
}

// BenchmarkSingleBlockReal times one flux-dev single-stream block at
// 1024×1024 (38 of them run per model call).
func BenchmarkSingleBlockReal(b *testing.B) {
	be := cpu.New()
	rb, shapes := newRealBlock(b, be, "single_blocks.0.")
	blk, err := flux.LoadSingleBlock(be, randweights.Map(shapes, dtype.BF16, 1), "single_blocks.0.", rb.cfg)
	if err != nil {
		b.Fatal(err)
	}
	o := nn.Ops{Backend: be}
	b.ResetTimer()
	for b.Loop() {
		x := blk.Forward(o, rb.x, rb.vec, rb.pe, nil)
		if _, err := be.ReadF32(x); err != nil {
			b.Fatal(err)
		}
		be.Free(x)
	}
}
