package flux_test

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/weights"
)

// tinyModel loads the golden tiny FLUX with its 4 PuLID CA modules and the
// inputs of case_forward_id_w1p0.
func tinyModel(t testing.TB, b backend.Backend) (*flux.Model, flux.Inputs) {
	t.Helper()
	dir := testenv.Golden(t)
	st, err := weights.OpenFiles(filepath.Join(dir, "flux", "weights.safetensors"), filepath.Join(dir, "pulid", "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := flux.Load(b, st, tiny)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := pulid.Load(b, st, pulid.Config{
		Encoder: pulid.IDFormerConfig{Dim: 64, Depth: 5, DimHead: 16, Heads: 4, NumIDToken: 5, NumQueries: 32, OutputDim: 128},
		CA:      pulid.CAConfig{Dim: 256, DimHead: 64, Heads: 2, KVDim: 128},
		NumCA:   4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AttachID(flux.IDModules(pm.CA), flux.DefaultDoubleInterval, flux.DefaultSingleInterval); err != nil {
		t.Fatal(err)
	}
	c, err := safetensors.Open(filepath.Join(dir, "flux", "case_forward_id_w1p0.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	get := func(name string) ([]float32, []int) {
		v, s, err := c.F32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v, s
	}
	tensor := func(name string) backend.Tensor { v, s := get(name); return b.FromF32(s, v) }
	in := flux.Inputs{Img: tensor("in.img"), Txt: tensor("in.txt"), Y: tensor("in.y"), ID: tensor("in.id"), IDWeight: 1}
	in.ImgIDs, _ = get("in.img_ids")
	in.TxtIDs, _ = get("in.txt_ids")
	in.Timesteps, _ = get("in.timesteps")
	in.Guidance, _ = get("in.guidance")
	return m, in
}

func forward(t testing.TB, b backend.Backend, m *flux.Model, in flux.Inputs) []float32 {
	t.Helper()
	out, err := m.Forward(b, in)
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.ReadF32(out)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIDWeightZero: id_weight 0 gives exactly the output of a run without
// an id (the injection adds 0·ca, which leaves every value unchanged).
func TestIDWeightZero(t *testing.T) {
	b := cpu.New()
	m, in := tinyModel(t, b)
	with := in
	with.IDWeight = 0
	without := in
	without.ID = nil
	a, z := forward(t, b, m, with), forward(t, b, m, without)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(z[i]) {
			t.Fatalf("pred[%d]: id_weight 0 gives %v, no id %v", i, a[i], z[i])
		}
	}
	// and the id does act at weight 1
	one := forward(t, b, m, in)
	diff := 0.0
	for i := range one {
		diff = max(diff, math.Abs(float64(one[i]-z[i])))
	}
	if diff < 1e-3 {
		t.Fatalf("id_weight 1 changes the prediction by only %g", diff)
	}
}

// TestBatch: a batch of two samples with different timesteps and guidance
// equals the two samples run alone (modulation is per sample).
func TestBatch(t *testing.T) {
	b := cpu.New()
	m, in := tinyModel(t, b)
	read := func(x backend.Tensor) []float32 {
		v, err := b.ReadF32(x)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	img, txt, y, id := read(in.Img), read(in.Txt), read(in.Y), read(in.ID)
	twice := func(v []float32) []float32 { return append(append([]float32{}, v...), v...) }
	// sample 2: negated latents, t 0.3, guidance 2.5, id weight as sample 1
	img2 := make([]float32, len(img))
	for i, v := range img {
		img2[i] = -v
	}
	batch := flux.Inputs{
		Img:       b.FromF32(append([]int{2}, in.Img.Shape()[1:]...), append(append([]float32{}, img...), img2...)),
		Txt:       b.FromF32(append([]int{2}, in.Txt.Shape()[1:]...), twice(txt)),
		Y:         b.FromF32(append([]int{2}, in.Y.Shape()[1:]...), twice(y)),
		ID:        b.FromF32(append([]int{2}, in.ID.Shape()[1:]...), twice(id)),
		ImgIDs:    twice(in.ImgIDs),
		TxtIDs:    twice(in.TxtIDs),
		Timesteps: []float32{in.Timesteps[0], 0.3},
		Guidance:  []float32{in.Guidance[0], 2.5},
		IDWeight:  1,
	}
	got := forward(t, b, m, batch)
	second := in
	second.Img = b.FromF32(in.Img.Shape(), img2)
	second.Timesteps, second.Guidance = []float32{0.3}, []float32{2.5}
	want := append(forward(t, b, m, in), forward(t, b, m, second)...)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
			t.Fatalf("pred[%d] = %v batched, %v alone", i, got[i], want[i])
		}
	}
}

// TestForwardBadInputs: malformed inputs are errors naming the input, not panics.
func TestForwardBadInputs(t *testing.T) {
	b := cpu.New()
	m, in := tinyModel(t, b)
	for _, tc := range []struct {
		name string
		edit func(*flux.Inputs)
		want string
	}{
		{"missing img", func(in *flux.Inputs) { in.Img = nil }, "required"},
		{"img width", func(in *flux.Inputs) { in.Img = b.Zeros([]int{1, 16, 63}) }, "img has shape"},
		{"txt width", func(in *flux.Inputs) { in.Txt = b.Zeros([]int{1, 7, 47}) }, "txt has shape"},
		{"y batch", func(in *flux.Inputs) { in.Y = b.Zeros([]int{2, 32}) }, "y has shape"},
		{"img ids", func(in *flux.Inputs) { in.ImgIDs = in.ImgIDs[:3] }, "img_ids"},
		{"txt ids", func(in *flux.Inputs) { in.TxtIDs = nil }, "txt_ids"},
		{"timesteps", func(in *flux.Inputs) { in.Timesteps = nil }, "timesteps"},
		{"guidance", func(in *flux.Inputs) { in.Guidance = nil }, "guidance"},
		{"id rank", func(in *flux.Inputs) { in.ID = b.Zeros([]int{32, 128}) }, "id has shape"},
		{"id width", func(in *flux.Inputs) { in.ID = b.Zeros([]int{1, 32, 127}) }, "kv_dim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := in
			tc.edit(&bad)
			_, err := m.Forward(b, bad)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// noAttention is a backend without an attention op, like a device backend
// that has not implemented it yet.
type noAttention struct{ backend.Backend }

func (noAttention) Attention(q, k, v backend.Tensor, opt backend.AttentionOptions) backend.Tensor {
	backend.NotImplemented("attention", "test backend")
	return nil
}

// TestMissingOp: an op the backend lacks comes back as an error wrapping
// backend.ErrNotImplemented, never silently computed elsewhere.
func TestMissingOp(t *testing.T) {
	b := noAttention{cpu.New()}
	m, in := tinyModel(t, b)
	_, err := m.Forward(b, in)
	if !errors.Is(err, backend.ErrNotImplemented) {
		t.Fatalf("err = %v, want ErrNotImplemented", err)
	}
}
