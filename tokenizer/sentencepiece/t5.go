package sentencepiece

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultExtraIDs is T5Tokenizer's extra_ids: 100 sentinel tokens
// <extra_id_0..99> numbered downwards from the top of the vocabulary.
const DefaultExtraIDs = 100

// T5 is transformers' slow T5Tokenizer with legacy=True, called as FLUX's
// HFEmbedder calls it (truncation=True, padding="max_length"):
//
//	ids = SentencePiece(segment) for each text segment between literal special
//	      tokens (</s>, <unk>, <pad>, <extra_id_N>), which map to their own ids
//	ids = ids[:maxLen-1]; append </s> unless ids already end with it
//	pad with <pad> (0) to maxLen
//
// legacy=True is what google/t5-v1_1-xxl's tokenizer config gives (it sets no
// `legacy` key); see shared/golden/t5/MANIFEST.md.
type T5 struct {
	sp       *Model
	extraIDs int
	eos, pad int
	special  map[string]int // literal special tokens split out before SentencePiece
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
	t := &T5{sp: m, extraIDs: extraIDs, special: map[string]int{}}
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

// Model returns the underlying SentencePiece model.
func (t *T5) Model() *Model { return t.sp }

// VocabSize is the number of token ids (pieces plus extra ids).
func (t *T5) VocabSize() int { return t.sp.Size() + t.extraIDs }

// EOS and Pad are the ids of </s> and <pad>.
func (t *T5) EOS() int { return t.eos }

// Pad is the id of <pad>.
func (t *T5) Pad() int { return t.pad }

// specialAt reports the literal special token starting at s[0], if any, and
// its id. Extra ids are written in canonical decimal (<extra_id_7>, not
// <extra_id_07>).
func (t *T5) specialAt(s string) (n, id int, ok bool) {
	if s == "" || s[0] != '<' {
		return 0, 0, false
	}
	for tok, id := range t.special {
		if strings.HasPrefix(s, tok) {
			return len(tok), id, true
		}
	}
	const pre = "<extra_id_"
	if !strings.HasPrefix(s, pre) {
		return 0, 0, false
	}
	end := strings.IndexByte(s[len(pre):], '>')
	if end <= 0 || end > 3 {
		return 0, 0, false
	}
	digits := s[len(pre) : len(pre)+end]
	k, err := strconv.Atoi(digits)
	if err != nil || k < 0 || k >= t.extraIDs || strconv.Itoa(k) != digits {
		return 0, 0, false
	}
	return len(pre) + end + 1, t.sp.Size() - 1 + t.extraIDs - k, true
}

// Tokenize returns the ids of text without truncation or padding, </s>
// included (its length is the golden `length_untruncated`).
func (t *T5) Tokenize(text string) []int {
	return t.withEOS(t.pieces(text))
}

// pieces splits text at literal special tokens (the leftmost match first, as
// transformers' added-token trie) and encodes the segments between them.
// Whitespace next to a special token needs no stripping: SentencePiece drops
// leading and trailing whitespace of every segment anyway.
func (t *T5) pieces(text string) []int {
	var ids []int
	seg := 0
	for i := 0; i < len(text); {
		n, id, ok := t.specialAt(text[i:])
		if !ok {
			i++
			continue
		}
		ids = append(ids, t.sp.EncodeIDs(text[seg:i])...)
		ids = append(ids, id)
		i += n
		seg = i
	}
	return append(ids, t.sp.EncodeIDs(text[seg:])...)
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
