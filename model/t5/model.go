// Package t5 is the encoder of T5 v1.1 (transformers' T5EncoderModel), the
// text encoder whose last hidden state is FLUX's `txt` conditioning. It is
// written only against the backend interface.
//
// Per block (pre-norm residuals, no biases anywhere):
//
//	h = h + o(Attention(RMS(h)))           scores = q·kᵀ + position_bias, NO 1/√d
//	h = h + wo(gelu_tanh(wi_0(x)) · wi_1(x))   x = RMS(h)
//
// with the relative position bias computed once by block 0 and added in every
// block, and a final RMSNorm. The embedding is not scaled.
package t5

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/param"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Embedding names: T5EncoderModel ties encoder.embed_tokens to shared, so a
// state_dict holds both names while save_pretrained shards (FLUX.1-dev's
// text_encoder_2) keep only shared.weight. Either is accepted.
const (
	SharedName      = "shared.weight"
	EmbedTokensName = "encoder.embed_tokens.weight"
)

// Model is a loaded T5 encoder.
type Model struct {
	Cfg       Config
	Embed     backend.Tensor // [vocab, d_model], any float type
	RelBias   backend.Tensor // block 0's relative_attention_bias [buckets, heads]
	Blocks    []Block
	FinalNorm backend.Tensor // [d_model]
}

// Block is one encoder block: layer.0 (self-attention) and layer.1 (gated FF).
type Block struct {
	AttnNorm     backend.Tensor
	Q, K, V, O   nn.Linear
	FFNorm       backend.Tensor
	WI0, WI1, WO nn.Linear
}

func build(p param.Set, c Config, embedName string) *Model {
	d, inner := c.DModel, c.Inner()
	m := &Model{
		Cfg:       c,
		Embed:     p.Weight(embedName, c.VocabSize, d),
		FinalNorm: p.F32("encoder.final_layer_norm.weight", d),
	}
	for i := range c.NumLayers {
		bp := p.Subf("encoder.block.%d", i)
		at, ff := bp.Sub("layer.0"), bp.Sub("layer.1")
		sa := at.Sub("SelfAttention")
		m.Blocks = append(m.Blocks, Block{
			AttnNorm: at.F32("layer_norm.weight", d),
			Q:        sa.Linear("q", d, inner, false),
			K:        sa.Linear("k", d, inner, false),
			V:        sa.Linear("v", d, inner, false),
			O:        sa.Linear("o", inner, d, false),
			FFNorm:   ff.F32("layer_norm.weight", d),
			WI0:      ff.Linear("DenseReluDense.wi_0", d, c.DFF, false),
			WI1:      ff.Linear("DenseReluDense.wi_1", d, c.DFF, false),
			WO:       ff.Linear("DenseReluDense.wo", c.DFF, d, false),
		})
		if i == 0 {
			m.RelBias = sa.Weight("relative_attention_bias.weight", c.NumBuckets, c.NumHeads)
		}
	}
	return m
}

// Shapes lists every tensor Load reads for configuration c, with its shape,
// under T5EncoderModel's names (the embedding as shared.weight).
func Shapes(c Config) (map[string][]int, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p, list := param.List()
	build(p, c, SharedName)
	return list, nil
}

// Load builds the encoder of configuration c from src (a t5xxl_fp16-style
// single file, or FLUX.1-dev's sharded text_encoder_2 folder opened with
// weights.Open) onto b. F32, F16 and BF16 weights are accepted; linear and
// embedding weights stay in their storage type. Every missing or mis-shaped
// tensor is reported at once.
func Load(b backend.Backend, src weights.Source, c Config) (m *Model, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	embed := SharedName
	if _, ok := src.Info(SharedName); !ok {
		if _, ok := src.Info(EmbedTokensName); ok {
			embed = EmbedTokensName
		}
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	m = build(param.Load(l), c, embed)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("load t5: %w", err)
	}
	return m, nil
}

// Recorder receives named intermediate tensors: "embeddings",
// "position_bias" [1, H, L, L], "block.{i}.attn" and "block.{i}.ff" (the
// hidden state after each residual add). nil records nothing.
type Recorder func(name string, t backend.Tensor)

func (r Recorder) record(name string, t backend.Tensor) {
	if r != nil {
		r(name, t)
	}
}

// Forward runs the encoder on token ids [batch, L] (row-major, every row of
// the same length L) and returns the last hidden state [batch, L, d_model].
// Like FLUX's HFEmbedder it uses no attention mask: padding tokens are
// attended to.
func (m *Model) Forward(b backend.Backend, ids []int32, batch int, rec Recorder) (out backend.Tensor, err error) {
	c := m.Cfg
	if batch <= 0 || len(ids) == 0 || len(ids)%batch != 0 {
		return nil, fmt.Errorf("t5 forward: %d ids do not form %d rows", len(ids), batch)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= c.VocabSize {
			return nil, fmt.Errorf("t5 forward: token %d at position %d is outside the vocabulary [0, %d)", id, i, c.VocabSize)
		}
	}
	L := len(ids) / batch
	defer backend.Catch(&err)
	o := nn.Ops{Backend: b}

	h := o.Reshape(o.TakeRows(m.Embed, ids), batch, L, c.DModel)
	rec.record("embeddings", h)
	bias := m.PositionBias(b, L)
	rec.record("position_bias", bias)
	eps := float32(c.LayerNormEps)
	for i, blk := range m.Blocks {
		h = o.Add(h, blk.attention(o, o.RMSNorm(h, blk.AttnNorm, eps), bias, c))
		rec.record(fmt.Sprintf("block.%d.attn", i), h)
		x := o.RMSNorm(h, blk.FFNorm, eps)
		h = o.Add(h, blk.WO.Forward(o, o.Mul(o.GELU(blk.WI0.Forward(o, x)), blk.WI1.Forward(o, x))))
		rec.record(fmt.Sprintf("block.%d.ff", i), h)
	}
	return o.RMSNorm(h, m.FinalNorm, eps), nil
}

// PositionBias is block 0's compute_bias(L, L): the learned bias of each
// (query, key) bucket, [1, heads, L, L].
func (m *Model) PositionBias(b backend.Backend, L int) backend.Tensor {
	c := m.Cfg
	o := nn.Ops{Backend: b}
	rows := o.TakeRows(m.RelBias, Buckets(L, L, c.NumBuckets, c.MaxDistance)) // [L·L, H]
	return o.Reshape(o.Permute(o.Reshape(rows, L, L, c.NumHeads), 2, 0, 1), 1, c.NumHeads, L, L)
}

// attention is T5Attention without mask or cache: T5 folds the 1/√d_kv
// scale into its initialisation, so the scores are q·kᵀ + bias unscaled.
func (blk *Block) attention(o nn.Ops, x, bias backend.Tensor, c Config) backend.Tensor {
	s := x.Shape()
	bsz, L := s[0], s[1]
	heads := func(t backend.Tensor) backend.Tensor { // [B, L, H·dkv] → [B, H, L, dkv]
		return o.Permute(o.Reshape(t, bsz, L, c.NumHeads, c.DKV), 0, 2, 1, 3)
	}
	q, k, v := heads(blk.Q.Forward(o, x)), heads(blk.K.Forward(o, x)), heads(blk.V.Forward(o, x))
	a := o.Attention(q, k, v, backend.AttentionOptions{Scale: 1, Bias: bias})
	a = o.Reshape(o.Permute(a, 0, 2, 1, 3), bsz, L, c.Inner())
	return blk.O.Forward(o, a)
}
