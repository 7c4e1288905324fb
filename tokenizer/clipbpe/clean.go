package clipbpe

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Cleaning selects CLIPTokenizer's text cleaning, which depends on whether
// the Python environment could import ftfy.
type Cleaning int

const (
	// FTFY is `whitespace_clean(ftfy.fix_text(text)).lower()`, the path of
	// PuLID-FLUX (whose eva_clip imports ftfy) and of openai/CLIP.
	FTFY Cleaning = iota
	// Basic is transformers' fallback without ftfy: BasicTokenizer with
	// do_lower_case=True, strip_accents=False, do_split_on_punc=False.
	Basic
)

// pyLower is Python's str.lower: full Unicode lower-casing with the Greek
// final-sigma rule (x/text's root-locale lower-caser does both).
var pyLower = cases.Lower(language.Und)

// pyIsSpace is Python's str.isspace (and the `\s` of its re module for str
// patterns): Unicode White_Space plus the separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || 0x1C <= r && r <= 0x1F
}

// cleanFTFY is the ftfy path of CLIPTokenizer._tokenize.
func cleanFTFY(text string) string {
	return pyLower.String(whitespaceClean(fixText(text)))
}

// whitespaceClean is CLIP's whitespace_clean: every run of whitespace becomes
// one space, then the ends are stripped.
func whitespaceClean(text string) string {
	return strings.Join(strings.FieldsFunc(text, pyIsSpace), " ")
}

// cleanBasic is the no-ftfy path: `" ".join(BasicTokenizer.tokenize(text))`.
func cleanBasic(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	var b strings.Builder
	for _, r := range text {
		switch {
		// _clean_text: drop NUL, U+FFFD and every "C*" category character
		// except the whitespace controls; whitespace becomes a space.
		case r == 0 || r == 0xFFFD:
		case r == '\t' || r == '\n' || r == '\r' || r == ' ' || unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		case isPyOther(r):
		// _tokenize_chinese_chars: every CJK ideograph becomes its own word.
		case isCJK(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	words := strings.FieldsFunc(norm.NFC.String(b.String()), pyIsSpace)
	for i, w := range words {
		words[i] = pyLower.String(w)
	}
	return strings.Join(words, " ")
}

// isPyOther reports a "C*" general category as Python's unicodedata names
// them: Cc, Cf, Co, Cs (Go's unicode.C) and Cn, unassigned code points, which
// belong to no category table.
func isPyOther(r rune) bool {
	return unicode.In(r, unicode.C) ||
		!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isCJK is BasicTokenizer._is_chinese_char: the CJK Unified Ideographs blocks
// and their extensions and compatibility blocks.
func isCJK(r rune) bool {
	return 0x4E00 <= r && r <= 0x9FFF ||
		0x3400 <= r && r <= 0x4DBF ||
		0x20000 <= r && r <= 0x2A6DF ||
		0x2A700 <= r && r <= 0x2B73F ||
		0x2B740 <= r && r <= 0x2B81F ||
		0x2B820 <= r && r <= 0x2CEAF ||
		0xF900 <= r && r <= 0xFAFF ||
		0x2F800 <= r && r <= 0x2FA1F
}
