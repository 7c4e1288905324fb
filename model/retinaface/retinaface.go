package retinaface

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/convbn"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Model is a loaded RetinaFace; BatchNorms are folded into the convs.
type Model struct {
	Config Config
	b      nn.Ops

	conv1  convbn.Conv
	stages [4][]bottleneck
	fpnOut [3]convbn.Conv // output1..3: 1×1 lateral convs
	merge  [2]convbn.Conv // merge1 (stride 8), merge2 (stride 16)
	ssh    [3]ssh
	head   [3][3]convbn.Conv // [class|bbox|landmark][level]
}

// bottleneck is torchvision's ResNet-50 block (stride on the 3×3 conv).
type bottleneck struct {
	conv1, conv2, conv3 convbn.Conv
	down                *convbn.Conv
}

// ssh is the SSH context module of one level.
type ssh struct {
	conv3x3, conv5x5a, conv5x5b, conv7x7a, conv7x7b convbn.Conv
}

// Load builds the net from a state dict (a leading `module.` on every key
// is stripped); the configuration comes from the tensor shapes.
func Load(b backend.Backend, src weights.Source) (*Model, error) {
	src = StripModule(src)
	cfg, err := ConfigFrom(src)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, b: nn.Ops{Backend: b}}
	l := convbn.NewLoader(b, src)
	m.conv1 = l.ConvBN("body.conv1", "body.bn1", convbn.Spec{In: 3, Out: cfg.Stem, K: 7, Stride: 2, Pad: 3})
	in := cfg.Stem
	for s := range 4 {
		stride := 2
		if s == 0 {
			stride = 1 // layer1 follows the max pool at the same resolution
		}
		for i := range cfg.Blocks[s] {
			p := fmt.Sprintf("body.layer%d.%d.", s+1, i)
			var blk bottleneck
			st := 1
			if i == 0 {
				st = stride
			}
			blk.conv1 = l.ConvBN(p+"conv1", p+"bn1", convbn.Spec{In: in, Out: cfg.Mid[s], K: 1})
			blk.conv2 = l.ConvBN(p+"conv2", p+"bn2", convbn.Spec{In: cfg.Mid[s], Out: cfg.Mid[s], K: 3, Stride: st, Pad: 1})
			blk.conv3 = l.ConvBN(p+"conv3", p+"bn3", convbn.Spec{In: cfg.Mid[s], Out: cfg.Out[s], K: 1})
			if l.Has(p + "downsample.0.weight") {
				d := l.ConvBN(p+"downsample.0", p+"downsample.1", convbn.Spec{In: in, Out: cfg.Out[s], K: 1, Stride: st})
				blk.down = &d
			} else if in != cfg.Out[s] || st != 1 {
				return nil, fmt.Errorf("retinaface: %sdownsample is missing but the block changes shape", p)
			}
			m.stages[s] = append(m.stages[s], blk)
			in = cfg.Out[s]
		}
	}
	f := cfg.FPN
	for k := range 3 {
		p := fmt.Sprintf("fpn.output%d.", k+1)
		m.fpnOut[k] = l.ConvBN(p+"0", p+"1", convbn.Spec{In: cfg.Out[k+1], Out: f, K: 1})
	}
	for k := range 2 {
		p := fmt.Sprintf("fpn.merge%d.", k+1)
		m.merge[k] = l.ConvBN(p+"0", p+"1", convbn.Spec{In: f, Out: f, K: 3, Pad: 1})
	}
	for k := range 3 {
		p := fmt.Sprintf("ssh%d.", k+1)
		c3 := convbn.Spec{In: f, Out: f / 4, K: 3, Pad: 1}
		q3 := convbn.Spec{In: f / 4, Out: f / 4, K: 3, Pad: 1}
		m.ssh[k] = ssh{
			conv3x3:  l.ConvBN(p+"conv3X3.0", p+"conv3X3.1", convbn.Spec{In: f, Out: f / 2, K: 3, Pad: 1}),
			conv5x5a: l.ConvBN(p+"conv5X5_1.0", p+"conv5X5_1.1", c3),
			conv5x5b: l.ConvBN(p+"conv5X5_2.0", p+"conv5X5_2.1", q3),
			conv7x7a: l.ConvBN(p+"conv7X7_2.0", p+"conv7X7_2.1", q3),
			conv7x7b: l.ConvBN(p+"conv7x7_3.0", p+"conv7x7_3.1", q3),
		}
	}
	for h, hd := range heads {
		for k := range 3 {
			m.head[h][k] = l.Conv(fmt.Sprintf("%s.%d.conv1x1", hd.name, k), convbn.Spec{In: f, Out: cfg.Anchors * hd.k, K: 1, Bias: true})
		}
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("retinaface: %w", err)
	}
	if u := l.Unused(); len(u) > 0 {
		return nil, fmt.Errorf("retinaface: %d unexpected tensors, e.g. %q", len(u), u[0])
	}
	return m, nil
}

