// Package bisenet is facexlib's BiSeNet face parser (`parsing_bisenet.pth`,
// 19 classes), as PuLID uses it to find the background of the aligned face:
// a ResNet-18 context path with attention refinement (ARM) at strides 16 and
// 32, a feature fusion module (FFM) at stride 8, and a 3×3 + 1×1 head whose
// logits are upsampled (bilinear, align_corners) to the input size.
package bisenet

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/convbn"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Config is the shape of the net; every field is read from the weights.
type Config struct {
	Stem    int    // resnet conv1 output channels (64)
	Blocks  [4]int // BasicBlocks per stage (2, 2, 2, 2)
	Widths  [4]int // stage widths (64, 128, 256, 512)
	ARM     int    // ARM / context head width (128)
	FFM     int    // fusion width (256)
	HeadMid int    // main head's 3×3 conv width (256)
	AuxMid  int    // auxiliary heads' 3×3 conv width (64)
	Classes int    // 19
}

// Real is the configuration of the released parsing_bisenet.pth.
var Real = Config{Stem: 64, Blocks: [4]int{2, 2, 2, 2}, Widths: [4]int{64, 128, 256, 512}, ARM: 128, FFM: 256, HeadMid: 256, AuxMid: 64, Classes: 19}

// Labels names the 19 classes of the face-parsing model.
var Labels = [19]string{"background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear", "ear_r",
	"nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat"}

// PuLIDBackground are the classes PuLID paints white before EVA-CLIP:
// background, cloth, hat, ears, earring, neck, necklace.
var PuLIDBackground = []int{0, 16, 18, 7, 8, 9, 14, 15}

// Input normalisation (ImageNet statistics) applied to RGB in [0, 1].
var (
	Mean = [3]float32{0.485, 0.456, 0.406}
	Std  = [3]float32{0.229, 0.224, 0.225}
)

// ConfigFrom reads the configuration from the tensor shapes of src.
func ConfigFrom(src weights.Source) (Config, error) {
	dim := func(name string, axis int) int {
		info, ok := src.Info(name)
		if !ok || len(info.Shape) <= axis {
			return 0
		}
		return info.Shape[axis]
	}
	var c Config
	c.Stem = dim("cp.resnet.conv1.weight", 0)
	if c.Stem == 0 {
		return c, fmt.Errorf("bisenet: no cp.resnet.conv1.weight: not a BiSeNet checkpoint")
	}
	for s := range 4 {
		for dim(fmt.Sprintf("cp.resnet.layer%d.%d.conv1.weight", s+1, c.Blocks[s]), 0) > 0 {
			c.Blocks[s]++
		}
		if c.Blocks[s] == 0 {
			return c, fmt.Errorf("bisenet: stage layer%d has no blocks", s+1)
		}
		c.Widths[s] = dim(fmt.Sprintf("cp.resnet.layer%d.0.conv1.weight", s+1), 0)
	}
	c.ARM = dim("cp.arm32.conv.conv.weight", 0)
	c.FFM = dim("ffm.convblk.conv.weight", 0)
	c.HeadMid = dim("conv_out.conv.conv.weight", 0)
	c.AuxMid = dim("conv_out16.conv.conv.weight", 0)
	c.Classes = dim("conv_out.conv_out.weight", 0)
	if c.ARM == 0 || c.FFM == 0 || c.FFM%4 != 0 || c.HeadMid == 0 || c.AuxMid == 0 || c.Classes < 2 {
		return c, fmt.Errorf("bisenet: unreadable head widths %+v", c)
	}
	return c, nil
}

