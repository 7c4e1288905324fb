package clipbpe

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// This file follows ftfy 6.3.1's fix_text with its default TextFixerConfig,
// which is what CLIPTokenizer calls when ftfy is importable (always, in
// PuLID-FLUX). Each fixer carries ftfy's name and runs in ftfy's order, one
// line (segment) at a time: unescape_html, fix_encoding (mojibake repair, in
// mojibake.go with the badness heuristic in badness.go), fix_c1_controls,
// fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
// remove_terminal_escapes, remove_control_chars, NFC, repeated until the
// segment stops changing.
//
// fix_encoding is reproduced in full: the badness regex, the ten single-byte
// codecs in ftfy's order (Latin-1, sloppy Windows-1252/1251/1250/1253/1254/
// 1257, ISO-8859-2, Mac Roman, CP437; tables from x/text's charmaps plus
// ftfy's sloppy rules), restore_byte_a0, replace_lossy_sequences, the
// utf-8-variants decoder (CESU-8, Java's C0 80, and the quirks of its `$`),
// decode_inconsistent_utf8, the Latin-1 -> Windows-1252 reading and
// fix_c1_controls.
//
// What differs from the Python (edge cases only):
//   - Input bytes that are not valid UTF-8 become U+FFFD first (a Python str
//     cannot hold them); for the same reason fix_surrogates has nothing to do.
//   - Python's Unicode-aware \s and \w in the badness regex are spelled out
//     as White_Space and letter/number/underscore classes; NFC and those
//     classes use Go's Unicode tables (15.0) where Python 3.11 has 14.0.
//   - The "repeat until unchanged" loops are bounded (maxFixIterations,
//     maxEncodingSteps) where ftfy would loop for ever on a cycle.

// maxFixIterations bounds fix_and_explain's "repeat until nothing changes"
// loop; every fixer shortens or keeps the text, so real inputs settle in two or
// three rounds and the bound only guards against a pathological cycle.
const maxFixIterations = 64

// maxDecodeLength is TextFixerConfig.max_decode_length, in code points.
const maxDecodeLength = 1_000_000

// fixText is ftfy.fix_text (see above): the text is fixed one line (through
// its "\n") at a time. HTML entities are decoded (unescape_html="auto")
// until a line with a literal "<" is seen; from that line on they are kept,
// as ftfy's config change sticks for the rest of the text.
func fixText(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	var out strings.Builder
	unescape := true
	for text != "" {
		end := strings.IndexByte(text, '\n') + 1
		if end == 0 {
			end = len(text)
		}
		if n := utf8.RuneCountInString(text[:end]); n > maxDecodeLength {
			end = runeOffset(text, maxDecodeLength)
		}
		seg := text[:end]
		text = text[end:]
		if unescape && strings.Contains(seg, "<") {
			unescape = false
		}
		out.WriteString(fixSegment(seg, unescape))
	}
	return out.String()
}

func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// fixSegment is ftfy.fix_and_explain: apply the fixers in ftfy's order and
// repeat until the text no longer changes.
func fixSegment(text string, unescape bool) string {
	for range maxFixIterations {
		orig := text
		if unescape {
			text = unescapeHTML(text)
		}
		text = fixEncoding(text)
		text = fixC1Controls(text)
		text = fixLatinLigatures(text)
		text = fixCharacterWidth(text)
		text = uncurlQuotes(text)
		text = fixLineBreaks(text)
		// fix_surrogates has nothing to do: a Go string cannot hold
		// surrogate code points (malformed bytes became U+FFFD above).
		text = removeTerminalEscapes(text)
		text = removeControlChars(text)
		text = norm.NFC.String(text)
		if text == orig {
			break
		}
	}
	return text
}

// unescapeHTML is fixes.unescape_html: every `&#?[0-9A-Za-z]{1,24};` is
// replaced when it is a complete HTML5 named reference, an all-caps spelling
// of a lower-case one (&EACUTE; -> É), or a numeric reference whose decoding
// contains no ";".
func unescapeHTML(text string) string {
	if !strings.Contains(text, "&") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '&')
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		text = text[i:]
		n := entityLen(text)
		if n == 0 {
			b.WriteByte('&')
			text = text[1:]
			continue
		}
		b.WriteString(unescapeEntity(text[:n]))
		text = text[n:]
	}
}

