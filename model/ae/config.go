package ae

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxpulid/fluxpulid/weights"
)

// Config is the reference's AutoEncoderParams (without `resolution`, which
// only sets an unused attribute).
type Config struct {
	InChannels   int   `json:"in_channels"`
	Ch           int   `json:"ch"`
	OutCh        int   `json:"out_ch"`
	ChMult       []int `json:"ch_mult"`
	NumResBlocks int   `json:"num_res_blocks"`
	ZChannels    int   `json:"z_channels"`
	// The latent is stored as ScaleFactor*(z - ShiftFactor); they are
	// constructor arguments, not tensors of the checkpoint.
	ScaleFactor float32 `json:"scale_factor"`
	ShiftFactor float32 `json:"shift_factor"`
}

// FLUX's latent normalisation (flux-dev, flux-schnell, flux-krea-dev).
const (
	FluxScaleFactor = 0.3611
	FluxShiftFactor = 0.1159
)

// FluxConfig is the AE of ae.safetensors: ch 128, ch_mult 1,2,4,4, two
// ResnetBlocks per level, 16 latent channels, spatial factor 8.
func FluxConfig() Config {
	return Config{InChannels: 3, Ch: 128, OutCh: 3, ChMult: []int{1, 2, 4, 4}, NumResBlocks: 2,
		ZChannels: 16, ScaleFactor: FluxScaleFactor, ShiftFactor: FluxShiftFactor}
}

// numGroups is the GroupNorm group count of every AE norm (Normalize()).
const numGroups = 32

// Validate reports a configuration no AutoEncoder can have.
func (c Config) Validate() error {
	switch {
	case c.InChannels < 1 || c.OutCh < 1 || c.Ch < 1 || c.ZChannels < 1:
		return fmt.Errorf("ae config: channel counts must be positive (in %d, ch %d, out %d, z %d)", c.InChannels, c.Ch, c.OutCh, c.ZChannels)
	case len(c.ChMult) == 0:
		return fmt.Errorf("ae config: ch_mult is empty")
	case c.NumResBlocks < 1:
		return fmt.Errorf("ae config: num_res_blocks must be at least 1, got %d", c.NumResBlocks)
	case c.ScaleFactor == 0:
		return fmt.Errorf("ae config: scale_factor is 0")
	}
	for i, m := range c.ChMult {
		if m < 1 || (c.Ch*m)%numGroups != 0 {
			return fmt.Errorf("ae config: level %d has %d channels (ch %d x ch_mult %d), not a positive multiple of the %d GroupNorm groups",
				i, c.Ch*m, c.Ch, m, numGroups)
		}
	}
	if c.Ch%numGroups != 0 {
		return fmt.Errorf("ae config: ch %d is not a multiple of the %d GroupNorm groups", c.Ch, numGroups)
	}
	return nil
}

// Factor is the spatial downsampling factor, 2^(levels-1).
func (c Config) Factor() int { return 1 << (len(c.ChMult) - 1) }

// Shapes lists every tensor name and shape of the AutoEncoder's
// state_dict at this configuration, built the way the reference builds its
// modules (flux/modules/autoencoder.py).
func (c Config) Shapes() map[string][]int {
	s := map[string][]int{}
	conv := func(name string, out, in, k int) {
		s[name+".weight"] = []int{out, in, k, k}
		s[name+".bias"] = []int{out}
	}
	norm := func(name string, n int) {
		s[name+".weight"] = []int{n}
		s[name+".bias"] = []int{n}
	}
	resnet := func(name string, in, out int) {
		norm(name+".norm1", in)
		conv(name+".conv1", out, in, 3)
		norm(name+".norm2", out)
		conv(name+".conv2", out, out, 3)
		if in != out {
			conv(name+".nin_shortcut", out, in, 1)
		}
	}
	attn := func(name string, n int) {
		norm(name+".norm", n)
		for _, p := range []string{"q", "k", "v", "proj_out"} {
			conv(name+"."+p, n, n, 1)
		}
	}
	n := len(c.ChMult)

	// Encoder: level i goes from ch*in_ch_mult[i] to ch*ch_mult[i], with
	// in_ch_mult = (1,) + ch_mult.
	conv("encoder.conv_in", c.Ch, c.InChannels, 3)
	blockIn := c.Ch
	for i := 0; i < n; i++ {
		blockOut := c.Ch * c.ChMult[i]
		for b := 0; b < c.NumResBlocks; b++ {
			resnet(fmt.Sprintf("encoder.down.%d.block.%d", i, b), blockIn, blockOut)
			blockIn = blockOut
		}
		if i != n-1 {
			conv(fmt.Sprintf("encoder.down.%d.downsample.conv", i), blockIn, blockIn, 3)
		}
	}
	resnet("encoder.mid.block_1", blockIn, blockIn)
	attn("encoder.mid.attn_1", blockIn)
	resnet("encoder.mid.block_2", blockIn, blockIn)
	norm("encoder.norm_out", blockIn)
	conv("encoder.conv_out", 2*c.ZChannels, blockIn, 3)

	// Decoder: from the deepest level up; up.<i> is level i.
	blockIn = c.Ch * c.ChMult[n-1]
	conv("decoder.conv_in", blockIn, c.ZChannels, 3)
	resnet("decoder.mid.block_1", blockIn, blockIn)
	attn("decoder.mid.attn_1", blockIn)
	resnet("decoder.mid.block_2", blockIn, blockIn)
	for i := n - 1; i >= 0; i-- {
		blockOut := c.Ch * c.ChMult[i]
		for b := 0; b <= c.NumResBlocks; b++ {
			resnet(fmt.Sprintf("decoder.up.%d.block.%d", i, b), blockIn, blockOut)
			blockIn = blockOut
		}
		if i != 0 {
			conv(fmt.Sprintf("decoder.up.%d.upsample.conv", i), blockIn, blockIn, 3)
		}
	}
	norm("decoder.norm_out", blockIn)
	conv("decoder.conv_out", c.OutCh, blockIn, 3)
	return s
}

