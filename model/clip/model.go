// Package clip is the text tower of CLIP (transformers' CLIPTextModel), whose
// pooled output is FLUX's `vec` conditioning. It is written only against the
// backend interface.
//
//	h = token_embedding[ids] + position_embedding[0..L-1]
//	h = h + out_proj(CausalAttention(LN1(h)))     q scaled by head_dim^-0.5
//	h = h + fc2(act(fc1(LN2(h))))                  act = quick_gelu for CLIP-L
//	last_hidden_state = final_layer_norm(h)
//	pooled = last_hidden_state[b, eos position of row b]
package clip

import (
	"fmt"
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/param"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Prefix is the key prefix of the text model in CLIPTextModel checkpoints
// (and in full CLIP checkpoints, beside vision_model.*).
const Prefix = "text_model."

// Model is a loaded CLIP text transformer.
type Model struct {
	Cfg               Config
	TokenEmbedding    backend.Tensor // [vocab, hidden], any float type
	PositionEmbedding backend.Tensor // [positions, hidden], any float type
	Layers            []Layer
	FinalNorm         nn.LayerNorm
}

// Layer is one CLIPEncoderLayer.
type Layer struct {
	LN1, LN2     nn.LayerNorm
	Q, K, V, Out nn.Linear
	FC1, FC2     nn.Linear
}

func build(p param.Set, c Config) *Model {
	d, eps := c.HiddenSize, float32(c.LayerNormEps)
	p = p.Sub("text_model")
	m := &Model{
		Cfg:               c,
		TokenEmbedding:    p.Weight("embeddings.token_embedding.weight", c.VocabSize, d),
		PositionEmbedding: p.Weight("embeddings.position_embedding.weight", c.MaxPositionEmbeddings, d),
		FinalNorm:         p.LayerNorm("final_layer_norm", d, eps),
	}
	for i := range c.NumHiddenLayers {
		lp := p.Subf("encoder.layers.%d", i)
		m.Layers = append(m.Layers, Layer{
			LN1: lp.LayerNorm("layer_norm1", d, eps),
			Q:   lp.Linear("self_attn.q_proj", d, d, true),
			K:   lp.Linear("self_attn.k_proj", d, d, true),
			V:   lp.Linear("self_attn.v_proj", d, d, true),
			Out: lp.Linear("self_attn.out_proj", d, d, true),
			LN2: lp.LayerNorm("layer_norm2", d, eps),
			FC1: lp.Linear("mlp.fc1", d, c.IntermediateSize, true),
			FC2: lp.Linear("mlp.fc2", c.IntermediateSize, d, true),
		})
	}
	return m
}

// Shapes lists every tensor Load reads for configuration c, with its shape,
// under CLIPTextModel's names.
func Shapes(c Config) (map[string][]int, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p, list := param.List()
	build(p, c)
	return list, nil
}

// Load builds the text model of configuration c from src onto b: a
// CLIPTextModel file (clip_l.safetensors, FLUX.1-dev's text_encoder/) or a
// full CLIP checkpoint. Tensors the text model does not use
// (embeddings.position_ids, text_projection, logit_scale, vision_model.*) are
// ignored. Every missing or mis-shaped tensor is reported at once.
func Load(b backend.Backend, src weights.Source, c Config) (m *Model, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	m = build(param.Load(l), c)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("load clip: %w", err)
	}
	return m, nil
}

// Recorder receives "hidden_states.{i}" (the input of layer i, then the
// output of the last layer before the final norm: transformers'
// output_hidden_states tuple). nil records nothing.
type Recorder func(name string, t backend.Tensor)

func (r Recorder) record(name string, t backend.Tensor) {
	if r != nil {
		r(name, t)
	}
}

// Output is what the text model returns.
type Output struct {
	LastHidden backend.Tensor // [B, L, hidden]
	Pooled     backend.Tensor // [B, hidden], what FLUX uses
	PooledAt   []int          // the position pooled in each row
}