// entityLen is the length of the HTML_ENTITY_RE match at the start of s, or 0.
func entityLen(s string) int {
	i := 1
	if i < len(s) && s[i] == '#' {
		i++
	}
	start := i
	for i < len(s) && i-start < 24 && isASCIIAlnum(s[i]) {
		i++
	}
	if i == start || i >= len(s) || s[i] != ';' {
		return 0
	}
	return i + 1
}

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

var upper = cases.Upper(language.Und)

// unescapeEntity is ftfy's _unescape_fixup for one matched "&...;".
func unescapeEntity(ent string) string {
	if strings.HasPrefix(ent, "&#") {
		r, ok := numericCharRef(ent[2 : len(ent)-1])
		if !ok || strings.Contains(r, ";") {
			return ent
		}
		return r
	}
	if r, ok := namedEntity(ent); ok {
		return r
	}
	// HTML_ENTITIES also holds "&NAME;" for every lower-case entity "&name;"
	// whose all-caps form means nothing to html.unescape, decoded as the
	// upper-case of the character.
	name := ent[1 : len(ent)-1]
	lower := strings.ToLower(name)
	if strings.ToUpper(lower) != name || lower == name {
		return ent
	}
	if html.UnescapeString(ent) != ent {
		return ent
	}
	if r, ok := namedEntity("&" + lower + ";"); ok {
		return upper.String(r)
	}
	return ent
}

// namedEntity decodes "&name;" only when "name;" itself is an HTML5 entity
// (html.UnescapeString would also decode a legacy prefix such as "&amp" in
// "&ampx;", which ftfy leaves alone).
func namedEntity(ent string) (string, bool) {
	r := html.UnescapeString(ent)
	if r == ent || (strings.HasSuffix(r, ";") && r != ";") {
		return "", false
	}
	return r, true
}

// numericCharRef is Python's html.unescape for "&#<ref>;" when the whole
// reference is numeric (ftfy keeps the text when only a prefix decodes).
func numericCharRef(ref string) (string, bool) {
	base := 10
	digits := ref
	if ref != "" && (ref[0] == 'x' || ref[0] == 'X') {
		base, digits = 16, ref[1:]
	}
	if digits == "" {
		return "", false
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		ok := '0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')
		if !ok {
			return "", false
		}
	}
	num, err := strconv.ParseUint(digits, base, 64)
	if err != nil || num > unicode.MaxRune {
		// Out of range (including overflow): U+FFFD, as html.unescape.
		return "\uFFFD", true
	}
	cp := rune(num)
	switch {
	case cp == 0:
		return "\uFFFD", true
	case cp == 0x0D:
		return "\r", true
	case 0x80 <= cp && cp <= 0x9F:
		// _invalid_charrefs: the Windows-1252 reading of C1 codes.
		return string(sloppyWindows1252(byte(cp))), true
	case 0xD800 <= cp && cp <= 0xDFFF:
		return "\uFFFD", true
	case invalidCodepoint(cp):
		return "", true
	}
	return string(cp), true
}

// invalidCodepoint is html's _invalid_codepoints (dropped by html.unescape).
// C1 codes are handled before (they are in _invalid_charrefs, which wins).
func invalidCodepoint(cp rune) bool {
	switch {
	case 0x01 <= cp && cp <= 0x08, cp == 0x0B, 0x0E <= cp && cp <= 0x1F, cp == 0x7F:
		return true
	case 0xFDD0 <= cp && cp <= 0xFDEF:
		return true
	case cp&0xFFFE == 0xFFFE: // U+xxFFFE and U+xxFFFF of every plane
		return true
	}
	return false
}

