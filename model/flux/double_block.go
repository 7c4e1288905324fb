package flux

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// normEps is FLUX's LayerNorm epsilon (no affine weights anywhere in FLUX).
const normEps = 1e-6

// Modulation is flux/modules/layers.py Modulation: lin(SiLU(vec)) cut into
// chunks of hidden_size, each [B, 1, hidden] so it broadcasts over tokens.
type Modulation struct {
	Lin nn.Linear
	n   int // 3 (single block) or 6 (double block)
}

func loadModulation(p params, hidden, n int) Modulation {
	return Modulation{Lin: p.Linear("lin", hidden, n*hidden, true), n: n}
}

// Forward returns the raw lin(SiLU(vec)) [B, n·hidden] and its chunks.
func (m Modulation) Forward(o nn.Ops, vec backend.Tensor) (raw backend.Tensor, chunks []backend.Tensor) {
	raw = m.Lin.Forward(o, o.SiLU(vec))
	s := raw.Shape()
	return raw, o.Chunk(o.Reshape(raw, s[0], 1, s[1]), m.n, -1)
}

// modulate is (1 + scale)·LN(x) + shift with FLUX's affine-free LayerNorm.
func modulate(o nn.Ops, x, shift, scale backend.Tensor) backend.Tensor {
	return o.Add(o.Mul(o.Affine(scale, 1, 1), o.LayerNorm(x, nil, nil, normEps)), shift)
}

// MLP is Linear(hidden, mlp_hidden) → GELU (tanh approximation) → Linear.
type MLP struct{ In, Out nn.Linear }

func loadMLP(p params, hidden, mlp int) MLP {
	return MLP{In: p.Linear("0", hidden, mlp, true), Out: p.Linear("2", mlp, hidden, true)}
}

func (m MLP) Forward(o nn.Ops, x backend.Tensor) backend.Tensor {
	return m.Out.Forward(o, o.GELU(m.In.Forward(o, x)))
}

// streamWeights are one stream's (img or txt) weights of a double block.
type streamWeights struct {
	Mod  Modulation
	QKV  nn.Linear
	Norm QKNorm
	Proj nn.Linear
	MLP  MLP
}

func loadStream(p params, c Config, name string) streamWeights {
	h := c.HiddenSize
	return streamWeights{
		Mod:  loadModulation(p.Sub(name+"_mod"), h, 6),
		QKV:  p.Linear(name+"_attn.qkv", h, 3*h, c.QKVBias),
		Norm: loadQKNorm(p.Sub(name+"_attn.norm"), c.HeadDim()),
		Proj: p.Linear(name+"_attn.proj", h, h, true),
		MLP:  loadMLP(p.Sub(name+"_mlp"), h, c.MLPHidden()),
	}
}

// DoubleBlock is flux/modules/layers.py DoubleStreamBlock: image and text
// streams with their own weights meeting in one joint attention.
type DoubleBlock struct {
	Img, Txt streamWeights
	Heads    int
}

func loadDoubleBlock(p params, c Config) *DoubleBlock {
	return &DoubleBlock{Img: loadStream(p, c, "img"), Txt: loadStream(p, c, "txt"), Heads: c.NumHeads}
}

// Forward runs the block on img [B, Li, hidden], txt [B, Lt, hidden] with
// pe over cat(txt, img). Chunks are shift1, scale1, gate1, shift2, scale2,
// gate2; the joint attention runs over cat(txt, img) (txt first); the MLP
// sees the stream already updated by attention. rec receives img_mod_lin,
// txt_mod_lin and attn (before the split).
func (blk *DoubleBlock) Forward(o nn.Ops, img, txt, vec backend.Tensor, pe PE, rec Recorder) (backend.Tensor, backend.Tensor) {
	imgRaw, im := blk.Img.Mod.Forward(o, vec)
	txtRaw, tm := blk.Txt.Mod.Forward(o, vec)
	rec.record("img_mod_lin", imgRaw)
	rec.record("txt_mod_lin", txtRaw)

	iq, ik, iv := splitQKV(o, blk.Img.QKV.Forward(o, modulate(o, img, im[0], im[1])), blk.Heads, blk.Img.Norm)
	tq, tk, tv := splitQKV(o, blk.Txt.QKV.Forward(o, modulate(o, txt, tm[0], tm[1])), blk.Heads, blk.Txt.Norm)
	q, k, v := o.Concat(2, tq, iq), o.Concat(2, tk, ik), o.Concat(2, tv, iv)
	for _, t := range []backend.Tensor{iq, ik, iv, tq, tk, tv} {
		o.Free(t)
	}
	attn := Attention(o, q, k, v, pe)
	o.Free(v)
	rec.record("attn", attn)
	lt := txt.Shape()[1]
	txtAttn := o.Slice(attn, 1, 0, lt, 1)
	imgAttn := o.Slice(attn, 1, lt, attn.Shape()[1], 1)

	img = o.Add(img, o.Mul(im[2], blk.Img.Proj.Forward(o, imgAttn)))
	img = o.Add(img, o.Mul(im[5], blk.Img.MLP.Forward(o, modulate(o, img, im[3], im[4]))))
	txt = o.Add(txt, o.Mul(tm[2], blk.Txt.Proj.Forward(o, txtAttn)))
	txt = o.Add(txt, o.Mul(tm[5], blk.Txt.MLP.Forward(o, modulate(o, txt, tm[3], tm[4]))))
	return img, txt
}