// Shapes lists every tensor of the state dict of a net of this
// configuration (num_batches_tracked has shape []).
func (c Config) Shapes() map[string][]int {
	m := convbn.Shapes{}
	conv, bn := m.Conv, m.BN
	cbr := func(name string, o, i, k int) { conv(name+".conv", o, i, k); bn(name+".bn", o) }
	conv("cp.resnet.conv1", c.Stem, 3, 7)
	bn("cp.resnet.bn1", c.Stem)
	in := c.Stem
	for s := range 4 {
		for i := range c.Blocks[s] {
			p := fmt.Sprintf("cp.resnet.layer%d.%d.", s+1, i)
			conv(p+"conv1", c.Widths[s], in, 3)
			bn(p+"bn1", c.Widths[s])
			conv(p+"conv2", c.Widths[s], c.Widths[s], 3)
			bn(p+"bn2", c.Widths[s])
			if in != c.Widths[s] || (i == 0 && s > 0) {
				conv(p+"downsample.0", c.Widths[s], in, 1)
				bn(p+"downsample.1", c.Widths[s])
			}
			in = c.Widths[s]
		}
	}
	for _, a := range []struct {
		name string
		in   int
	}{{"cp.arm16", c.Widths[2]}, {"cp.arm32", c.Widths[3]}} {
		cbr(a.name+".conv", c.ARM, a.in, 3)
		conv(a.name+".conv_atten", c.ARM, c.ARM, 1)
		bn(a.name+".bn_atten", c.ARM)
	}
	cbr("cp.conv_head32", c.ARM, c.ARM, 3)
	cbr("cp.conv_head16", c.ARM, c.ARM, 3)
	cbr("cp.conv_avg", c.ARM, c.Widths[3], 1)
	cbr("ffm.convblk", c.FFM, c.Widths[1]+c.ARM, 1)
	conv("ffm.conv1", c.FFM/4, c.FFM, 1)
	conv("ffm.conv2", c.FFM, c.FFM/4, 1)
	cbr("conv_out.conv", c.HeadMid, c.FFM, 3)
	conv("conv_out.conv_out", c.Classes, c.HeadMid, 1)
	for _, h := range []string{"conv_out16", "conv_out32"} {
		cbr(h+".conv", c.AuxMid, c.ARM, 3)
		conv(h+".conv_out", c.Classes, c.AuxMid, 1)
	}
	return m
}

// Model is a loaded BiSeNet; BatchNorms are folded into the convs.
type Model struct {
	Config Config
	o      nn.Ops

	conv1                      convbn.Conv
	stages                     [4][]basicBlock
	arm16, arm32               arm
	head32, head16, avg        convbn.Conv
	ffmBlk, ffmConv1, ffmConv2 convbn.Conv
	outConv, outCls            convbn.Conv
}

type basicBlock struct {
	conv1, conv2 convbn.Conv
	down         *convbn.Conv
}

// arm is the attention refinement module: feat = ConvBNReLU(x), gated by
// sigmoid(BN(conv1×1(mean(feat)))).
type arm struct{ conv, atten convbn.Conv }

