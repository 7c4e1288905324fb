// Package pipeline turns conditioning tensors into images: initial noise
// from a seed, FLUX flow-matching denoising with optional PuLID identity
// and true CFG, then the autoencoder's decoder. It reproduces the
// reference's flux/sampling.py denoise and the decode steps of PuLID's
// app_flux.py (float32 throughout; see ../shared/golden/pipeline).
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/sampling"
)

// Models are the networks a generation runs. Flux must have PuLID's
// cross-attention modules attached (flux.Model.AttachID) for a
// Conditioning with an ID.
type Models struct {
	Flux *flux.Model
	AE   *ae.AutoEncoder
}

// Conditioning are the encoded prompts and identity, on the backend that
// runs the models. Tensors of batch 1 are repeated to the batch of the
// run, as the reference's prepare() does.
type Conditioning struct {
	Txt backend.Tensor // T5 tokens [B, L, 4096]
	Vec backend.Tensor // CLIP pooled [B, 768]
	// NegTxt and NegVec encode the negative prompt; required when true
	// CFG is on (|TrueCFG - 1| > 0.01).
	NegTxt, NegVec backend.Tensor
	// ID is PuLID's identity embedding [B, 32, 2048]; nil generates
	// without identity. UncondID (the IDFormer on zero inputs) goes with
	// the negative branch of true CFG; nil runs that branch without an ID.
	// As in the reference, each branch uses its own one independently.
	ID, UncondID backend.Tensor
}

// Options are the sampling options of SPEC.md.
type Options struct {
	// Width and Height in pixels, positive multiples of 16.
	Width, Height int
	// NumSteps is the number of Euler steps (the schedule has NumSteps+1
	// timesteps).
	NumSteps int
	// StartStep is the first step that injects the ID (both branches):
	// step i uses it when i >= StartStep.
	StartStep int
	// Guidance is the distilled guidance strength fed to flux-dev (4 by
	// default in the app); ignored by a model without guidance embedding.
	Guidance float64
	// TrueCFG is the classifier-free guidance scale; it is on only when
	// |TrueCFG - 1| > 0.01, and then from step TimestepToStartCFG on:
	// pred = neg + TrueCFG*(pos - neg).
	TrueCFG            float64
	TimestepToStartCFG int
	// IDWeight scales every PuLID injection.
	IDWeight float64
	// Seed selects the initial noise: torch's CPU generator seeded with
	// Seed (only its low 32 bits matter, as in torch).
	Seed uint64
	// NoiseMath is the torch CPU kernel to reproduce (AVX2 by default).
	NoiseMath sampling.NormalMath
	// CUDANoise, if not nil, draws the noise as the PuLID app does on that
	// CUDA device instead (Philox, all 64 seed bits, rounded to bfloat16;
	// see sampling.RandnCUDA for what is and is not verified).
	CUDANoise *sampling.CUDADevice
	// Batch is the number of images (1 if 0); the noise of all of them
	// comes from one generator, as get_noise(num_samples, ...) draws it.
	Batch int
	// Noise, if not nil, replaces the seeded noise: the initial latent
	// (Batch, 16, 2*ceil(H/16), 2*ceil(W/16)).
	Noise *sampling.Tensor
	// Trace, if not nil, receives intermediates: step{i}_img_in,
	// step{i}_pred_pos, step{i}_pred_neg (where CFG ran), latent_packed.
	Trace func(name string, t backend.Tensor)
	// Progress, if not nil, is called after each step.
	Progress func(step, steps int)
}

// cfgOn is the reference's use_true_cfg.
func (o Options) cfgOn() bool { return math.Abs(o.TrueCFG-1) > 1e-2 }

