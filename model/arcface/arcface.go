// Package arcface is the ArcFace recognition backbone PuLID takes its
// identity embedding from: insightface arcface_torch's IResNet (antelopev2
// glintr100.onnx is an iresnet100 with 512 features). It runs either from
// an arcface_torch state dict (backbone.pth keys, as the golden
// weights.safetensors) or from an exported ONNX graph; both give the raw,
// un-normalised embedding PuLID uses.
package arcface

import (
	"fmt"
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/convbn"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// InputSize is the side of the aligned face crop (norm_crop's 112×112).
const InputSize = 112

// bnEps is the epsilon of every BatchNorm of arcface_torch's IResNet.
const bnEps = 1e-5

// Embedder computes embeddings [N, Features] from preprocessed faces
// [N, 3, 112, 112] (RGB, (x − 127.5)/127.5).
type Embedder interface {
	Embed(x backend.Tensor) (backend.Tensor, error)
}

// Config is the shape of an IResNet; every field is read from the weights.
type Config struct {
	Stem     int    // conv1 output channels (64)
	Blocks   [4]int // IBasicBlocks per stage (iresnet100: 3, 13, 30, 3)
	Widths   [4]int // stage widths (64, 128, 256, 512)
	FCIn     int    // fc input: Widths[3] · 7 · 7
	Features int    // embedding size (512)
}

// R100 is the configuration of iresnet100 (glintr100).
var R100 = Config{Stem: 64, Blocks: [4]int{3, 13, 30, 3}, Widths: [4]int{64, 128, 256, 512}, FCIn: 512 * 7 * 7, Features: 512}

// ConfigFrom reads the configuration from the tensor shapes of src.
func ConfigFrom(src weights.Source) (Config, error) {
	var c Config
	dim := func(name string, axis int) int {
		info, ok := src.Info(name)
		if !ok || len(info.Shape) <= axis {
			return 0
		}
		return info.Shape[axis]
	}
	if c.Stem = dim("conv1.weight", 0); c.Stem == 0 {
		return c, fmt.Errorf("arcface: no conv1.weight: not an arcface_torch IResNet state dict")
	}
	for s := range 4 {
		for dim(fmt.Sprintf("layer%d.%d.conv1.weight", s+1, c.Blocks[s]), 0) > 0 {
			c.Blocks[s]++
		}
		if c.Blocks[s] == 0 {
			return c, fmt.Errorf("arcface: stage layer%d has no blocks", s+1)
		}
		c.Widths[s] = dim(fmt.Sprintf("layer%d.0.conv1.weight", s+1), 0)
	}
	c.Features, c.FCIn = dim("fc.weight", 0), dim("fc.weight", 1)
	if c.Features == 0 || c.FCIn == 0 {
		return c, fmt.Errorf("arcface: no fc.weight")
	}
	return c, nil
}

// Shapes lists every tensor of the state dict of a net of this
// configuration (num_batches_tracked has shape []), as arcface_torch's
// backbone.pth holds them.
func (c Config) Shapes() map[string][]int {
	m := convbn.Shapes{}
	bn := m.BN
	m["conv1.weight"] = []int{c.Stem, 3, 3, 3}
	bn("bn1", c.Stem)
	m["prelu.weight"] = []int{c.Stem}
	in := c.Stem
	for s := range 4 {
		w := c.Widths[s]
		for i := range c.Blocks[s] {
			p := fmt.Sprintf("layer%d.%d.", s+1, i)
			bn(p+"bn1", in)
			m[p+"conv1.weight"] = []int{w, in, 3, 3}
			bn(p+"bn2", w)
			m[p+"prelu.weight"] = []int{w}
			m[p+"conv2.weight"] = []int{w, w, 3, 3}
			bn(p+"bn3", w)
			if i == 0 {
				m[p+"downsample.0.weight"] = []int{w, in, 1, 1}
				bn(p+"downsample.1", w)
			}
			in = w
		}
	}
	bn("bn2", in)
	m["fc.weight"] = []int{c.Features, c.FCIn}
	m["fc.bias"] = []int{c.Features}
	bn("features", c.Features)
	return m
}

// affine is an inference BatchNorm that cannot be folded into a
// convolution (it precedes a zero-padded one, or nothing): y = x·s + t per
// channel, with s and t shaped to broadcast over the trailing dims.
type affine struct{ s, t backend.Tensor }

func (a affine) forward(b nn.Ops, x backend.Tensor) backend.Tensor {
	return b.Add(b.Mul(x, a.s), a.t)
}

// prelu is PReLU with per-channel slopes [C, 1, 1].
type prelu struct{ w backend.Tensor }

func (p prelu) forward(b nn.Ops, zero, x backend.Tensor) backend.Tensor {
	return b.Add(b.Binary(backend.Max, x, zero), b.Mul(p.w, b.Binary(backend.Min, x, zero)))
}

// block is arcface_torch's IBasicBlock: bn1 → conv1 → bn2 → prelu →
// conv2(stride) → bn3, plus the identity or downsample, and no activation
// after the sum. bn2 and bn3 are folded into conv1 and conv2.
type block struct {
	bn1          affine
	conv1, conv2 convbn.Conv
	prelu        prelu
	down         *convbn.Conv
}

// Model is an IResNet loaded from a state dict.
type Model struct {
	Config
	b        nn.Ops
	zero     backend.Tensor
	conv1    convbn.Conv // bn1 folded
	prelu    prelu
	stages   [4][]block
	bn2      affine
	fc       nn.Linear
	features affine
}

// Load builds the net from an arcface_torch state dict; the configuration
// comes from the tensor shapes, and every tensor must be used.
func Load(b backend.Backend, src weights.Source) (*Model, error) {
	cfg, err := ConfigFrom(src)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, b: nn.Ops{Backend: b}, zero: b.FromF32([]int{1}, []float32{0})}
	l := convbn.NewLoader(b, src)
	bnAffine := func(name string, n int, spatial bool) affine {
		gamma := l.Host(name+".weight", []int{n})
		beta := l.Host(name+".bias", []int{n})
		mean := l.Host(name+".running_mean", []int{n})
		variance := l.Host(name+".running_var", []int{n})
		l.Skip(name + ".num_batches_tracked")
		if gamma == nil || beta == nil || mean == nil || variance == nil {
			return affine{}
		}
		s, t := make([]float32, n), make([]float32, n)
		for c := range n {
			k := float64(gamma[c]) / math.Sqrt(float64(variance[c])+bnEps)
			s[c], t[c] = float32(k), float32(float64(beta[c])-float64(mean[c])*k)
		}
		shape := []int{n}
		if spatial {
			shape = []int{n, 1, 1}
		}
		return affine{s: b.FromF32(shape, s), t: b.FromF32(shape, t)}
	}
	loadPReLU := func(name string, n int) prelu {
		w := l.Host(name, []int{n})
		if w == nil {
			return prelu{}
		}
		return prelu{w: b.FromF32([]int{n, 1, 1}, w)}
	}
	m.conv1 = l.ConvBN("conv1", "bn1", convbn.Spec{In: 3, Out: cfg.Stem, K: 3, Stride: 1, Pad: 1})
	m.prelu = loadPReLU("prelu.weight", cfg.Stem)
	in := cfg.Stem
	for s := range 4 {
		w := cfg.Widths[s]
		for i := range cfg.Blocks[s] {
			p := fmt.Sprintf("layer%d.%d.", s+1, i)
			stride := 1
			if i == 0 {
				stride = 2 // every stage halves the resolution in its first block
			}
			blk := block{
				bn1:   bnAffine(p+"bn1", in, true),
				conv1: l.ConvBN(p+"conv1", p+"bn2", convbn.Spec{In: in, Out: w, K: 3, Stride: 1, Pad: 1}),
				prelu: loadPReLU(p+"prelu.weight", w),
				conv2: l.ConvBN(p+"conv2", p+"bn3", convbn.Spec{In: w, Out: w, K: 3, Stride: stride, Pad: 1}),
			}
			if l.Has(p + "downsample.0.weight") {
				d := l.ConvBN(p+"downsample.0", p+"downsample.1", convbn.Spec{In: in, Out: w, K: 1, Stride: stride})
				blk.down = &d
			} else if in != w || stride != 1 {
				return nil, fmt.Errorf("arcface: %sdownsample is missing but the block changes shape", p)
			}
			m.stages[s] = append(m.stages[s], blk)
			in = w
		}
	}
	m.bn2 = bnAffine("bn2", in, true)
	if fw := l.Host("fc.weight", []int{cfg.Features, cfg.FCIn}); fw != nil {
		m.fc.Weight = b.FromF32([]int{cfg.Features, cfg.FCIn}, fw)
	}
	m.fc.Bias = l.Tensor("fc.bias", cfg.Features)
	m.features = bnAffine("features", cfg.Features, false)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("arcface: %w", err)
	}
	if u := l.Unused(); len(u) > 0 {
		return nil, fmt.Errorf("arcface: %d unexpected tensors, e.g. %q", len(u), u[0])
	}
	return m, nil
}

