package clipbpe

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// This file is ftfy 6.3.1's badness heuristic (ftfy/badness.py): is_bad(text)
// reports whether text holds a character sequence that is far likelier to be
// mojibake than intended text. ftfy groups the few hundred characters that
// UTF-8 mis-decoded as a legacy single-byte codepage produces into the classes
// below and lists improbable neighbours of those classes.
//
// A class is written as the characters it contains; "x-y" (a '-' between two
// characters) is the inclusive range, as inside a regexp bracket. No class
// holds a literal '-'.
const (
	// Characters common in ordinary text as well as in mojibake.
	mbCommon = "\u00a0\u00ad·´–—―…’"
	// C1 controls: nothing but mojibake uses them today.
	mbC1 = "\u0080-\u009f"
	// Characters nearly always produced by mojibake (U+2310 REVERSED NOT SIGN,
	// U+25CA LOZENGE, U+FFFD, the ordinal indicators).
	mbBad = "¦¤¨¬¯¸ƒˆˇ˘˛˜†‡‰⌐◊\ufffdªº"
	mbLaw = "¶§"
	// U+20A7 PESETA SIGN among the currency symbols.
	mbCurrency = "¢£¥₧€"
	// Opening punctuation and marks that precede text (U+F8FF is the Apple
	// logo of Mac Roman).
	mbStart = "¡«¿©΄΅‘‚“„•‹\uf8ff"
	mbEnd   = "®»˝”›™"
	mbNum   = "²³¹±¼½¾×µ÷⁄∂∆∏∑√∞∩∫≈≠≡≤≥№"
	// Letters that emoticons (kaomoji) use as eyes, so they may sit in odd
	// company; the capital O's and U's among them are not "accented".
	mbKaomoji = "Ò-ÖÙ-Üò-öø-üŐŌŪŲ°"
	mbUpper   = "À-ÑØÜÝĂĀĄĆČĎĐĘĚĒĖĞĢİĪĶĹĽŁĻŃŇŅŒŘŚŞŠŢŤŮŰŸŹŻŽҐ"
	mbLower   = "ßà-ñăąāćčďđęěēėğģįīķĺľłļœŕśşšťüźżžґﬁﬂ"
	// Capital Greek and Cyrillic letters (and Þ), and their lower-case
	// counterparts (lower-case þ does not occur in mojibake).
	mbUpperCommon = "ÞΑ-ΩΆΈΉΊΌΎΏΪΫЁ-Я"
	mbLowerCommon = "α-ωάέήίΰа-џ"
	// Box drawing and block elements, except the single horizontal line
	// (used in kaomoji).
	mbBox = "│┌┐┘├┤┬┼═-╬▀▄█▌▐░▒▓"
)

// Python's \s and \w for str patterns are Unicode-aware; RE2's are ASCII.
const (
	pySpaceClass = `[\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`
	pyWordClass  = `[\p{L}\p{N}_]`
)

// mojibakeRunes holds every character of every class built by cls. Each
// alternative of the badness regex has such a class (all of them non-ASCII),
// so a match always contains one of these characters.
var mojibakeRunes = map[rune]bool{}

