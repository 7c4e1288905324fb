package sentencepiece

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// spaceSymbol is U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible
// whitespace.
const spaceSymbol = "\u2581"

type normalizerSpec struct {
	name                   string
	charsmap               []byte
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
}

// normalizer applies the model's NormalizerSpec. The normalization rules
// themselves (for T5's `nmt_nfkc`: NFKC plus the NMT whitespace/control
// rules) are data in the model file: the precompiled charsmap is a
// Darts-clone double-array trie over UTF-8 byte strings whose values index
// NUL-terminated replacement strings. With no charsmap, text is left as is,
// as the reference Normalizer does (the spec's name is used only in training).
type normalizer struct {
	spec           normalizerSpec
	whitespaceLast bool
	trie           []uint32 // double-array units
	replacements   []byte   // NUL-terminated replacement strings
}

func newNormalizer(spec normalizerSpec, treatWhitespaceAsSuffix bool) (normalizer, error) {
	n := normalizer{spec: spec, whitespaceLast: treatWhitespaceAsSuffix}
	if len(spec.charsmap) == 0 {
		return n, nil
	}
	// Layout (Normalizer::DecodePrecompiledCharsMap): uint32 LE trie size in
	// bytes, the trie units, then the replacement strings.
	blob := spec.charsmap
	if len(blob) <= 4 {
		return n, errors.New("precompiled charsmap is broken: shorter than its header")
	}
	trieSize := uint64(binary.LittleEndian.Uint32(blob))
	blob = blob[4:]
	if trieSize > uint64(len(blob)) || trieSize%4 != 0 || trieSize == 0 {
		return n, fmt.Errorf("precompiled charsmap is broken: trie size %d with %d bytes left", trieSize, len(blob))
	}
	n.trie = make([]uint32, trieSize/4)
	for i := range n.trie {
		n.trie[i] = binary.LittleEndian.Uint32(blob[4*i:])
	}
	n.replacements = blob[trieSize:]
	return n, nil
}

// Darts-clone unit fields (darts.h, DoubleArrayUnit).
func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// maxTrieResults is kMaxTrieResultsSize in normalizer.cc: only the first
// (shortest) 32 prefix matches are considered.
const maxTrieResults = 32

// longestRule returns the longest prefix of s that has a normalization rule
// and the rule's replacement, or ok=false. It is Darts' commonPrefixSearch
// followed by the longest-match choice of Normalizer::NormalizePrefix.
func (n *normalizer) longestRule(s string) (length int, repl string, ok bool) {
	if len(n.trie) == 0 {
		return 0, "", false
	}
	pos := unitOffset(n.trie[0])
	found := 0
	var value uint32
	for i := 0; i < len(s) && found < maxTrieResults; i++ {
		c := uint32(s[i])
		pos ^= c
		if int(pos) >= len(n.trie) {
			break
		}
		u := n.trie[pos]
		if unitLabel(u) != c {
			break
		}
		pos ^= unitOffset(u)
		if int(pos) >= len(n.trie) {
			break
		}
		if unitHasLeaf(u) {
			found++
			length, value = i+1, unitValue(n.trie[pos])
		}
	}
	if length == 0 || int(value) >= len(n.replacements) {
		return 0, "", false
	}
	r := n.replacements[value:]
	if end := bytes.IndexByte(r, 0); end >= 0 {
		r = r[:end]
	}
	return length, string(r), true
}

// prefix normalizes the first character (or longest rule match) of s and
// returns the replacement and the number of input bytes consumed
// (Normalizer::NormalizePrefix). A malformed UTF-8 byte becomes U+FFFD and
// consumes one byte.
func (n *normalizer) prefix(s string) (string, int) {
	if l, r, ok := n.longestRule(s); ok {
		return r, l
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return "\uFFFD", 1
	}
	return s[:size], size
}

// normalize returns the text the unigram model segments
// (Normalizer::Normalize): rule-normalized, leading/trailing/duplicate
// whitespace removed, a dummy "▁" prefix added, spaces escaped as "▁".
// All-whitespace input gives "".
func (n *normalizer) normalize(s string) string {
	spec := n.spec
	if spec.removeExtraWhitespaces {
		for s != "" {
			r, l := n.prefix(s)
			if r != " " {
				break
			}
			s = s[l:]
		}
	}
	if s == "" {
		return ""
	}
	space := " "
	if spec.escapeWhitespaces {
		space = spaceSymbol
	}
	var b strings.Builder
	b.Grow(len(s) * 3)
	if !n.whitespaceLast && spec.addDummyPrefix {
		b.WriteString(space)
	}
	prevSpace := spec.removeExtraWhitespaces
	for s != "" {
		r, l := n.prefix(s)
		s = s[l:]
		if prevSpace {
			r = strings.TrimLeft(r, " ")
		}
		if r != "" {
			if spec.escapeWhitespaces {
				b.WriteString(strings.ReplaceAll(r, " ", spaceSymbol))
			} else {
				b.WriteString(r)
			}
			prevSpace = strings.HasSuffix(r, " ")
		}
		if !spec.removeExtraWhitespaces {
			prevSpace = false
		}
	}
	out := b.String()
	if spec.removeExtraWhitespaces {
		for strings.HasSuffix(out, space) {
			out = out[:len(out)-len(space)]
		}
	}
	if n.whitespaceLast && spec.addDummyPrefix {
		out += space
	}
	return out
}