// sloppyWindows1252 decodes one byte as ftfy's "sloppy-windows-1252": the
// five bytes Windows-1252 leaves undefined map to the same-numbered code point.
func sloppyWindows1252(b byte) rune {
	r := charmap.Windows1252.DecodeByte(b)
	if r == utf8.RuneError {
		return rune(b)
	}
	return r
}

// fixC1Controls is fixes.fix_c1_controls: C1 controls (U+0080..U+009F) read
// as their Windows-1252 characters.
func fixC1Controls(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		if 0x80 <= r && r <= 0x9F {
			return string(sloppyWindows1252(byte(r))), true
		}
		return "", false
	})
}

// latinLigatures is chardata.LIGATURES.
var latinLigatures = map[rune]string{
	'Ĳ': "IJ", 'ĳ': "ij", 'ŉ': "ʼn",
	'Ǳ': "DZ", 'ǲ': "Dz", 'ǳ': "dz", 'Ǆ': "DŽ", 'ǅ': "Dž", 'ǆ': "dž",
	'Ǉ': "LJ", 'ǈ': "Lj", 'ǉ': "lj", 'Ǌ': "NJ", 'ǋ': "Nj", 'ǌ': "nj",
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "ſt", 'ﬆ': "st",
}

func fixLatinLigatures(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		s, ok := latinLigatures[r]
		return s, ok
	})
}

// fixCharacterWidth is fixes.fix_character_width: WIDTH_MAP sends U+3000 to a
// space and every character of U+FF01..U+FFEF to its NFKC form.
func fixCharacterWidth(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		if r == 0x3000 {
			return " ", true
		}
		if 0xFF01 <= r && r < 0xFFF0 {
			if s := norm.NFKC.String(string(r)); s != string(r) {
				return s, true
			}
		}
		return "", false
	})
}

// uncurlQuotes is fixes.uncurl_quotes (SINGLE_QUOTE_RE, DOUBLE_QUOTE_RE).
func uncurlQuotes(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		switch {
		case r == 0x02BC || 0x2018 <= r && r <= 0x201B:
			return "'", true
		case 0x201C <= r && r <= 0x201F:
			return `"`, true
		}
		return "", false
	})
}

// fixLineBreaks is fixes.fix_line_breaks.
func fixLineBreaks(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return mapRunes(text, func(r rune) (string, bool) {
		switch r {
		case '\r', 0x2028, 0x2029, 0x85:
			return "\n", true
		}
		return "", false
	})
}

// removeTerminalEscapes is fixes.remove_terminal_escapes: ANSI_RE
// "\x1b\[((?:\d|;)*)([a-zA-Z])" (\d being any Unicode decimal digit).
func removeTerminalEscapes(text string) string {
	if !strings.Contains(text, "\x1b[") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "\x1b[")
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		j := i + 2
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if r != ';' && !unicode.Is(unicode.Nd, r) {
				break
			}
			j += size
		}
		if j < len(text) && ('a' <= text[j] && text[j] <= 'z' || 'A' <= text[j] && text[j] <= 'Z') {
			text = text[j+1:]
			continue
		}
		b.WriteByte(0x1b)
		text = text[i+1:]
	}
}

// removeControlChars is fixes.remove_control_chars (CONTROL_CHARS).
func removeControlChars(text string) string {
	return mapRunes(text, func(r rune) (string, bool) {
		switch {
		case r <= 0x08, r == 0x0B, 0x0E <= r && r <= 0x1F, r == 0x7F,
			0x206A <= r && r <= 0x206F, r == 0xFEFF, 0xFFF9 <= r && r <= 0xFFFC:
			return "", true
		}
		return "", false
	})
}

// mapRunes replaces every rune for which f reports true by f's string,
// returning text itself when nothing changes.
func mapRunes(text string, f func(rune) (string, bool)) string {
	for i, r := range text {
		if _, ok := f(r); !ok {
			continue
		}
		var b strings.Builder
		b.Grow(len(text))
		b.WriteString(text[:i])
		for _, r := range text[i:] {
			if s, ok := f(r); ok {
				b.WriteString(s)
			} else {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return text
}
