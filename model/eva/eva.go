package eva

import (
	"fmt"
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Tap receives named intermediate tensors (nil: none are recorded). Names:
// patch_tokens, tokens_with_cls_pos, and per block norm1, q_rope, k_rope,
// attn_context, attn_context_ln, attn_out, norm2, swiglu_hidden, mlp_out, y.
type Tap func(name string, t backend.Tensor)

func (t Tap) put(name string, x backend.Tensor) {
	if t != nil {
		t(name, x)
	}
}

// Model is a loaded vision tower. Linear and conv weights stay in their
// stored type (F16 for the released checkpoint); activations are F32.
type Model struct {
	Config Config
	o      nn.Ops

	patch            nn.Conv2D
	cls, pos         backend.Tensor
	blocks           []block
	norm             nn.LayerNorm
	head             nn.Linear
	ropeCos, ropeSin backend.Tensor // [Grid², HeadDim/2]
}

type block struct {
	norm1, norm2  nn.LayerNorm
	q, k, v, proj nn.Linear // k has no bias
	innerLN       nn.LayerNorm
	w1, w2, w3    nn.Linear
	ffnLN         nn.LayerNorm
}

// Load builds the tower from a checkpoint (a joint CLIP state dict, or the
// visual tower alone), with the configuration read from the weights.
func Load(b backend.Backend, src weights.Source) (*Model, error) {
	src = Visual(src)
	cfg, err := ConfigFrom(src)
	if err != nil {
		return nil, err
	}
	return LoadConfig(b, src, cfg)
}

// LoadConfig builds the tower with an explicit configuration (for a
// checkpoint without RoPE tables whose head width is not 64); src holds the
// tower's keys without `visual.` (see Visual).
func LoadConfig(b backend.Backend, src weights.Source, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := cfg.Width
	l := weights.NewLoader(b, src)
	m := &Model{Config: cfg, o: nn.Ops{Backend: b}}
	m.patch = nn.Conv2D{
		Weight: l.Weight("patch_embed.proj.weight", w, 3, cfg.Patch, cfg.Patch),
		Bias:   l.F32("patch_embed.proj.bias", w),
		Opt:    backend.ConvOptions{Stride: [2]int{cfg.Patch, cfg.Patch}},
	}
	m.cls = l.F32("cls_token", 1, 1, w)
	m.pos = l.F32("pos_embed", 1, cfg.Tokens(), w)
	for i := range cfg.Depth {
		bl := l.Subf("blocks.%d", i)
		a := bl.Sub("attn")
		m.blocks = append(m.blocks, block{
			norm1:   nn.LoadLayerNorm(bl, "norm1", w, LayerNormEps),
			norm2:   nn.LoadLayerNorm(bl, "norm2", w, LayerNormEps),
			q:       nn.Linear{Weight: a.Weight("q_proj.weight", w, w), Bias: a.F32("q_bias", w)},
			k:       nn.Linear{Weight: a.Weight("k_proj.weight", w, w)},
			v:       nn.Linear{Weight: a.Weight("v_proj.weight", w, w), Bias: a.F32("v_bias", w)},
			proj:    nn.LoadLinear(a, "proj", w, w, true),
			innerLN: nn.LoadLayerNorm(a, "inner_attn_ln", w, LayerNormEps),
			w1:      nn.LoadLinear(bl, "mlp.w1", w, cfg.MLP, true),
			w2:      nn.LoadLinear(bl, "mlp.w2", w, cfg.MLP, true),
			w3:      nn.LoadLinear(bl, "mlp.w3", cfg.MLP, w, true),
			ffnLN:   nn.LoadLayerNorm(bl, "mlp.ffn_ln", cfg.MLP, LayerNormEps),
		})
	}
	m.norm = nn.LoadLayerNorm(l, "norm", w, LayerNormEps)
	m.head = nn.LoadLinear(l, "head", w, cfg.EmbedDim, true)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("eva: %w", err)
	}
	var extra []string
	for _, n := range l.Unused() {
		if !IsRopeBuffer(n) {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("eva: %d unexpected tensors, e.g. %q", len(extra), extra[0])
	}
	// The stored fp16 RoPE tables are ignored: PuLID's loader deletes them
	// and the module recomputes them in float32 from the configuration.
	cos, sin, err := RopeTables(cfg.HeadDim, cfg.PTSeqLen, cfg.Grid)
	if err != nil {
		return nil, err
	}
	n := cfg.Grid * cfg.Grid
	m.ropeCos = b.FromF32([]int{n, cfg.HeadDim / 2}, PairAngles(cos))
	m.ropeSin = b.FromF32([]int{n, cfg.HeadDim / 2}, PairAngles(sin))
	return m, nil
}

// Outputs of the tower.
type Outputs struct {
	Embed     backend.Tensor   // head(norm(x)[:, 0]) [B, EmbedDim] (id_cond_vit before PuLID's normalisation)
	EmbedNorm backend.Tensor   // Embed / ‖Embed‖₂ per row (PuLID's id_cond_vit)
	Hidden    []backend.Tensor // inputs of the HiddenBlocks, [B, Tokens, Width] each
	LastBlock backend.Tensor   // output of the last block
	FinalNorm backend.Tensor   // norm(x), all tokens
}

// Forward runs visual(x, return_hidden=True) on x [B, 3, S, S] (RGB
// normalised with the OpenAI CLIP statistics, faceprep.OpenAIMean and
// OpenAIStd; S = ImageSize).
func (m *Model) Forward(x backend.Tensor, tap Tap) (out Outputs, err error) {
	defer backend.Catch(&err)
	o := m.o
	h, err := m.Embed(x, tap)
	if err != nil {
		return out, err
	}
	hidden := m.Config.HiddenBlocks()
	for i, blk := range m.blocks {
		if slices.Contains(hidden, i) {
			out.Hidden = append(out.Hidden, h)
		}
		h = blk.forward(o, h, m.ropeCos, m.ropeSin, m.Config.Heads(), nil)
	}
	out.LastBlock = h
	out.FinalNorm = m.norm.Forward(o, h)
	b := x.Shape()[0]
	pooled := o.Reshape(o.Slice(out.FinalNorm, 1, 0, 1, 1), b, m.Config.Width)
	out.Embed = m.head.Forward(o, pooled)
	out.EmbedNorm = L2Normalize(o, out.Embed)
	return out, nil
}

// Embed is the patch embedding with the class token and absolute position
// embedding: [B, 3, S, S] → [B, Tokens, Width].
func (m *Model) Embed(x backend.Tensor, tap Tap) (tok backend.Tensor, err error) {
	defer backend.Catch(&err)
	o := m.o
	s, size := x.Shape(), m.Config.ImageSize()
	if len(s) != 4 || s[0] < 1 || s[1] != 3 || s[2] != size || s[3] != size {
		return nil, fmt.Errorf("eva: input shape %v, want [B, 3, %d, %d]", s, size, size)
	}
	b, w := s[0], m.Config.Width
	// proj(x).flatten(2).transpose(1, 2): tokens in row-major patch order.
	p := m.patch.Forward(o, x)
	p = o.Permute(o.Reshape(p, b, w, -1), 0, 2, 1)
	tap.put("patch_tokens", p)
	cls := make([]backend.Tensor, b)
	for i := range cls {
		cls[i] = m.cls
	}
	tok = o.Add(o.Concat(1, o.Concat(0, cls...), p), m.pos)
	tap.put("tokens_with_cls_pos", tok)
	return tok, nil
}

// Block runs block i on x [B, Tokens, Width].
func (m *Model) Block(i int, x backend.Tensor, tap Tap) (y backend.Tensor, err error) {
	defer backend.Catch(&err)
	if i < 0 || i >= len(m.blocks) {
		return nil, fmt.Errorf("eva: block %d of %d", i, len(m.blocks))
	}
	if s := x.Shape(); len(s) != 3 || s[1] != m.Config.Tokens() || s[2] != m.Config.Width {
		return nil, fmt.Errorf("eva: block input shape %v, want [B, %d, %d]", s, m.Config.Tokens(), m.Config.Width)
	}
	return m.blocks[i].forward(m.o, x, m.ropeCos, m.ropeSin, m.Config.Heads(), tap), nil
}

// forward is x + attn(norm1(x)), then + mlp(norm2(x)) (pre-norm, no layer scale).
func (blk block) forward(o nn.Ops, x, cos, sin backend.Tensor, heads int, tap Tap) backend.Tensor {
	s := x.Shape()
	b, n, w := s[0], s[1], s[2]
	d := w / heads
	h := blk.norm1.Forward(o, x)
	tap.put("norm1", h)
	split := func(t backend.Tensor) backend.Tensor { // [B, N, W] → [B, heads, N, d]
		return o.Permute(o.Reshape(t, b, n, heads, d), 0, 2, 1, 3)
	}
	q := split(blk.q.Forward(o, h))
	k := split(blk.k.Forward(o, h))
	v := split(blk.v.Forward(o, h))
	// RoPE on the patch tokens only; the class token (index 0) keeps its q, k.
	rope := func(t backend.Tensor, name string) backend.Tensor {
		r := o.RoPE(o.Slice(t, 2, 1, n, 1), cos, sin)
		tap.put(name, r)
		return o.Concat(2, o.Slice(t, 2, 0, 1, 1), r)
	}
	q, k = rope(q, "q_rope"), rope(k, "k_rope")
	ctx := o.Attention(q, k, v, backend.AttentionOptions{Scale: float32(1 / math.Sqrt(float64(d)))})
	ctx = o.Reshape(o.Permute(ctx, 0, 2, 1, 3), b, n, w)
	tap.put("attn_context", ctx)
	ctx = blk.innerLN.Forward(o, ctx)
	tap.put("attn_context_ln", ctx)
	a := blk.proj.Forward(o, ctx)
	tap.put("attn_out", a)
	x = o.Add(x, a)

	h = blk.norm2.Forward(o, x)
	tap.put("norm2", h)
	g := o.Mul(o.SiLU(blk.w1.Forward(o, h)), blk.w2.Forward(o, h))
	tap.put("swiglu_hidden", g)
	f := blk.w3.Forward(o, blk.ffnLN.Forward(o, g))
	tap.put("mlp_out", f)
	x = o.Add(x, f)
	tap.put("y", x)
	return x
}

// L2Normalize divides each row of x [B, D] by its Euclidean norm
// (x / torch.norm(x, 2, 1, True)).
func L2Normalize(o nn.Ops, x backend.Tensor) backend.Tensor {
	norm := o.Unary(backend.Sqrt, o.Reduce(backend.Sum, o.Unary(backend.Square, x)))
	return o.Div(x, norm)
}
