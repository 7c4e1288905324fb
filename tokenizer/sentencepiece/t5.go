package sentencepiece

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// DefaultExtraIDs is T5Tokenizer's extra_ids: 100 sentinel tokens
// <extra_id_0..99> numbered downwards from the top of the vocabulary.
const DefaultExtraIDs = 100

// T5 is transformers' slow T5Tokenizer, called as FLUX's HFEmbedder calls
// it (truncation=True, padding="max_length"). With legacy=True, what
// google/t5-v1_1-xxl's tokenizer config gives (it sets no `legacy` key; see
// shared/golden/t5/MANIFEST.md):
//
//	ids = SentencePiece(segment) for each text segment between literal special
//	      tokens (</s>, <unk>, <pad>, <extra_id_N>), which map to their own ids
//	ids = ids[:maxLen-1]; append </s> unless ids already end with it
//	pad with <pad> (0) to maxLen
//
// WithLegacy(false) gives the legacy=False behaviour of FLUX.1-dev's
// diffusers tokenizer_2 config, which differs only in how text right after a
// special token is segmented.
type T5 struct {
	sp       *Model
	extraIDs int
	eos, pad int
	special  map[string]int // </s>, <unk>, <pad> (literal special tokens besides the extra ids)

	legacy   bool
	noPrefix *Model // sp without the dummy prefix (legacy=False)
	unkLen   int    // len(noPrefix.Encode("<unk>"))
}

// LoadT5 reads spiece.model and wraps it as T5Tokenizer with 100 extra ids.
func LoadT5(path string) (*T5, error) {
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	t, err := NewT5(m, DefaultExtraIDs)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %s: %w", path, err)
	}
	return t, nil
}

// NewT5 wraps a model; the model must define the pieces </s> and <pad>.
func NewT5(m *Model, extraIDs int) (*T5, error) {
	if extraIDs < 0 {
		return nil, fmt.Errorf("t5 tokenizer: negative extra_ids %d", extraIDs)
	}
	t := &T5{sp: m, extraIDs: extraIDs, special: map[string]int{}, legacy: true}
	for _, tok := range []string{"</s>", "<unk>", "<pad>"} {
		id := m.PieceToID(tok)
		if id == m.unkID && tok != "<unk>" {
			return nil, fmt.Errorf("t5 tokenizer: model has no %s piece", tok)
		}
		t.special[tok] = id
	}
	t.eos, t.pad = t.special["</s>"], t.special["<pad>"]
	return t, nil
}

// WithLegacy returns the tokenizer with transformers' `legacy` flag set
// (NewT5 gives legacy=True).
func (t *T5) WithLegacy(legacy bool) *T5 {
	c := *t
	c.legacy = legacy
	if !legacy && c.noPrefix == nil {
		// get_spm_processor: legacy=False turns off add_dummy_prefix and
		// measures how many pieces the unknown token's text becomes.
		m := *t.sp
		m.norm.spec.addDummyPrefix = false
		c.noPrefix = &m
		c.unkLen = len(m.Encode("<unk>"))
	}
	return &c
}

// Model returns the underlying SentencePiece model.
func (t *T5) Model() *Model { return t.sp }

// VocabSize is the number of token ids (pieces plus extra ids).
func (t *T5) VocabSize() int { return t.sp.Size() + t.extraIDs }

// EOS and Pad are the ids of </s> and <pad>.
func (t *T5) EOS() int { return t.eos }

// Pad is the id of <pad>.
func (t *T5) Pad() int { return t.pad }

// specialAt reports the literal special token starting at s[0], if any, its
// id, and whether it strips whitespace around itself (the <extra_id_N>
// AddedTokens have lstrip=rstrip=True; </s>, <unk>, <pad> have neither).
// Extra ids are written in canonical decimal (<extra_id_7>, not <extra_id_07>).
func (t *T5) specialAt(s string) (n, id int, strip, ok bool) {
	if s == "" || s[0] != '<' {
		return 0, 0, false, false
	}
	for tok, id := range t.special {
		if strings.HasPrefix(s, tok) {
			return len(tok), id, false, true
		}
	}
	const pre = "<extra_id_"
	if !strings.HasPrefix(s, pre) {
		return 0, 0, false, false
	}
	end := strings.IndexByte(s[len(pre):], '>')
	if end <= 0 || end > 3 {
		return 0, 0, false, false
	}
	digits := s[len(pre) : len(pre)+end]
	k, err := strconv.Atoi(digits)
	if err != nil || k < 0 || k >= t.extraIDs || strconv.Itoa(k) != digits {
		return 0, 0, false, false
	}
	return len(pre) + end + 1, t.sp.Size() - 1 + t.extraIDs - k, true, true
}

