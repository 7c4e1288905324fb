package clipbpe

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// This file is ftfy 6.3.1's fix_encoding (ftfy/__init__.py
// fix_encoding_and_explain and its helpers in fixes.py, chardata.py and
// bad_codecs): mojibake repair. Text that the badness heuristic flags is
// re-encoded in each legacy single-byte codec it fits and decoded as UTF-8;
// the first decoding that succeeds wins, and the step repeats until the text
// stops changing (so double-encoded mojibake unwinds one layer per step).

// singleByte is one of ftfy's single-byte codecs, as Python's charmap codecs
// implement them: a byte -> character table, and its inverse for encoding.
type singleByte struct {
	name   string
	decode [256]rune
	encode map[rune]byte
	// sloppy codecs (ftfy's "sloppy-windows-125x") decode the bytes their
	// codepage leaves undefined as the same-numbered code point, and use byte
	// 0x1A for U+FFFD: a character lost to an earlier strict decoding.
	sloppy bool
}

// newSingleByte builds the table of cm (nil: Latin-1). Undefined bytes become
// the same-numbered code point: that is the sloppy rule, and it is also what
// Python's ISO-8859-2 does with 0x80..0x9F, where x/text's table has none.
func newSingleByte(name string, cm *charmap.Charmap, sloppy bool) *singleByte {
	c := &singleByte{name: name, encode: make(map[rune]byte, 256), sloppy: sloppy}
	for b := range 256 {
		r := rune(b)
		if cm != nil {
			if d := cm.DecodeByte(byte(b)); d != utf8.RuneError {
				r = d
			}
		}
		c.decode[b] = r
	}
	if sloppy {
		c.decode[0x1A] = utf8.RuneError
	}
	for b := 255; b >= 0; b-- {
		c.encode[c.decode[b]] = byte(b)
	}
	return c
}

