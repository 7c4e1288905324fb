// Package clipbpe is CLIP's byte-level BPE tokenizer (openai/CLIP's
// SimpleTokenizer as transformers' slow CLIPTokenizer implements it), the
// tokenizer of FLUX's CLIP-L text encoder: text cleaning, lower-casing, a
// regex pre-split, byte-to-unicode mapping, BPE merges with an end-of-word
// marker, then <|startoftext|> ... <|endoftext|> padded to 77 tokens.
package clipbpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"
)

// Special tokens of the CLIP vocabulary. <|endoftext|> is also the unknown and
// the padding token.
const (
	StartOfText = "<|startoftext|>"
	EndOfText   = "<|endoftext|>"
)

// DefaultLength is CLIP's context length.
const DefaultLength = 77

// maxMerges is how many merges.txt lines CLIPTokenizer reads after the
// version header: 49152 - 256 - 2 (all of them in the real file).
const maxMerges = 49152 - 256 - 2

// wordEnd marks the last symbol of a word.
const wordEnd = "</w>"

// maxCache bounds the word cache; it is emptied when full.
const maxCache = 1 << 16

type pair [2]string

// Tokenizer is a loaded CLIP BPE vocabulary. It is safe for concurrent use
// once Cleaning is set.
type Tokenizer struct {
	// Cleaning selects the text cleaning (FTFY unless changed).
	Cleaning Cleaning

	vocab         map[string]int
	ranks         map[pair]int
	bos, eos, pad int

	mu    sync.Mutex
	cache map[string][]int
}

// Load reads vocab.json and merges.txt from dir.
func Load(dir string) (*Tokenizer, error) {
	vocab, err := os.ReadFile(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, fmt.Errorf("clipbpe: %w", err)
	}
	merges, err := os.ReadFile(filepath.Join(dir, "merges.txt"))
	if err != nil {
		return nil, fmt.Errorf("clipbpe: %w", err)
	}
	t, err := New(vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("clipbpe: load %s: %w", dir, err)
	}
	return t, nil
}

// New builds a tokenizer from the contents of vocab.json (token -> id) and
// merges.txt (a version line, then one "left right" merge per line, highest
// priority first).
func New(vocabJSON, merges []byte) (*Tokenizer, error) {
	t := &Tokenizer{ranks: map[pair]int{}, cache: map[string][]int{}}
	if err := json.Unmarshal(vocabJSON, &t.vocab); err != nil {
		return nil, fmt.Errorf("vocab.json: %w", err)
	}
	for tok, id := range t.vocab {
		if id < 0 {
			return nil, fmt.Errorf("vocab.json: token %q has negative id %d", tok, id)
		}
	}
	var ok bool
	if t.bos, ok = t.vocab[StartOfText]; !ok {
		return nil, errors.New("vocab.json: no " + StartOfText)
	}
	if t.eos, ok = t.vocab[EndOfText]; !ok {
		return nil, errors.New("vocab.json: no " + EndOfText)
	}
	t.pad = t.eos

	// The reference opens both files as UTF-8 text and fails on anything
	// else; json.Unmarshal would quietly turn bad bytes into U+FFFD, and
	// merges of mangled symbols would quietly never apply.
	if !utf8.Valid(vocabJSON) {
		return nil, errors.New("vocab.json: not UTF-8 text")
	}
	if line, ok := invalidLine(merges); ok {
		return nil, fmt.Errorf("merges.txt: line %d is not UTF-8 text", line)
	}
	lines := strings.Split(strings.TrimSpace(string(merges)), "\n")
	if len(lines) < 2 {
		return nil, errors.New("merges.txt: no merges")
	}
	lines = lines[1:] // "#version: 0.2"
	if len(lines) > maxMerges {
		lines = lines[:maxMerges]
	}
	for rank, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 {
			// A malformed line can never match a symbol pair; the reference
			// keeps it as a useless rank, so ranks stay line numbers.
			continue
		}
		t.ranks[pair{f[0], f[1]}] = rank // a repeated merge keeps its last rank, as dict() does
	}
	return t, nil
}

// invalidLine returns the 1-based number of the first line of data that is
// not valid UTF-8.
func invalidLine(data []byte) (int, bool) {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if !utf8.Valid(line) {
			return i + 1, true
		}
	}
	return 0, false
}

// VocabSize is one more than the largest id.
func (t *Tokenizer) VocabSize() int {
	n := 0
	for _, id := range t.vocab {
		n = max(n, id+1)
	}
	return n
}

// BOS, EOS and Pad are the ids of <|startoftext|> and <|endoftext|> (which is
// also the padding token).
func (t *Tokenizer) BOS() int { return t.bos }

// EOS is the id of <|endoftext|>.
func (t *Tokenizer) EOS() int { return t.eos }

// Pad is the padding id (<|endoftext|>).
func (t *Tokenizer) Pad() int { return t.pad }