// cls is a regexp bracket expression holding the union of the given class
// specifications, every character escaped as \x{...}.
func cls(specs ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	for _, s := range specs {
		rs := []rune(s)
		for i, r := range rs {
			if r == '-' {
				b.WriteByte('-')
				for x := rs[i-1] + 1; x < rs[i+1]; x++ {
					mojibakeRunes[x] = true
				}
				continue
			}
			mojibakeRunes[r] = true
			fmt.Fprintf(&b, `\x{%x}`, r)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// badnessAlts are the alternatives of ftfy's BADNESS_RE but the one anchored
// at the start of the text (badnessStart).
var badnessAlts = []string{
	cls(mbC1),
	cls(mbBad, mbLower, mbUpper, mbBox, mbStart, mbEnd, mbCurrency, mbNum, mbLaw) + cls(mbBad),
	`[a-zA-Z]` + cls(mbLowerCommon, mbUpperCommon) + cls(mbBad),
	cls(mbBad) + cls(mbLower, mbUpper, mbBox, mbStart, mbEnd, mbCurrency, mbNum, mbLaw),
	cls(mbLower, mbLowerCommon, mbBox, mbEnd, mbCurrency, mbNum) + cls(mbUpper),
	cls(mbBox, mbEnd, mbCurrency, mbNum) + cls(mbLower),
	cls(mbLower, mbBox, mbEnd) + cls(mbCurrency),
	pySpaceClass + cls(mbUpper) + cls(mbCurrency),
	cls(mbUpper, mbBox) + cls(mbNum, mbLaw),
	cls(mbLower, mbUpper, mbBox, mbCurrency, mbEnd) + cls(mbStart) + cls(mbNum),
	cls(mbLower, mbUpper, mbCurrency, mbNum, mbBox, mbLaw) + cls(mbEnd) + cls(mbStart),
	cls(mbCurrency, mbNum, mbBox) + cls(mbStart),
	`[a-z]` + cls(mbUpper) + cls(mbStart, mbCurrency),
	cls(mbBox) + cls(mbKaomoji),
	cls(mbLower, mbUpper, mbCurrency, mbNum, mbStart, mbEnd, mbLaw) + cls(mbBox),
	cls(mbBox) + cls(mbEnd),
	cls(mbLower, mbUpper) + cls(mbStart, mbEnd) + pyWordClass,
	// The ligature œ not followed by an unaccented Latin letter.
	cls("Œœ") + `[^A-Za-z]`,
	// A degree sign after an accented capital.
	cls(mbUpper) + cls("°"),
	// Two-character Windows-1252 mojibake the rules above miss.
	cls("ÂÃÎÐ") + cls("€œŠš¢£Ÿž\u00a0\u00ad®©°·»", mbStart, mbEnd, "–—´"),
	cls("×") + cls("²³"),
	// Windows-1252 mojibake of Arabic, which involves "common" characters, so
	// four characters are required.
	cls("ØÙ") + cls(mbCommon, mbCurrency, mbBad, mbNum, mbStart, "ŸŠ®°µ»") +
		cls("ØÙ") + cls(mbCommon, mbCurrency, mbBad, mbNum, mbStart, "ŸŠ®°µ»"),
	// Windows-1252 starts of three-byte sequences of South Asian scripts.
	cls("à") + cls("²µ¹¼½¾"),
	// Mac Roman mojibake.
	cls("√") + cls("±∂†≠®™´≤≥¥µø"),
	cls("≈") + cls("°¢"),
	cls("‚") + cls("Ä") + cls("ìîïòôúùû†°¢π"),
	cls("‚") + cls("âó") + cls("àä°ê"),
	// Windows-1251 mojibake of U+2000..U+203F punctuation.
	cls("в") + cls("Ђ"),
	// Windows-1251 mojibake of Latin-1 or Cyrillic: a three-character sequence.
	cls("ВГРС") + cls(mbC1, mbBad, mbStart, mbEnd, mbCurrency, "°µ") + cls("ВГРС"),
	// Windows-1251 mojibake on top of Windows-1252 mojibake, near a Latin letter.
	cls("Г") + cls("ў") + cls("В") + cls("Ђ") + cls("В") + `.` + `[A-Za-z ]`,
	// Windows-1252 mojibake of à, á and U+00A0 itself.
	cls("Ã") + cls("\u00a0¡"),
	`[a-z]` + pySpaceClass + `?` + cls("ÃÂ") + `[ ]`,
	// Â standing in front of the character it was meant to be.
	`[a-z.,?!` + cls(mbEnd)[1:] + cls("Â") + `[ ` + cls(mbStart, mbEnd)[1:],
	// Windows-1253 mojibake of U+2000.. punctuation, and of Latin-1 or Greek.
	cls("β") + cls("€") + cls("™\u00a0Ά\u00ad®°"),
	cls("ΒΓΞΟ") + cls(mbC1, mbBad, mbStart, mbEnd, mbCurrency, "°") + cls("ΒΓΞΟ"),
	// Windows-1257 mojibake of U+2000.. punctuation.
	cls("ā") + cls("€"),
}

// badnessStart: Ã or Â then a space, at the very start of the text.
var badnessStart = `^` + cls("ÃÂ") + `[ ]`

var (
	// badnessRE is BADNESS_RE; badnessInnerRE lacks the anchored alternative,
	// for pieces that do not start the text.
	badnessRE      = regexp.MustCompile(strings.Join(append(slices.Clone(badnessAlts), badnessStart), "|"))
	badnessInnerRE = regexp.MustCompile(strings.Join(badnessAlts, "|"))
)

// badnessReach is the length of the longest alternative, in characters.
const badnessReach = 7

// isBad is badness.is_bad: does text contain a sequence typical of mojibake?
// Go's regexp runs this many-alternative pattern at about a microsecond per
// byte, so it only scans the characters around each mojibake-class character:
// any match contains one and is at most badnessReach characters long, and
// besides the anchored alternative no alternative looks past its match.
func isBad(text string) bool {
	var starts []int // byte offset of each character
	var marks []int  // indices of the mojibake-class characters
	for i, r := range text {
		if r >= 0x80 && mojibakeRunes[r] {
			marks = append(marks, len(starts))
		}
		starts = append(starts, i)
	}
	offset := func(k int) int {
		if k >= len(starts) {
			return len(text)
		}
		return starts[k]
	}
	for m := 0; m < len(marks); {
		lo := max(0, marks[m]-badnessReach)
		hi := marks[m] + badnessReach + 1
		for m++; m < len(marks) && marks[m]-badnessReach <= hi; m++ {
			hi = marks[m] + badnessReach + 1
		}
		re := badnessInnerRE
		if lo == 0 {
			re = badnessRE
		}
		if re.MatchString(text[offset(lo):offset(hi)]) {
			return true
		}
	}
	return false
}
