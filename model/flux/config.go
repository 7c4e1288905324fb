package flux

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxpulid/fluxpulid/weights"
)

// Config is the reference's FluxParams (flux/model.py), with the JSON
// names of its fields.
type Config struct {
	InChannels        int     `json:"in_channels"`
	VecInDim          int     `json:"vec_in_dim"`
	ContextInDim      int     `json:"context_in_dim"`
	HiddenSize        int     `json:"hidden_size"`
	MLPRatio          float64 `json:"mlp_ratio"`
	NumHeads          int     `json:"num_heads"`
	Depth             int     `json:"depth"`
	DepthSingleBlocks int     `json:"depth_single_blocks"`
	AxesDim           []int   `json:"axes_dim"`
	Theta             int     `json:"theta"`
	QKVBias           bool    `json:"qkv_bias"`
	GuidanceEmbed     bool    `json:"guidance_embed"`
}

// Configs are the released FLUX.1 transformers (flux/util.py configs;
// FLUX.1-Krea-dev is architecturally FLUX.1-dev).
var Configs = map[string]Config{
	"flux-dev":      devConfig(true),
	"flux-schnell":  devConfig(false),
	"flux-krea-dev": devConfig(true),
}

func devConfig(guidance bool) Config {
	return Config{
		InChannels: 64, VecInDim: 768, ContextInDim: 4096, HiddenSize: 3072, MLPRatio: 4.0,
		NumHeads: 24, Depth: 19, DepthSingleBlocks: 38, AxesDim: []int{16, 56, 56}, Theta: 10000,
		QKVBias: true, GuidanceEmbed: guidance,
	}
}

// HeadDim is the attention head width D = hidden_size / num_heads.
func (c Config) HeadDim() int { return c.HiddenSize / c.NumHeads }

// MLPHidden is int(hidden_size * mlp_ratio), as the reference truncates it.
func (c Config) MLPHidden() int { return int(float64(c.HiddenSize) * c.MLPRatio) }

// OutChannels equals InChannels (patch size 1 inside the model).
func (c Config) OutChannels() int { return c.InChannels }

// Validate checks the configuration is one the reference could build.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"in_channels", c.InChannels}, {"vec_in_dim", c.VecInDim}, {"context_in_dim", c.ContextInDim},
		{"hidden_size", c.HiddenSize}, {"num_heads", c.NumHeads}, {"theta", c.Theta}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("%s = %d, want > 0", f.name, f.v))
		}
	}
	if c.Depth < 0 || c.DepthSingleBlocks < 0 {
		errs = append(errs, fmt.Errorf("depths %d/%d must not be negative", c.Depth, c.DepthSingleBlocks))
	}
	if c.MLPHidden() <= 0 {
		errs = append(errs, fmt.Errorf("mlp_ratio %g gives no MLP width", c.MLPRatio))
	}
	if c.NumHeads > 0 && c.HiddenSize%c.NumHeads != 0 {
		errs = append(errs, fmt.Errorf("hidden_size %d is not divisible by num_heads %d", c.HiddenSize, c.NumHeads))
	}
	sum := 0
	for _, d := range c.AxesDim {
		if d <= 0 || d%2 != 0 {
			errs = append(errs, fmt.Errorf("axes_dim %v: every axis needs a positive even width", c.AxesDim))
			break
		}
		sum += d
	}
	if c.NumHeads > 0 && sum != c.HeadDim() {
		errs = append(errs, fmt.Errorf("axes_dim %v sums to %d, want the head dim %d", c.AxesDim, sum, c.HeadDim()))
	}
	if len(errs) > 0 {
		return fmt.Errorf("flux config: %w", errors.Join(errs...))
	}
	return nil
}