// Load builds the net from a state dict; the configuration comes from the
// tensor shapes. The auxiliary heads conv_out16/32 (training only) are
// checked but not kept.
func Load(b backend.Backend, src weights.Source) (*Model, error) {
	cfg, err := ConfigFrom(src)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, o: nn.Ops{Backend: b}}
	l := convbn.NewLoader(b, src)
	cbr := func(name string, in, out, k int) convbn.Conv {
		return l.ConvBN(name+".conv", name+".bn", convbn.Spec{In: in, Out: out, K: k, Pad: k / 2})
	}
	m.conv1 = l.ConvBN("cp.resnet.conv1", "cp.resnet.bn1", convbn.Spec{In: 3, Out: cfg.Stem, K: 7, Stride: 2, Pad: 3})
	in := cfg.Stem
	for s := range 4 {
		for i := range cfg.Blocks[s] {
			p := fmt.Sprintf("cp.resnet.layer%d.%d.", s+1, i)
			st := 1
			if i == 0 && s > 0 {
				st = 2
			}
			blk := basicBlock{
				conv1: l.ConvBN(p+"conv1", p+"bn1", convbn.Spec{In: in, Out: cfg.Widths[s], K: 3, Stride: st, Pad: 1}),
				conv2: l.ConvBN(p+"conv2", p+"bn2", convbn.Spec{In: cfg.Widths[s], Out: cfg.Widths[s], K: 3, Pad: 1}),
			}
			if in != cfg.Widths[s] || st != 1 {
				d := l.ConvBN(p+"downsample.0", p+"downsample.1", convbn.Spec{In: in, Out: cfg.Widths[s], K: 1, Stride: st})
				blk.down = &d
			}
			m.stages[s] = append(m.stages[s], blk)
			in = cfg.Widths[s]
		}
	}
	loadARM := func(name string, in int) arm {
		return arm{
			conv:  cbr(name+".conv", in, cfg.ARM, 3),
			atten: l.ConvBN(name+".conv_atten", name+".bn_atten", convbn.Spec{In: cfg.ARM, Out: cfg.ARM, K: 1}),
		}
	}
	m.arm16 = loadARM("cp.arm16", cfg.Widths[2])
	m.arm32 = loadARM("cp.arm32", cfg.Widths[3])
	m.head32 = cbr("cp.conv_head32", cfg.ARM, cfg.ARM, 3)
	m.head16 = cbr("cp.conv_head16", cfg.ARM, cfg.ARM, 3)
	m.avg = cbr("cp.conv_avg", cfg.Widths[3], cfg.ARM, 1)
	m.ffmBlk = cbr("ffm.convblk", cfg.Widths[1]+cfg.ARM, cfg.FFM, 1)
	m.ffmConv1 = l.Conv("ffm.conv1", convbn.Spec{In: cfg.FFM, Out: cfg.FFM / 4, K: 1})
	m.ffmConv2 = l.Conv("ffm.conv2", convbn.Spec{In: cfg.FFM / 4, Out: cfg.FFM, K: 1})
	m.outConv = cbr("conv_out.conv", cfg.FFM, cfg.HeadMid, 3)
	m.outCls = l.Conv("conv_out.conv_out", convbn.Spec{In: cfg.HeadMid, Out: cfg.Classes, K: 1})
	for _, h := range []string{"conv_out16", "conv_out32"} {
		shape := cfg.Shapes()
		for _, n := range []string{".conv.conv.weight", ".conv.bn.weight", ".conv.bn.bias", ".conv.bn.running_mean", ".conv.bn.running_var", ".conv_out.weight"} {
			l.Host(h+n, shape[h+n])
		}
		l.Skip(h + ".conv.bn.num_batches_tracked")
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("bisenet: %w", err)
	}
	if u := l.Unused(); len(u) > 0 {
		return nil, fmt.Errorf("bisenet: %d unexpected tensors, e.g. %q", len(u), u[0])
	}
	return m, nil
}

// Outputs of a forward pass.
type Outputs struct {
	Out      backend.Tensor // [B, classes, H, W] logits at the input size
	FeatRes8 backend.Tensor // resnet stride-8 features (the spatial path)
	FeatCP8  backend.Tensor // context path at stride 8
	FeatCP16 backend.Tensor // context path at stride 16
	FFM      backend.Tensor // fused features
}