// InferConfig reads the configuration from the tensor shapes of an AE
// checkpoint (scale and shift, which are not stored, get FLUX's values)
// and checks that the file holds exactly the tensors of that configuration,
// naming every missing, unexpected and mis-shaped one.
func InferConfig(src weights.Source) (Config, error) {
	c := Config{ScaleFactor: FluxScaleFactor, ShiftFactor: FluxShiftFactor}
	shape := func(name string, rank int) ([]int, error) {
		i, ok := src.Info(name)
		if !ok {
			return nil, fmt.Errorf("ae: missing tensor %q", name)
		}
		if len(i.Shape) != rank {
			return nil, fmt.Errorf("ae: tensor %q has shape %v, want rank %d", name, i.Shape, rank)
		}
		return i.Shape, nil
	}
	convIn, err := shape("encoder.conv_in.weight", 4)
	if err != nil {
		return c, err
	}
	c.Ch, c.InChannels = convIn[0], convIn[1]
	convOut, err := shape("decoder.conv_out.weight", 4)
	if err != nil {
		return c, err
	}
	c.OutCh = convOut[0]
	decIn, err := shape("decoder.conv_in.weight", 4)
	if err != nil {
		return c, err
	}
	c.ZChannels = decIn[1]

	levels := indices(src, "decoder.up.", ".")
	if len(levels) == 0 || levels[0] != 0 || levels[len(levels)-1] != len(levels)-1 {
		return c, fmt.Errorf("ae: decoder levels %v are not 0..n-1", levels)
	}
	blocks := indices(src, "encoder.down.0.block.", ".")
	if len(blocks) == 0 {
		return c, fmt.Errorf("ae: no encoder.down.0.block.* tensors")
	}
	c.NumResBlocks = len(blocks)
	for i := range levels {
		// The first ResnetBlock's conv1 of decoder level i outputs ch*ch_mult[i].
		w, err := shape(fmt.Sprintf("decoder.up.%d.block.0.conv1.weight", i), 4)
		if err != nil {
			return c, err
		}
		if c.Ch == 0 || w[0]%c.Ch != 0 {
			return c, fmt.Errorf("ae: decoder level %d has %d channels, not a multiple of ch %d", i, w[0], c.Ch)
		}
		c.ChMult = append(c.ChMult, w[0]/c.Ch)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if err := weights.Check(src, c.Shapes(), nil); err != nil {
		return c, fmt.Errorf("ae checkpoint does not match the configuration its shapes imply (%s): %w", c, err)
	}
	return c, nil
}

func (c Config) String() string {
	return fmt.Sprintf("in %d, ch %d, ch_mult %v, %d res blocks, z %d, out %d", c.InChannels, c.Ch, c.ChMult, c.NumResBlocks, c.ZChannels, c.OutCh)
}

// indices lists the distinct integers n of names prefix + n + sep..., sorted.
func indices(src weights.Source, prefix, sep string) []int {
	seen := map[int]bool{}
	for _, name := range src.Names() {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, sep)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n >= 0 {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
