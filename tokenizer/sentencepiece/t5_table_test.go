package sentencepiece

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
)

// TestT5Encode covers inputs the goldens do not: empty and whitespace-only
// text, truncation, literal special tokens, malformed UTF-8.
func TestT5Encode(t *testing.T) {
	tok := loadT5(t)
	sp := tok.Model()
	x := sp.EncodeIDs("x")
	long := strings.Repeat("a photo of a cat, ", 400)
	longIDs := tok.Tokenize(long)
	cases := []struct {
		name   string
		text   string
		maxLen int
		want   []int // leading ids; the rest must be <pad>
	}{
		{"empty", "", 128, []int{1}},
		{"whitespace only", " \t\n\r\u3000\u00a0 ", 128, []int{1}},
		{"zero-width space only", "\u200b", 16, []int{1}},
		{"one word", "x", 4, append(slices.Clone(x), 1)},
		{"eos literal not doubled", "x</s>", 8, append(slices.Clone(x), 1)},
		{"eos literal alone", "</s>", 8, []int{1}},
		{"pad literal", "<pad>x", 8, append(append([]int{0}, x...), 1)},
		{"unk literal", "<unk>", 8, []int{2, 1}},
		{"first sentinel", "<extra_id_0>", 8, []int{32099, 1}},
		{"last sentinel", "<extra_id_99>", 8, []int{32000, 1}},
		{"sentinel between words", "x <extra_id_5> x", 16, append(append(slices.Clone(x), 32094), append(slices.Clone(x), 1)...)},
		{"truncated keeps eos", long, 128, append(slices.Clone(longIDs[:127]), 1)},
		{"truncated at 512", long, 512, append(slices.Clone(longIDs[:511]), 1)},
		{"minimum length", long, 2, []int{longIDs[0], 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tok.Encode(c.text, c.maxLen)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.maxLen {
				t.Fatalf("len %d, want %d", len(got), c.maxLen)
			}
			want := make([]int, c.maxLen)
			copy(want, c.want)
			if !slices.Equal(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
	if len(longIDs) < 600 {
		t.Fatalf("long prompt gives only %d ids; the truncation cases need more", len(longIDs))
	}
}

// TestT5Equivalent checks normalization rules stated in the MANIFEST by
// comparing the ids of two spellings that must tokenize the same.
func TestT5Equivalent(t *testing.T) {
	tok := loadT5(t)
	cases := []struct{ a, b string }{
		{"ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３", "fullwidth ABC123"},
		{"½ cup", "1⁄2 cup"},
		{"x² + y²", "x2 + y2"},
		{"a\u00a0b\u2003c\td\ne", "a b c d e"},
		{"a\u200bb", "a b"},
		{"  many    spaces  ", "many spaces"},
		{"ﬁne", "fine"},
		{"e\u0301te\u0301", "été"}, // combining accents compose under NFKC
	}
	for _, c := range cases {
		a, b := tok.Tokenize(c.a), tok.Tokenize(c.b)
		if !slices.Equal(a, b) {
			t.Errorf("%q -> %v, %q -> %v: want equal", c.a, a, c.b, b)
		}
	}
	if slices.Equal(tok.Tokenize("Hello"), tok.Tokenize("hello")) {
		t.Error("T5 must be case-sensitive")
	}
}

// TestT5Unknown checks unknown handling: a run of characters absent from the
// vocabulary is one <unk>, and malformed UTF-8 is read as U+FFFD per byte.
func TestT5Unknown(t *testing.T) {
	tok := loadT5(t)
	sp := tok.Model()
	cases := []struct {
		text string
		unk  int // number of <unk> ids
	}{
		{"😀", 1},
		{"😀😀😀", 1},
		{"😀 😀", 2},
		{"猫x猫", 2},
		{"\xff\xfe", 1},
		{"a\xffb", 1},
	}
	for _, c := range cases {
		ids := sp.EncodeIDs(c.text)
		n := 0
		for _, id := range ids {
			if id == sp.UnkID() {
				n++
			}
		}
		if n != c.unk {
			t.Errorf("%q -> %v: %d <unk>, want %d", c.text, ids, n, c.unk)
		}
	}
}

// TestT5NormalizeMatchesNFKC cross-checks the model's precompiled charsmap
// against an independent NFKC (x/text) on every golden prompt: after NFKC,
// whitespace collapsing and the dummy prefix, the two must agree wherever the
// prompt has no characters the NMT rules treat specially (controls, zero-width
// and other non-NFKC whitespace).
func TestT5NormalizeMatchesNFKC(t *testing.T) {
	tok := loadT5(t)
	prompts := readPrompts(t, testenv.Golden(t, "t5"))
	checked := 0
	for i, p := range prompts {
		if strings.ContainsAny(p, "\t\n\r\u200b") {
			continue
		}
		want := strings.Join(strings.Fields(norm.NFKC.String(p)), " ")
		if want != "" {
			want = spaceSymbol + strings.ReplaceAll(want, " ", spaceSymbol)
		}
		if got := tok.Model().Normalize(p); got != want {
			t.Errorf("prompt %d: charsmap %q, NFKC %q", i, got, want)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d prompts checked", checked)
	}
}

func TestT5BadArguments(t *testing.T) {
	tok := loadT5(t)
	for _, n := range []int{-1, 0, 1} {
		if _, err := tok.Encode("x", n); err == nil {
			t.Errorf("maxLen %d: no error", n)
		}
	}
	if _, err := NewT5(tok.Model(), -1); err == nil {
		t.Error("negative extra ids: no error")
	}
}

func TestParseCorrupt(t *testing.T) {
	cases := map[string][]byte{
		"empty":            {},
		"truncated tag":    {0x0a},
		"truncated length": {0x0a, 0x05, 'a'},
		"no unknown piece": {0x0a, 0x05, 0x0a, 0x01, 'a', 0x18, 0x01},
		"bpe model":        {0x0a, 0x05, 0x0a, 0x01, 'a', 0x18, 0x02, 0x12, 0x02, 0x18, 0x02},
		"empty piece":      {0x0a, 0x02, 0x18, 0x02},
		"charsmap too big": {0x0a, 0x05, 0x0a, 0x01, 'a', 0x18, 0x02, 0x1a, 0x07, 0x12, 0x05, 0xff, 0, 0, 0, 0},
	}
	for name, b := range cases {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Load("/nonexistent/spiece.model"); err == nil {
		t.Error("missing file: no error")
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "portrait, color, cinematic", "x</s>", "<extra_id_3>", "😀猫\xff", "ｆｕｌｌ ½ ﬁ\u200b\t\n", strings.Repeat("ab ", 300)} {
		f.Add(s, uint16(126))
	}
	for _, s := range []string{"x</s>y", "a <extra_id_0> b", "▁x ▁ <pad>", "  <unk>  "} {
		f.Add(s, uint16(6))
	}
	f.Fuzz(func(t *testing.T, text string, n uint16) {
		base := loadT5(t)
		maxLen := 2 + int(n)%511 // 2..512
		for _, tok := range []*T5{base, base.WithLegacy(false)} {
			ids, err := tok.Encode(text, maxLen)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != maxLen {
				t.Fatalf("len %d, want %d", len(ids), maxLen)
			}
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
			if !slices.Contains(ids, tok.EOS()) {
				t.Fatalf("no </s> in %v", ids)
			}
		}
		if got := base.Model().Normalize(text); !utf8.ValidString(got) {
			t.Fatalf("normalized text is not UTF-8: %q", got)
		}
	})
}

func BenchmarkT5Encode(b *testing.B) {
	tok := loadT5(b)
	text := strings.Repeat("A sweeping panoramic view of an ancient mountain monastery, ", 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text, 512)
	}
}

// TestT5NonLegacy checks where legacy=False differs: text right after a
// special token gets no "▁" (it is not a fresh SentencePiece sentence), and an
// <extra_id_N> eats the whitespace beside it.
func TestT5NonLegacy(t *testing.T) {
	tok := loadT5(t)
	nl := tok.WithLegacy(false)
	sp := tok.Model()
	bare := func(s string) int { // the id of piece s without "▁"
		id := sp.PieceToID(s)
		if id == sp.UnkID() {
			t.Fatalf("no piece %q", s)
		}
		return id
	}
	x, y := sp.EncodeIDs("x"), sp.EncodeIDs("y")
	cases := []struct {
		text         string
		legacy, nonL []int
	}{
		{"x</s>y", concat(x, []int{1}, y, []int{1}), concat(x, []int{1}, []int{bare("y")}, []int{1})},
		{"x </s> y", concat(x, []int{1}, y, []int{1}), concat(x, []int{1}, y, []int{1})},
		{"x <extra_id_0> y", concat(x, []int{32099}, y, []int{1}), concat(x, []int{32099}, []int{bare("y")}, []int{1})},
		{"</s>", []int{1}, []int{1}},
		{"", []int{1}, []int{1}},
		{"x", concat(x, []int{1}), concat(x, []int{1})},
	}
	for _, c := range cases {
		if got := tok.Tokenize(c.text); !slices.Equal(got, c.legacy) {
			t.Errorf("legacy %q: %v, want %v", c.text, got, c.legacy)
		}
		if got := nl.Tokenize(c.text); !slices.Equal(got, c.nonL) {
			t.Errorf("legacy=False %q: %v, want %v", c.text, got, c.nonL)
		}
	}
}

func concat(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