// byteEncoder is GPT-2's bytes_to_unicode: printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100 onwards, so every byte string is
// a string of visible characters and BPE never sees a space or control.
var byteEncoder = func() [256]string {
	var enc [256]string
	n := 0
	for b := 0; b < 256; b++ {
		if '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF {
			enc[b] = string(rune(b))
		} else {
			enc[b] = string(rune(256 + n))
			n++
		}
	}
	return enc
}()

// wordIDs returns the ids of one pre-tokenized word.
func (t *Tokenizer) wordIDs(word string) []int {
	// CLIPTokenizer's bpe cache is seeded with the two special tokens, which
	// therefore map to themselves instead of being split.
	if word == StartOfText {
		return []int{t.bos}
	}
	if word == EndOfText {
		return []int{t.eos}
	}
	t.mu.Lock()
	ids, ok := t.cache[word]
	t.mu.Unlock()
	if ok {
		return ids
	}
	for _, sym := range t.bpe(word) {
		id, ok := t.vocab[sym]
		if !ok {
			id = t.eos // unknown token
		}
		ids = append(ids, id)
	}
	t.mu.Lock()
	if len(t.cache) >= maxCache {
		clear(t.cache)
	}
	t.cache[word] = ids
	t.mu.Unlock()
	return ids
}

// bpe splits a word into its byte symbols (the last one carrying "</w>") and
// repeatedly merges the adjacent pair with the lowest merge rank, every
// non-overlapping occurrence left to right, until no pair has a rank.
func (t *Tokenizer) bpe(word string) []string {
	syms := make([]string, 0, len(word))
	for i := 0; i < len(word); i++ {
		syms = append(syms, byteEncoder[word[i]])
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1] += wordEnd
	for len(syms) > 1 {
		best, bestRank := pair{}, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := t.ranks[pair{syms[i], syms[i+1]}]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = pair{syms[i], syms[i+1]}, r
			}
		}
		if bestRank < 0 {
			break
		}
		merged := syms[:0:0]
		for i := 0; i < len(syms); i++ {
			if i+1 < len(syms) && syms[i] == best[0] && syms[i+1] == best[1] {
				merged = append(merged, best[0]+best[1])
				i++
			} else {
				merged = append(merged, syms[i])
			}
		}
		syms = merged
	}
	return syms
}

// clean applies the selected text cleaning.
func (t *Tokenizer) clean(text string) string {
	if t.Cleaning == Basic {
		return cleanBasic(text)
	}
	return cleanFTFY(text)
}

// pieces is PreTrainedTokenizer.tokenize + convert_tokens_to_ids: literal
// <|startoftext|> / <|endoftext|> in the raw text are split out first (exact
// case) and map to their ids; every other segment is cleaned, pre-split and
// BPE-encoded on its own.
func (t *Tokenizer) pieces(text string) []int {
	var ids []int
	for text != "" {
		i, tok := nextSpecial(text)
		if i < 0 {
			break
		}
		ids = t.appendSegment(ids, text[:i])
		if tok == StartOfText {
			ids = append(ids, t.bos)
		} else {
			ids = append(ids, t.eos)
		}
		text = text[i+len(tok):]
	}
	return t.appendSegment(ids, text)
}

func nextSpecial(s string) (int, string) {
	a, b := strings.Index(s, StartOfText), strings.Index(s, EndOfText)
	switch {
	case a < 0 && b < 0:
		return -1, ""
	case b < 0 || a >= 0 && a < b:
		return a, StartOfText
	}
	return b, EndOfText
}

func (t *Tokenizer) appendSegment(ids []int, seg string) []int {
	if seg == "" {
		return ids
	}
	for _, w := range splitWords(t.clean(seg)) {
		ids = append(ids, t.wordIDs(w)...)
	}
	return ids
}

// Tokenize returns <|startoftext|>, the ids of text and <|endoftext|>, with
// no truncation or padding.
func (t *Tokenizer) Tokenize(text string) []int {
	ids := append([]int{t.bos}, t.pieces(text)...)
	return append(ids, t.eos)
}

// Encode returns exactly maxLen ids as FLUX calls CLIPTokenizer
// (truncation=True, padding="max_length"): <|startoftext|>, the first
// maxLen-2 text ids, <|endoftext|>, then <|endoftext|> padding. maxLen is 77
// for CLIP-L; it must be at least 2.
func (t *Tokenizer) Encode(text string, maxLen int) ([]int, error) {
	if maxLen < 2 {
		return nil, fmt.Errorf("clipbpe: max length %d: must be at least 2", maxLen)
	}
	ids := t.pieces(text)
	if len(ids) > maxLen-2 {
		ids = ids[:maxLen-2]
	}
	out := make([]int, maxLen)
	out[0] = t.bos
	n := 1 + copy(out[1:], ids)
	out[n] = t.eos
	for i := n + 1; i < maxLen; i++ {
		out[i] = t.pad
	}
	return out, nil
}