// ConfigFromWeights reads the configuration from a checkpoint's tensor
// names and shapes: widths from the embedders, depths by counting blocks,
// heads from the QK-norm width (= head dim), qkv bias and guidance
// embedding from the presence of their tensors. RoPE's axes_dim and theta
// are not stored and take FLUX.1's values.
func ConfigFromWeights(src weights.Source) (Config, error) {
	shape := func(name string, rank int) ([]int, error) {
		info, ok := src.Info(name)
		if !ok {
			return nil, fmt.Errorf("flux weights: missing tensor %q", name)
		}
		if len(info.Shape) != rank {
			return nil, fmt.Errorf("flux weights: tensor %q has shape %v, want rank %d", name, info.Shape, rank)
		}
		return info.Shape, nil
	}
	var c Config
	var errs []error
	get := func(name string, rank, dim int) int {
		s, err := shape(name, rank)
		if err != nil {
			errs = append(errs, err)
			return 0
		}
		return s[dim]
	}
	c.HiddenSize = get("img_in.weight", 2, 0)
	c.InChannels = get("img_in.weight", 2, 1)
	c.VecInDim = get("vector_in.in_layer.weight", 2, 1)
	c.ContextInDim = get("txt_in.weight", 2, 1)
	c.Depth = countBlocks(src, "double_blocks.")
	c.DepthSingleBlocks = countBlocks(src, "single_blocks.")
	c.AxesDim = []int{16, 56, 56}
	c.Theta = 10000
	_, c.GuidanceEmbed = src.Info("guidance_in.in_layer.weight")
	switch {
	case c.Depth > 0:
		d := get("double_blocks.0.img_attn.norm.query_norm.scale", 1, 0)
		if d > 0 {
			c.NumHeads = c.HiddenSize / d
		}
		if mlp := get("double_blocks.0.img_mlp.0.weight", 2, 0); c.HiddenSize > 0 {
			c.MLPRatio = float64(mlp) / float64(c.HiddenSize)
		}
		_, c.QKVBias = src.Info("double_blocks.0.img_attn.qkv.bias")
	case c.DepthSingleBlocks > 0:
		d := get("single_blocks.0.norm.query_norm.scale", 1, 0)
		if d > 0 {
			c.NumHeads = c.HiddenSize / d
		}
		if l1 := get("single_blocks.0.linear1.weight", 2, 0); c.HiddenSize > 0 {
			c.MLPRatio = float64(l1-3*c.HiddenSize) / float64(c.HiddenSize)
		}
		c.QKVBias = true // linear1 always has a bias; qkv_bias does not apply to single blocks
	default:
		errs = append(errs, errors.New("flux weights: no double_blocks.* or single_blocks.* tensors"))
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// countBlocks returns 1 + the largest block index under prefix, checking
// nothing in between is missing (a gap is reported by the loader).
func countBlocks(src weights.Source, prefix string) int {
	n := 0
	for _, name := range src.Names() {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		idx, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(idx); err == nil && i+1 > n {
			n = i + 1
		}
	}
	return n
}

// Diff lists the fields in which c and o differ, c's value first ("depth 19 != 12").
func (c Config) Diff(o Config) []string {
	var d []string
	add := func(name string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			d = append(d, fmt.Sprintf("%s %v != %v", name, a, b))
		}
	}
	add("in_channels", c.InChannels, o.InChannels)
	add("vec_in_dim", c.VecInDim, o.VecInDim)
	add("context_in_dim", c.ContextInDim, o.ContextInDim)
	add("hidden_size", c.HiddenSize, o.HiddenSize)
	add("mlp_hidden", c.MLPHidden(), o.MLPHidden())
	add("num_heads", c.NumHeads, o.NumHeads)
	add("depth", c.Depth, o.Depth)
	add("depth_single_blocks", c.DepthSingleBlocks, o.DepthSingleBlocks)
	add("axes_dim", c.AxesDim, o.AxesDim)
	add("theta", c.Theta, o.Theta)
	add("qkv_bias", c.QKVBias, o.QKVBias)
	add("guidance_embed", c.GuidanceEmbed, o.GuidanceEmbed)
	return d
}

// ResolveConfig returns the configuration to build for a checkpoint: the
// named one (a key of Configs) checked against the weights, or with name
// "" the one read from the weights.
func ResolveConfig(name string, src weights.Source) (Config, error) {
	got, err := ConfigFromWeights(src)
	if err != nil {
		return Config{}, err
	}
	if name == "" {
		return got, got.Validate()
	}
	want, ok := Configs[name]
	if !ok {
		return Config{}, fmt.Errorf("flux: unknown configuration %q (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(Configs)), ", "))
	}
	// axes_dim and theta are not in the weights; the named config decides.
	got.AxesDim, got.Theta = want.AxesDim, want.Theta
	if want.Depth == 0 && want.DepthSingleBlocks > 0 {
		got.QKVBias = want.QKVBias
	}
	if d := want.Diff(got); len(d) > 0 {
		return Config{}, fmt.Errorf("flux: weights do not match configuration %s (configuration != weights): %s", name, strings.Join(d, "; "))
	}
	return want, nil
}
