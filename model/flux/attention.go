package flux

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
)

// QKNorm is the per-head RMSNorm of q and k (flux/modules/layers.py QKNorm):
// x·rsqrt(mean(x²)+1e-6)·scale over the head dim, separate scales for q and k.
type QKNorm struct {
	QueryScale, KeyScale backend.Tensor // [D]
}

const qkNormEps = 1e-6

func loadQKNorm(p params, d int) QKNorm {
	return QKNorm{QueryScale: p.F32("query_norm.scale", d), KeyScale: p.F32("key_norm.scale", d)}
}

// splitQKV cuts a fused projection [B, L, 3·H·D] into q, k, v [B, H, L, D]
// as rearrange("B L (K H D) -> K B H L D"): columns [0, hidden) are q,
// then k, then v; head h is columns h·D … (h+1)·D inside each. q and k come
// out QK-normed (the norm is over D, so it runs before the permute-free
// reshape is undone by one permute).
func splitQKV(o nn.Ops, qkv backend.Tensor, heads int, norm QKNorm) (q, k, v backend.Tensor) {
	s := qkv.Shape()
	bsz, l := s[0], s[1]
	d := s[2] / (3 * heads)
	// one copy: [B, L, 3, H, D] → [3, B, H, L, D]
	t := o.Permute(o.Reshape(qkv, bsz, l, 3, heads, d), 2, 0, 3, 1, 4)
	q = o.Reshape(o.Slice(t, 0, 0, 1, 1), bsz, heads, l, d)
	k = o.Reshape(o.Slice(t, 0, 1, 2, 1), bsz, heads, l, d)
	v = o.Reshape(o.Slice(t, 0, 2, 3, 1), bsz, heads, l, d)
	o.Free(t)
	q = o.RMSNorm(q, norm.QueryScale, qkNormEps)
	k = o.RMSNorm(k, norm.KeyScale, qkNormEps)
	return q, k, v
}

// Attention is flux/math.py attention: RoPE on q and k, softmax(q·kᵀ/√D)·v,
// then "B H L D -> B L (H D)".
func Attention(o nn.Ops, q, k, v backend.Tensor, pe PE) backend.Tensor {
	q, k = ApplyRoPE(o, q, pe), ApplyRoPE(o, k, pe)
	x := o.Backend.Attention(q, k, v, backend.AttentionOptions{})
	o.Free(q)
	o.Free(k)
	s := x.Shape()
	out := o.Reshape(o.Permute(x, 0, 2, 1, 3), s[0], s[2], s[1]*s[3])
	o.Free(x)
	return out
}
