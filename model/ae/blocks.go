package ae

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

type Tensor = backend.Tensor

// normEps is the epsilon of the AE's GroupNorm (Normalize: 32 groups,
// eps 1e-6, affine).
const normEps = 1e-6

// GroupNorm is torch.nn.GroupNorm(32, channels, eps=1e-6, affine=True).
type GroupNorm struct {
	Weight, Bias Tensor
}

func loadGroupNorm(l *weights.Loader, name string, channels int) GroupNorm {
	return GroupNorm{Weight: l.F32(name+".weight", channels), Bias: l.F32(name+".bias", channels)}
}

func (g GroupNorm) Forward(o nn.Ops, x Tensor) Tensor {
	return o.GroupNorm(x, numGroups, g.Weight, g.Bias, normEps)
}

// ResnetBlock: h = conv1(swish(norm1(x))); h = conv2(swish(norm2(h)));
// x + h, with x through a 1x1 nin_shortcut when the channel count changes.
// swish is x*sigmoid(x) (SiLU).
type ResnetBlock struct {
	Norm1, Norm2 GroupNorm
	Conv1, Conv2 nn.Conv2D
	Shortcut     *nn.Conv2D // nil when in == out
}

// LoadResnetBlock loads a ResnetBlock from in to out channels.
func LoadResnetBlock(l *weights.Loader, in, out int) *ResnetBlock {
	r := &ResnetBlock{
		Norm1: loadGroupNorm(l, "norm1", in),
		Conv1: nn.LoadConv2D(l, "conv1", in, out, 3, 1, 1, true),
		Norm2: loadGroupNorm(l, "norm2", out),
		Conv2: nn.LoadConv2D(l, "conv2", out, out, 3, 1, 1, true),
	}
	if in != out {
		s := nn.LoadConv2D(l, "nin_shortcut", in, out, 1, 1, 0, true)
		r.Shortcut = &s
	}
	return r
}

func (r *ResnetBlock) Forward(o nn.Ops, x Tensor) Tensor {
	h := r.Conv1.Forward(o, o.SiLU(r.Norm1.Forward(o, x)))
	h = r.Conv2.Forward(o, o.SiLU(r.Norm2.Forward(o, h)))
	if r.Shortcut != nil {
		x = r.Shortcut.Forward(o, x)
	}
	return o.Add(x, h)
}

// AttnBlock is single-head self-attention over the H*W positions (row-major
// "(h w)" order) with the channels as the head dim: q, k, v and proj_out
// are 1x1 convolutions, softmax(q kᵀ/sqrt(C)) v, added to x.
type AttnBlock struct {
	Norm          GroupNorm
	Q, K, V, Proj nn.Conv2D
}

// LoadAttnBlock loads an AttnBlock of the given width.
func LoadAttnBlock(l *weights.Loader, channels int) *AttnBlock {
	conv := func(name string) nn.Conv2D { return nn.LoadConv2D(l, name, channels, channels, 1, 1, 0, true) }
	return &AttnBlock{Norm: loadGroupNorm(l, "norm", channels), Q: conv("q"), K: conv("k"), V: conv("v"), Proj: conv("proj_out")}
}

func (a *AttnBlock) Forward(o nn.Ops, x Tensor) Tensor {
	s := x.Shape()
	b, c, h, w := s[0], s[1], s[2], s[3]
	hn := a.Norm.Forward(o, x)
	// "b c h w -> b 1 (h w) c"
	seq := func(t Tensor) Tensor {
		return o.Reshape(o.Permute(o.Reshape(t, b, c, h*w), 0, 2, 1), b, 1, h*w, c)
	}
	att := o.Attention(seq(a.Q.Forward(o, hn)), seq(a.K.Forward(o, hn)), seq(a.V.Forward(o, hn)), backend.AttentionOptions{})
	// "b 1 (h w) c -> b c h w"
	att = o.Reshape(o.Permute(o.Reshape(att, b, h*w, c), 0, 2, 1), b, c, h, w)
	return o.Add(x, a.Proj.Forward(o, att))
}

// Downsample halves the resolution: F.pad(x, (0, 1, 0, 1)) adds ONE zero
// column on the right and ONE zero row at the bottom only, then a 3x3
// convolution with stride 2 and no padding.
type Downsample struct{ Conv nn.Conv2D }

// LoadDownsample loads a Downsample of the given width.
func LoadDownsample(l *weights.Loader, channels int) *Downsample {
	c := nn.LoadConv2D(l, "conv", channels, channels, 3, 2, 0, true)
	c.Opt.Pad = [4]int{0, 0, 1, 1} // top, left, bottom, right
	return &Downsample{Conv: c}
}

func (d *Downsample) Forward(o nn.Ops, x Tensor) Tensor { return d.Conv.Forward(o, x) }

// Upsample doubles the resolution by nearest-neighbour interpolation, then
// a 3x3 convolution with padding 1.
type Upsample struct{ Conv nn.Conv2D }

// LoadUpsample loads an Upsample of the given width.
func LoadUpsample(l *weights.Loader, channels int) *Upsample {
	return &Upsample{Conv: nn.LoadConv2D(l, "conv", channels, channels, 3, 1, 1, true)}
}

func (u *Upsample) Forward(o nn.Ops, x Tensor) Tensor {
	s := x.Shape()
	return u.Conv.Forward(o, o.Resize2D(x, 2*s[2], 2*s[3], backend.Nearest, false))
}
