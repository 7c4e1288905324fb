package conditioner_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/conditioner"
	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/tokenizer/clipbpe"
	"github.com/fluxpulid/fluxpulid/tokenizer/sentencepiece"
	"github.com/fluxpulid/fluxpulid/weights"
)

// golden is one model case: its config, weights, prompt indices and expected
// output rows.
type golden struct {
	config     string
	weights    string
	indices    []int
	want       []float32 // rows of the output, one per index
	row        int       // values per row
	atol, rtol float64
}

func readCase(t *testing.T, area, file, out string) golden {
	t.Helper()
	dir := testenv.Golden(t, area)
	f, err := safetensors.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := golden{config: f.Metadata["config"], weights: filepath.Join(dir, f.Metadata["weights"])}
	for key, v := range map[string]any{"prompt_indices": &g.indices, "atol": &g.atol, "rtol": &g.rtol} {
		if err := json.Unmarshal([]byte(f.Metadata[key]), v); err != nil {
			t.Fatalf("%s %s: %v", file, key, err)
		}
	}
	var shape []int
	if g.want, shape, err = f.F32(out); err != nil {
		t.Fatal(err)
	}
	g.row = backend.NumElements(shape[1:])
	return g
}

// expect returns the expected row of prompt p, if the case holds it.
func (g golden) expect(p int) ([]float32, bool) {
	i := slices.Index(g.indices, p)
	if i < 0 {
		return nil, false
	}
	return g.want[i*g.row : (i+1)*g.row], true
}

func close(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > atol+rtol*math.Abs(float64(want[i])) {
			t.Fatalf("%s[%d] = %g, want %g (atol %g rtol %g)", what, i, got[i], want[i], atol, rtol)
		}
	}
}

type fixture struct {
	c        *conditioner.Conditioner
	b        backend.Backend
	prompts  []string
	t5g, clg golden
}

// setup builds a conditioner from the tiny golden encoders and the real
// tokenizers.
func setup(t *testing.T, cacheSize int) fixture {
	t.Helper()
	tokDir := testenv.Tokenizers(t)
	f := fixture{
		b:   cpu.New(),
		t5g: readCase(t, "t5", "case_t5_encoder_128.safetensors", "out.last_hidden_state"),
		clg: readCase(t, "clip", "case_clip_text_77.safetensors", "out.pooler_output"),
	}
	raw, err := os.ReadFile(testenv.Golden(t, "t5", "prompts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &f.prompts); err != nil {
		t.Fatal(err)
	}
	var t5cfg t5.Config
	var clipcfg clip.Config
	if err := json.Unmarshal([]byte(f.t5g.config), &t5cfg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(f.clg.config), &clipcfg); err != nil {
		t.Fatal(err)
	}
	t5w, err := weights.Open(f.t5g.weights)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { t5w.Close() })
	clipw, err := weights.Open(f.clg.weights)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clipw.Close() })
	t5m, err := t5.Load(f.b, t5w, t5cfg)
	if err != nil {
		t.Fatal(err)
	}
	clipm, err := clip.Load(f.b, clipw, clipcfg)
	if err != nil {
		t.Fatal(err)
	}
	t5tok, err := sentencepiece.LoadT5(filepath.Join(tokDir, "t5", "spiece.model"))
	if err != nil {
		t.Fatal(err)
	}
	cliptok, err := clipbpe.Load(filepath.Join(tokDir, "clip"))
	if err != nil {
		t.Fatal(err)
	}
	if f.c, err = conditioner.New(t5m, t5tok, clipm, cliptok, cacheSize); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGoldenPrompts: prompt text in, txt and vec out, equal to the golden
// encoder outputs of the same prompts (tokenizer and encoder end to end).
func TestGoldenPrompts(t *testing.T) {
	f := setup(t, conditioner.DefaultCacheSize)
	d, h := f.c.T5.Cfg.DModel, f.c.CLIP.Cfg.HiddenSize
	checked := 0
	for p := range f.prompts {
		wantTxt, okT := f.t5g.expect(p)
		wantVec, okV := f.clg.expect(p)
		if !okT && !okV {
			continue
		}
		txt, vec, err := f.c.Encode(f.b, []string{f.prompts[p]}, 128)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(txt.Shape(), []int{1, 128, d}) || !slices.Equal(vec.Shape(), []int{1, h}) {
			t.Fatalf("shapes %v %v", txt.Shape(), vec.Shape())
		}
		if okT {
			got, _ := f.b.ReadF32(txt)
			close(t, "txt", got, wantTxt, f.t5g.atol, f.t5g.rtol)
			checked++
		}
		if okV {
			got, _ := f.b.ReadF32(vec)
			close(t, "vec", got, wantVec, f.clg.atol, f.clg.rtol)
			checked++
		}
	}
	if checked < 6 {
		t.Fatalf("only %d golden rows checked", checked)
	}
}