// Validate reports invalid options, naming each field at fault.
func (o Options) Validate() error {
	var errs []error
	if o.Width < 16 || o.Width%16 != 0 {
		errs = append(errs, fmt.Errorf("width %d is not a positive multiple of 16", o.Width))
	}
	if o.Height < 16 || o.Height%16 != 0 {
		errs = append(errs, fmt.Errorf("height %d is not a positive multiple of 16", o.Height))
	}
	if o.NumSteps < 1 {
		errs = append(errs, fmt.Errorf("num_steps %d is less than 1", o.NumSteps))
	}
	if o.StartStep < 0 {
		errs = append(errs, fmt.Errorf("start_step %d is negative", o.StartStep))
	}
	if o.TimestepToStartCFG < 0 {
		errs = append(errs, fmt.Errorf("timestep_to_start_cfg %d is negative", o.TimestepToStartCFG))
	}
	if o.Batch < 0 {
		errs = append(errs, fmt.Errorf("batch %d is negative", o.Batch))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"guidance", o.Guidance}, {"true_cfg", o.TrueCFG}, {"id_weight", o.IDWeight}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			errs = append(errs, fmt.Errorf("%s is %v", f.name, f.v))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("pipeline options: %w", errors.Join(errs...))
	}
	return nil
}

// Result is the output of Generate.
type Result struct {
	// LatentPacked is the final packed latent (B, L, 64); Latent the same
	// unpacked, (B, 16, h, w), as it enters the decoder.
	LatentPacked, Latent sampling.Tensor
	// Image is the decoded image (B, 3, H, W), nominally in [-1, 1] and
	// not clamped.
	Image sampling.Tensor
	// Pixels[i] is sample i as 8-bit RGB, row-major H x W x 3.
	Pixels [][]uint8
	// Width and Height of the images, in pixels.
	Width, Height int
}

// Clamped returns Image clamped to [-1, 1].
func (r *Result) Clamped() sampling.Tensor {
	out := sampling.Tensor{Shape: append([]int(nil), r.Image.Shape...), Data: make([]float32, len(r.Image.Data))}
	for i, v := range r.Image.Data {
		out.Data[i] = clamp1(v)
	}
	return out
}

// Generate runs the whole generation: noise, denoising, decoding. It
// stops with ctx's error between steps when ctx is cancelled.
func Generate(ctx context.Context, b backend.Backend, m Models, cond Conditioning, opt Options) (res *Result, err error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if m.Flux == nil || m.AE == nil {
		return nil, errors.New("pipeline: the FLUX model and the autoencoder are both required")
	}
	if opt.Batch == 0 {
		opt.Batch = 1
	}
	bsz := opt.Batch

	// Initial noise, packed into 2x2-patch tokens.
	var noise sampling.Tensor
	if opt.Noise != nil {
		noise = *opt.Noise
		want, _ := sampling.NoiseShape(bsz, opt.Height, opt.Width)
		if !sameShape(noise.Shape, want[:]) || len(noise.Data) != bsz*want[1]*want[2]*want[3] {
			return nil, fmt.Errorf("pipeline: noise of shape %v, want %v", noise.Shape, want)
		}
	} else {
		var v []float32
		var shape [4]int
		var err error
		if opt.CUDANoise != nil {
			v, shape, err = sampling.GetNoiseCUDA(bsz, opt.Height, opt.Width, opt.Seed, *opt.CUDANoise, true)
		} else {
			v, shape, err = sampling.GetNoise(bsz, opt.Height, opt.Width, opt.Seed, opt.NoiseMath)
		}
		if err != nil {
			return nil, fmt.Errorf("pipeline: %w", err)
		}
		noise = sampling.Tensor{Shape: shape[:], Data: v}
	}
	packed, err := sampling.Pack(noise)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	lh, lw := noise.Shape[2], noise.Shape[3]
	imgIDs, err := sampling.ImageIDs(bsz, lh, lw)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	timesteps, err := sampling.Schedule(opt.NumSteps, packed.Shape[1], sampling.DefaultSchedule)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}

	d, err := newDenoiser(b, m.Flux, cond, opt, imgIDs.Data)
	if err != nil {
		return nil, err
	}
	img, err := d.run(ctx, b.FromF32(packed.Shape, packed.Data), timesteps)
	if err != nil {
		return nil, err
	}
	emit(opt.Trace, "latent_packed", img)

	res = &Result{Width: opt.Width, Height: opt.Height}
	if res.LatentPacked, err = read(b, img); err != nil {
		return nil, err
	}
	if res.Latent, err = sampling.Unpack(res.LatentPacked, opt.Height, opt.Width); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	x, err := m.AE.Decode(b.FromF32(res.Latent.Shape, res.Latent.Data), nil)
	if err != nil {
		return nil, fmt.Errorf("pipeline: decode: %w", err)
	}
	if res.Image, err = read(b, x); err != nil {
		return nil, err
	}
	res.Pixels = ToRGB8(res.Image)
	return res, nil
}

