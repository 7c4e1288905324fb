package flux

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// SingleBlock is flux/modules/layers.py SingleStreamBlock: one fused
// projection (linear1) giving qkv and the MLP input side by side, one
// output projection (linear2) over [attention | GELU(mlp)].
type SingleBlock struct {
	Linear1, Linear2 nn.Linear
	Norm             QKNorm
	Mod              Modulation
	Heads, Hidden    int
}

func loadSingleBlock(p params, c Config) *SingleBlock {
	h, mlp := c.HiddenSize, c.MLPHidden()
	return &SingleBlock{
		Linear1: p.Linear("linear1", h, 3*h+mlp, true),
		Linear2: p.Linear("linear2", h+mlp, h, true),
		Norm:    loadQKNorm(p.Sub("norm"), c.HeadDim()),
		Mod:     loadModulation(p.Sub("modulation"), h, 3),
		Heads:   c.NumHeads,
		Hidden:  h,
	}
}

// Forward runs the block on x = cat(txt, img) [B, L, hidden]: chunks are
// shift, scale, gate; x + gate·linear2(cat(attn, GELU_tanh(mlp))). rec
// receives mod_lin, linear1 and attn.
func (blk *SingleBlock) Forward(o nn.Ops, x, vec backend.Tensor, pe PE, rec Recorder) backend.Tensor {
	raw, mod := blk.Mod.Forward(o, vec)
	rec.record("mod_lin", raw)
	lin1 := blk.Linear1.Forward(o, modulate(o, x, mod[0], mod[1]))
	rec.record("linear1", lin1)
	parts := o.Split(lin1, -1, 3*blk.Hidden, lin1.Shape()[2]-3*blk.Hidden)
	q, k, v := splitQKV(o, parts[0], blk.Heads, blk.Norm)
	attn := Attention(o, q, k, v, pe)
	o.Free(v)
	rec.record("attn", attn)
	out := blk.Linear2.Forward(o, o.Concat(2, attn, o.GELU(parts[1])))
	return o.Add(x, o.Mul(mod[2], out))
}