// TestBatchAndCache: a batch is its prompts' rows in order; a repeated
// (prompt, max length) is served from the cache; another max length is a
// new encoding; the least recently used entry is evicted.
func TestBatchAndCache(t *testing.T) {
	f := setup(t, 2)
	p0, p1, p2 := f.prompts[0], f.prompts[1], f.prompts[2]
	txt, vec, err := f.c.Encode(f.b, []string{p1, p0, p1}, 128)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.c.Misses(); n != 2 {
		t.Errorf("%d encodings for two distinct prompts", n)
	}
	d, h := f.c.T5.Cfg.DModel, f.c.CLIP.Cfg.HiddenSize
	tv, _ := f.b.ReadF32(txt)
	vv, _ := f.b.ReadF32(vec)
	want, _ := f.t5g.expect(1)
	close(t, "txt row 0", tv[:128*d], want, f.t5g.atol, f.t5g.rtol)
	if !slices.Equal(tv[:128*d], tv[2*128*d:]) {
		t.Error("rows 0 and 2 (same prompt) differ")
	}
	wantV, _ := f.clg.expect(0)
	close(t, "vec row 1", vv[h:2*h], wantV, f.clg.atol, f.clg.rtol)

	if _, _, err := f.c.Encode(f.b, []string{p1}, 128); err != nil || f.c.Misses() != 2 {
		t.Errorf("repeat: err %v, %d encodings", err, f.c.Misses())
	}
	if _, _, err := f.c.Encode(f.b, []string{p1}, 256); err != nil || f.c.Misses() != 3 {
		t.Errorf("new max length: err %v, %d encodings", err, f.c.Misses())
	}
	// Cache of 2 now holds (p1,256), (p1,128); p0 was evicted.
	f.c.Encode(f.b, []string{p0}, 128)
	if f.c.Misses() != 4 {
		t.Errorf("evicted prompt: %d encodings, want 4", f.c.Misses())
	}
	// Concurrent requests for one new prompt share one encoding.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.c.EncodeOne(f.b, p2, 128); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f.c.Misses() != 5 {
		t.Errorf("concurrent identical prompts: %d encodings, want 5", f.c.Misses())
	}
}

// TestLoad opens the encoders from files, as a program does.
func TestLoad(t *testing.T) {
	f := setup(t, 0)
	t5cfg, clipcfg := f.c.T5.Cfg, f.c.CLIP.Cfg
	tokDir := testenv.Tokenizers(t)
	c, err := conditioner.Load(f.b, conditioner.Paths{
		T5Weights: f.t5g.weights, T5Tokenizer: filepath.Join(tokDir, "t5", "spiece.model"),
		CLIPWeights: f.clg.weights, CLIPTokenizer: filepath.Join(tokDir, "clip"),
		T5Config: &t5cfg, CLIPConfig: &clipcfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.EncodeOne(f.b, f.prompts[2], 128)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.clg.expect(2)
	close(t, "vec", e.Vec, want, f.clg.atol, f.clg.rtol)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The real configurations do not fit the tiny weights: the error names
	// the mismatched tensors.
	_, err = conditioner.Load(f.b, conditioner.Paths{
		T5Weights: f.t5g.weights, T5Tokenizer: filepath.Join(tokDir, "t5", "spiece.model"),
		CLIPWeights: f.clg.weights, CLIPTokenizer: filepath.Join(tokDir, "clip"),
	})
	if err == nil || !strings.Contains(err.Error(), "shared.weight") {
		t.Errorf("real config on tiny weights: %v", err)
	}
}

func TestErrors(t *testing.T) {
	f := setup(t, 0)
	for _, n := range []int{0, 127, 513} {
		if _, _, err := f.c.Encode(f.b, []string{"x"}, n); err == nil {
			t.Errorf("max length %d: no error", n)
		}
	}
	if _, _, err := f.c.Encode(f.b, nil, 128); err == nil {
		t.Error("no prompts: no error")
	}
	if _, err := conditioner.New(nil, nil, nil, nil, 0); err == nil {
		t.Error("nil parts: no error")
	}
	// A tokenizer whose ids run past its encoder's embedding table is
	// refused when the conditioner is assembled, naming both sides.
	bigCLIP, err := clipbpe.New([]byte(`{"<|startoftext|>": 0, "<|endoftext|>": 99999999999}`), []byte("#version: 0.2\na b\n"))
	if err != nil {
		t.Fatal(err)
	}
	smallT5 := *f.c.T5
	smallT5.Cfg.VocabSize = 100
	for _, tc := range []struct {
		name    string
		t5m     *t5.Model
		cliptok *clipbpe.Tokenizer
		want    string
	}{
		{"T5 embedding smaller than the tokenizer", &smallT5, f.c.CLIPTok, "T5 tokenizer has 32100 token ids but the T5 encoder's embedding only 100 rows"},
		{"CLIP vocabulary id beyond the embedding", f.c.T5, bigCLIP, "CLIP tokenizer has 100000000000 token ids but the CLIP encoder's embedding only 49408 rows"},
	} {
		if _, err := conditioner.New(tc.t5m, f.c.T5Tok, f.c.CLIP, tc.cliptok, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
	if _, err := conditioner.Load(f.b, conditioner.Paths{T5Tokenizer: "/nonexistent"}); err == nil {
		t.Error("missing files: no error")
	}
	// With the cache off every call encodes.
	f.c.Encode(f.b, []string{"x"}, 128)
	f.c.Encode(f.b, []string{"x"}, 128)
	if f.c.Misses() != 2 {
		t.Errorf("cache off: %d encodings, want 2", f.c.Misses())
	}
}