// denoiser holds what stays fixed over the steps of denoise.
type denoiser struct {
	b      backend.Backend
	model  *flux.Model
	opt    Options
	o      nn.Ops
	imgIDs []float32
	pos    branch
	neg    *branch // nil without true CFG
}

// branch is one conditioning of the model: the prompt and the ID it uses
// from start_step on.
type branch struct {
	txt, vec backend.Tensor
	txtIDs   []float32
	id       backend.Tensor
}

func newDenoiser(b backend.Backend, model *flux.Model, cond Conditioning, opt Options, imgIDs []float32) (d *denoiser, err error) {
	defer backend.Catch(&err)
	d = &denoiser{b: b, model: model, opt: opt, o: nn.Ops{Backend: b}, imgIDs: imgIDs}
	mk := func(name string, txt, vec, id backend.Tensor) (branch, error) {
		if txt == nil || vec == nil {
			return branch{}, fmt.Errorf("pipeline: the %s prompt's txt and vec are required", name)
		}
		var br branch
		var err error
		if br.txt, err = d.batch(name+" txt", txt, 3); err != nil {
			return br, err
		}
		if br.vec, err = d.batch(name+" vec", vec, 2); err != nil {
			return br, err
		}
		if id != nil {
			if br.id, err = d.batch(name+" id", id, 3); err != nil {
				return br, err
			}
		}
		ids, err := sampling.TextIDs(opt.Batch, br.txt.Shape()[1])
		if err != nil {
			return br, fmt.Errorf("pipeline: %w", err)
		}
		br.txtIDs = ids.Data
		return br, nil
	}
	if d.pos, err = mk("positive", cond.Txt, cond.Vec, cond.ID); err != nil {
		return nil, err
	}
	if opt.cfgOn() {
		neg, err := mk("negative", cond.NegTxt, cond.NegVec, cond.UncondID)
		if err != nil {
			return nil, fmt.Errorf("%w (true_cfg %v turns on the negative branch)", err, opt.TrueCFG)
		}
		d.neg = &neg
	}
	return d, nil
}

// batch returns t with the run's batch: as is, or repeated from batch 1.
func (d *denoiser) batch(name string, t backend.Tensor, rank int) (backend.Tensor, error) {
	s := t.Shape()
	if len(s) != rank {
		return nil, fmt.Errorf("pipeline: %s has shape %v, want %d dimensions", name, s, rank)
	}
	switch {
	case s[0] == d.opt.Batch:
		return t, nil
	case s[0] == 1:
		reps := make([]backend.Tensor, d.opt.Batch)
		for i := range reps {
			reps[i] = t
		}
		return d.o.Concat(0, reps...), nil
	}
	return nil, fmt.Errorf("pipeline: %s has batch %d, the run has %d", name, s[0], d.opt.Batch)
}

