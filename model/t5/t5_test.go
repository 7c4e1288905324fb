package t5_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestCheckpointShapes: the real configuration's parameter list is exactly
// the T5-XXL encoder checkpoint's, where the tied embedding may be stored
// under either (or both) of its names.
func TestCheckpointShapes(t *testing.T) {
	src := testenv.Manifest(t, "t5xxl_encoder")
	want, err := t5.Shapes(t5.XXL())
	if err != nil {
		t.Fatal(err)
	}
	alias := func(name string) bool { return name == t5.EmbedTokensName }
	if err := weights.Check(src, want, alias); err != nil {
		t.Fatalf("XXL vs t5xxl_encoder.json: %v", err)
	}
	if got, w := src[t5.EmbedTokensName].Shape, want[t5.SharedName]; !slices.Equal(got, w) {
		t.Errorf("%s has shape %v, %s %v", t5.EmbedTokensName, got, t5.SharedName, w)
	}
	// Each single-name layout loads (shapes only; Check stands in for Load).
	for _, drop := range []string{t5.SharedName, t5.EmbedTokensName} {
		m := weights.Map{}
		for n, v := range src {
			if n != drop {
				m[n] = v
			}
		}
		if drop == t5.SharedName {
			m[t5.SharedName] = m[t5.EmbedTokensName]
			delete(m, t5.EmbedTokensName)
		}
		if err := weights.Check(m, want, nil); err != nil {
			t.Errorf("without %s: %v", drop, err)
		}
	}
}

// TestBuckets checks the bidirectional bucket table against the ranges the
// MANIFEST derives by hand from the formula: |rel| 0..7 exact, 8-11 -> 8,
// 12-15 -> 9, 16-22 -> 10, 23-31 -> 11, 32-45 -> 12, 46-63 -> 13, 64-90 -> 14,
// >= 91 -> 15, plus 16 when the key is after the query.
func TestBuckets(t *testing.T) {
	want := func(n int) int {
		switch {
		case n < 8:
			return n
		case n <= 11:
			return 8
		case n <= 15:
			return 9
		case n <= 22:
			return 10
		case n <= 31:
			return 11
		case n <= 45:
			return 12
		case n <= 63:
			return 13
		case n <= 90:
			return 14
		}
		return 15
	}
	for n := 0; n < 1100; n++ {
		if got := t5.RelativePositionBucket(-n, 32, 128); got != want(n) {
			t.Errorf("rel %d: bucket %d, want %d", -n, got, want(n))
		}
		if n > 0 {
			if got := t5.RelativePositionBucket(n, 32, 128); got != 16+want(n) {
				t.Errorf("rel %d: bucket %d, want %d", n, got, 16+want(n))
			}
		}
	}
	b := t5.Buckets(3, 3, 32, 128) // row = query, column = key
	if w := []int32{0, 17, 18, 1, 0, 17, 2, 1, 0}; !slices.Equal(b, w) {
		t.Errorf("3x3 table %v, want %v", b, w)
	}
}

// goldenCase is a golden t5 encoder case with its inputs and expected output.
type goldenCase struct {
	cfg        t5.Config
	ids        []int32
	batch      int
	want       []float32
	atol, rtol float64
	weights    string
}

func loadGolden(t *testing.T) goldenCase {
	t.Helper()
	dir := filepath.Join(testenv.Golden(t), "t5")
	f, err := safetensors.Open(filepath.Join(dir, "case_t5_encoder_128.safetensors"))
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
	if g.want, _, err = f.F32("out.last_hidden_state"); err != nil {
		t.Fatal(err)
	}
	g.atol = metaFloat(t, f, "atol")
	g.rtol = metaFloat(t, f, "rtol")
	g.weights = filepath.Join(dir, f.Metadata["weights"])
	return g
}

func metaFloat(t *testing.T, f *safetensors.File, key string) float64 {
	var v float64
	if err := json.Unmarshal([]byte(f.Metadata[key]), &v); err != nil {
		t.Fatalf("metadata %s: %v", key, err)
	}
	return v
}

