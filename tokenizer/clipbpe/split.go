package clipbpe

import (
	"unicode"
	"unicode/utf8"
)

// splitWords is CLIPTokenizer's pre-tokenization, re.findall of
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// (the `regex` module, IGNORECASE), written out: at each position the first
// alternative that matches wins; whitespace matches nothing and is skipped.
// Every number character is a word of its own.
func splitWords(text string) []string {
	var words []string
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		n := 0
		switch {
		case r == '<':
			n = literalLen(text[i:], "<|startoftext|>", "<|endoftext|>")
			if n == 0 {
				n = symbolRun(text[i:])
			}
		case r == '\'':
			n = literalLen(text[i:], "'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
			if n == 0 {
				n = symbolRun(text[i:])
			}
		case unicode.IsLetter(r):
			n = size
			for i+n < len(text) {
				r, s := utf8.DecodeRuneInString(text[i+n:])
				if !unicode.IsLetter(r) {
					break
				}
				n += s
			}
		case unicode.IsNumber(r):
			n = size
		case pyIsSpace(r):
			i += size
			continue
		default:
			n = symbolRun(text[i:])
		}
		words = append(words, text[i:i+n])
		i += n
	}
	return words
}

// symbolRun is the length of the [^\s\p{L}\p{N}]+ match at the start of s.
func symbolRun(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if pyIsSpace(r) || unicode.IsLetter(r) || unicode.IsNumber(r) {
			break
		}
		n += size
	}
	return n
}

// literalLen returns the byte length of the first alternative that s starts
// with, compared case-insensitively by simple case folding as IGNORECASE does
// (so "'ſ" matches "'s"), or 0.
func literalLen(s string, alts ...string) int {
	for _, alt := range alts {
		if n := foldPrefix(s, alt); n > 0 {
			return n
		}
	}
	return 0
}

// foldPrefix reports the byte length of the prefix of s that equals the ASCII
// pattern under simple case folding, or 0.
func foldPrefix(s, pattern string) int {
	n := 0
	for _, p := range pattern {
		if n >= len(s) {
			return 0
		}
		r, size := utf8.DecodeRuneInString(s[n:])
		if !foldEqual(r, p) {
			return 0
		}
		n += size
	}
	return n
}

func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