// run is flux.sampling.denoise: Euler steps img += (t_prev - t_curr)*pred
// over the schedule, where t_prev - t_curr is the double difference of two
// float32 timesteps, rounded to float32 where it meets the tensor.
func (d *denoiser) run(ctx context.Context, img backend.Tensor, timesteps []float32) (backend.Tensor, error) {
	opt := d.opt
	guidance := fill(opt.Batch, float32(opt.Guidance))
	steps := len(timesteps) - 1
	for i := 0; i < steps; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tCurr, tPrev := timesteps[i], timesteps[i+1]
		tVec := fill(opt.Batch, tCurr)
		emit(opt.Trace, fmt.Sprintf("step%d_img_in", i), img)
		withID := i >= opt.StartStep

		pred, err := d.predict(d.pos, img, tVec, guidance, withID)
		if err != nil {
			return nil, fmt.Errorf("pipeline: step %d: %w", i, err)
		}
		emit(opt.Trace, fmt.Sprintf("step%d_pred_pos", i), pred)
		if d.neg != nil && i >= opt.TimestepToStartCFG {
			negPred, err := d.predict(*d.neg, img, tVec, guidance, withID)
			if err != nil {
				return nil, fmt.Errorf("pipeline: step %d, negative branch: %w", i, err)
			}
			emit(opt.Trace, fmt.Sprintf("step%d_pred_neg", i), negPred)
			if pred, err = d.combine(pred, negPred); err != nil {
				return nil, fmt.Errorf("pipeline: step %d: %w", i, err)
			}
		}
		dt := float32(float64(tPrev) - float64(tCurr))
		if img, err = d.euler(img, pred, dt); err != nil {
			return nil, fmt.Errorf("pipeline: step %d: %w", i, err)
		}
		if opt.Progress != nil {
			// A device backend queues work until a read: wait for this
			// step (the latent is small) so that progress, and the next
			// cancellation check, follow what has actually run.
			if _, err := d.b.ReadF32(img); err != nil {
				return nil, fmt.Errorf("pipeline: step %d: %w", i, err)
			}
			opt.Progress(i+1, steps)
		}
	}
	return img, nil
}

func (d *denoiser) predict(br branch, img backend.Tensor, t, guidance []float32, withID bool) (backend.Tensor, error) {
	in := flux.Inputs{
		Img: img, ImgIDs: d.imgIDs, Txt: br.txt, TxtIDs: br.txtIDs,
		Timesteps: t, Guidance: guidance, Y: br.vec, IDWeight: float32(d.opt.IDWeight),
	}
	if withID {
		in.ID = br.id
	}
	return d.model.Forward(d.b, in)
}

// combine is true CFG: neg + true_cfg*(pos - neg).
func (d *denoiser) combine(pos, neg backend.Tensor) (out backend.Tensor, err error) {
	defer backend.Catch(&err)
	return d.o.AddScaled(neg, float32(d.opt.TrueCFG), d.o.Sub(pos, neg)), nil
}

func (d *denoiser) euler(img, pred backend.Tensor, dt float32) (out backend.Tensor, err error) {
	defer backend.Catch(&err)
	return d.o.AddScaled(img, dt, pred), nil
}

// ToRGB8 converts images (B, 3, H, W) in [-1, 1] to 8-bit RGB, row-major
// H x W x 3 per sample: clamp to [-1, 1], then 127.5*(x + 1) in float32,
// TRUNCATED toward zero as torch's .byte() does (1 -> 255, -1 -> 0).
func ToRGB8(img sampling.Tensor) [][]uint8 {
	bsz, c, h, w := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	out := make([][]uint8, bsz)
	for n := range out {
		px := make([]uint8, h*w*c)
		for ch := 0; ch < c; ch++ {
			plane := img.Data[(n*c+ch)*h*w : (n*c+ch+1)*h*w]
			for i, v := range plane {
				px[i*c+ch] = uint8(float32(127.5) * (clamp1(v) + 1))
			}
		}
		out[n] = px
	}
	return out
}

func clamp1(v float32) float32 {
	switch {
	case v < -1:
		return -1
	case v > 1:
		return 1
	}
	return v // NaN passes through, as torch's clamp
}

func fill(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func emit(trace func(string, backend.Tensor), name string, t backend.Tensor) {
	if trace != nil {
		trace(name, t)
	}
}

func read(b backend.Backend, t backend.Tensor) (sampling.Tensor, error) {
	v, err := b.ReadF32(t)
	if err != nil {
		return sampling.Tensor{}, fmt.Errorf("pipeline: %w", err)
	}
	return sampling.Tensor{Shape: append([]int(nil), t.Shape()...), Data: v}, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
