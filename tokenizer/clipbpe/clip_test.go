package clipbpe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/tokenizer/internal/testpaths"
)

var (
	clipOnce sync.Once
	clipTok  *Tokenizer
	clipErr  error
)

// loadCLIP loads the real CLIP vocabulary once per test binary. Tests must
// not change its Cleaning; withCleaning gives a copy.
func loadCLIP(t testing.TB) *Tokenizer {
	t.Helper()
	dir := filepath.Join(testpaths.Tokenizers(t), "clip")
	clipOnce.Do(func() { clipTok, clipErr = Load(dir) })
	if clipErr != nil {
		t.Fatal(clipErr)
	}
	return clipTok
}

func withCleaning(t testing.TB, c Cleaning) *Tokenizer {
	base := loadCLIP(t)
	return &Tokenizer{Cleaning: c, vocab: base.vocab, ranks: base.ranks,
		bos: base.bos, eos: base.eos, pad: base.pad, cache: map[string][]int{}}
}

func readPrompts(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testpaths.Golden(t, "clip"), "prompts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var prompts []string
	if err := json.Unmarshal(b, &prompts); err != nil {
		t.Fatal(err)
	}
	return prompts
}

// TestCLIPGolden checks every prompt of the golden tokenizer case id for id,
// with ftfy (out.input_ids, the FLUX path) and without (out.input_ids_noftfy),
// and the untruncated lengths.
func TestCLIPGolden(t *testing.T) {
	prompts := readPrompts(t)
	path := filepath.Join(testpaths.Golden(t, "clip"), "case_tokenizer_clip_77.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		tensor   string
		cleaning Cleaning
	}{{"out.input_ids", FTFY}, {"out.input_ids_noftfy", Basic}} {
		t.Run(c.tensor, func(t *testing.T) {
			tok := withCleaning(t, c.cleaning)
			want, shape, err := f.I64(c.tensor)
			if err != nil {
				t.Fatal(err)
			}
			if len(shape) != 2 || shape[0] != len(prompts) {
				t.Fatalf("%s shape %v for %d prompts", c.tensor, shape, len(prompts))
			}
			L := shape[1]
			for i, p := range prompts {
				got, err := tok.Encode(p, L)
				if err != nil {
					t.Fatal(err)
				}
				row := want[i*L : (i+1)*L]
				for j := range row {
					if int64(got[j]) != row[j] {
						t.Errorf("prompt %d %q: id %d = %d, want %d\n got %v\nwant %v", i, short(p), j, got[j], row[j], got, row)
						break
					}
				}
			}
		})
	}
	wantLen, _, err := f.I64("out.length_untruncated")
	if err != nil {
		t.Fatal(err)
	}
	tok := loadCLIP(t)
	for i, p := range prompts {
		if n := len(tok.Tokenize(p)); int64(n) != wantLen[i] {
			t.Errorf("prompt %d %q: untruncated length %d, want %d", i, short(p), n, wantLen[i])
		}
	}
}

// TestCLIPDebugTokens compares the BPE token strings with tokens_debug.json.
func TestCLIPDebugTokens(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testpaths.Golden(t, "clip"), "tokens_debug.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dbg []struct {
		Index   int      `json:"index"`
		Text    string   `json:"text"`
		FTFY    []string `json:"clip_tokens_untruncated"`
		NoFTFY  []string `json:"clip_noftfy_tokens_untruncated"`
		NoFTFY2 []string `json:"clip_tokens_noftfy_untruncated"`
	}
	if err := json.Unmarshal(b, &dbg); err != nil {
		t.Fatal(err)
	}
	byID := map[int]string{}
	tok := loadCLIP(t)
	for s, id := range tok.vocab {
		byID[id] = s
	}
	for _, c := range []Cleaning{FTFY, Basic} {
		tok := withCleaning(t, c)
		for _, d := range dbg {
			want := d.FTFY
			if c == Basic {
				want = d.NoFTFY
			}
			var got []string
			for _, id := range tok.Tokenize(d.Text) {
				got = append(got, byID[id])
			}
			if !slices.Equal(got, want) {
				t.Errorf("cleaning %d prompt %d %q:\n got %q\nwant %q", c, d.Index, short(d.Text), got, want)
			}
		}
	}
}

func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "..."
	}
	return s
}