func (g goldenCase) check(t *testing.T, b backend.Backend, src weights.Source) {
	t.Helper()
	got := g.run(t, b, src)
	bad := 0
	for i := range got {
		if math.Abs(float64(got[i]-g.want[i])) > g.atol+g.rtol*math.Abs(float64(g.want[i])) {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d values outside atol %g rtol %g", bad, len(got), g.atol, g.rtol)
	}
}

// run loads src and returns the last hidden state of the case's ids.
func (g goldenCase) run(t *testing.T, b backend.Backend, src weights.Source) []float32 {
	t.Helper()
	m, err := t5.Load(b, src, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Forward(b, g.ids, g.batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{g.batch, len(g.ids) / g.batch, g.cfg.DModel}; !slices.Equal(out.Shape(), want) {
		t.Fatalf("output shape %v, want %v", out.Shape(), want)
	}
	got, err := b.ReadF32(out)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// convert re-stores every tensor of src as dt (rounding to nearest for F16).
func convert(t *testing.T, src weights.Source, dt dtype.DType) weights.Map {
	m := testenv.Copy(t, src)
	for n, v := range m {
		f := make([]float32, backend.NumElements(v.Shape))
		dtype.ToF32(v.DType, v.Data, f)
		var data []byte
		for _, x := range f {
			switch dt {
			case dtype.F32:
				data = append(data, byte(math.Float32bits(x)), byte(math.Float32bits(x)>>8), byte(math.Float32bits(x)>>16), byte(math.Float32bits(x)>>24))
			case dtype.F16:
				h := dtype.F32ToF16(x)
				data = append(data, byte(h), byte(h>>8))
			}
		}
		m[n] = weights.Tensor{Info: weights.Info{DType: dt, Shape: v.Shape}, Data: data}
	}
	return m
}

// TestLoadLayouts runs the golden encoder case from every weight layout a
// user may have: the golden BF16 file, F32 and F16 copies, the embedding
// under encoder.embed_tokens.weight only or under both names, and an HF
// sharded folder with its index JSON.
func TestLoadLayouts(t *testing.T) {
	g := loadGolden(t)
	b := cpu.New()
	st, err := weights.Open(g.weights)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	t.Run("bf16", func(t *testing.T) { g.check(t, b, st) })
	t.Run("f32", func(t *testing.T) { g.check(t, b, convert(t, st, dtype.F32)) })
	t.Run("f16", func(t *testing.T) {
		// Small BF16 weights are not all exact in F16, so the F16 file is
		// compared with an F32 file holding the same rounded values.
		f16 := convert(t, st, dtype.F16)
		same := g
		same.want = g.run(t, b, convert(t, f16, dtype.F32))
		same.atol, same.rtol = 1e-6, 1e-5
		same.check(t, b, f16)
	})
	t.Run("embed_tokens only", func(t *testing.T) {
		m := testenv.Copy(t, st)
		m[t5.EmbedTokensName] = m[t5.SharedName]
		delete(m, t5.SharedName)
		g.check(t, b, m)
	})
	t.Run("both embedding names", func(t *testing.T) {
		m := testenv.Copy(t, st)
		m[t5.EmbedTokensName] = m[t5.SharedName]
		g.check(t, b, m)
	})
	t.Run("sharded folder", func(t *testing.T) {
		dir := t.TempDir()
		shards := [2]map[string]safetensors.Tensor{{}, {}}
		index := map[string]string{}
		for i, n := range st.Names() {
			info, _ := st.Info(n)
			data, _ := st.Bytes(n)
			k := i % 2
			shards[k][n] = safetensors.Tensor{DType: info.DType, Shape: info.Shape, Data: data}
			index[n] = []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[k]
		}
		for k, sh := range shards {
			name := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[k]
			if err := safetensors.WriteFile(filepath.Join(dir, name), sh, nil); err != nil {
				t.Fatal(err)
			}
		}
		idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
		if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644); err != nil {
			t.Fatal(err)
		}
		sh, err := weights.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close()
		g.check(t, b, sh)
	})
}

// TestErrors: bad configurations, missing or mis-shaped tensors and bad ids
// come back as errors naming the problem.
func TestErrors(t *testing.T) {
	g := loadGolden(t)
	b := cpu.New()
	st, err := weights.Open(g.weights)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	bad := g.cfg
	bad.FeedForwardProj = "relu"
	if _, err := t5.Load(b, st, bad); err == nil || !strings.Contains(err.Error(), "feed_forward_proj") {
		t.Errorf("relu config: %v", err)
	}
	bad = g.cfg
	bad.NumHeads = 0
	if _, err := t5.Shapes(bad); err == nil || !strings.Contains(err.Error(), "num_heads") {
		t.Errorf("zero heads: %v", err)
	}

	m := testenv.Copy(t, st)
	delete(m, "encoder.block.1.layer.1.DenseReluDense.wo.weight")
	delete(m, t5.SharedName)
	_, err = t5.Load(b, m, g.cfg)
	for _, want := range []string{"encoder.block.1.layer.1.DenseReluDense.wo.weight", t5.SharedName} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s: %v", want, err)
		}
	}

	wide := g.cfg
	wide.DModel *= 2
	if _, err := t5.Load(b, st, wide); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong d_model: %v", err)
	}

	model, err := t5.Load(b, st, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ids   []int32
		batch int
	}{{[]int32{1, 2, 3}, 2}, {nil, 1}, {[]int32{0, int32(g.cfg.VocabSize)}, 1}, {[]int32{-1}, 1}, {[]int32{1}, 0}} {
		if _, err := model.Forward(b, c.ids, c.batch, nil); err == nil {
			t.Errorf("ids %v batch %d: no error", c.ids, c.batch)
		}
	}
}

// TestPaddingAttended: without a mask, the padding changes every position's
// output (FLUX passes no attention mask), so a prompt padded to 128 and to
// 256 differs at its first token.
func TestPaddingAttended(t *testing.T) {
	g := loadGolden(t)
	b := cpu.New()
	st, err := weights.Open(g.weights)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := t5.Load(b, st, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := func(L int) []float32 {
		ids := make([]int32, L)
		copy(ids, []int32{100, 200, 1})
		out, err := m.Forward(b, ids, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := b.ReadF32(out)
		return v[:g.cfg.DModel]
	}
	if slices.Equal(first(128), first(256)) {
		t.Error("padding length does not change the first token's state")
	}
}

func BenchmarkForwardTiny(b *testing.B) {
	dir := filepath.Join(testenv.Golden(b), "t5")
	st, err := weights.Open(filepath.Join(dir, "weights_t5_tiny.safetensors"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := t5.XXL()
	cfg.DModel, cfg.DKV, cfg.DFF, cfg.NumLayers, cfg.NumHeads = 64, 16, 128, 3, 4
	be := cpu.New()
	m, err := t5.Load(be, st, cfg)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int32, 512)
	for b.Loop() {
		out, _ := m.Forward(be, ids, 1, nil)
		be.ReadF32(out)
	}
}
