package conformance

// Runners for the flux/* cases (model/flux): shapes and configuration come
// from each case (metadata `config`, `params`, `prefix` and its tensors).

import (
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/nn"
)

func init() {
	Register("flux/timestep_embedding", runFluxTimestep)
	Register("flux/mlp_embedder", runFluxMLPEmbedder)
	Register("flux/rope", runFluxRoPE)
	Register("flux/attention", runFluxAttention)
	Register("flux/double_block", runFluxDoubleBlock)
	Register("flux/single_block", runFluxSingleBlock)
	Register("flux/last_layer", runFluxLastLayer)
	Register("flux/forward", runFluxForward)
}

// fluxCaseConfig is the `config` metadata of the flux cases.
type fluxCaseConfig struct {
	Flux  flux.Config `json:"flux"`
	PuLID *struct {
		DoubleInterval int            `json:"double_interval"`
		SingleInterval int            `json:"single_interval"`
		NumCA          int            `json:"num_ca"`
		CA             pulid.CAConfig `json:"pulid_ca"`
	} `json:"pulid"`
}

func fluxConfig(c *Case) (fluxCaseConfig, error) {
	var cfg fluxCaseConfig
	if err := c.JSON("config", &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Flux.Validate()
}

func runFluxTimestep(c *Case, b backend.Backend) (Outputs, error) {
	cfg := struct {
		Dim        int     `json:"dim"`
		MaxPeriod  float64 `json:"max_period"`
		TimeFactor float64 `json:"time_factor"`
	}{Dim: flux.TimestepDim, MaxPeriod: flux.TimestepMaxPeriod, TimeFactor: flux.TimeFactor}
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	if _, ok := c.Meta["params"]; ok {
		if err := c.JSON("params", &cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Dim <= 0 {
		return nil, fmt.Errorf("timestep embedding dim %d", cfg.Dim)
	}
	t, _, err := c.F32("in.t")
	if err != nil {
		return nil, err
	}
	outs := Outputs{"out.emb": Float([]int{len(t), cfg.Dim}, flux.TimestepEmbedding(t, cfg.Dim, cfg.MaxPeriod, cfg.TimeFactor))}
	if c.Has("out.freqs") {
		outs["out.freqs"] = Float([]int{cfg.Dim / 2}, flux.TimestepFreqs(cfg.Dim/2, cfg.MaxPeriod))
	}
	return outs, nil
}

func runFluxMLPEmbedder(c *Case, b backend.Backend) (Outputs, error) {
	cfg, err := fluxConfig(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	x, err := c.Tensor(b, "in.x")
	if err != nil {
		return nil, err
	}
	m, err := flux.LoadMLPEmbedder(b, st, c.Meta["prefix"], x.Shape()[len(x.Shape())-1], cfg.Flux.HiddenSize)
	if err != nil {
		return nil, err
	}
	var y backend.Tensor
	if err := catch(func() { y = m.Forward(nn.Ops{Backend: b}, x) }); err != nil {
		return nil, err
	}
	o, err := Read(b, y)
	return Outputs{"out.y": o}, err
}

// peTables splits a reference pe tensor [B, 1, L, D/2, 2, 2] into cos and
// sin tables ([L, D/2] when B is 1).
func peTables(c *Case, b backend.Backend, name string) (flux.PE, error) {
	v, s, err := c.F32(name)
	if err != nil {
		return flux.PE{}, err
	}
	if len(s) != 6 || s[1] != 1 || s[4] != 2 || s[5] != 2 {
		return flux.PE{}, fmt.Errorf("%s has shape %v, want [B, 1, L, D/2, 2, 2]", name, s)
	}
	n := s[0] * s[2] * s[3]
	cos, sin := make([]float32, n), make([]float32, n)
	for i := range n {
		cos[i], sin[i] = v[4*i], v[4*i+2] // [[cos, −sin], [sin, cos]]
	}
	shape := []int{s[0], s[2], s[3]}
	if s[0] == 1 {
		shape = shape[1:]
	}
	return flux.PE{Cos: b.FromF32(shape, cos), Sin: b.FromF32(shape, sin)}, nil
}

// peTensor lays cos/sin tables out as the reference's pe [B, 1, L, D/2, 2, 2].
func peTensor(cos, sin []float32, bsz, l, half int) Output {
	v := make([]float32, 4*len(cos))
	for i := range cos {
		v[4*i], v[4*i+1], v[4*i+2], v[4*i+3] = cos[i], -sin[i], sin[i], cos[i]
	}
	return Float([]int{bsz, 1, l, half, 2, 2}, v)
}

func runFluxRoPE(c *Case, b backend.Backend) (Outputs, error) {
	cfg, err := fluxConfig(c)
	if err != nil {
		return nil, err
	}
	ids, s, err := c.F32("in.ids")
	if err != nil {
		return nil, err
	}
	if len(s) != 3 || s[2] != len(cfg.Flux.AxesDim) {
		return nil, fmt.Errorf("in.ids has shape %v, want [B, L, %d]", s, len(cfg.Flux.AxesDim))
	}
	cos, sin, err := flux.EmbedND(ids, cfg.Flux.AxesDim, cfg.Flux.Theta)
	if err != nil {
		return nil, err
	}
	return Outputs{"out.pe": peTensor(cos, sin, s[0], s[1], cfg.Flux.HeadDim()/2)}, nil
}

func runFluxAttention(c *Case, b backend.Backend) (Outputs, error) {
	in, err := tensors(c, b, "in.q", "in.k", "in.v")
	if err != nil {
		return nil, err
	}
	pe, err := peTables(c, b, "in.pe")
	if err != nil {
		return nil, err
	}
	var x backend.Tensor
	if err := catch(func() { x = flux.Attention(nn.Ops{Backend: b}, in[0], in[1], in[2], pe) }); err != nil {
		return nil, err
	}
	o, err := Read(b, x)
	return Outputs{"out.x": o}, err
}

func runFluxDoubleBlock(c *Case, b backend.Backend) (Outputs, error) {
	cfg, err := fluxConfig(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	blk, err := flux.LoadDoubleBlock(b, st, c.Meta["prefix"], cfg.Flux)
	if err != nil {
		return nil, err
	}
	in, err := tensors(c, b, "in.img", "in.txt", "in.vec")
	if err != nil {
		return nil, err
	}
	pe, err := peTables(c, b, "in.pe")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	if err := catch(func() {
		img, txt := blk.Forward(nn.Ops{Backend: b}, in[0], in[1], in[2], pe, r.hook(""))
		r.add("out.img", img)
		r.add("out.txt", txt)
	}); err != nil {
		return nil, err
	}
	return r.result()
}

func runFluxSingleBlock(c *Case, b backend.Backend) (Outputs, error) {
	cfg, err := fluxConfig(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	blk, err := flux.LoadSingleBlock(b, st, c.Meta["prefix"], cfg.Flux)
	if err != nil {
		return nil, err
	}
	in, err := tensors(c, b, "in.x", "in.vec")
	if err != nil {
		return nil, err
	}
	pe, err := peTables(c, b, "in.pe")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	if err := catch(func() {
		r.add("out.x", blk.Forward(nn.Ops{Backend: b}, in[0], in[1], pe, r.hook("")))
	}); err != nil {
		return nil, err
	}
	return r.result()
}

func runFluxLastLayer(c *Case, b backend.Backend) (Outputs, error) {
	cfg, err := fluxConfig(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ll, err := flux.LoadLastLayer(b, st, c.Meta["prefix"], cfg.Flux)
	if err != nil {
		return nil, err
	}
	in, err := tensors(c, b, "in.x", "in.vec")
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	if err := catch(func() {
		r.add("out.x", ll.Forward(nn.Ops{Backend: b}, in[0], in[1], r.hook("")))
	}); err != nil {
		return nil, err
	}
	return r.result()
}

func runFluxForward(c *Case, b backend.Backend) (Outputs, error) {
	cfg, err := fluxConfig(c)
	if err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	// the weights must agree with the case's configuration
	if got, err := flux.ConfigFromWeights(st); err != nil {
		return nil, err
	} else if d := cfg.Flux.Diff(withRoPE(got, cfg.Flux)); len(d) > 0 {
		return nil, fmt.Errorf("weights do not match the case config: %s", strings.Join(d, "; "))
	}
	m, err := flux.Load(b, st, cfg.Flux)
	if err != nil {
		return nil, err
	}
	in := flux.Inputs{IDWeight: 1}
	t, err := tensors(c, b, "in.img", "in.txt", "in.y")
	if err != nil {
		return nil, err
	}
	in.Img, in.Txt, in.Y = t[0], t[1], t[2]
	for name, dst := range map[string]*[]float32{"in.img_ids": &in.ImgIDs, "in.txt_ids": &in.TxtIDs,
		"in.timesteps": &in.Timesteps, "in.guidance": &in.Guidance} {
		if !c.Has(name) {
			continue // guidance is absent for a model without guidance_in
		}
		if *dst, _, err = c.F32(name); err != nil {
			return nil, err
		}
	}
	if c.Has("in.id") {
		if cfg.PuLID == nil {
			return nil, fmt.Errorf("case has in.id but no pulid config")
		}
		p := cfg.PuLID
		n := p.NumCA
		if n == 0 {
			n = flux.NumIDModules(cfg.Flux, p.DoubleInterval, p.SingleInterval)
		}
		mods := make([]flux.IDAttention, n)
		for k := range mods {
			ca, err := pulid.LoadCA(b, st, p.CA, k)
			if err != nil {
				return nil, err
			}
			mods[k] = ca
		}
		if err := m.AttachID(mods, p.DoubleInterval, p.SingleInterval); err != nil {
			return nil, err
		}
		if in.ID, err = c.Tensor(b, "in.id"); err != nil {
			return nil, err
		}
		var params struct {
			IDWeight *float64 `json:"id_weight"`
		}
		if _, ok := c.Meta["params"]; ok {
			if err := c.JSON("params", &params); err != nil {
				return nil, err
			}
		}
		if params.IDWeight != nil {
			in.IDWeight = float32(*params.IDWeight)
		}
	}
	r := newRecorder(c, b)
	in.Record = r.hook("")
	pred, err := m.Forward(b, in)
	if err != nil {
		return nil, err
	}
	r.add("out.pred", pred)
	if c.Has("out.pe") {
		bsz, li, lt := in.Img.Shape()[0], in.Img.Shape()[1], in.Txt.Shape()[1]
		ids := make([]float32, 0, len(in.TxtIDs)+len(in.ImgIDs))
		nt, ni := len(in.TxtIDs)/bsz, len(in.ImgIDs)/bsz
		for i := range bsz {
			ids = append(ids, in.TxtIDs[i*nt:(i+1)*nt]...)
			ids = append(ids, in.ImgIDs[i*ni:(i+1)*ni]...)
		}
		cos, sin, err := flux.EmbedND(ids, cfg.Flux.AxesDim, cfg.Flux.Theta)
		if err != nil {
			return nil, err
		}
		r.outs["out.pe"] = peTensor(cos, sin, bsz, lt+li, cfg.Flux.HeadDim()/2)
	}
	return r.result()
}

// withRoPE copies the RoPE settings (not stored in weights) from c into got.
func withRoPE(got, c flux.Config) flux.Config {
	got.AxesDim, got.Theta = c.AxesDim, c.Theta
	return got
}
