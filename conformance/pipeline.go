package conformance

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/pipeline"
	"github.com/fluxpulid/fluxpulid/sampling"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Runner of the pipeline/ golden cases: prepare -> denoise -> unpack ->
// decode -> clamp -> uint8, through pipeline.Generate.
func init() {
	Register("pipeline/denoise", runPipelineDenoise)
}

// pipelineCaseConfig is the `config` metadata of a pipeline case.
type pipelineCaseConfig struct {
	Flux  flux.Config `json:"flux"`
	PuLID *struct {
		DoubleInterval int            `json:"double_interval"`
		SingleInterval int            `json:"single_interval"`
		NumCA          int            `json:"num_ca"`
		CA             pulid.CAConfig `json:"pulid_ca"`
	} `json:"pulid"`
	AE *ae.Config `json:"ae"`
}

type pipelineParams struct {
	Height             int      `json:"height"`
	Width              int      `json:"width"`
	NumSteps           int      `json:"num_steps"`
	Guidance           float64  `json:"guidance"`
	IDWeight           *float64 `json:"id_weight"`
	StartStep          int      `json:"start_step"`
	TrueCFG            *float64 `json:"true_cfg"`
	TimestepToStartCFG *int     `json:"timestep_to_start_cfg"`
}

// aeSource views only the autoencoder's tensors of a store that also holds
// FLUX and PuLID weights.
type aeSource struct{ weights.Source }

func (s aeSource) Names() []string {
	var out []string
	for _, n := range s.Source.Names() {
		if strings.HasPrefix(n, "encoder.") || strings.HasPrefix(n, "decoder.") {
			out = append(out, n)
		}
	}
	return out
}

func runPipelineDenoise(c *Case, b backend.Backend) (Outputs, error) {
	var cfg pipelineCaseConfig
	if err := c.JSON("config", &cfg); err != nil {
		return nil, err
	}
	if cfg.AE == nil {
		return nil, fmt.Errorf("case %s: config has no \"ae\" entry", c.Name)
	}
	var p pipelineParams
	if err := c.JSON("params", &p); err != nil {
		return nil, err
	}
	st, err := c.Weights()
	if err != nil {
		return nil, err
	}
	defer st.Close()

	// Models, checked against the configuration the case states.
	if got, err := flux.ConfigFromWeights(st); err != nil {
		return nil, err
	} else if d := cfg.Flux.Diff(withRoPE(got, cfg.Flux)); len(d) > 0 {
		return nil, fmt.Errorf("flux weights do not match the case config: %s", strings.Join(d, "; "))
	}
	fm, err := flux.Load(b, st, cfg.Flux)
	if err != nil {
		return nil, err
	}
	if cfg.PuLID != nil {
		pc := cfg.PuLID
		n := pc.NumCA
		if n == 0 {
			n = flux.NumIDModules(cfg.Flux, pc.DoubleInterval, pc.SingleInterval)
		}
		mods := make([]flux.IDAttention, n)
		for k := range mods {
			ca, err := pulid.LoadCA(b, st, pc.CA, k)
			if err != nil {
				return nil, err
			}
			mods[k] = ca
		}
		if err := fm.AttachID(mods, pc.DoubleInterval, pc.SingleInterval); err != nil {
			return nil, err
		}
	}
	aeSrc := aeSource{st}
	if inferred, err := ae.InferConfig(aeSrc); err != nil {
		return nil, err
	} else if inferred.String() != cfg.AE.String() {
		return nil, fmt.Errorf("case %s: AE weights imply %s, config says %s", c.Name, inferred, cfg.AE)
	}
	am, err := ae.Load(b, aeSrc, *cfg.AE)
	if err != nil {
		return nil, err
	}

	// Conditioning; the negative prompt and the IDs are optional inputs.
	var cond pipeline.Conditioning
	for name, dst := range map[string]*backend.Tensor{
		"in.txt": &cond.Txt, "in.vec": &cond.Vec, "in.neg_txt": &cond.NegTxt, "in.neg_vec": &cond.NegVec,
		"in.id": &cond.ID, "in.uncond_id": &cond.UncondID,
	} {
		if !c.Has(name) {
			continue
		}
		if *dst, err = c.Tensor(b, name); err != nil {
			return nil, err
		}
	}
	noise, err := hostTensor(c, "in.noise")
	if err != nil {
		return nil, err
	}
	opt := pipeline.Options{
		Width: p.Width, Height: p.Height, NumSteps: p.NumSteps, StartStep: p.StartStep,
		Guidance: p.Guidance, TrueCFG: 1, IDWeight: 1, Noise: &noise, Batch: noise.Shape[0],
	}
	if p.TrueCFG != nil {
		opt.TrueCFG = *p.TrueCFG
	}
	if p.IDWeight != nil {
		opt.IDWeight = *p.IDWeight
	}
	if p.TimestepToStartCFG != nil {
		opt.TimestepToStartCFG = *p.TimestepToStartCFG
	}

	// The schedule Generate computes must be the one the case recorded.
	if c.Has("in.timesteps") {
		want, _, err := c.F32("in.timesteps")
		if err != nil {
			return nil, err
		}
		packed, err := sampling.Pack(noise)
		if err != nil {
			return nil, err
		}
		got, err := sampling.Schedule(p.NumSteps, packed.Shape[1], sampling.DefaultSchedule)
		if err != nil {
			return nil, err
		}
		if len(got) != len(want) {
			return nil, fmt.Errorf("case %s: schedule of %d timesteps, in.timesteps has %d", c.Name, len(got), len(want))
		}
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				return nil, fmt.Errorf("case %s: timestep %d is %v, in.timesteps has %v", c.Name, i, got[i], want[i])
			}
		}
	}

	traced := map[string]backend.Tensor{}
	opt.Trace = func(name string, t backend.Tensor) { traced[name] = t }
	res, err := pipeline.Generate(context.Background(), b, pipeline.Models{Flux: fm, AE: am}, cond, opt)
	if err != nil {
		return nil, err
	}
	r := newRecorder(c, b)
	for name, t := range traced {
		r.add("out."+name, t)
	}
	outs, err := r.result()
	if err != nil {
		return nil, err
	}
	outs["out.latent_packed"] = hostOutput(res.LatentPacked)
	outs["out.latent"] = hostOutput(res.Latent)
	outs["out.image"] = hostOutput(res.Image)
	outs["out.image_clamped"] = hostOutput(res.Clamped())
	// The reference keeps the FIRST sample only, HWC, as float values.
	px := res.Pixels[0]
	u8 := make([]float32, len(px))
	for i, v := range px {
		u8[i] = float32(v)
	}
	outs["out.image_uint8"] = Float([]int{res.Height, res.Width, 3}, u8)
	for name := range outs {
		if !c.Has(name) {
			delete(outs, name)
		}
	}
	return outs, nil
}