// Outputs are the embedding and the intermediates the reference exposes.
type Outputs struct {
	Stages    [4]backend.Tensor // residual stream after layer1..layer4
	FC        backend.Tensor    // fc output, before the features BatchNorm1d
	Embedding backend.Tensor    // [N, Features], not normalised
}

// Forward runs the net on x [N, 3, 112, 112].
func (m *Model) Forward(x backend.Tensor) (out Outputs, err error) {
	defer backend.Catch(&err)
	s := x.Shape()
	if len(s) != 4 || s[1] != 3 {
		return out, fmt.Errorf("arcface: input %v, want [N, 3, H, W]", s)
	}
	b := m.b
	x = m.prelu.forward(b, m.zero, m.conv1.Forward(b, x))
	for k, stage := range m.stages {
		for _, blk := range stage {
			identity := x
			if blk.down != nil {
				identity = blk.down.Forward(b, x)
			}
			y := blk.conv1.Forward(b, blk.bn1.forward(b, x))
			y = blk.conv2.Forward(b, blk.prelu.forward(b, m.zero, y))
			x = b.Add(y, identity)
		}
		out.Stages[k] = x
	}
	x = m.bn2.forward(b, x)
	fs := x.Shape()
	if fs[1]*fs[2]*fs[3] != m.FCIn {
		return out, fmt.Errorf("arcface: input %v gives a %v map, fc takes %d values (the net expects %d×%d faces)",
			s, fs[1:], m.FCIn, InputSize, InputSize)
	}
	// torch.flatten(x, 1): (C, H, W) order; dropout is identity at inference
	out.FC = m.fc.Forward(b, b.Reshape(x, fs[0], m.FCIn))
	out.Embedding = m.features.forward(b, out.FC)
	return out, nil
}

// Embed returns the embedding of x.
func (m *Model) Embed(x backend.Tensor) (backend.Tensor, error) {
	out, err := m.Forward(x)
	return out.Embedding, err
}
