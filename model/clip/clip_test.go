package clip_test

import (
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestCheckpointShapes: the real configuration's parameter list is exactly
// the CLIP-L text checkpoint's.
func TestCheckpointShapes(t *testing.T) {
	src := testenv.Manifest(t, "clip_l_text")
	want, err := clip.Shapes(clip.ViTL14())
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Check(src, want, nil); err != nil {
		t.Fatalf("ViT-L/14 text vs clip_l_text.json: %v", err)
	}
}

func TestPooledIndex(t *testing.T) {
	ids := []int32{
		49406, 320, 49407, 49407, 49407, // first <|endoftext|> at 2
		49406, 49407, 1, 2, 2, // at 1
		5, 6, 7, 8, 9, // no end token: argmax is the last (largest) id
	}
	if got := clip.PooledIndex(ids, 3, 2); !slices.Equal(got, []int{2, 1, 4}) {
		t.Errorf("argmax rule: %v", got)
	}
	// The newer rule: first position holding eos_token_id, 0 if none.
	if got := clip.PooledIndex(ids, 3, 49407); !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("eos rule: %v", got)
	}
}

type goldenCase struct {
	cfg        clip.Config
	ids        []int32
	batch      int
	last, pool []float32
	at         []int64
	atol, rtol float64
	weights    string
}

func loadGolden(t *testing.T) goldenCase {
	t.Helper()
	dir := filepath.Join(testenv.Golden(t), "clip")
	f, err := safetensors.Open(filepath.Join(dir, "case_clip_text_77.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g goldenCase
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &g.cfg); err != nil {
		t.Fatal(err)
	}
	ids, shape, err := f.I64("in.input_ids")
	if err != nil {
		t.Fatal(err)
	}
	g.batch = shape[0]
	for _, id := range ids {
		g.ids = append(g.ids, int32(id))
	}
	if g.last, _, err = f.F32("out.last_hidden_state"); err != nil {
		t.Fatal(err)
	}
	if g.pool, _, err = f.F32("out.pooler_output"); err != nil {
		t.Fatal(err)
	}
	if g.at, _, err = f.I64("out.pooled_index"); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]*float64{"atol": &g.atol, "rtol": &g.rtol} {
		if err := json.Unmarshal([]byte(f.Metadata[key]), v); err != nil {
			t.Fatal(err)
		}
	}
	g.weights = filepath.Join(dir, f.Metadata["weights"])
	return g
}

func (g goldenCase) check(t *testing.T, b backend.Backend, src weights.Source) {
	t.Helper()
	m, err := clip.Load(b, src, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Forward(b, g.ids, g.batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range out.PooledAt {
		if int64(p) != g.at[i] {
			t.Errorf("row %d pooled at %d, want %d", i, p, g.at[i])
		}
	}
	for _, c := range []struct {
		name string
		t    backend.Tensor
		want []float32
	}{{"last_hidden_state", out.LastHidden, g.last}, {"pooler_output", out.Pooled, g.pool}} {
		got, err := b.ReadF32(c.t)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d values, want %d", c.name, len(got), len(c.want))
		}
		bad := 0
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > g.atol+g.rtol*math.Abs(float64(c.want[i])) {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d values outside atol %g rtol %g", c.name, bad, len(got), g.atol, g.rtol)
		}
	}
}

// TestLoadLayouts runs the golden case from the golden F16 file, an F32 copy,
// and a file carrying the extras some exports have (position_ids,
// text_projection, logit_scale, a vision tower), which are ignored.
func TestLoadLayouts(t *testing.T) {
	g := loadGolden(t)
	b := cpu.New()
	st, err := weights.Open(g.weights)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t.Run("f16", func(t *testing.T) { g.check(t, b, st) })
	t.Run("f32", func(t *testing.T) {
		m := testenv.Copy(t, st)
		for n, v := range m {
			f := make([]float32, backend.NumElements(v.Shape))
			dtype.ToF32(v.DType, v.Data, f)
			m[n] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: v.Shape}, Data: safetensors.F32Tensor(v.Shape, f).Data}
		}
		g.check(t, b, m)
	})
	t.Run("extras ignored", func(t *testing.T) {
		m := testenv.Copy(t, st)
		d := g.cfg.HiddenSize
		pos := make([]byte, 8*g.cfg.MaxPositionEmbeddings)
		for i := range g.cfg.MaxPositionEmbeddings {
			pos[8*i] = byte(i)
		}
		m["text_model.embeddings.position_ids"] = weights.Tensor{Info: weights.Info{DType: dtype.I64, Shape: []int{1, g.cfg.MaxPositionEmbeddings}}, Data: pos}
		m["text_projection.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: []int{d, d}}, Data: make([]byte, 4*d*d)}
		m["logit_scale"] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: []int{}}, Data: make([]byte, 4)}
		m["vision_model.post_layernorm.weight"] = weights.Tensor{Info: weights.Info{DType: dtype.F32, Shape: []int{8}}, Data: make([]byte, 32)}
		g.check(t, b, m)
	})
}

func TestErrors(t *testing.T) {
	g := loadGolden(t)
	b := cpu.New()
	st, err := weights.Open(g.weights)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	bad := g.cfg
	bad.HiddenAct = "swish"
	if _, err := clip.Load(b, st, bad); err == nil || !strings.Contains(err.Error(), "hidden_act") {
		t.Errorf("unknown activation: %v", err)
	}
	bad = g.cfg
	bad.NumAttentionHeads = 5
	if _, err := clip.Shapes(bad); err == nil || !strings.Contains(err.Error(), "divisible") {
		t.Errorf("heads not dividing hidden: %v", err)
	}
	m := testenv.Copy(t, st)
	delete(m, "text_model.encoder.layers.2.mlp.fc1.bias")
	if _, err := clip.Load(b, m, g.cfg); err == nil || !strings.Contains(err.Error(), "text_model.encoder.layers.2.mlp.fc1.bias") {
		t.Errorf("missing bias: %v", err)
	}
	model, err := clip.Load(b, st, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ids   []int32
		batch int
	}{{make([]int32, 78), 1}, {[]int32{1, 2, 3}, 2}, {[]int32{49408}, 1}, {nil, 1}} {
		if _, err := model.Forward(b, c.ids, c.batch, nil); err == nil {
			t.Errorf("%d ids batch %d: no error", len(c.ids), c.batch)
		}
	}
}

// TestCausal: changing a later token leaves earlier positions unchanged.
func TestCausal(t *testing.T) {
	g := loadGolden(t)
	b := cpu.New()
	st, err := weights.Open(g.weights)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := clip.Load(b, st, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(last int32) []float32 {
		ids := []int32{49406, 320, 1125, last}
		out, err := m.Forward(b, ids, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := b.ReadF32(out.LastHidden)
		return v
	}
	a, c := run(539), run(49407)
	d := g.cfg.HiddenSize
	if !slices.Equal(a[:3*d], c[:3*d]) {
		t.Error("a later token changed earlier positions")
	}
	if slices.Equal(a[3*d:], c[3*d:]) {
		t.Error("changing the last token did not change its position")
	}
}
