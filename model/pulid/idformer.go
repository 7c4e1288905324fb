// Package pulid holds PuLID's identity modules (pulid/encoders_transformer.py
// of github.com/ToTheBeginning/PuLID): the IDFormer, which turns an ArcFace
// embedding and EVA-CLIP features into identity tokens, and the
// PerceiverAttentionCA modules that inject those tokens into FLUX's image
// stream. Names and shapes are those of pulid_flux_v0.9.0/0.9.1.safetensors
// (pulid_encoder.*, pulid_ca.<k>.*).
package pulid

import (
	"errors"
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/param"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

type params = param.Set

// Widths the reference hard-codes: id_cond = [ArcFace 512 | EVA-CLIP 768],
// EVA hidden states and the mapping MLPs are 1024 wide, five ViT scales.
const (
	IDCondDim    = 1280
	VitDim       = 1024
	MappingWidth = 1024
	NumScales    = 5
)

// IDFormerConfig configures IDFormer.
type IDFormerConfig struct {
	Dim        int `json:"dim"`
	Depth      int `json:"depth"` // a multiple of 5: depth/5 layers per ViT scale
	DimHead    int `json:"dim_head"`
	Heads      int `json:"heads"`
	NumIDToken int `json:"num_id_token"`
	NumQueries int `json:"num_queries"`
	OutputDim  int `json:"output_dim"`
	FFMult     int `json:"ff_mult"` // 0 means the default 4
}

// RealIDFormer is the configuration of pulid_flux_v0.9.0/0.9.1.
var RealIDFormer = IDFormerConfig{Dim: 1024, Depth: 10, DimHead: 64, Heads: 16, NumIDToken: 5, NumQueries: 32, OutputDim: 2048, FFMult: 4}

func (c IDFormerConfig) ffMult() int {
	if c.FFMult == 0 {
		return 4
	}
	return c.FFMult
}

// Validate checks the configuration is one the reference could build.
func (c IDFormerConfig) Validate() error {
	if c.Dim <= 0 || c.DimHead <= 0 || c.Heads <= 0 || c.NumIDToken <= 0 || c.NumQueries <= 0 || c.OutputDim <= 0 || c.ffMult() <= 0 {
		return fmt.Errorf("idformer config %+v: widths and counts must be positive", c)
	}
	if c.Depth <= 0 || c.Depth%NumScales != 0 {
		return fmt.Errorf("idformer config: depth %d must be a positive multiple of %d", c.Depth, NumScales)
	}
	return nil
}

// mappingMLP is Linear(in, 1024) LN LeakyReLU Linear(1024, 1024) LN
// LeakyReLU Linear(1024, out) (Sequential indices 0, 1, 3, 4, 6).
type mappingMLP struct {
	L0, L3, L6 nn.Linear
	N1, N4     nn.LayerNorm
}

func loadMapping(p params, in, out int) mappingMLP {
	return mappingMLP{
		L0: p.Linear("0", in, MappingWidth, true),
		N1: p.LayerNorm("1", MappingWidth, normEps),
		L3: p.Linear("3", MappingWidth, MappingWidth, true),
		N4: p.LayerNorm("4", MappingWidth, normEps),
		L6: p.Linear("6", MappingWidth, out, true),
	}
}

func (m mappingMLP) Forward(o nn.Ops, x backend.Tensor) backend.Tensor {
	x = leakyReLU(o, m.N1.Forward(o, m.L0.Forward(o, x)))
	x = leakyReLU(o, m.N4.Forward(o, m.L3.Forward(o, x)))
	return m.L6.Forward(o, x)
}

// leakyReLU is torch's default LeakyReLU (slope 0.01) as max(x, 0.01·x),
// exact for a slope below 1.
func leakyReLU(o nn.Ops, x backend.Tensor) backend.Tensor {
	return o.Binary(backend.Max, x, o.Scale(x, 0.01))
}

// perceiverAttention is the IDFormer's PerceiverAttention: like the CA,
// but keys and values run over cat(norm1(context), norm2(latents)).
type perceiverAttention struct {
	Norm1, Norm2     nn.LayerNorm
	ToQ, ToKV, ToOut nn.Linear
	Heads, DimHead   int
}

func (a perceiverAttention) Forward(o nn.Ops, ctx, latents backend.Tensor) backend.Tensor {
	x := a.Norm1.Forward(o, ctx)
	lat := a.Norm2.Forward(o, latents)
	q := a.ToQ.Forward(o, lat)
	kv := o.Chunk(a.ToKV.Forward(o, o.Concat(1, x, lat)), 2, -1)
	return a.ToOut.Forward(o, attend(o, q, kv[0], kv[1], a.Heads, a.DimHead))
}

// feedForward is LayerNorm, Linear (no bias), exact erf GELU, Linear (no bias).
type feedForward struct {
	Norm   nn.LayerNorm
	L1, L3 nn.Linear
}

func (f feedForward) Forward(o nn.Ops, x backend.Tensor) backend.Tensor {
	return f.L3.Forward(o, o.GELUErf(f.L1.Forward(o, f.Norm.Forward(o, x))))
}

type layer struct {
	Attn perceiverAttention
	FF   feedForward
}

// IDFormer is PuLID's identity encoder.
type IDFormer struct {
	Cfg       IDFormerConfig
	Latents   backend.Tensor // [1, num_queries, dim]
	ProjOutT  backend.Tensor // proj_out transposed to [output_dim, dim] (the file stores (dim, output_dim), used as x @ proj_out)
	IDMapping mappingMLP
	Mappings  [NumScales]mappingMLP
	Layers    []layer
}

func buildIDFormer(p params, c IDFormerConfig) *IDFormer {
	inner := c.DimHead * c.Heads
	f := &IDFormer{
		Cfg:       c,
		Latents:   p.F32("latents", 1, c.NumQueries, c.Dim),
		IDMapping: loadMapping(p.Sub("id_embedding_mapping"), IDCondDim, c.Dim*c.NumIDToken),
	}
	if po := p.F32("proj_out", c.Dim, c.OutputDim); po != nil {
		f.ProjOutT = nn.Ops{Backend: p.Backend()}.Transpose(po, 0, 1)
	}
	for i := range c.Depth {
		lp := p.Subf("layers.%d", i)
		a, ff := lp.Sub("0"), lp.Sub("1")
		f.Layers = append(f.Layers, layer{
			Attn: perceiverAttention{
				Norm1: a.LayerNorm("norm1", c.Dim, normEps),
				Norm2: a.LayerNorm("norm2", c.Dim, normEps),
				ToQ:   a.Linear("to_q", c.Dim, inner, false),
				ToKV:  a.Linear("to_kv", c.Dim, 2*inner, false),
				ToOut: a.Linear("to_out", inner, c.Dim, false),
				Heads: c.Heads, DimHead: c.DimHead,
			},
			FF: feedForward{
				Norm: ff.LayerNorm("0", c.Dim, normEps),
				L1:   ff.Linear("1", c.Dim, c.Dim*c.ffMult(), false),
				L3:   ff.Linear("3", c.Dim*c.ffMult(), c.Dim, false),
			},
		})
	}
	for i := range NumScales {
		f.Mappings[i] = loadMapping(p.Subf("mapping_%d", i), VitDim, c.Dim)
	}
	return f
}

// Recorder receives named intermediates (nil: none).
type Recorder func(name string, t backend.Tensor)

func (r Recorder) record(name string, t backend.Tensor) {
	if r != nil {
		r(name, t)
	}
}

// Forward is IDFormer.forward(id_cond, y): idCond [B, 1280] (or [B, n, 1280]
// for n id images) and NumScales EVA hidden states y[i] [B, N, 1024] →
// identity tokens [B, num_queries, output_dim]. rec receives
// id_embedding_mapping, mapping_{i} and layer{j}_attn / layer{j}_ff (raw
// outputs before their residual add).
func (f *IDFormer) Forward(b backend.Backend, idCond backend.Tensor, y []backend.Tensor, rec Recorder) (out backend.Tensor, err error) {
	if err := f.checkInputs(idCond, y); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	o := nn.Ops{Backend: b}
	c := f.Cfg
	bsz, nImg := idCond.Shape()[0], 1
	if s := idCond.Shape(); len(s) == 3 {
		nImg = s[1]
	}
	lat := f.Latents
	if bsz > 1 {
		lat = o.Add(o.Backend.Zeros([]int{bsz, c.NumQueries, c.Dim}), lat)
	}
	m := f.IDMapping.Forward(o, idCond)
	rec.record("id_embedding_mapping", m)
	x := o.Reshape(m, bsz, c.NumIDToken*nImg, c.Dim)
	lat = o.Concat(1, lat, x) // queries first, then the id tokens
	per := c.Depth / NumScales
	for i := range NumScales {
		vit := f.Mappings[i].Forward(o, y[i])
		rec.record(fmt.Sprintf("mapping_%d", i), vit)
		ctx := o.Concat(1, x, vit) // the id tokens (never updated) first
		for j := i * per; j < (i+1)*per; j++ {
			a := f.Layers[j].Attn.Forward(o, ctx, lat)
			rec.record(fmt.Sprintf("layer%d_attn", j), a)
			lat = o.Add(a, lat)
			ff := f.Layers[j].FF.Forward(o, lat)
			rec.record(fmt.Sprintf("layer%d_ff", j), ff)
			lat = o.Add(ff, lat)
		}
	}
	lat = o.Slice(lat, 1, 0, c.NumQueries, 1)
	return o.MatMul(lat, f.ProjOutT), nil // latents @ proj_out
}

// Uncond is the "uncond" identity of get_id_embedding(cal_uncond=True): the
// IDFormer on all-zero inputs, for true CFG's negative branch. tokens is
// the number N of EVA tokens of the cond call (577 for EVA02-CLIP-L-14-336).
func (f *IDFormer) Uncond(b backend.Backend, batch, tokens int) (backend.Tensor, error) {
	y := make([]backend.Tensor, NumScales)
	for i := range y {
		y[i] = b.Zeros([]int{batch, tokens, VitDim})
	}
	return f.Forward(b, b.Zeros([]int{batch, IDCondDim}), y, nil)
}

func (f *IDFormer) checkInputs(idCond backend.Tensor, y []backend.Tensor) error {
	if idCond == nil {
		return errors.New("idformer: id_cond is nil")
	}
	s := idCond.Shape()
	if (len(s) != 2 && len(s) != 3) || s[len(s)-1] != IDCondDim {
		return fmt.Errorf("idformer: id_cond has shape %v, want [B, %d] or [B, n, %d]", s, IDCondDim, IDCondDim)
	}
	if len(y) != NumScales {
		return fmt.Errorf("idformer: %d ViT hidden states, want %d", len(y), NumScales)
	}
	for i, t := range y {
		if t == nil {
			return fmt.Errorf("idformer: ViT hidden state %d is nil", i)
		}
		ys := t.Shape()
		if len(ys) != 3 || ys[0] != s[0] || ys[2] != VitDim {
			return fmt.Errorf("idformer: ViT hidden state %d has shape %v, want [%d, N, %d]", i, ys, s[0], VitDim)
		}
	}
	return nil
}

// Model is the content of a PuLID checkpoint: the encoder and the CA modules.
type Model struct {
	Encoder *IDFormer
	CA      []*PerceiverCA
}

// Config configures a whole PuLID checkpoint.
type Config struct {
	Encoder IDFormerConfig
	CA      CAConfig
	NumCA   int
}

// Real is pulid_flux_v0.9.0/0.9.1 for FLUX.1-dev (20 CA modules).
var Real = Config{Encoder: RealIDFormer, CA: RealCA, NumCA: 20}

func build(p params, c Config) *Model {
	m := &Model{Encoder: buildIDFormer(p.Sub("pulid_encoder"), c.Encoder)}
	for k := range c.NumCA {
		m.CA = append(m.CA, loadCA(p.Subf("pulid_ca.%d", k), c.CA))
	}
	return m
}

// Shapes lists every tensor name of a PuLID checkpoint of configuration c
// with its shape, exactly what Load reads.
func Shapes(c Config) (map[string][]int, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p, list := param.List()
	build(p, c)
	return list, nil
}

// Load loads a PuLID checkpoint (pulid_encoder.* and pulid_ca.<k>.*).
func Load(b backend.Backend, src weights.Source, c Config) (m *Model, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	m = build(param.Load(l), c)
	want, _ := Shapes(c)
	if err := errors.Join(l.Err(), param.Unexpected(src, want, []string{"pulid_encoder.", "pulid_ca."})); err != nil {
		return nil, fmt.Errorf("load pulid: %w", err)
	}
	return m, nil
}

// LoadIDFormer loads only pulid_encoder.* of src.
func LoadIDFormer(b backend.Backend, src weights.Source, c IDFormerConfig) (f *IDFormer, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	f = buildIDFormer(param.Load(l).Sub("pulid_encoder"), c)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("load pulid encoder: %w", err)
	}
	return f, nil
}

// LoadCA loads the cross-attention module pulid_ca.<k> of src.
func LoadCA(b backend.Backend, src weights.Source, c CAConfig, k int) (ca *PerceiverCA, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	ca = loadCA(param.Load(l).Subf("pulid_ca.%d", k), c)
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("load pulid_ca.%d: %w", k, err)
	}
	return ca, nil
}