// Outputs are the raw head outputs of a forward pass over P priors.
type Outputs struct {
	Loc        backend.Tensor // [B, P, 4] encoded box offsets
	ConfLogits backend.Tensor // [B, P, 2] class logits; [..., 1] = face
	Conf       backend.Tensor // [B, P, 2] softmax of ConfLogits (phase 'test')
	Landms     backend.Tensor // [B, P, 10] encoded landmarks
	FPN        [3]backend.Tensor
}

func relu(b nn.Ops, x backend.Tensor) backend.Tensor { return b.Unary(backend.ReLU, x) }

// Forward runs the net on x [B, 3, H, W] (BGR minus Mean).
func (m *Model) Forward(x backend.Tensor) (out Outputs, err error) {
	defer backend.Catch(&err)
	b := m.b
	if s := x.Shape(); len(s) != 4 || s[1] != 3 || s[2] < 1 || s[3] < 1 {
		return out, fmt.Errorf("retinaface: input shape %v, want [B, 3, H, W]", s)
	}
	h := relu(b, m.conv1.Forward(b, x))
	h = b.Pool2D(h, backend.PoolOptions{Kind: backend.MaxPool, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	var feats [3]backend.Tensor // layer2..layer4: strides 8, 16, 32
	for s := range 4 {
		for _, blk := range m.stages[s] {
			h = blk.forward(b, h)
		}
		if s > 0 {
			feats[s-1] = h
		}
	}
	// The FPN and SSH LeakyReLUs have slope 0 — facexlib sets 0.1 only
	// when out_channels <= 64, and the R50 config has 256 — so they are ReLUs.
	o1 := relu(b, m.fpnOut[0].Forward(b, feats[0]))
	o2 := relu(b, m.fpnOut[1].Forward(b, feats[1]))
	o3 := relu(b, m.fpnOut[2].Forward(b, feats[2]))
	// Nearest upsampling to the finer map; its size is 2n or 2n−1 of the
	// coarser one (ceil halving), where torch's float scale and the exact
	// floor(dst·in/out) pick the same source rows.
	o2 = b.Add(o2, upNearest(b, o3, o2))
	o2 = relu(b, m.merge[1].Forward(b, o2))
	o1 = b.Add(o1, upNearest(b, o2, o1))
	o1 = relu(b, m.merge[0].Forward(b, o1))
	out.FPN = [3]backend.Tensor{o1, o2, o3}

	var per [3][3]backend.Tensor
	for k, f := range out.FPN {
		feat := m.ssh[k].forward(b, f)
		for hd := range heads {
			per[hd][k] = headOut(b, m.head[hd][k].Forward(b, feat), heads[hd].k)
		}
	}
	out.ConfLogits = b.Concat(1, per[0][:]...)
	out.Loc = b.Concat(1, per[1][:]...)
	out.Landms = b.Concat(1, per[2][:]...)
	out.Conf = b.Softmax(out.ConfLogits)
	return out, nil
}

func (blk bottleneck) forward(b nn.Ops, x backend.Tensor) backend.Tensor {
	y := relu(b, blk.conv1.Forward(b, x))
	y = relu(b, blk.conv2.Forward(b, y))
	y = blk.conv3.Forward(b, y)
	sc := x
	if blk.down != nil {
		sc = blk.down.Forward(b, x)
	}
	return relu(b, b.Add(y, sc))
}

// forward is SSH: cat(conv3X3(x), conv5X5_2(b1), conv7x7_3(conv7X7_2(b1)))
// with b1 = conv5X5_1(x) feeding both larger branches, then ReLU.
func (s ssh) forward(b nn.Ops, x backend.Tensor) backend.Tensor {
	a := s.conv3x3.Forward(b, x)
	b1 := relu(b, s.conv5x5a.Forward(b, x))
	c5 := s.conv5x5b.Forward(b, b1)
	c7 := s.conv7x7b.Forward(b, relu(b, s.conv7x7a.Forward(b, b1)))
	return relu(b, b.Concat(1, a, c5, c7))
}

// headOut is permute(0, 2, 3, 1).view(B, −1, k): anchor index (i·W + j)·A + a.
func headOut(b nn.Ops, x backend.Tensor, k int) backend.Tensor {
	s := x.Shape()
	return b.Reshape(b.Permute(x, 0, 2, 3, 1), s[0], -1, k)
}

// upNearest resizes x to the spatial size of like (F.interpolate nearest).
func upNearest(b nn.Ops, x, like backend.Tensor) backend.Tensor {
	s := like.Shape()
	return b.Resize2D(x, s[2], s[3], backend.Nearest, false)
}
