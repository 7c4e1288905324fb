package generate

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/conditioner"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/weights"
)

func init() { TextLoader = loadText }

// promptEncoder adapts the conditioner (T5 + CLIP with a prompt cache).
type promptEncoder struct{ c *conditioner.Conditioner }

func (p promptEncoder) EncodePrompt(b backend.Backend, prompt string, maxLen int) ([]float32, []float32, error) {
	e, err := p.c.EncodeOne(b, prompt, maxLen)
	if err != nil {
		return nil, nil, err
	}
	return e.Txt, e.Vec, nil
}

// loadText loads the conditioner with the configurations the weight files
// imply: T5-XXL and CLIP-L for the real files, the widths and depths read
// from the shapes otherwise.
func loadText(b backend.Backend, p Paths) (TextEncoder, io.Closer, error) {
	t5cfg, err := T5ConfigFrom(p.T5)
	if err != nil {
		return nil, nil, err
	}
	clipcfg, err := CLIPConfigFrom(p.CLIP)
	if err != nil {
		return nil, nil, err
	}
	c, err := conditioner.Load(b, conditioner.Paths{
		T5Weights: p.T5, T5Tokenizer: p.T5Tokenizer, CLIPWeights: p.CLIP, CLIPTokenizer: p.CLIPTokenizer,
		T5Config: &t5cfg, CLIPConfig: &clipcfg,
	})
	if err != nil {
		return nil, nil, err
	}
	return promptEncoder{c}, c, nil
}

// shapeOf returns the shape of the tensor name of src, or an error naming
// the file.
func shapeOf(src weights.Source, path, name string, rank int) ([]int, error) {
	info, ok := src.Info(name)
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", path, name)
	}
	if len(info.Shape) != rank {
		return nil, fmt.Errorf("%s: tensor %q has shape %v, want rank %d", path, name, info.Shape, rank)
	}
	return info.Shape, nil
}

// countIndexed is 1 + the largest i of names prefix<i>.*.
func countIndexed(src weights.Source, prefix string) int {
	n := 0
	for _, name := range src.Names() {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			idx, _, _ := strings.Cut(rest, ".")
			if i, err := strconv.Atoi(idx); err == nil && i+1 > n {
				n = i + 1
			}
		}
	}
	return n
}

// T5ConfigFrom reads a T5 encoder's configuration from the shapes of its
// weights: vocabulary and width from the embedding, depth by counting
// blocks, heads from the relative position bias, d_kv from the query
// width, d_ff from wi_0. What shapes do not hold (max distance 128,
// epsilon 1e-6, gated GELU) is T5 v1.1's.
func T5ConfigFrom(path string) (t5.Config, error) {
	src, err := weights.Open(path)
	if err != nil {
		return t5.Config{}, fmt.Errorf("t5 weights %s: %w", path, err)
	}
	defer src.Close()
	return t5ConfigFromSource(src, path)
}

func t5ConfigFromSource(src weights.Source, path string) (t5.Config, error) {
	c := t5.XXL()
	embed := t5.SharedName
	if _, ok := src.Info(embed); !ok {
		embed = t5.EmbedTokensName
	}
	e, err := shapeOf(src, path, embed, 2)
	if err != nil {
		return c, err
	}
	const blk = "encoder.block.0.layer."
	q, err := shapeOf(src, path, blk+"0.SelfAttention.q.weight", 2)
	if err != nil {
		return c, err
	}
	rel, err := shapeOf(src, path, blk+"0.SelfAttention.relative_attention_bias.weight", 2)
	if err != nil {
		return c, err
	}
	ff, err := shapeOf(src, path, blk+"1.DenseReluDense.wi_0.weight", 2)
	if err != nil {
		return c, err
	}
	c.VocabSize, c.DModel = e[0], e[1]
	c.NumBuckets, c.NumHeads = rel[0], rel[1]
	if c.NumHeads == 0 || q[0]%c.NumHeads != 0 {
		return c, fmt.Errorf("%s: query width %d is not a multiple of the %d heads of the position bias", path, q[0], c.NumHeads)
	}
	c.DKV = q[0] / c.NumHeads
	c.DFF = ff[0]
	c.NumLayers = countIndexed(src, "encoder.block.")
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: the configuration its tensor shapes imply: %w", path, err)
	}
	return c, nil
}

// clipHeadDim is CLIP ViT-L/14's head width; the checkpoint does not store
// the head count.
const clipHeadDim = 64

// CLIPConfigFrom reads a CLIP text model's configuration from the shapes of
// its weights (heads assume CLIP-L's head width of 64).
func CLIPConfigFrom(path string) (clip.Config, error) {
	src, err := weights.Open(path)
	if err != nil {
		return clip.Config{}, fmt.Errorf("clip weights %s: %w", path, err)
	}
	defer src.Close()
	return clipConfigFromSource(src, path)
}

func clipConfigFromSource(src weights.Source, path string) (clip.Config, error) {
	c := clip.ViTL14()
	const pre = "text_model."
	tok, err := shapeOf(src, path, pre+"embeddings.token_embedding.weight", 2)
	if err != nil {
		return c, err
	}
	pos, err := shapeOf(src, path, pre+"embeddings.position_embedding.weight", 2)
	if err != nil {
		return c, err
	}
	fc1, err := shapeOf(src, path, pre+"encoder.layers.0.mlp.fc1.weight", 2)
	if err != nil {
		return c, err
	}
	c.VocabSize, c.HiddenSize = tok[0], tok[1]
	c.MaxPositionEmbeddings = pos[0]
	c.IntermediateSize = fc1[0]
	if c.HiddenSize%clipHeadDim != 0 {
		return c, fmt.Errorf("%s: width %d is not a multiple of CLIP's head width %d", path, c.HiddenSize, clipHeadDim)
	}
	c.NumAttentionHeads = c.HiddenSize / clipHeadDim
	c.NumHiddenLayers = countIndexed(src, pre+"encoder.layers.")
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: the configuration its tensor shapes imply: %w", path, err)
	}
	return c, nil
}
