// Package eva is the vision tower of EVA02-CLIP-L-14-336 as PuLID uses it
// (`visual(x, return_hidden=True)`): a pre-norm ViT with 2-D rotary
// position embedding on the patch tokens, separate q/k/v projections (no k
// bias), sub-LayerNorms inside attention and the SwiGLU MLP, class-token
// pooling, and the residual stream entering blocks 4, 8, 12, 16 and 20
// returned as hidden states.
package eva

import (
	"fmt"
	"math"
	"strings"

	"github.com/fluxpulid/fluxpulid/weights"
)

// Config is the shape of the tower. All fields but HeadDim and PTSeqLen are
// read from the weights; HeadDim comes from the stored RoPE table when the
// checkpoint carries one, else it is EVA02-L's 64.
type Config struct {
	Width    int // token width (1024)
	Depth    int // blocks (24)
	HeadDim  int // per-head width (64); Heads = Width / HeadDim
	Patch    int // patch size (14)
	Grid     int // patches per side (24): ImageSize = Grid·Patch
	MLP      int // SwiGLU hidden width, int(Width·2.6667) (2730)
	EmbedDim int // head output (768)
	PTSeqLen int // RoPE pretraining grid (pt_hw_seq_len = 16)
}

// L14_336 is EVA02-CLIP-L-14-336's vision tower.
var L14_336 = Config{Width: 1024, Depth: 24, HeadDim: 64, Patch: 14, Grid: 24, MLP: 2730, EmbedDim: 768, PTSeqLen: 16}

// Constants of the tower as PuLID runs it.
const (
	LayerNormEps    = 1e-6
	DefaultHeadDim  = 64 // head_width of the EVA02-CLIP-L configs
	DefaultPTSeqLen = 16
	// HiddenEvery and HiddenLast select the hidden states: the input of
	// block i for 0 < i <= HiddenLast with i % HiddenEvery == 0.
	HiddenEvery = 4
	HiddenLast  = 20
)

// Heads is the number of attention heads.
func (c Config) Heads() int { return c.Width / c.HeadDim }

// ImageSize is the input's side in pixels.
func (c Config) ImageSize() int { return c.Grid * c.Patch }

// Tokens is the sequence length: the class token and Grid² patches.
func (c Config) Tokens() int { return c.Grid*c.Grid + 1 }