// Forward runs the net on x [B, 3, H, W] (RGB in [0, 1] normalised by Mean, Std).
func (m *Model) Forward(x backend.Tensor) (out Outputs, err error) {
	defer backend.Catch(&err)
	o := m.o
	s := x.Shape()
	if len(s) != 4 || s[1] != 3 || s[2] < 1 || s[3] < 1 {
		return out, fmt.Errorf("bisenet: input shape %v, want [B, 3, H, W]", s)
	}
	h, w := s[2], s[3]
	f := o.ReLU(m.conv1.Forward(o, x))
	f = o.Pool2D(f, backend.PoolOptions{Kind: backend.MaxPool, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	var feats [4]backend.Tensor
	for st := range 4 {
		for _, blk := range m.stages[st] {
			f = blk.forward(o, f)
		}
		feats[st] = f
	}
	feat8, feat16, feat32 := feats[1], feats[2], feats[3]

	// Context path. The global context (1×1) broadcasts over feat32 as its
	// nearest upsampling would.
	avg := m.avg.Forward(o, globalMean(o, feat32))
	avg = o.ReLU(avg)
	feat32Sum := o.Add(m.arm32.forward(o, feat32), avg)
	feat32Up := o.ReLU(m.head32.Forward(o, upNearest(o, feat32Sum, feat16)))
	feat16Sum := o.Add(m.arm16.forward(o, feat16), feat32Up)
	feat16Up := o.ReLU(m.head16.Forward(o, upNearest(o, feat16Sum, feat8)))

	// Feature fusion of the stride-8 resnet features with the context.
	fused := o.ReLU(m.ffmBlk.Forward(o, o.Concat(1, feat8, feat16Up)))
	att := o.Sigmoid(m.ffmConv2.Forward(o, o.ReLU(m.ffmConv1.Forward(o, globalMean(o, fused)))))
	fused = o.Add(o.Mul(fused, att), fused)

	logits := m.outCls.Forward(o, o.ReLU(m.outConv.Forward(o, fused)))
	out.Out = o.Resize2D(logits, h, w, backend.Bilinear, true)
	out.FeatRes8, out.FeatCP8, out.FeatCP16, out.FFM = feat8, feat16Up, feat32Up, fused
	return out, nil
}

func (blk basicBlock) forward(o nn.Ops, x backend.Tensor) backend.Tensor {
	r := o.ReLU(blk.conv1.Forward(o, x))
	r = blk.conv2.Forward(o, r)
	sc := x
	if blk.down != nil {
		sc = blk.down.Forward(o, x)
	}
	return o.ReLU(o.Add(sc, r))
}

func (a arm) forward(o nn.Ops, x backend.Tensor) backend.Tensor {
	feat := o.ReLU(a.conv.Forward(o, x))
	return o.Mul(feat, o.Sigmoid(a.atten.Forward(o, globalMean(o, feat))))
}

// globalMean is avg_pool2d over the whole map: [B, C, H, W] → [B, C, 1, 1].
func globalMean(o nn.Ops, x backend.Tensor) backend.Tensor {
	s := x.Shape()
	return o.Reshape(o.Reduce(backend.Mean, o.Reshape(x, s[0], s[1], s[2]*s[3])), s[0], s[1], 1, 1)
}

// upNearest is F.interpolate(x, like's size, mode='nearest'). Stage sizes
// halve with ceil, so each step is ×2 or to 2n−1, where torch's float
// scale and the exact floor(dst·in/out) pick the same source pixels.
func upNearest(o nn.Ops, x, like backend.Tensor) backend.Tensor {
	s := like.Shape()
	return o.Resize2D(x, s[2], s[3], backend.Nearest, false)
}

// ArgMax returns, for logits [classes, H, W] of one image, the per-pixel
// class (the first on ties, as torch.argmax) and the margin of the top
// logit over the runner-up.
func ArgMax(logits []float32, classes, h, w int) (labels []uint8, margin []float32, err error) {
	n := h * w
	if classes < 2 || classes > 256 || len(logits) != classes*n {
		return nil, nil, fmt.Errorf("bisenet: %d logits are not %d classes of %d×%d", len(logits), classes, h, w)
	}
	labels = make([]uint8, n)
	margin = make([]float32, n)
	for p := range n {
		best, second := 0, -1
		for c := 1; c < classes; c++ {
			v := logits[c*n+p]
			switch {
			case v > logits[best*n+p]:
				best, second = c, best
			case second < 0 || v > logits[second*n+p]:
				second = c
			}
		}
		labels[p] = uint8(best)
		margin[p] = logits[best*n+p] - logits[second*n+p]
	}
	return labels, margin, nil
}

// Parse runs the net on one normalised image x [1, 3, H, W] and returns
// the H×W class map.
func (m *Model) Parse(x backend.Tensor) ([]uint8, error) {
	out, err := m.Forward(x)
	if err != nil {
		return nil, err
	}
	if out.Out.Shape()[0] != 1 {
		return nil, fmt.Errorf("bisenet: Parse takes one image, got %d", out.Out.Shape()[0])
	}
	v, err := m.o.ReadF32(out.Out)
	if err != nil {
		return nil, err
	}
	s := out.Out.Shape()
	labels, _, err := ArgMax(v, s[1], s[2], s[3])
	return labels, err
}