// encodeText is text.encode(codec), reporting false where chardata's
// possible_encoding would: a character outside ASCII-without-0x1A and outside
// the characters of bytes 0x80..0xFF and 0x1A.
func (c *singleByte) encodeText(text string) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if r < 0x80 && r != 0x1A {
			out = append(out, byte(r))
			continue
		}
		b, ok := c.encode[r]
		if !ok || (b < 0x80 && b != 0x1A) {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

// The codecs in the order fix_encoding tries them (chardata.CHARMAP_ENCODINGS).
var (
	latin1Codec = newSingleByte("latin-1", nil, false)
	macRoman    = newSingleByte("macroman", charmap.Macintosh, false)
	codecs      = []*singleByte{
		latin1Codec,
		newSingleByte("sloppy-windows-1252", charmap.Windows1252, true),
		newSingleByte("sloppy-windows-1251", charmap.Windows1251, true),
		newSingleByte("sloppy-windows-1250", charmap.Windows1250, true),
		newSingleByte("sloppy-windows-1253", charmap.Windows1253, true),
		newSingleByte("sloppy-windows-1254", charmap.Windows1254, true),
		newSingleByte("sloppy-windows-1257", charmap.Windows1257, true),
		newSingleByte("iso-8859-2", charmap.ISO8859_2, false),
		macRoman,
		newSingleByte("cp437", charmap.CodePage437, false),
	}
)

// maxEncodingSteps bounds fix_encoding's "repeat until unchanged" loop. Each
// successful step removes a layer of mojibake (the text gets shorter) or
// replaces C1 controls, so real text settles in a few steps; the bound only
// guards against a cycle, where ftfy itself would never return.
const maxEncodingSteps = 32

// fixEncoding is ftfy.fix_encoding with the default configuration.
func fixEncoding(text string) string {
	for range maxEncodingSteps {
		fixed := fixEncodingStep(text)
		if fixed == text {
			break
		}
		text = fixed
	}
	return text
}

// fixEncodingStep is _fix_encoding_one_step_and_explain.
func fixEncodingStep(text string) string {
	if isASCII(text) || !isBad(text) {
		return text
	}
	latin1Possible := false
	for _, c := range codecs {
		b, ok := c.encodeText(text)
		if !ok {
			continue
		}
		if c == latin1Codec {
			latin1Possible = true
		}
		// A space where UTF-8 needs byte 0xA0 (Mac Roman is left out: there
		// the pattern would match an en dash and a space).
		if c != macRoman && hasAlteredUTF8(b) {
			b = restoreByteA0(b)
		}
		if c.sloppy {
			b = replaceLossySequences(b)
		}
		var fixed string
		if bytes.IndexByte(b, 0xED) >= 0 || bytes.IndexByte(b, 0xC0) >= 0 {
			fixed, ok = decodeUTF8Variants(b)
		} else {
			fixed, ok = string(b), utf8.Valid(b)
		}
		if ok {
			return fixed
		}
	}
	// Mojibake embedded in text that no single codec explains.
	if utf8DetectorFind(text) {
		if fixed := decodeInconsistentUTF8(text); fixed != text {
			return fixed
		}
	}
	// Text that fits Latin-1 but holds C1 controls: Windows-1252 misread as
	// Latin-1. (ftfy then checks "windows-1252" among the possible codecs,
	// which never holds since it only tries the sloppy variant.) The strict
	// codec fails on its five undefined bytes.
	if latin1Possible {
		if fixed, ok := latin1AsWindows1252(text); ok && fixed != text {
			return fixed
		}
	}
	if strings.ContainsFunc(text, isC1) {
		return fixC1Controls(text)
	}
	return text
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isC1(r rune) bool { return 0x80 <= r && r <= 0x9F }

// latin1AsWindows1252 is text.encode("latin-1").decode("windows-1252") with
// Python's strict codec (text is known to fit Latin-1).
func latin1AsWindows1252(text string) (string, bool) {
	var b strings.Builder
	for _, r := range text {
		if isC1(r) {
			r = charmap.Windows1252.DecodeByte(byte(r))
			if r == utf8.RuneError {
				return "", false
			}
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// contByte: a UTF-8 continuation byte other than 0x85 and 0xA0, the two a
// Windows program may have turned into "..." or a space.
func contByte(c byte) bool {
	return 0x80 <= c && c <= 0xBF && c != 0x85 && c != 0xA0
}

func anyCont(c byte) bool { return 0x80 <= c && c <= 0xBF }

// alteredUTF8At is the length of chardata.ALTERED_UTF8_RE's match at b[i:]
// (0: none): a UTF-8 sequence that would be valid if a space were 0xA0.
// The two-byte leads are those for which 0xA0 makes a likely character
// (U+A0, à, Š, Π, Р, ٠); three-byte leads 0xE2/0xE3 allow the space right
// after the lead, 0xE0..0xE3 after the first continuation; four-byte
// sequences must start with 0xF0.
func alteredUTF8At(b []byte, i int) int {
	n := len(b) - i
	at := func(k int) byte { return b[i+k] }
	switch c := at(0); {
	case c == 0xC2 || c == 0xC3 || c == 0xC5 || c == 0xCE || c == 0xD0 || c == 0xD9:
		if n >= 2 && at(1) == ' ' {
			return 2
		}
	case 0xE0 <= c && c <= 0xE3:
		if n >= 3 && (c == 0xE2 || c == 0xE3) && at(1) == ' ' && contByte(at(2)) {
			return 3
		}
		if n >= 3 && contByte(at(1)) && at(2) == ' ' {
			return 3
		}
	case c == 0xF0:
		if n >= 4 {
			spaces, conts := 0, 0
			for k := 1; k < 4; k++ {
				switch {
				case at(k) == ' ':
					spaces++
				case anyCont(at(k)):
					conts++
				}
			}
			if spaces == 1 && conts == 2 {
				return 4
			}
		}
	}
	return 0
}

func hasAlteredUTF8(b []byte) bool {
	for i := range b {
		if alteredUTF8At(b, i) > 0 {
			return true
		}
	}
	return false
}

// aGraveWord reports fixes.A_GRAVE_WORD_RE at b[i:]: "Ã " standing for the
// French word "à", except before a second space or the Portuguese "às",
// "àquele", "àquela", "àquilo", which are written without a space.
func aGraveWord(b []byte, i int) bool {
	if b[i] != 0xC3 || i+1 >= len(b) || b[i+1] != ' ' {
		return false
	}
	rest := b[i+2:]
	for _, p := range []string{" ", "quele", "quela", "quilo", "s "} {
		if bytes.HasPrefix(rest, []byte(p)) {
			return false
		}
	}
	return true
}

// restoreByteA0 is fixes.restore_byte_a0: put byte 0xA0 back where a space
// replaced it inside a UTF-8 sequence; "Ã " keeps its space as well ("à la").
func restoreByteA0(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		if aGraveWord(b, i) {
			out = append(out, 0xC3, 0xA0, ' ')
			i += 2
			continue
		}
		out = append(out, b[i])
		i++
	}
	b = out
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		n := alteredUTF8At(b, i)
		if n == 0 {
			out = append(out, b[i])
			i++
			continue
		}
		for _, c := range b[i : i+n] {
			if c == ' ' {
				c = 0xA0
			}
			out = append(out, c)
		}
		i += n
	}
	return out
}

// lossyAt is the length of chardata.LOSSY_UTF8_RE's match at b[i:] (0:
// none): a UTF-8 (or CESU-8) sequence some of whose continuation bytes were
// lost, shown by byte 0x1A (U+FFFD in a sloppy codec) or, once per sequence,
// by '?'; or a lone 0x1A.
func lossyAt(b []byte, i int) int {
	n := len(b) - i
	at := func(k int) byte { return b[i+k] }
	sub := func(c byte) bool { return c == 0x1A }
	subQ := func(c byte) bool { return c == 0x1A || c == '?' }
	subCont := func(c byte) bool { return c == 0x1A || anyCont(c) }
	subQCont := func(c byte) bool { return c == 0x1A || c == '?' || anyCont(c) }
	in := func(c, lo, hi byte) bool { return lo <= c && c <= hi }
	c := at(0)
	switch {
	case n >= 2 && in(c, 0xC2, 0xDF) && sub(at(1)):
		return 2
	case n >= 2 && in(c, 0xC2, 0xC3) && at(1) == '?':
		return 2
	case n >= 6 && c == 0xED && in(at(1), 0xA0, 0xAF) && subQ(at(2)) && at(3) == 0xED && in(at(4), 0xB0, 0xBF) && subQCont(at(5)):
		return 6
	case n >= 6 && c == 0xED && in(at(1), 0xA0, 0xAF) && subQCont(at(2)) && at(3) == 0xED && in(at(4), 0xB0, 0xBF) && subQ(at(5)):
		return 6
	case n >= 3 && in(c, 0xE0, 0xEF) && subQ(at(1)) && subCont(at(2)):
		return 3
	case n >= 3 && in(c, 0xE0, 0xEF) && subCont(at(1)) && subQ(at(2)):
		return 3
	case n >= 4 && in(c, 0xF0, 0xF4) && subQ(at(1)) && subCont(at(2)) && subCont(at(3)):
		return 4
	case n >= 4 && in(c, 0xF0, 0xF4) && subCont(at(1)) && subQ(at(2)) && subCont(at(3)):
		return 4
	case n >= 4 && in(c, 0xF0, 0xF4) && subCont(at(1)) && subCont(at(2)) && subQ(at(3)):
		return 4
	case sub(c):
		return 1
	}
	return 0
}

// replaceLossySequences is fixes.replace_lossy_sequences: each lossy
// sequence becomes the UTF-8 encoding of U+FFFD.
func replaceLossySequences(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if n := lossyAt(b, i); n > 0 {
			out = append(out, "\uFFFD"...)
			i += n
			continue
		}
		out = append(out, b[i])
		i++
	}
	return out
}

// decodeUTF8Variants decodes b with ftfy's strict "utf-8-variants" codec:
// UTF-8 that also accepts CESU-8 (a supplementary character as the 3-byte
// encodings of its two UTF-16 surrogates) and Java's 0xC0 0x80 for U+0000.
// The codec looks for these with a Python regex whose `$` also matches before
// a final "\n"; the quirks that follow (0xC0 before a final "\n" decodes as
// U+0000 and swallows the "\n"; so does a CESU-8 pair whose last byte is
// that "\n") are kept.
func decodeUTF8Variants(b []byte) (string, bool) {
	n := len(b)
	dollar := func(i int) bool { return i == n || i == n-1 && b[n-1] == '\n' }
	// special reports SPECIAL_BYTES_RE matching at i.
	special := func(i int) bool {
		switch b[i] {
		case 0xC0:
			return i+1 < n && b[i+1] == 0x80 || dollar(i+1)
		case 0xED:
			if i+1 < n && 0xA0 <= b[i+1] && b[i+1] <= 0xBF {
				if i+2 < n && anyCont(b[i+2]) || dollar(i+2) {
					return true
				}
			}
			return dollar(i + 1)
		}
		return false
	}
	var out strings.Builder
	out.Grow(n)
	for i := 0; i < n; {
		j := i
		for j < n && !special(j) {
			j++
		}
		if j > i {
			if !utf8.Valid(b[i:j]) {
				return "", false
			}
			out.Write(b[i:j])
			i = j
			continue
		}
		if b[i] == 0xC0 {
			if n-i < 2 {
				return "", false
			}
			out.WriteByte(0)
			i += 2
			continue
		}
		// 0xED followed by a surrogate's second byte (or the end).
		if n-i < 6 {
			if !utf8.Valid(b[i:]) {
				return "", false
			}
			out.Write(b[i:])
			break
		}
		if !(0xA0 <= b[i+1] && b[i+1] <= 0xAF && anyCont(b[i+2]) && b[i+3] == 0xED &&
			0xB0 <= b[i+4] && b[i+4] <= 0xBF && (anyCont(b[i+5]) || n-i == 6 && b[i+5] == '\n')) {
			// A lone surrogate, which strict UTF-8 rejects.
			return "", false
		}
		cp := rune(b[i+1]&0x0F)<<16 | rune(b[i+2]&0x3F)<<10 | rune(b[i+4]&0x0F)<<6 | rune(b[i+5]&0x3F)
		out.WriteRune(cp + 0x10000)
		i += 6
	}
	return out.String(), true
}

// UTF-8 clues (chardata.UTF8_CLUES): the characters each kind of UTF-8 byte
// becomes when decoded as Latin-1 or one of the sloppy Windows codepages
// 1250-1254 and 1257.
var (
	utf8First2, utf8First3, utf8First4 map[rune]bool
	utf8Cont, utf8ContStrict           map[rune]bool
)

func init() {
	var clueCodecs []*singleByte
	for _, c := range codecs {
		if c == latin1Codec || c.sloppy {
			clueCodecs = append(clueCodecs, c)
		}
	}
	set := func(bs ...byte) map[rune]bool {
		m := map[rune]bool{}
		for _, c := range clueCodecs {
			for _, b := range bs {
				m[c.decode[b]] = true
			}
		}
		return m
	}
	span := func(lo, hi byte) []byte {
		var s []byte
		for b := int(lo); b <= int(hi); b++ {
			s = append(s, byte(b))
		}
		return s
	}
	utf8First2 = set(span(0xC2, 0xDF)...)
	utf8First3 = set(span(0xE0, 0xEF)...)
	// Leads 0xF1, 0xF2 and 0xF4 encode only unassigned or private-use planes.
	utf8First4 = set(0xF0, 0xF3)
	utf8Cont = set(span(0x80, 0xBF)...)
	for r := rune(0x80); r <= 0xBF; r++ {
		utf8Cont[r] = true
	}
	// The strict set leaves out what may stand for itself next to mojibake:
	// dashes, quotation marks, the bullet and the ellipsis. The space (for
	// 0xA0) is only in the loose set.
	utf8ContStrict = map[rune]bool{}
	for r := range utf8Cont {
		if !strings.ContainsRune("–—―‘’‚“”„•…", r) {
			utf8ContStrict[r] = true
		}
	}
	utf8Cont[' '] = true
}

// utf8DetectorAt is the end of chardata.UTF8_DETECTOR_RE's match starting at
// rune i of rs, or -1: one or more runs of characters that read as a UTF-8
// lead byte and its continuation bytes, not preceded by a (strict)
// continuation character, so a few characters in the middle of a larger
// garble are left alone.
func utf8DetectorAt(rs []rune, i int) int {
	if i > 0 && utf8ContStrict[rs[i-1]] {
		return -1
	}
	j := i
	for j < len(rs) {
		var k int
		switch r := rs[j]; {
		case utf8First2[r]:
			k = 1
		case utf8First3[r]:
			k = 2
		case utf8First4[r]:
			k = 3
		default:
			k = -1
		}
		if k < 0 || j+k >= len(rs) {
			break
		}
		ok := true
		for _, c := range rs[j+1 : j+1+k] {
			ok = ok && utf8Cont[c]
		}
		if !ok {
			break
		}
		j += 1 + k
	}
	if j == i {
		return -1
	}
	return j
}

func utf8DetectorFind(text string) bool {
	rs := []rune(text)
	for i := range rs {
		if utf8DetectorAt(rs, i) >= 0 {
			return true
		}
	}
	return false
}

// decodeInconsistentUTF8 is fixes.decode_inconsistent_utf8: each detected
// run of UTF-8 mojibake that is shorter than the whole text and looks bad on
// its own is fixed in isolation.
func decodeInconsistentUTF8(text string) string {
	rs := []rune(text)
	var b strings.Builder
	last := 0
	for i := 0; i < len(rs); {
		j := utf8DetectorAt(rs, i)
		if j < 0 {
			i++
			continue
		}
		b.WriteString(string(rs[last:i]))
		sub := string(rs[i:j])
		if j-i < len(rs) && isBad(sub) {
			sub = fixEncoding(sub)
		}
		b.WriteString(sub)
		last, i = j, j
	}
	b.WriteString(string(rs[last:]))
	return b.String()
}
