// Package ae is the FLUX autoencoder (flux/modules/autoencoder.py): the
// decoder that turns 16-channel latents into RGB images, and the encoder's
// deterministic (mean) path. It is written against backend.Backend only.
package ae

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Trace, when not nil, receives named intermediate tensors (for locating a
// mismatch against the reference): "decoder_in", "conv_in", "mid",
// "up<i>_upsample".
type Trace func(name string, t Tensor)

func (t Trace) emit(name string, x Tensor) {
	if t != nil {
		t(name, x)
	}
}

type midBlock struct {
	Block1 *ResnetBlock
	Attn1  *AttnBlock
	Block2 *ResnetBlock
}

func loadMid(l *weights.Loader, ch int) midBlock {
	return midBlock{
		Block1: LoadResnetBlock(l.Sub("block_1"), ch, ch),
		Attn1:  LoadAttnBlock(l.Sub("attn_1"), ch),
		Block2: LoadResnetBlock(l.Sub("block_2"), ch, ch),
	}
}

func (m midBlock) Forward(o nn.Ops, x Tensor) Tensor {
	return m.Block2.Forward(o, m.Attn1.Forward(o, m.Block1.Forward(o, x)))
}

type level struct {
	Blocks []*ResnetBlock
	Down   *Downsample // encoder: nil at the last level
	Up     *Upsample   // decoder: nil at level 0
}

// Encoder maps an image (B, in, H, W) to moments (B, 2z, H/f, W/f): the
// mean in the first z channels, the log-variance in the rest.
type Encoder struct {
	ConvIn  nn.Conv2D
	Down    []level
	Mid     midBlock
	NormOut GroupNorm
	ConvOut nn.Conv2D
}

func loadEncoder(l *weights.Loader, c Config) *Encoder {
	e := &Encoder{ConvIn: nn.LoadConv2D(l, "conv_in", c.InChannels, c.Ch, 3, 1, 1, true)}
	blockIn := c.Ch
	for i, m := range c.ChMult {
		lv := level{}
		blockOut := c.Ch * m
		for b := 0; b < c.NumResBlocks; b++ {
			lv.Blocks = append(lv.Blocks, LoadResnetBlock(l.Subf("down.%d.block.%d", i, b), blockIn, blockOut))
			blockIn = blockOut
		}
		if i != len(c.ChMult)-1 {
			lv.Down = LoadDownsample(l.Subf("down.%d.downsample", i), blockIn)
		}
		e.Down = append(e.Down, lv)
	}
	e.Mid = loadMid(l.Sub("mid"), blockIn)
	e.NormOut = loadGroupNorm(l, "norm_out", blockIn)
	e.ConvOut = nn.LoadConv2D(l, "conv_out", blockIn, 2*c.ZChannels, 3, 1, 1, true)
	return e
}

func (e *Encoder) Forward(o nn.Ops, x Tensor) Tensor {
	h := e.ConvIn.Forward(o, x)
	for _, lv := range e.Down {
		for _, b := range lv.Blocks {
			h = b.Forward(o, h)
		}
		if lv.Down != nil {
			h = lv.Down.Forward(o, h)
		}
	}
	h = e.Mid.Forward(o, h)
	return e.ConvOut.Forward(o, o.SiLU(e.NormOut.Forward(o, h)))
}

// Decoder maps a latent (B, z, h, w) to an image (B, out, h*f, w*f).
type Decoder struct {
	ConvIn nn.Conv2D
	Mid    midBlock
	// Up[i] is level i (weights decoder.up.<i>); the deepest level runs
	// first and Up[0] last.
	Up      []level
	NormOut GroupNorm
	ConvOut nn.Conv2D
}

func loadDecoder(l *weights.Loader, c Config) *Decoder {
	n := len(c.ChMult)
	blockIn := c.Ch * c.ChMult[n-1]
	d := &Decoder{ConvIn: nn.LoadConv2D(l, "conv_in", c.ZChannels, blockIn, 3, 1, 1, true)}
	d.Mid = loadMid(l.Sub("mid"), blockIn)
	d.Up = make([]level, n)
	for i := n - 1; i >= 0; i-- {
		blockOut := c.Ch * c.ChMult[i]
		for b := 0; b <= c.NumResBlocks; b++ {
			d.Up[i].Blocks = append(d.Up[i].Blocks, LoadResnetBlock(l.Subf("up.%d.block.%d", i, b), blockIn, blockOut))
			blockIn = blockOut
		}
		if i != 0 {
			d.Up[i].Up = LoadUpsample(l.Subf("up.%d.upsample", i), blockIn)
		}
	}
	d.NormOut = loadGroupNorm(l, "norm_out", blockIn)
	d.ConvOut = nn.LoadConv2D(l, "conv_out", blockIn, c.OutCh, 3, 1, 1, true)
	return d
}

func (d *Decoder) Forward(o nn.Ops, z Tensor, trace Trace) Tensor {
	h := d.ConvIn.Forward(o, z)
	trace.emit("conv_in", h)
	h = d.Mid.Forward(o, h)
	trace.emit("mid", h)
	for i := len(d.Up) - 1; i >= 0; i-- {
		for _, b := range d.Up[i].Blocks {
			h = b.Forward(o, h)
		}
		if d.Up[i].Up != nil {
			h = d.Up[i].Up.Forward(o, h)
			trace.emit(fmt.Sprintf("up%d_upsample", i), h)
		}
	}
	return d.ConvOut.Forward(o, o.SiLU(d.NormOut.Forward(o, h)))
}

// AutoEncoder is the FLUX AE with its latent normalisation.
type AutoEncoder struct {
	Config  Config
	Encoder *Encoder
	Decoder *Decoder
	ops     nn.Ops
}

// Load builds the AutoEncoder of configuration c from src onto b. src must
// hold exactly the tensors of c (ae.safetensors holds nothing else); every
// missing, unexpected and mis-shaped tensor is reported at once.
func Load(b backend.Backend, src weights.Source, c Config) (m *AutoEncoder, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := weights.Check(src, c.Shapes(), nil); err != nil {
		return nil, fmt.Errorf("ae checkpoint (%s): %w", c, err)
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	m = &AutoEncoder{Config: c, ops: nn.Ops{Backend: b}}
	m.Encoder = loadEncoder(l.Sub("encoder"), c)
	m.Decoder = loadDecoder(l.Sub("decoder"), c)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("ae checkpoint: %w", err)
	}
	return m, nil
}

// LoadInferred infers the configuration from src's shapes (FLUX's scale
// and shift) and loads it.
func LoadInferred(b backend.Backend, src weights.Source) (*AutoEncoder, error) {
	c, err := InferConfig(src)
	if err != nil {
		return nil, err
	}
	return Load(b, src, c)
}

// Decode is AutoEncoder.decode: decoder(z / scale_factor + shift_factor)
// for a latent (B, z_channels, h, w); the image is (B, out_ch, h*f, w*f)
// with values nominally in [-1, 1].
func (m *AutoEncoder) Decode(z Tensor, trace Trace) (img Tensor, err error) {
	defer backend.Catch(&err)
	if s := z.Shape(); len(s) != 4 || s[1] != m.Config.ZChannels {
		return nil, fmt.Errorf("ae decode: latent shape %v, want (B, %d, h, w)", s, m.Config.ZChannels)
	}
	o := m.ops
	// A tensor divided by a python float: float32 division, then the shift.
	x := o.Affine(o.Div(z, o.FromF32([]int{1}, []float32{m.Config.ScaleFactor})), 1, m.Config.ShiftFactor)
	trace.emit("decoder_in", x)
	return m.Decoder.Forward(o, x, trace), nil
}

// Moments runs the encoder: (B, 2*z_channels, H/f, W/f), mean first.
func (m *AutoEncoder) Moments(x Tensor) (moments Tensor, err error) {
	defer backend.Catch(&err)
	f := m.Config.Factor()
	if s := x.Shape(); len(s) != 4 || s[1] != m.Config.InChannels || s[2]%f != 0 || s[3]%f != 0 {
		return nil, fmt.Errorf("ae encode: image shape %v, want (B, %d, H, W) with H and W multiples of %d", s, m.Config.InChannels, f)
	}
	return m.Encoder.Forward(m.ops, x), nil
}

// EncodeMean is AutoEncoder.encode on the deterministic path
// (DiagonalGaussian with sample=False): scale_factor * (mean - shift_factor).
// The reference samples mean + exp(logvar/2)*noise by default; PuLID never
// encodes, so only the mean is offered.
func (m *AutoEncoder) EncodeMean(x Tensor) (z Tensor, err error) {
	mom, err := m.Moments(x)
	if err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	return m.MeanFromMoments(mom), nil
}

// MeanFromMoments applies the latent normalisation to the mean half of the
// encoder's moments.
func (m *AutoEncoder) MeanFromMoments(moments Tensor) Tensor {
	o := m.ops
	mean := o.Slice(moments, 1, 0, m.Config.ZChannels, 1)
	return o.Scale(o.Affine(mean, 1, -m.Config.ShiftFactor), m.Config.ScaleFactor)
}
