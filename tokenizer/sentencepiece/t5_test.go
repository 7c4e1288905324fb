package sentencepiece

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

var (
	t5Once sync.Once
	t5Tok  *T5
	t5Err  error
)

// loadT5 loads the real T5 vocabulary once per test binary.
func loadT5(t testing.TB) *T5 {
	t.Helper()
	path := filepath.Join(testenv.Tokenizers(t), "t5", "spiece.model")
	t5Once.Do(func() { t5Tok, t5Err = LoadT5(path) })
	if t5Err != nil {
		t.Fatal(t5Err)
	}
	return t5Tok
}

func readPrompts(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "prompts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var prompts []string
	if err := json.Unmarshal(b, &prompts); err != nil {
		t.Fatal(err)
	}
	return prompts
}

func readI64(t *testing.T, f *safetensors.File, name string) ([]int64, []int) {
	t.Helper()
	v, shape, err := f.I64(name)
	if err != nil {
		t.Fatalf("%s: %v", f.Path, err)
	}
	return v, shape
}

// TestT5Golden checks every prompt of the golden tokenizer cases (max length
// 128 and 512) id for id, plus the untruncated lengths.
func TestT5Golden(t *testing.T) {
	tok := loadT5(t)
	dir := testenv.Golden(t, "t5")
	prompts := readPrompts(t, dir)
	cases, _ := filepath.Glob(filepath.Join(dir, "case_tokenizer_t5_*.safetensors"))
	if len(cases) == 0 {
		t.Fatalf("no case_tokenizer_t5_*.safetensors in %s", dir)
	}
	for _, path := range cases {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := safetensors.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			wantLen, _ := readI64(t, f, "out.length_untruncated")
			for _, v := range []struct {
				tensor string
				tok    *T5
			}{{"out.input_ids", tok}, {"out.input_ids_legacy_false", tok.WithLegacy(false)}} {
				want, shape := readI64(t, f, v.tensor)
				if len(shape) != 2 || shape[0] != len(prompts) {
					t.Fatalf("%s shape %v for %d prompts", v.tensor, shape, len(prompts))
				}
				L := shape[1]
				for i, p := range prompts {
					got, err := v.tok.Encode(p, L)
					if err != nil {
						t.Fatal(err)
					}
					row := want[i*L : (i+1)*L]
					for j := range row {
						if int64(got[j]) != row[j] {
							t.Errorf("%s prompt %d %q: id %d = %d, want %d\n got %v\nwant %v", v.tensor, i, short(p), j, got[j], row[j], got, row)
							break
						}
					}
				}
			}
			for i, p := range prompts {
				if n := len(tok.Tokenize(p)); int64(n) != wantLen[i] {
					t.Errorf("prompt %d %q: untruncated length %d, want %d", i, short(p), n, wantLen[i])
				}
			}
		})
	}
}

// TestT5DebugPieces compares the piece strings with tokens_debug.json, which
// lists the pieces of the ids (an unknown run shows as <unk>).
func TestT5DebugPieces(t *testing.T) {
	tok := loadT5(t)
	b, err := os.ReadFile(filepath.Join(testenv.Golden(t, "t5"), "tokens_debug.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dbg []struct {
		Index  int      `json:"index"`
		Text   string   `json:"text"`
		Tokens []string `json:"t5_tokens_untruncated"`
	}
	if err := json.Unmarshal(b, &dbg); err != nil {
		t.Fatal(err)
	}
	for _, d := range dbg {
		var got []string
		for _, p := range tok.Model().Encode(d.Text) {
			if p.ID == tok.Model().UnkID() {
				p.Text = "<unk>"
			}
			got = append(got, p.Text)
		}
		got = append(got, "</s>")
		if strings.Join(got, "|") != strings.Join(d.Tokens, "|") {
			t.Errorf("prompt %d %q:\n got %q\nwant %q", d.Index, short(d.Text), got, d.Tokens)
		}
	}
}

func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return s
}
