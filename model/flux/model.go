// Package flux is the FLUX.1 rectified-flow transformer (MMDiT) of Black
// Forest Labs, as modified by PuLID to add identity cross-attention to the
// image stream. It follows the reference flux/model.py and
// flux/modules/layers.py of github.com/ToTheBeginning/PuLID and is written
// only against the backend interface: it runs on any backend, and an op a
// backend lacks comes back from Forward as an error.
//
// Files follow the reference's parts: timestep.go (timestep_embedding),
// rope.go (EmbedND), embedders.go (MLPEmbedder), attention.go (QKNorm,
// attention), double_block.go, single_block.go, last_layer.go, and this
// file's Flux.forward.
package flux

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/internal/param"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

type params = param.Set

// Model is a loaded FLUX transformer.
type Model struct {
	Cfg Config

	ImgIn, TxtIn                 nn.Linear
	TimeIn, VectorIn, GuidanceIn MLPEmbedder // GuidanceIn is unset without guidance_embed
	Double                       []*DoubleBlock
	Single                       []*SingleBlock
	Final                        LastLayer

	// PuLID identity cross-attention (nil: none attached). IDModules[k] is
	// pulid_ca.k, injected after double blocks i%DoubleInterval == 0 and
	// single blocks i%SingleInterval == 0, one running index k.
	IDModules                      []IDAttention
	DoubleInterval, SingleInterval int
}

// IDAttention is PuLID's PerceiverAttentionCA seen from FLUX: the update
// of image tokens img [B, L, hidden] from identity tokens id [B, N, kv_dim]
// (id is the key/value source, img the queries; no residual inside).
type IDAttention interface {
	Forward(o nn.Ops, id, img backend.Tensor) backend.Tensor
}

// PuLID's intervals (pulid/pipeline_flux.py PuLIDPipeline).
const (
	DefaultDoubleInterval = 2
	DefaultSingleInterval = 4
)