// Tokenize returns the ids of text without truncation or padding, </s>
// included (its length is the golden `length_untruncated`).
func (t *T5) Tokenize(text string) []int {
	return t.withEOS(t.pieces(text))
}

// segment is a piece of text between literal special tokens, or one of them.
type segment struct {
	text    string
	id      int // special token id, or -1
	stripLR bool
}

// split is PreTrainedTokenizer.tokenize's added-token pass: literal special
// tokens are cut out (leftmost first, as its trie), and the neighbours of a
// stripping token lose their adjacent whitespace.
func (t *T5) split(text string) []segment {
	var segs []segment
	start := 0
	for i := 0; i < len(text); {
		n, id, strip, ok := t.specialAt(text[i:])
		if !ok {
			i++
			continue
		}
		segs = append(segs, segment{text: text[start:i], id: -1}, segment{id: id, stripLR: strip})
		i += n
		start = i
	}
	segs = append(segs, segment{text: text[start:], id: -1})
	for i, s := range segs {
		if !s.stripLR {
			continue
		}
		if i > 0 {
			segs[i-1].text = strings.TrimRightFunc(segs[i-1].text, pyIsSpace)
		}
		if i+1 < len(segs) {
			segs[i+1].text = strings.TrimLeftFunc(segs[i+1].text, pyIsSpace)
		}
	}
	return segs
}

// pyIsSpace is Python's str.isspace, which str.strip uses.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || 0x1C <= r && r <= 0x1F }

// pieces tokenizes text without </s>: the added-token split, then
// SentencePiece on every other segment. In legacy mode each segment is
// encoded on its own (with the dummy prefix). Otherwise (T5Tokenizer.tokenize
// with legacy=False) "▁" is written as a space, one "▁" is prepended to the
// whole text, and a segment starting with "▁" or a space is encoded after the
// text "<unk>" whose pieces are then dropped, so that it keeps its leading
// "▁" without a dummy prefix; a lone leading "▁" before a special token is
// dropped.
func (t *T5) pieces(text string) []int {
	if t.legacy || text == "" {
		var ids []int
		for _, s := range t.split(text) {
			if s.id >= 0 {
				ids = append(ids, s.id)
			} else if s.text != "" {
				ids = append(ids, t.sp.EncodeIDs(s.text)...)
			}
		}
		return ids
	}
	text = spaceSymbol + strings.ReplaceAll(text, spaceSymbol, " ")
	var toks []Token
	special := map[int]bool{} // indices into toks that are special tokens
	for _, s := range t.split(text) {
		switch {
		case s.id >= 0:
			special[len(toks)] = true
			toks = append(toks, Token{ID: s.id})
		case s.text == "":
		case strings.HasPrefix(s.text, spaceSymbol) || strings.HasPrefix(s.text, " "):
			p := t.noPrefix.Encode("<unk>" + s.text)
			if len(p) >= t.unkLen {
				p = p[t.unkLen:]
			}
			toks = append(toks, p...)
		default:
			toks = append(toks, t.noPrefix.Encode(s.text)...)
		}
	}
	if len(toks) > 1 && !special[0] && toks[0].Text == spaceSymbol && special[1] {
		toks = toks[1:]
	}
	ids := make([]int, len(toks))
	for i, tk := range toks {
		ids[i] = tk.ID
	}
	return ids
}

// withEOS is T5Tokenizer._add_eos_if_not_present.
func (t *T5) withEOS(ids []int) []int {
	if len(ids) > 0 && ids[len(ids)-1] == t.eos {
		return ids
	}
	return append(ids, t.eos)
}

// Encode returns exactly maxLen ids: the first maxLen-1 pieces, </s>, then
// <pad> up to maxLen. maxLen must be at least 2 (with 1, transformers itself
// returns more than maxLen ids).
func (t *T5) Encode(text string, maxLen int) ([]int, error) {
	if maxLen < 2 {
		return nil, fmt.Errorf("t5 tokenizer: max_sequence_length %d: must be at least 2", maxLen)
	}
	ids := t.pieces(text)
	if len(ids) > maxLen-1 {
		ids = ids[:maxLen-1]
	}
	ids = t.withEOS(ids)
	out := make([]int, maxLen)
	n := copy(out, ids)
	for i := n; i < maxLen; i++ {
		out[i] = t.pad
	}
	return out, nil
}
