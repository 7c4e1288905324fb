package tinyset_test

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/fluxpulid/fluxpulid/generate"
	"github.com/fluxpulid/fluxpulid/generate/tinyset"
	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/tokenizer/clipbpe"
	"github.com/fluxpulid/fluxpulid/tokenizer/sentencepiece"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TestWriteReadsBack writes the set and reads every configuration back
// from the files the way the loaders do: what was written is what a user's
// real-named files would be taken for.
func TestWriteReadsBack(t *testing.T) {
	dir := t.TempDir()
	c := tinyset.Default()
	if err := tinyset.Write(dir, c); err != nil {
		t.Fatal(err)
	}
	open := func(name string) *weights.Store {
		st, err := weights.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	fc, err := flux.ResolveConfig("", open(tinyset.Files.Flux))
	if err != nil {
		t.Fatal(err)
	}
	if d := fc.Diff(c.Flux); len(d) > 0 {
		t.Errorf("flux config read back differs: %v", d)
	}
	pc, err := pulid.ConfigFromWeights(open(tinyset.Files.PuLID))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pc, c.PuLID) {
		t.Errorf("pulid config read back %+v, wrote %+v", pc, c.PuLID)
	}
	ac, err := ae.InferConfig(open(tinyset.Files.AE))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ac, c.AE) {
		t.Errorf("ae config read back %+v, wrote %+v", ac, c.AE)
	}
	tc, err := generate.T5ConfigFrom(filepath.Join(dir, tinyset.Files.T5))
	if err != nil || !reflect.DeepEqual(tc, c.T5) {
		t.Errorf("t5 config read back %+v (%v), wrote %+v", tc, err, c.T5)
	}
	cc, err := generate.CLIPConfigFrom(filepath.Join(dir, tinyset.Files.CLIP))
	if err != nil || !reflect.DeepEqual(cc, c.CLIP) {
		t.Errorf("clip config read back %+v (%v), wrote %+v", cc, err, c.CLIP)
	}
	// The couplings of the real models.
	if c.Flux.ContextInDim != c.T5.DModel || c.Flux.VecInDim != c.CLIP.HiddenSize ||
		c.PuLID.CA.KVDim != c.PuLID.Encoder.OutputDim || c.PuLID.CA.Dim != c.Flux.HiddenSize ||
		c.PuLID.NumCA != flux.NumIDModules(c.Flux, 2, 4) || c.AE.ZChannels*4 != c.Flux.InChannels {
		t.Errorf("inconsistent widths: %+v", c)
	}
	if _, err := generate.Find(dir, generate.Paths{}, generate.NeedGenerate); err != nil {
		t.Errorf("the set is not found under its real names: %v", err)
	}
}

func TestTokenizers(t *testing.T) {
	dir := t.TempDir()
	if err := tinyset.WriteT5Tokenizer(filepath.Join(dir, "spiece.model")); err != nil {
		t.Fatal(err)
	}
	t5, err := sentencepiece.LoadT5(filepath.Join(dir, "spiece.model"))
	if err != nil {
		t.Fatal(err)
	}
	// Ids by construction: <pad> 0, </s> 1, <unk> 2, "▁" 3, the words from
	// 4 (▁portrait 7, ▁color 8, ▁cinematic 9), the ASCII characters from
	// '!' = 16 (',' = 27).
	ids, err := t5.Encode("portrait, color, cinematic", 8)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{7, 27, 8, 27, 9, 1, 0, 0}; !slices.Equal(ids, want) {
		t.Errorf("t5 ids %v, want %v", ids, want)
	}
	if err := tinyset.WriteCLIPTokenizer(filepath.Join(dir, "tokenizer")); err != nil {
		t.Fatal(err)
	}
	cl, err := clipbpe.Load(filepath.Join(dir, "tokenizer"))
	if err != nil {
		t.Fatal(err)
	}
	// Bytes 0-255, word-final bytes 256-511, then po 512, rt</w> 513,
	// port</w> 514, an</w> 515, man</w> 516, <|startoftext|> 517,
	// <|endoftext|> 518; "x" is byte 120, word-final 376.
	ids, err = cl.Encode("Port man x", 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{517, 514, 516, 376, 518, 518, 518}; !slices.Equal(ids, want) {
		t.Errorf("clip ids %v, want %v", ids, want)
	}
	if n := cl.VocabSize(); n > tinyset.Default().CLIP.VocabSize {
		t.Errorf("clip vocabulary %d exceeds the embedding's %d rows", n, tinyset.Default().CLIP.VocabSize)
	}
	if n := t5.VocabSize(); n > tinyset.Default().T5.VocabSize {
		t.Errorf("t5 vocabulary %d exceeds the embedding's %d rows", n, tinyset.Default().T5.VocabSize)
	}
}

func TestValues(t *testing.T) {
	a := tinyset.Values("blocks.0.w", []int{64, 256}, 1)
	if !slices.Equal(a, tinyset.Values("blocks.0.w", []int{64, 256}, 1)) {
		t.Error("values are not deterministic")
	}
	if slices.Equal(a, tinyset.Values("blocks.1.w", []int{64, 256}, 1)) || slices.Equal(a, tinyset.Values("blocks.0.w", []int{64, 256}, 2)) {
		t.Error("values do not depend on the name and the seed")
	}
	// Uniform with standard deviation 1/sqrt(fan in = 256) = 0.0625.
	var sum, sq float64
	for _, v := range a {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(a))
	if mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n)); math.Abs(mean) > 0.005 || math.Abs(std-0.0625) > 0.003 {
		t.Errorf("mean %g std %g, want 0 and 0.0625", mean, std)
	}
	for _, v := range tinyset.Values("final_layer.norm.weight", []int{100}, 1) {
		if v < 0.9 || v > 1.1 {
			t.Fatalf("norm scale %g outside 1 ± 0.1", v)
		}
	}
}