// TestCLIPEncode covers empty, long and special-token inputs.
func TestCLIPEncode(t *testing.T) {
	tok := loadCLIP(t)
	cat := tok.pieces("cat")
	if len(cat) != 1 {
		t.Fatalf("cat -> %v, want one token", cat)
	}
	long := strings.Repeat("a photo of a cat, ", 100)
	longIDs := tok.pieces(long)
	cases := []struct {
		name, text string
		want       []int // ids after <|startoftext|>, before <|endoftext|> padding
	}{
		{"empty", "", nil},
		{"whitespace", " \t\n\u3000 ", nil},
		{"case folded", "CAT", cat},
		{"spaces collapsed", "  cat  ", cat},
		{"eos literal", "cat<|endoftext|>cat", []int{cat[0], 49407, cat[0]}},
		{"bos literal", "<|startoftext|>", []int{49406}},
		{"upper-case literal still special", "<|ENDOFTEXT|>", []int{49407}},
		{"truncated", long, longIDs[:75]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tok.Encode(c.text, DefaultLength)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]int{49406}, c.want...)
			for len(want) < DefaultLength {
				want = append(want, 49407)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
	if _, err := tok.Encode("x", 1); err == nil {
		t.Error("maxLen 1: no error")
	}
}

// TestCLIPCleaning checks the ftfy fixes named in the MANIFEST through ids:
// each pair must tokenize identically.
func TestCLIPCleaning(t *testing.T) {
	tok := loadCLIP(t)
	cases := []struct{ a, b string }{
		{"ＡＢＣ１２３", "abc123"},
		{"ﬁne ﬂow", "fine flow"},
		{"“curly” ‘single’", `"curly" 'single'`},
		{"fish &amp; chips &eacute;", "fish & chips é"},
		{"P&EACUTE;REZ", "pérez"},
		{"&#x41;&#66;", "ab"},
		{"a&#59;b", "a&#59;b"}, // ftfy keeps a reference that decodes to ";"
		{"<b>fish &amp; chips</b>", "<b>fish &amp; chips</b>"},
		{"a &amp; b\n<i> &amp;\n&amp;", "a & b <i> &amp; &amp;"}, // entities kept from the first line with "<" on
		{"x\x1b[31mred\x1b[0m", "xred"},
		{"a\u0080b", "a€b"},    // C1 control read as Windows-1252
		{"cafe\u0301", "café"}, // NFC
		{"line\r\nbreak\u2028x", "line break x"},
		{"ΟΔΟΣ", "οδος"}, // Python lower: final sigma
	}
	for _, c := range cases {
		if a, b := tok.Tokenize(c.a), tok.Tokenize(c.b); !slices.Equal(a, b) {
			t.Errorf("%q -> %v, %q -> %v: want equal", c.a, a, c.b, b)
		}
	}
}

func TestCLIPSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"don't", []string{"don", "'t"}},
		{"we'll they're", []string{"we", "'ll", "they", "'re"}},
		{"'x", []string{"'", "x"}},
		{"2024", []string{"2", "0", "2", "4"}},
		{"3.14!?", []string{"3", ".", "1", "4", "!?"}},
		{"a,<|endoftext|>", []string{"a", ",<|", "endoftext", "|>"}},
		{"<|endoftext|>x", []string{"<|endoftext|>", "x"}},
		{"café😀👍", []string{"café", "😀👍"}},
		{"'ſ", []string{"'ſ"}},
	}
	for _, c := range cases {
		if got := splitWords(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNewCorrupt(t *testing.T) {
	merges := []byte("#version: 0.2\nc a\n")
	vocab := []byte(`{"<|startoftext|>": 0, "<|endoftext|>": 1}`)
	cases := map[string][2][]byte{
		"bad json":         {[]byte("{"), merges},
		"vocab not UTF-8":  {[]byte("{\"<|startoftext|>\": 0, \"<|endoftext|>\": 1, \"\xff\xfe\": 2}"), merges},
		"merges not UTF-8": {vocab, []byte("#version: 0.2\nc a\n\x80\xff b\n")},
		"no bos":           {[]byte(`{"<|endoftext|>": 1}`), merges},
		"no eos":           {[]byte(`{"<|startoftext|>": 0}`), merges},
		"negative id":      {[]byte(`{"<|startoftext|>": 0, "<|endoftext|>": -1}`), merges},
		"no merges":        {[]byte(`{"<|startoftext|>": 0, "<|endoftext|>": 1}`), []byte("#version: 0.2\n")},
	}
	for name, c := range cases {
		if _, err := New(c[0], c[1]); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := New(vocab, []byte("#version: 0.2\nc a\n\x80\xff b\n")); err == nil || !strings.Contains(err.Error(), "merges.txt: line 3 is not UTF-8") {
		t.Errorf("merges not UTF-8: error %v, want the line named", err)
	}
	if _, err := Load("/nonexistent"); err == nil {
		t.Error("missing dir: no error")
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "portrait, color, cinematic", "cat<|endoftext|>", "&amp;&EACUTE;&#59;<b>", "ＡＢＣ ﬁ “q” \x1b[1m\u0085\u2028", "一只猫 東京 Привет", "\xff\xfe😀", strings.Repeat("ab ", 200),
		"cafÃƒÂ© â€œxâ€\u009d", "í\u00a0½í¸€ \u00c0\u0080 Ã s", "â€œxâ€\ufffd Ã\u0089 \u0081", "Ã©À\n"} {
		f.Add(s, uint8(75))
	}
	f.Fuzz(func(t *testing.T, text string, n uint8) {
		maxLen := 2 + int(n)%100
		for _, c := range []Cleaning{FTFY, Basic} {
			tok := withCleaning(t, c)
			ids, err := tok.Encode(text, maxLen)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != maxLen || ids[0] != tok.BOS() || !slices.Contains(ids[1:], tok.EOS()) {
				t.Fatalf("cleaning %d: %v", c, ids)
			}
			for _, id := range ids {
				if id < 0 || id >= 49408 {
					t.Fatalf("id %d out of range", id)
				}
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	tok := withCleaning(b, FTFY)
	text := "A cozy reading nook by a rain-streaked window, a tabby cat curled on a knitted blanket, a steaming mug of tea"
	for b.Loop() {
		clear(tok.cache)
		tok.Encode(text, DefaultLength)
	}
}
