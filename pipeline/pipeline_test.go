package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/sampling"
	"github.com/fluxpulid/fluxpulid/weights"
)

// tiny holds the golden pipeline case's models and inputs.
type tiny struct {
	b      backend.Backend
	models Models
	cond   Conditioning
	noise  sampling.Tensor
	steps  []float32 // in.timesteps
	params map[string]any
}

// loadTiny loads the tiny FLUX + PuLID + AE of the golden pipeline case
// and its conditioning.
func loadTiny(t testing.TB, caseName string) *tiny {
	t.Helper()
	dir := testenv.Golden(t)
	cf, err := safetensors.Open(testenv.Golden(t, "pipeline", caseName+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cf.Close() })
	var cfg struct {
		Flux  flux.Config `json:"flux"`
		PuLID struct {
			DoubleInterval int            `json:"double_interval"`
			SingleInterval int            `json:"single_interval"`
			NumCA          int            `json:"num_ca"`
			CA             pulid.CAConfig `json:"pulid_ca"`
		} `json:"pulid"`
		AE ae.Config `json:"ae"`
	}
	if err := json.Unmarshal([]byte(cf.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	b := cpu.New()
	open := func(rel string) *weights.Store {
		st, err := weights.OpenFiles(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	fst, pst, ast := open("flux/weights.safetensors"), open("pulid/weights.safetensors"), open("ae/weights.safetensors")
	fm, err := flux.Load(b, fst, cfg.Flux)
	if err != nil {
		t.Fatal(err)
	}
	mods := make([]flux.IDAttention, cfg.PuLID.NumCA)
	for k := range mods {
		ca, err := pulid.LoadCA(b, pst, cfg.PuLID.CA, k)
		if err != nil {
			t.Fatal(err)
		}
		mods[k] = ca
	}
	if err := fm.AttachID(mods, cfg.PuLID.DoubleInterval, cfg.PuLID.SingleInterval); err != nil {
		t.Fatal(err)
	}
	am, err := ae.Load(b, ast, cfg.AE)
	if err != nil {
		t.Fatal(err)
	}
	tt := &tiny{b: b, models: Models{Flux: fm, AE: am}}
	get := func(name string) ([]float32, []int) {
		v, s, err := cf.F32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v, s
	}
	up := func(name string) backend.Tensor { v, s := get(name); return b.FromF32(s, v) }
	tt.cond = Conditioning{Txt: up("in.txt"), Vec: up("in.vec"), NegTxt: up("in.neg_txt"), NegVec: up("in.neg_vec"),
		ID: up("in.id"), UncondID: up("in.uncond_id")}
	v, s := get("in.noise")
	tt.noise = sampling.Tensor{Shape: s, Data: v}
	tt.steps, _ = get("in.timesteps")
	d := json.NewDecoder(strings.NewReader(cf.Metadata["params"]))
	d.UseNumber()
	if err := d.Decode(&tt.params); err != nil {
		t.Fatal(err)
	}
	return tt
}

func (tt *tiny) intParam(t testing.TB, name string) int {
	n, err := tt.params[name].(json.Number).Int64()
	if err != nil {
		t.Fatalf("param %s: %v", name, err)
	}
	return int(n)
}

func (tt *tiny) options(t testing.TB) Options {
	return Options{
		Width: tt.intParam(t, "width"), Height: tt.intParam(t, "height"), NumSteps: tt.intParam(t, "num_steps"),
		StartStep: tt.intParam(t, "start_step"), TimestepToStartCFG: tt.intParam(t, "timestep_to_start_cfg"),
		Guidance: 4, TrueCFG: 2.5, IDWeight: 1, Seed: uint64(tt.intParam(t, "noise_seed")),
	}
}

// TestSeedAndSchedule: the case's noise is get_noise(seed) and its
// timesteps get_schedule(num_steps, tokens), bit for bit, so a run from
// the seed is the run from the recorded noise.
func TestSeedAndSchedule(t *testing.T) {
	tt := loadTiny(t, "case_denoise_truecfg")
	opt := tt.options(t)
	v, shape, err := sampling.GetNoise(1, opt.Height, opt.Width, opt.Seed, sampling.MathAVX2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape[:], tt.noise.Shape) || !slices.Equal(v, tt.noise.Data) {
		t.Fatalf("get_noise(seed %d) differs from in.noise", opt.Seed)
	}
	tokens := (shape[2] / 2) * (shape[3] / 2)
	ts, err := sampling.Schedule(opt.NumSteps, tokens, sampling.DefaultSchedule)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ts, tt.steps) {
		t.Fatalf("schedule %v, in.timesteps %v", ts, tt.steps)
	}

	fromSeed, err := Generate(context.Background(), tt.b, tt.models, tt.cond, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Noise = &tt.noise
	fromNoise, err := Generate(context.Background(), tt.b, tt.models, tt.cond, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fromSeed.Image.Data, fromNoise.Image.Data) {
		t.Error("the seeded run and the run from the recorded noise differ")
	}

	// The CUDA generator option draws its own noise for the same seed.
	opt.Noise, opt.NumSteps = nil, 1
	dev := sampling.CUDAH100
	opt.CUDANoise = &dev
	cuda, err := Generate(context.Background(), tt.b, tt.models, tt.cond, opt)
	if err != nil {
		t.Fatal(err)
	}
	nv, _, err := sampling.GetNoiseCUDA(1, opt.Height, opt.Width, opt.Seed, dev, true)
	if err != nil {
		t.Fatal(err)
	}
	opt.CUDANoise, opt.Noise = nil, &sampling.Tensor{Shape: tt.noise.Shape, Data: nv}
	given, err := Generate(context.Background(), tt.b, tt.models, tt.cond, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cuda.LatentPacked.Data, given.LatentPacked.Data) {
		t.Error("the CUDANoise run differs from a run given the same CUDA noise")
	}
	if slices.Equal(nv, tt.noise.Data) {
		t.Error("CUDA and CPU noise coincide")
	}
}

// TestIDWeightZero: id_weight = 0 gives exactly the output of a run
// without an ID (img + 0*ca(id, img) == img), with and without true CFG.
func TestIDWeightZero(t *testing.T) {
	tt := loadTiny(t, "case_denoise_truecfg")
	for _, cfg := range []float64{1, 2.5} {
		opt := tt.options(t)
		opt.TrueCFG, opt.StartStep, opt.NumSteps = cfg, 0, 2
		withID := opt
		withID.IDWeight = 0
		a, err := Generate(context.Background(), tt.b, tt.models, tt.cond, withID)
		if err != nil {
			t.Fatal(err)
		}
		noID := tt.cond
		noID.ID, noID.UncondID = nil, nil
		bres, err := Generate(context.Background(), tt.b, tt.models, noID, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			x, y []float32
		}{{"latent", a.LatentPacked.Data, bres.LatentPacked.Data}, {"image", a.Image.Data, bres.Image.Data}} {
			if !slices.Equal(c.x, c.y) {
				t.Errorf("true_cfg %v: %s with id_weight 0 differs from the run without an ID", cfg, c.name)
			}
		}
		if !slices.Equal(a.Pixels[0], bres.Pixels[0]) {
			t.Errorf("true_cfg %v: pixels differ", cfg)
		}

		// The ID does matter at id_weight 1 (the comparison above can fail).
		withID.IDWeight = 1
		c, err := Generate(context.Background(), tt.b, tt.models, tt.cond, withID)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(c.LatentPacked.Data, bres.LatentPacked.Data) {
			t.Errorf("true_cfg %v: id_weight 1 gives the same latent as no ID", cfg)
		}
	}
}

// TestTraceAndProgress: the intermediates and the progress calls follow
// the denoise loop: one positive call per step, a negative one from
// timestep_to_start_cfg on when true CFG is on, none when it is off.
func TestTraceAndProgress(t *testing.T) {
	tt := loadTiny(t, "case_denoise_truecfg")
	for _, tc := range []struct {
		trueCFG   float64
		cfgFrom   int
		wantNames []string
	}{
		{2.5, 1, []string{"step0_img_in", "step0_pred_pos", "step1_img_in", "step1_pred_pos", "step1_pred_neg",
			"step2_img_in", "step2_pred_pos", "step2_pred_neg", "latent_packed"}},
		{2.5, 0, []string{"step0_img_in", "step0_pred_pos", "step0_pred_neg", "step1_img_in", "step1_pred_pos",
			"step1_pred_neg", "step2_img_in", "step2_pred_pos", "step2_pred_neg", "latent_packed"}},
		// |1.005 - 1| <= 0.01: no negative calls at all.
		{1.005, 0, []string{"step0_img_in", "step0_pred_pos", "step1_img_in", "step1_pred_pos",
			"step2_img_in", "step2_pred_pos", "latent_packed"}},
	} {
		opt := tt.options(t)
		opt.TrueCFG, opt.TimestepToStartCFG = tc.trueCFG, tc.cfgFrom
		var names []string
		var progress []int
		opt.Trace = func(name string, _ backend.Tensor) { names = append(names, name) }
		opt.Progress = func(step, steps int) {
			if steps != opt.NumSteps {
				t.Errorf("progress reports %d steps, want %d", steps, opt.NumSteps)
			}
			progress = append(progress, step)
		}
		if _, err := Generate(context.Background(), tt.b, tt.models, tt.cond, opt); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, tc.wantNames) {
			t.Errorf("true_cfg %v from %d: traced %v, want %v", tc.trueCFG, tc.cfgFrom, names, tc.wantNames)
		}
		if !slices.Equal(progress, []int{1, 2, 3}) {
			t.Errorf("progress %v", progress)
		}
	}
}

func TestCancel(t *testing.T) {
	tt := loadTiny(t, "case_denoise_nocfg")
	ctx, cancel := context.WithCancel(context.Background())
	opt := tt.options(t)
	opt.TrueCFG = 1
	opt.Progress = func(step, _ int) {
		if step == 1 {
			cancel()
		}
	}
	_, err := Generate(ctx, tt.b, tt.models, tt.cond, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestInvalidInput(t *testing.T) {
	tt := loadTiny(t, "case_denoise_truecfg")
	good := tt.options(t)
	for name, tc := range map[string]struct {
		mutate func(*Options, *Conditioning, *Models)
		want   string
	}{
		"width":      {func(o *Options, _ *Conditioning, _ *Models) { o.Width = 100 }, "width 100"},
		"height":     {func(o *Options, _ *Conditioning, _ *Models) { o.Height = 0 }, "height 0"},
		"steps":      {func(o *Options, _ *Conditioning, _ *Models) { o.NumSteps = 0 }, "num_steps 0"},
		"start step": {func(o *Options, _ *Conditioning, _ *Models) { o.StartStep = -1 }, "start_step -1"},
		"cfg step":   {func(o *Options, _ *Conditioning, _ *Models) { o.TimestepToStartCFG = -2 }, "timestep_to_start_cfg -2"},
		"guidance":   {func(o *Options, _ *Conditioning, _ *Models) { o.Guidance = nan() }, "guidance is NaN"},
		"no negative prompt": {func(_ *Options, c *Conditioning, _ *Models) { c.NegTxt = nil },
			"negative prompt's txt and vec are required"},
		"no ae": {func(_ *Options, _ *Conditioning, m *Models) { m.AE = nil }, "autoencoder"},
		"txt batch": {func(o *Options, c *Conditioning, _ *Models) {
			o.Batch = 2
			c.Txt = tt.b.Zeros([]int{3, 7, 48})
		}, "positive txt has batch 3, the run has 2"},
		"noise shape": {func(o *Options, _ *Conditioning, _ *Models) {
			n := sampling.NewTensor(1, 16, 4, 4)
			o.Noise = &n
		}, "noise of shape [1 16 4 4]"},
		"txt width": {func(_ *Options, c *Conditioning, _ *Models) { c.Txt = tt.b.Zeros([]int{1, 7, 40}) }, "txt has shape"},
	} {
		opt, cond, models := good, tt.cond, tt.models
		tc.mutate(&opt, &cond, &models)
		_, err := Generate(context.Background(), tt.b, models, cond, opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

// TestToRGB8: clamp, 127.5*(x+1), truncation toward zero.
func TestToRGB8(t *testing.T) {
	// One 1x3 image, channels R, G, B, two pixels each.
	img := sampling.Tensor{Shape: []int{1, 3, 1, 2}, Data: []float32{
		-1, 1, // R: 0, 255
		0, 0.5, // G: 127.5 -> 127, 191.25 -> 191
		2, -0.999, // B: clamped 255, 0.1275 -> 0
	}}
	got := ToRGB8(img)
	want := []uint8{0, 127, 255, 255, 191, 0}
	if len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("ToRGB8 = %v, want %v", got, want)
	}
}

// BenchmarkGenerateTiny runs the 3-step true-CFG golden configuration.
func BenchmarkGenerateTiny(bm *testing.B) {
	tt := loadTiny(bm, "case_denoise_truecfg")
	opt := tt.options(bm)
	for bm.Loop() {
		if _, err := Generate(context.Background(), tt.b, tt.models, tt.cond, opt); err != nil {
			bm.Fatal(err)
		}
	}
}