// HiddenBlocks lists the blocks whose inputs are returned as hidden states.
func (c Config) HiddenBlocks() []int {
	var out []int
	for i := 1; i < c.Depth && i <= HiddenLast; i++ {
		if i%HiddenEvery == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Validate reports an inconsistent configuration.
func (c Config) Validate() error {
	switch {
	case c.Width <= 0 || c.Depth <= 0 || c.Patch <= 0 || c.Grid <= 0 || c.MLP <= 0 || c.EmbedDim <= 0 || c.PTSeqLen <= 0:
		return fmt.Errorf("eva: non-positive size in %+v", c)
	case c.HeadDim <= 0 || c.Width%c.HeadDim != 0:
		return fmt.Errorf("eva: head width %d does not divide width %d", c.HeadDim, c.Width)
	case c.HeadDim%4 != 0:
		// Each half of a head rotates by one axis, in adjacent pairs.
		return fmt.Errorf("eva: head width %d is not a multiple of 4 (2-D RoPE)", c.HeadDim)
	}
	return nil
}

// Visual views the vision tower of a checkpoint: the `visual.*` tensors of
// a joint CLIP state dict (text.*, logit_scale are left out) with the
// prefix removed, or src itself when it has no such keys. A leading
// `module.` on every key (a DataParallel save) is removed first.
func Visual(src weights.Source) weights.Source {
	names := src.Names()
	if len(names) > 0 && strings.HasPrefix(names[0], "module.") {
		// eva_clip strips 7 characters from every key when the first starts with "module".
		src = weights.Prefixed(src, "module.")
		names = src.Names()
	}
	for _, n := range names {
		if strings.HasPrefix(n, "visual.") {
			return weights.Prefixed(src, "visual.")
		}
	}
	return src
}

// IsRopeBuffer reports whether name is one of the stored RoPE tables
// (`rope.freqs_cos`, `blocks.<i>.attn.rope.freqs_sin`, ...), which PuLID's
// loader deletes and recomputes from the configuration.
func IsRopeBuffer(name string) bool {
	return strings.HasSuffix(name, "freqs_cos") || strings.HasSuffix(name, "freqs_sin")
}

// ConfigFrom reads the configuration from the tensor shapes of a visual
// tower (keys without `visual.`; see Visual).
func ConfigFrom(src weights.Source) (Config, error) {
	shape := func(name string) []int {
		info, ok := src.Info(name)
		if !ok {
			return nil
		}
		return info.Shape
	}
	c := Config{HeadDim: DefaultHeadDim, PTSeqLen: DefaultPTSeqLen}
	pe := shape("patch_embed.proj.weight")
	if len(pe) != 4 || pe[1] != 3 || pe[2] != pe[3] {
		return c, fmt.Errorf("eva: patch_embed.proj.weight has shape %v: not an EVA visual tower", pe)
	}
	c.Width, c.Patch = pe[0], pe[2]
	pos := shape("pos_embed")
	if len(pos) != 3 {
		return c, fmt.Errorf("eva: pos_embed has shape %v, want [1, tokens, width]", pos)
	}
	c.Grid = int(math.Round(math.Sqrt(float64(pos[1] - 1))))
	if c.Grid*c.Grid+1 != pos[1] {
		return c, fmt.Errorf("eva: pos_embed holds %d tokens, not a square grid plus the class token", pos[1])
	}
	for shape(fmt.Sprintf("blocks.%d.norm1.weight", c.Depth)) != nil {
		c.Depth++
	}
	if w1 := shape("blocks.0.mlp.w1.weight"); len(w1) == 2 {
		c.MLP = w1[0]
	}
	if h := shape("head.weight"); len(h) == 2 {
		c.EmbedDim = h[0]
	}
	// The stored RoPE table is [Grid², HeadDim]: the one place the
	// checkpoint records the head width.
	if r := shape("rope.freqs_cos"); len(r) == 2 && r[0] == c.Grid*c.Grid {
		c.HeadDim = r[1]
	}
	return c, c.Validate()
}

// Shapes lists the tensors of the visual tower's state dict (without the
// RoPE buffers and without the `visual.` prefix).
func (c Config) Shapes() map[string][]int {
	w := c.Width
	m := map[string][]int{
		"cls_token":               {1, 1, w},
		"pos_embed":               {1, c.Tokens(), w},
		"patch_embed.proj.weight": {w, 3, c.Patch, c.Patch},
		"patch_embed.proj.bias":   {w},
		"norm.weight":             {w},
		"norm.bias":               {w},
		"head.weight":             {c.EmbedDim, w},
		"head.bias":               {c.EmbedDim},
	}
	for i := range c.Depth {
		p := fmt.Sprintf("blocks.%d.", i)
		for _, n := range []string{"norm1", "norm2", "attn.inner_attn_ln"} {
			m[p+n+".weight"], m[p+n+".bias"] = []int{w}, []int{w}
		}
		for _, n := range []string{"q_proj", "k_proj", "v_proj", "proj"} {
			m[p+"attn."+n+".weight"] = []int{w, w}
		}
		m[p+"attn.q_bias"], m[p+"attn.v_bias"], m[p+"attn.proj.bias"] = []int{w}, []int{w}, []int{w}
		m[p+"mlp.w1.weight"], m[p+"mlp.w1.bias"] = []int{c.MLP, w}, []int{c.MLP}
		m[p+"mlp.w2.weight"], m[p+"mlp.w2.bias"] = []int{c.MLP, w}, []int{c.MLP}
		m[p+"mlp.ffn_ln.weight"], m[p+"mlp.ffn_ln.bias"] = []int{c.MLP}, []int{c.MLP}
		m[p+"mlp.w3.weight"], m[p+"mlp.w3.bias"] = []int{w, c.MLP}, []int{w}
	}
	return m
}