// Forward runs the model on token ids [batch, L] (row-major, L ≤
// max_position_embeddings). As CLIPTextModel called with
// attention_mask=None, only the causal mask applies.
func (m *Model) Forward(b backend.Backend, ids []int32, batch int, rec Recorder) (out Output, err error) {
	c := m.Cfg
	if batch <= 0 || len(ids) == 0 || len(ids)%batch != 0 {
		return Output{}, fmt.Errorf("clip forward: %d ids do not form %d rows", len(ids), batch)
	}
	L := len(ids) / batch
	if L > c.MaxPositionEmbeddings {
		return Output{}, fmt.Errorf("clip forward: %d tokens per row, the model has %d positions", L, c.MaxPositionEmbeddings)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= c.VocabSize {
			return Output{}, fmt.Errorf("clip forward: token %d at position %d is outside the vocabulary [0, %d)", id, i, c.VocabSize)
		}
	}
	defer backend.Catch(&err)
	o := nn.Ops{Backend: b}
	d := c.HiddenSize

	positions := make([]int32, L)
	for i := range positions {
		positions[i] = int32(i)
	}
	h := o.Add(o.Reshape(o.TakeRows(m.TokenEmbedding, ids), batch, L, d), o.TakeRows(m.PositionEmbedding, positions))
	act := activations[c.HiddenAct]
	for i, ly := range m.Layers {
		rec.record(fmt.Sprintf("hidden_states.%d", i), h)
		h = o.Add(h, ly.attention(o, ly.LN1.Forward(o, h), c))
		h = o.Add(h, ly.FC2.Forward(o, o.Unary(act, ly.FC1.Forward(o, ly.LN2.Forward(o, h)))))
	}
	rec.record(fmt.Sprintf("hidden_states.%d", len(m.Layers)), h)
	last := m.FinalNorm.Forward(o, h)

	at := PooledIndex(ids, batch, c.EOSTokenID)
	rows := make([]int32, batch)
	for i, p := range at {
		rows[i] = int32(i*L + p)
	}
	pooled := o.TakeRows(o.Reshape(last, batch*L, d), rows)
	return Output{LastHidden: last, Pooled: pooled, PooledAt: at}, nil
}

// PooledIndex is the position CLIPTextTransformer pools in each row: with
// eos_token_id 2 (CLIP-L's config, predating transformers #24773) the argmax
// of the ids, i.e. the first <|endoftext|> (the largest id); otherwise the
// first position holding eos_token_id (0 if none, as argmax of all zeros).
func PooledIndex(ids []int32, batch, eosTokenID int) []int {
	L := len(ids) / batch
	out := make([]int, batch)
	for b := range batch {
		row := ids[b*L : (b+1)*L]
		best := 0
		for i, id := range row {
			if eosTokenID == 2 {
				if id > row[best] {
					best = i
				}
			} else if int(id) == eosTokenID {
				best = i
				break
			}
		}
		out[b] = best
	}
	return out
}

// attention is CLIPAttention with the causal mask.
func (ly *Layer) attention(o nn.Ops, x backend.Tensor, c Config) backend.Tensor {
	s := x.Shape()
	bsz, L, hd := s[0], s[1], c.HeadDim()
	heads := func(t backend.Tensor) backend.Tensor { // [B, L, H·hd] → [B, H, L, hd]
		return o.Permute(o.Reshape(t, bsz, L, c.NumAttentionHeads, hd), 0, 2, 1, 3)
	}
	q, k, v := heads(ly.Q.Forward(o, x)), heads(ly.K.Forward(o, x)), heads(ly.V.Forward(o, x))
	a := o.Attention(q, k, v, backend.AttentionOptions{Scale: float32(1 / math.Sqrt(float64(hd))), Causal: true})
	return ly.Out.Forward(o, o.Reshape(o.Permute(a, 0, 2, 1, 3), bsz, L, c.HiddenSize))
}
