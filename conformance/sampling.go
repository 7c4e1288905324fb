package conformance

import (
	"encoding/json"
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/sampling"
)

// Runners of the sampling/ golden cases (flux/sampling.py, package
// sampling). They run on the host; the backend is not involved.
func init() {
	Register("sampling/get_noise", runGetNoise)
	Register("sampling/schedule", runSchedule)
	Register("sampling/time_shift", runTimeShift)
	Register("sampling/prepare", runPrepare)
	Register("sampling/unpack", runUnpack)
}

func hostTensor(c *Case, name string) (sampling.Tensor, error) {
	v, s, err := c.F32(name)
	if err != nil {
		return sampling.Tensor{}, err
	}
	return sampling.Tensor{Shape: s, Data: v}, nil
}

func hostOutput(t sampling.Tensor) Output { return Float(t.Shape, t.Data) }

// jsonInt reads an exact integer from a decoded JSON value.
func jsonInt(v any, what string) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: %v is not a number", what, v)
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(i), nil
}

func jsonFloat(v any, what string) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: %v is not a number", what, v)
	}
	f, err := n.Float64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return f, nil
}

// variants reads params.variants: output suffix -> argument list.
func variants(c *Case, nargs int) (map[string][]any, error) {
	var p struct {
		Variants map[string][]any `json:"variants"`
	}
	if err := c.JSON("params", &p); err != nil {
		return nil, err
	}
	if len(p.Variants) == 0 {
		return nil, fmt.Errorf("case %s: params has no variants", c.Name)
	}
	for name, args := range p.Variants {
		if len(args) != nargs {
			return nil, fmt.Errorf("case %s: variant %s has %d arguments, want %d", c.Name, name, len(args), nargs)
		}
	}
	return p.Variants, nil
}

// runGetNoise: variants (num_samples, height, width, seed) on the CPU
// generator in float32; seeds may exceed 2^63.
func runGetNoise(c *Case, _ backend.Backend) (Outputs, error) {
	vs, err := variants(c, 4)
	if err != nil {
		return nil, err
	}
	outs := Outputs{}
	for name, a := range vs {
		var ints [3]int
		for i := range ints {
			if ints[i], err = jsonInt(a[i], "variant "+name); err != nil {
				return nil, err
			}
		}
		n, ok := a[3].(json.Number)
		if !ok {
			return nil, fmt.Errorf("variant %s: seed %v is not a number", name, a[3])
		}
		seed, err := sampling.ParseSeed(n.String())
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", name, err)
		}
		v, shape, err := sampling.GetNoise(ints[0], ints[1], ints[2], seed, sampling.MathAVX2)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", name, err)
		}
		outs["out."+name] = Float(shape[:], v)
	}
	return outs, nil
}

func runSchedule(c *Case, _ backend.Backend) (Outputs, error) {
	var p map[string]any
	if err := c.JSON("params", &p); err != nil {
		return nil, err
	}
	steps, err := jsonInt(p["num_steps"], "num_steps")
	if err != nil {
		return nil, err
	}
	seqLen, err := jsonInt(p["image_seq_len"], "image_seq_len")
	if err != nil {
		return nil, err
	}
	opt := sampling.DefaultSchedule
	for key, dst := range map[string]*float64{"base_shift": &opt.BaseShift, "max_shift": &opt.MaxShift} {
		if v, ok := p[key]; ok {
			if *dst, err = jsonFloat(v, key); err != nil {
				return nil, err
			}
		}
	}
	shifted, err := sampling.Schedule(steps, seqLen, opt)
	if err != nil {
		return nil, err
	}
	plain, err := sampling.Schedule(steps, seqLen, sampling.ScheduleOptions{NoShift: true})
	if err != nil {
		return nil, err
	}
	mu := float32(sampling.Mu(seqLen, opt.BaseShift, opt.MaxShift))
	return Outputs{
		"out.timesteps":         Float([]int{len(shifted)}, shifted),
		"out.timesteps_noshift": Float([]int{len(plain)}, plain),
		"out.mu":                Float([]int{}, []float32{mu}),
	}, nil
}

func runTimeShift(c *Case, _ backend.Backend) (Outputs, error) {
	vs, err := variants(c, 2)
	if err != nil {
		return nil, err
	}
	t, err := hostTensor(c, "in.t")
	if err != nil {
		return nil, err
	}
	outs := Outputs{}
	for name, a := range vs {
		mu, err := jsonFloat(a[0], "variant "+name+" mu")
		if err != nil {
			return nil, err
		}
		sigma, err := jsonFloat(a[1], "variant "+name+" sigma")
		if err != nil {
			return nil, err
		}
		outs["out."+name] = Float(t.Shape, sampling.TimeShift(mu, sigma, t.Data))
	}
	return outs, nil
}

func runPrepare(c *Case, _ backend.Backend) (Outputs, error) {
	var p map[string]any
	if err := c.JSON("params", &p); err != nil {
		return nil, err
	}
	batch := 0 // one prompt string; a list of n prompts sets the batch
	if ps, ok := p["prompt"].([]any); ok {
		batch = len(ps)
	}
	var in [3]sampling.Tensor
	for i, name := range []string{"in.img", "in.txt", "in.vec"} {
		var err error
		if in[i], err = hostTensor(c, name); err != nil {
			return nil, err
		}
	}
	r, err := sampling.Prepare(in[0], in[1], in[2], batch)
	if err != nil {
		return nil, err
	}
	return Outputs{
		"out.img": hostOutput(r.Img), "out.img_ids": hostOutput(r.ImgIDs), "out.txt": hostOutput(r.Txt),
		"out.txt_ids": hostOutput(r.TxtIDs), "out.vec": hostOutput(r.Vec),
	}, nil
}

func runUnpack(c *Case, _ backend.Backend) (Outputs, error) {
	var p map[string]any
	if err := c.JSON("params", &p); err != nil {
		return nil, err
	}
	h, err := jsonInt(p["height"], "height")
	if err != nil {
		return nil, err
	}
	w, err := jsonInt(p["width"], "width")
	if err != nil {
		return nil, err
	}
	x, err := hostTensor(c, "in.x")
	if err != nil {
		return nil, err
	}
	u, err := sampling.Unpack(x, h, w)
	if err != nil {
		return nil, err
	}
	return Outputs{"out.x": hostOutput(u)}, nil
}
