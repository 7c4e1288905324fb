package pulid

import (
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// normEps is torch.nn.LayerNorm's default epsilon, used by every PuLID
// norm (FLUX's are 1e-6).
const normEps = 1e-5

// CAConfig configures PerceiverAttentionCA (pulid/encoders_transformer.py).
type CAConfig struct {
	Dim     int `json:"dim"`      // FLUX hidden size (queries: image tokens)
	DimHead int `json:"dim_head"` // width of one head
	Heads   int `json:"heads"`
	KVDim   int `json:"kv_dim"` // IDFormer output_dim (keys/values: id tokens)
}

// RealCA is the configuration of pulid_flux_v0.9.0/0.9.1.
var RealCA = CAConfig{Dim: 3072, DimHead: 128, Heads: 16, KVDim: 2048}

// PerceiverCA is PerceiverAttentionCA: image tokens attend to the id tokens.
type PerceiverCA struct {
	Norm1, Norm2     nn.LayerNorm // norm1 over kv_dim (id tokens), norm2 over dim (image tokens)
	ToQ, ToKV, ToOut nn.Linear    // no biases
	Heads, DimHead   int
	KVWidth          int
}

func loadCA(p params, c CAConfig) *PerceiverCA {
	inner := c.DimHead * c.Heads
	return &PerceiverCA{
		Norm1:   p.LayerNorm("norm1", c.KVDim, normEps),
		Norm2:   p.LayerNorm("norm2", c.Dim, normEps),
		ToQ:     p.Linear("to_q", c.Dim, inner, false),
		ToKV:    p.Linear("to_kv", c.KVDim, 2*inner, false),
		ToOut:   p.Linear("to_out", inner, c.Dim, false),
		Heads:   c.Heads,
		DimHead: c.DimHead,
		KVWidth: c.KVDim,
	}
}

// KVDim is the width of the id tokens the module attends to.
func (m *PerceiverCA) KVDim() int { return m.KVWidth }

// Forward is PerceiverAttentionCA.forward(x=id, latents=img): queries from
// norm2(img), keys and values from norm1(id) (to_kv's first half of columns
// is k, the second v); no residual (FLUX adds id_weight·out itself).
func (m *PerceiverCA) Forward(o nn.Ops, id, img backend.Tensor) backend.Tensor {
	x := m.Norm1.Forward(o, id)
	lat := m.Norm2.Forward(o, img)
	q := m.ToQ.Forward(o, lat)
	kv := o.Chunk(m.ToKV.Forward(o, x), 2, -1)
	return m.ToOut.Forward(o, attend(o, q, kv[0], kv[1], m.Heads, m.DimHead))
}

// attend is the attention both PuLID modules share: heads by
// view(B, L, heads, dim_head).transpose(1, 2), weights (q·s)(k·s)ᵀ with
// s = dim_head^(−1/4) on BOTH q and k as the reference scales them, softmax
// over keys, back to [B, Lq, heads·dim_head].
func attend(o nn.Ops, q, k, v backend.Tensor, heads, dimHead int) backend.Tensor {
	s := float32(1 / math.Sqrt(math.Sqrt(float64(dimHead))))
	split := func(t backend.Tensor) backend.Tensor {
		sh := t.Shape()
		return o.Permute(o.Reshape(t, sh[0], sh[1], heads, dimHead), 0, 2, 1, 3)
	}
	out := o.Backend.Attention(split(o.Scale(q, s)), split(o.Scale(k, s)), split(v), backend.AttentionOptions{Scale: 1})
	sh := out.Shape()
	return o.Reshape(o.Permute(out, 0, 2, 1, 3), sh[0], sh[2], heads*dimHead)
}