// NumIDModules is the number of CA modules PuLID builds for a model: one
// per injection point, ⌈depth/double⌉ + ⌈depth_single/single⌉ (20 for FLUX.1-dev).
func NumIDModules(c Config, doubleInterval, singleInterval int) int {
	return ceilDiv(c.Depth, doubleInterval) + ceilDiv(c.DepthSingleBlocks, singleInterval)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// build constructs the model from p (loading or only listing shapes).
func build(p params, c Config) *Model {
	h := c.HiddenSize
	m := &Model{
		Cfg:      c,
		ImgIn:    p.Linear("img_in", c.InChannels, h, true),
		TimeIn:   loadMLPEmbedder(p.Sub("time_in"), TimestepDim, h),
		VectorIn: loadMLPEmbedder(p.Sub("vector_in"), c.VecInDim, h),
		TxtIn:    p.Linear("txt_in", c.ContextInDim, h, true),
		Final:    loadLastLayer(p.Sub("final_layer"), c),
	}
	if c.GuidanceEmbed {
		m.GuidanceIn = loadMLPEmbedder(p.Sub("guidance_in"), TimestepDim, h)
	}
	for i := range c.Depth {
		m.Double = append(m.Double, loadDoubleBlock(p.Subf("double_blocks.%d", i), c))
	}
	for i := range c.DepthSingleBlocks {
		m.Single = append(m.Single, loadSingleBlock(p.Subf("single_blocks.%d", i), c))
	}
	return m
}

// Shapes lists every tensor name of the checkpoint of configuration c with
// its shape, exactly what Load reads (flux1-dev.safetensors names).
func Shapes(c Config) (map[string][]int, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p, list := param.List()
	build(p, c)
	return list, nil
}

// Load builds the model of configuration c from src on b. Names are those
// of the released checkpoints (a ComfyUI "model.diffusion_model." prefix is
// stripped by weights.Open). Every missing or mis-shaped tensor is reported
// at once; tensors src holds beyond the model (a PuLID file merged in) are
// ignored.
func Load(b backend.Backend, src weights.Source, c Config) (m *Model, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	m = build(param.Load(l), c)
	want, _ := Shapes(c)
	if err := errors.Join(l.Err(), param.Unexpected(src, want, fluxRoots)); err != nil {
		return nil, fmt.Errorf("load flux: %w", err)
	}
	return m, nil
}

// fluxRoots are the top-level modules of a FLUX checkpoint: a tensor under
// one of them that the configuration does not have (a 20th double block,
// guidance_in for schnell) is reported; other names (a merged PuLID or VAE
// file) are not FLUX's business.
var fluxRoots = []string{"img_in.", "txt_in.", "time_in.", "vector_in.", "guidance_in.",
	"double_blocks.", "single_blocks.", "final_layer."}

// LoadNamed resolves the configuration name ("flux-dev", "flux-schnell",
// "flux-krea-dev"; "" reads it from the weights) against src and loads it.
func LoadNamed(b backend.Backend, src weights.Source, name string) (*Model, error) {
	c, err := ResolveConfig(name, src)
	if err != nil {
		return nil, err
	}
	return Load(b, src, c)
}

// IDModules converts a slice of concrete CA modules (pulid.Model.CA) for AttachID.
func IDModules[T IDAttention](mods []T) []IDAttention {
	out := make([]IDAttention, len(mods))
	for i, m := range mods {
		out[i] = m
	}
	return out
}

// AttachID attaches PuLID's cross-attention modules with the given
// intervals, checking there is one per injection point.
func (m *Model) AttachID(mods []IDAttention, doubleInterval, singleInterval int) error {
	if doubleInterval <= 0 || singleInterval <= 0 {
		return fmt.Errorf("flux: PuLID intervals %d/%d must be positive", doubleInterval, singleInterval)
	}
	if want := NumIDModules(m.Cfg, doubleInterval, singleInterval); len(mods) != want {
		return fmt.Errorf("flux: %d PuLID modules for %d injection points (depths %d/%d, intervals %d/%d)",
			len(mods), want, m.Cfg.Depth, m.Cfg.DepthSingleBlocks, doubleInterval, singleInterval)
	}
	m.IDModules, m.DoubleInterval, m.SingleInterval = mods, doubleInterval, singleInterval
	return nil
}

// Recorder receives named intermediate tensors of a forward pass (for the
// conformance runner and debugging); nil records nothing.
type Recorder func(name string, t backend.Tensor)

func (r Recorder) record(name string, t backend.Tensor) {
	if r != nil {
		r(name, t)
	}
}

// Inputs are the arguments of Flux.forward. B is the batch, Li the number
// of image tokens (packed 2×2 latent patches), Lt the number of text tokens.
type Inputs struct {
	Img    backend.Tensor // [B, Li, in_channels] packed latents
	ImgIDs []float32      // [B, Li, 3] positions of the image tokens (0, row, col), host side
	Txt    backend.Tensor // [B, Lt, context_in_dim] T5 tokens
	TxtIDs []float32      // [B, Lt, 3] positions of the text tokens (zeros), host side
	// Timesteps [B] in [0, 1] and Guidance [B] (e.g. 4.0), raw: the ×1000
	// happens inside the timestep embedding. Guidance is required by a
	// guidance-distilled model (flux-dev) and ignored without guidance_in.
	Timesteps, Guidance []float32
	Y                   backend.Tensor // [B, vec_in_dim] pooled CLIP embedding

	// ID is PuLID's identity embedding [B, N, kv_dim] (nil: no injection,
	// as before start_step); IDWeight scales every injection.
	ID       backend.Tensor
	IDWeight float32

	// Record, if set, receives vec, double{i}_img, double{i}_txt and
	// single{i} (block outputs before any id injection) and ca{k}
	// (pulid_ca[k] output before the id_weight factor).
	Record Recorder
}

// Forward is Flux.forward: it returns the predicted velocity [B, Li,
// in_channels] for the packed latents in.Img at in.Timesteps. A sampler
// step calls it as
//
//	pred, err := m.Forward(b, flux.Inputs{Img: x, ImgIDs: imgIDs, Txt: txt, TxtIDs: txtIDs,
//		Timesteps: []float32{t}, Guidance: []float32{4}, Y: vec, ID: id, IDWeight: 1})
//
// with ID nil when PuLID is off (or before start_step). Bad input shapes
// and ops the backend lacks come back as errors.
func (m *Model) Forward(b backend.Backend, in Inputs) (out backend.Tensor, err error) {
	if err := m.checkInputs(in); err != nil {
		return nil, err
	}
	defer backend.Catch(&err)
	o := nn.Ops{Backend: b}
	c := m.Cfg
	bsz, li, lt := in.Img.Shape()[0], in.Img.Shape()[1], in.Txt.Shape()[1]

	img := m.ImgIn.Forward(o, in.Img)
	vec := m.TimeIn.Forward(o, b.FromF32([]int{bsz, TimestepDim},
		TimestepEmbedding(in.Timesteps, TimestepDim, TimestepMaxPeriod, TimeFactor)))
	if c.GuidanceEmbed {
		vec = o.Add(vec, m.GuidanceIn.Forward(o, b.FromF32([]int{bsz, TimestepDim},
			TimestepEmbedding(in.Guidance, TimestepDim, TimestepMaxPeriod, TimeFactor))))
	}
	vec = o.Add(vec, m.VectorIn.Forward(o, in.Y))
	in.Record.record("vec", vec)
	txt := m.TxtIn.Forward(o, in.Txt)

	// txt first, as ids = cat(txt_ids, img_ids)
	pe, err := m.PosEmbed(b, concatIDs(in.TxtIDs, in.ImgIDs, bsz), bsz, lt+li)
	if err != nil {
		return nil, err
	}

	inject := in.ID != nil && len(m.IDModules) > 0
	ca := 0
	addID := func(img backend.Tensor) backend.Tensor {
		d := m.IDModules[ca].Forward(o, in.ID, img)
		in.Record.record(fmt.Sprintf("ca%d", ca), d)
		ca++
		return o.Add(img, o.Scale(d, in.IDWeight))
	}
	for i, blk := range m.Double {
		img, txt = blk.Forward(o, img, txt, vec, pe, nil)
		in.Record.record(fmt.Sprintf("double%d_img", i), img)
		in.Record.record(fmt.Sprintf("double%d_txt", i), txt)
		if inject && i%m.DoubleInterval == 0 {
			img = addID(img)
		}
	}
	x := o.Concat(1, txt, img)
	for i, blk := range m.Single {
		x = blk.Forward(o, x, vec, pe, nil)
		in.Record.record(fmt.Sprintf("single%d", i), x)
		if inject && i%m.SingleInterval == 0 {
			// image tokens only: the text part passes through untouched
			x = o.Concat(1, o.Slice(x, 1, 0, lt, 1), addID(o.Slice(x, 1, lt, lt+li, 1)))
		}
	}
	img = o.Slice(x, 1, lt, lt+li, 1)
	return m.Final.Forward(o, img, vec, nil), nil
}

// concatIDs joins per-sample txt and img ids along the token axis.
func concatIDs(txt, img []float32, bsz int) []float32 {
	out := make([]float32, 0, len(txt)+len(img))
	nt, ni := len(txt)/bsz, len(img)/bsz
	for i := range bsz {
		out = append(out, txt[i*nt:(i+1)*nt]...)
		out = append(out, img[i*ni:(i+1)*ni]...)
	}
	return out
}

// checkInputs validates shapes before any op runs, naming the input at fault.
func (m *Model) checkInputs(in Inputs) error {
	c := m.Cfg
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if in.Img == nil || in.Txt == nil || in.Y == nil {
		return errors.New("flux forward: img, txt and y are required")
	}
	is, ts, ys := in.Img.Shape(), in.Txt.Shape(), in.Y.Shape()
	if len(is) != 3 || is[2] != c.InChannels {
		return fmt.Errorf("flux forward: img has shape %v, want [B, L, %d]", is, c.InChannels)
	}
	bsz, li := is[0], is[1]
	if len(ts) != 3 || ts[0] != bsz || ts[2] != c.ContextInDim {
		bad("txt has shape %v, want [%d, L, %d]", ts, bsz, c.ContextInDim)
	}
	if len(ys) != 2 || ys[0] != bsz || ys[1] != c.VecInDim {
		bad("y has shape %v, want [%d, %d]", ys, bsz, c.VecInDim)
	}
	na := len(c.AxesDim)
	if len(in.ImgIDs) != bsz*li*na {
		bad("img_ids has %d values, want %d×%d×%d", len(in.ImgIDs), bsz, li, na)
	}
	if len(ts) == 3 && len(in.TxtIDs) != bsz*ts[1]*na {
		bad("txt_ids has %d values, want %d×%d×%d", len(in.TxtIDs), bsz, ts[1], na)
	}
	if len(in.Timesteps) != bsz {
		bad("%d timesteps for batch %d", len(in.Timesteps), bsz)
	}
	if c.GuidanceEmbed && len(in.Guidance) != bsz {
		bad("guidance-distilled model needs one guidance value per sample, got %d for batch %d", len(in.Guidance), bsz)
	}
	if in.ID != nil {
		s := in.ID.Shape()
		if len(s) != 3 || s[0] != bsz {
			bad("id has shape %v, want [%d, N, kv_dim]", s, bsz)
		}
		if len(m.IDModules) == 0 {
			bad("an id embedding was given but no PuLID modules are attached")
		} else if k, ok := m.IDModules[0].(interface{ KVDim() int }); ok && len(s) == 3 && s[2] != k.KVDim() {
			bad("id has shape %v, want [%d, N, %d] (the PuLID modules' kv_dim)", s, bsz, k.KVDim())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("flux forward: %w", errors.Join(errs...))
	}
	return nil
}

// loadPart loads one sub-module under prefix (per-layer tests and tools).
func loadPart[T any](b backend.Backend, src weights.Source, prefix string, f func(params) T) (m T, err error) {
	defer backend.Catch(&err)
	l := weights.NewLoader(b, src)
	p := param.Load(l)
	if prefix = strings.TrimSuffix(prefix, "."); prefix != "" {
		p = p.Sub(prefix)
	}
	m = f(p)
	if err := l.Err(); err != nil {
		var zero T
		return zero, fmt.Errorf("load flux %s: %w", prefix, err)
	}
	return m, nil
}

// LoadDoubleBlock loads the double block stored under prefix ("double_blocks.1").
func LoadDoubleBlock(b backend.Backend, src weights.Source, prefix string, c Config) (*DoubleBlock, error) {
	return loadPart(b, src, prefix, func(p params) *DoubleBlock { return loadDoubleBlock(p, c) })
}

// LoadSingleBlock loads the single block stored under prefix ("single_blocks.3").
func LoadSingleBlock(b backend.Backend, src weights.Source, prefix string, c Config) (*SingleBlock, error) {
	return loadPart(b, src, prefix, func(p params) *SingleBlock { return loadSingleBlock(p, c) })
}

// LoadLastLayer loads the final layer stored under prefix ("final_layer").
func LoadLastLayer(b backend.Backend, src weights.Source, prefix string, c Config) (LastLayer, error) {
	return loadPart(b, src, prefix, func(p params) LastLayer { return loadLastLayer(p, c) })
}

// LoadMLPEmbedder loads an MLPEmbedder (in → hidden → hidden) stored under prefix ("time_in").
func LoadMLPEmbedder(b backend.Backend, src weights.Source, prefix string, in, hidden int) (MLPEmbedder, error) {
	return loadPart(b, src, prefix, func(p params) MLPEmbedder { return loadMLPEmbedder(p, in, hidden) })
}
