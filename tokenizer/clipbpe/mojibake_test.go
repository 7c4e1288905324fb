package clipbpe

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFixEncoding checks fix_encoding (and fix_text, which adds the other
// fixers) on mojibake whose repair is derived by hand below: the UTF-8 bytes
// of the intended text, the codepage that misread them, and the badness rule
// that flags (or does not flag) the result.
func TestFixEncoding(t *testing.T) {
	cases := []struct {
		name, in string
		// enc is fix_encoding's result, text fix_text's (same as enc when empty).
		enc, text string
	}{
		// é = C3 A9, read as Windows-1252/Latin-1: C3 -> Ã, A9 -> ©. "Ã©"
		// matches the rule "Ã before ©". Every character is Latin-1, so
		// Latin-1 (tried first) re-encodes to C3 A9, valid UTF-8.
		{"1252 accented", "cafÃ© crÃ¨me", "café crème", ""},
		// “ = E2 80 9C -> â € œ; ” = E2 80 9D, and 0x9D is undefined in
		// Windows-1252, so the sloppy codec kept U+009D. The C1 control alone
		// makes it bad; € rules out Latin-1, sloppy-1252 re-encodes every
		// byte. fix_text then straightens the quotes.
		{"1252 curly quotes", "â€œquotedâ€\u009d", "“quoted”", `"quoted"`},
		// — = E2 80 94 -> â € ”. Flagged by "lower-case accented letter
		// before a currency sign" (â€); decoded by sloppy-1252.
		{"1252 em dash", "This â€” that", "This — that", ""},
		// 😀 = F0 9F 98 80 -> ð Ÿ ˜ €. Flagged by "accented capital before
		// a 'bad' character" (Ÿ˜); Ÿ (U+0178) is not Latin-1, so sloppy-1252.
		{"1252 emoji", "ðŸ˜€ smile", "😀 smile", ""},
		// É = C3 89 read as Latin-1 (not Windows-1252): 0x89 stays the C1
		// control U+0089, which is bad on its own; Latin-1 decodes it.
		{"latin-1 accented", "Ã\u0089cole", "École", ""},
		// ’ = E2 80 99 -> â U+0080 U+0099 in Latin-1.
		{"latin-1 apostrophe", "it\u00e2\u0080\u0099s", "it’s", "it's"},
		// Double encoding: é -> "Ã©" -> UTF-8 C3 83 C2 A9 -> "ÃƒÂ©". ƒ is a
		// 'bad' character after the capital Ã; ƒ is not Latin-1, so
		// sloppy-1252 undoes one layer ("Ã©"), and the next step, Latin-1,
		// the second.
		{"double 1252", "cafÃƒÂ©", "café", ""},
		// Привет = D0 9F D1 80 D0 B8 D0 B2 D0 B5 D1 82 read as Windows-1251:
		// РџСЂРёРІРµС‚. The rule "Р/С, then µ (or another symbol), then Р/С"
		// flags "РµС"; Windows-1252 cannot encode Р, Windows-1251 can.
		{"1251 cyrillic", "РџСЂРёРІРµС‚", "Привет", ""},
		// à = C3 A0 -> "Ã" + U+00A0, and the no-break space later became a
		// plain space. The rule "letter, space, Ã, space" fires; restoring
		// 0xA0 after C3 keeps the word boundary (C3 A0 20: "à vu").
		{"byte A0 restored", "dÃ©jÃ vu", "déjà vu", ""},
		// The same with the no-break space intact: Latin-1 decodes directly.
		{"byte A0 intact", "Ã\u00a0 bientÃ´t", "à bientôt", ""},
		// Portuguese "às": before "s " the space is not kept ("Ã s" at the
		// start of the text is bad by the rule "^Ã ").
		{"a-grave before s", "Ã s dez", "às dez", ""},
		// A C1 control in otherwise fine Latin-1 text (no UTF-8 reading of
		// 0x80 works): Windows-1252 meant all along, 0x80 = €.
		{"C1 as 1252", "\u0080100", "€100", ""},
		{"C1 quotes", "\u0093quoted\u0094", "“quoted”", `"quoted"`},
		// 0x81 is undefined in Windows-1252: the strict re-decoding fails and
		// fix_c1_controls keeps U+0081 (remove_control_chars keeps C1).
		{"C1 undefined", "a\u0081b", "a\u0081b", ""},
		// Emoji in CESU-8 (UTF-16 surrogates D83D DE00 each UTF-8 encoded:
		// ED A0 BD ED B8 80) read as Windows-1252: í U+00A0 ½ í ¸ €. "¸€"
		// is bad-then-currency; the bytes hold 0xED, so utf-8-variants
		// decodes the surrogate pair to U+1F600.
		{"CESU-8", "í\u00a0½í¸€!", "😀!", ""},
		// Java's modified UTF-8 writes U+0000 as C0 80 (read as Latin-1:
		// À U+0080); remove_control_chars drops the NUL afterwards.
		{"java null", "a\u00c0\u0080b", "a\x00b", "ab"},
		// A strict Windows-1252 decoder had replaced the undefined 0x9D of ”
		// by U+FFFD; sloppy-1252 encodes U+FFFD as 0x1A, and E2 80 1A is a
		// UTF-8 sequence with a lost byte, decoded as one U+FFFD.
		{"lossy", "â€œtestâ€\ufffd", "“test\ufffd", "\"test\ufffd"},
		// The coffee cup fits no single-byte codec, so no codec reading works;
		// the run "Ã©" is then fixed on its own (decode_inconsistent_utf8).
		{"inconsistent", "cafÃ© ☕", "café ☕", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fixEncoding(c.in); got != c.enc {
				t.Errorf("fixEncoding(%q) = %q, want %q", c.in, got, c.enc)
			}
			want := c.text
			if want == "" {
				want = c.enc
			}
			if got := fixText(c.in); got != want {
				t.Errorf("fixText(%q) = %q, want %q", c.in, got, want)
			}
		})
	}
}

// TestFixEncodingLeavesAlone checks text that is unusual but not mojibake.
func TestFixEncodingLeavesAlone(t *testing.T) {
	for _, s := range []string{
		// Ã as a real letter: no rule covers "capital Ã before a letter".
		"SÃO PAULO", "NÃO", "MÃE",
		// Correct text in many scripts: its letters are not in the mojibake
		// classes, or only in harmless sequences.
		"Café crème brûlée à la française, naïve façade, Zoë",
		"Straße, Ærøskøbing, Łódź, Dvořák, İstanbul, Kraków",
		"Привет мир", "Ελληνικά", "עברית", "العربية", "日本語のテキスト", "한국어", "हिन्दी",
		"5 × 3 = 15 ± 0.5 µm, 25 °C, © 2024, ™, «guillemets»",
		// Flagged as bad ("¬¬" is two 'bad' characters), but ¬ is a lone
		// continuation byte in every codec, so no decoding works: unchanged.
		"¬¬",
		// Capital Ã then a currency sign, with no space before: not a rule of
		// ftfy 6.3.1 (later versions added one), so the text stays.
		"Ã¥klagare",
		// ASCII and the empty string never change.
		"plain ascii", "",
	} {
		if got := fixEncoding(s); got != s {
			t.Errorf("fixEncoding(%q) = %q, want it unchanged", s, got)
		}
	}
}

// TestIsBad checks single rules of the badness heuristic.
func TestIsBad(t *testing.T) {
	cases := []struct {
		s   string
		bad bool
	}{
		{"a\u0085b", true},  // C1 control
		{"Ã©", true},        // Ã before ©
		{"Ÿ˜", true},        // accented capital, then a bad character
		{"â€", true},        // accented lower-case, then currency
		{"РµС", true},       // Windows-1251 three-character rule
		{"ab Ã cd", true},   // letter, space, Ã, space
		{"Ã ", true},        // Ã and space at the start
		{"œx", false},       // œ before a Latin letter is fine
		{"œ!", true},        // but not before anything else
		{"café", false},     // é after a letter
		{"naïve", false},    // ï after a letter
		{"x ÃO", false},     // Ã before a capital letter
		{"Ã¥", false},       // capital Ã then ¥ with nothing before it
		{" Ã¥", true},       // ... but with a space before it
		{"┐Ö", true},        // box drawing before a kaomoji eye
		{"├┤a┼┐", false},    // box drawing among ASCII: no rule pairs them
		{"Ελληνικά", false}, // Greek letters alone
	}
	for _, c := range cases {
		if got := isBad(c.s); got != c.bad {
			t.Errorf("isBad(%q) = %v, want %v", c.s, got, c.bad)
		}
	}
}

// TestDecodeUTF8Variants covers ftfy's utf-8-variants codec.
func TestDecodeUTF8Variants(t *testing.T) {
	cases := []struct {
		in   []byte
		want string
		ok   bool
	}{
		{[]byte("plain é"), "plain é", true},
		{[]byte{0xED, 0x95, 0x9C}, "한", true},                            // 0xED lead of a Hangul syllable
		{[]byte{'x', 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}, "x😀", true},    // CESU-8 pair
		{[]byte{0xED, 0xAF, 0xBF, 0xED, 0xBF, 0xBF}, "\U0010FFFF", true}, // highest pair
		{[]byte{'a', 0xC0, 0x80, 'b'}, "a\x00b", true},                   // Java NUL
		{[]byte{0xED, 0xA0, 0xBD}, "", false},                            // lone high surrogate
		{[]byte{0xED, 0xA0, 0xBD, 'a', 'b', 'c'}, "", false},             // high surrogate, no low
		{[]byte{0xC0, 'A'}, "", false},                                   // overlong, not C0 80
		{[]byte{0xC0}, "", false},
		{[]byte{0xE2, 0x80}, "", false}, // truncated
		// The codec's regex lets `$` match before a final "\n", so C0 there
		// reads as the Java NUL and takes the newline with it.
		{[]byte{'a', 0xC0, '\n'}, "a\x00", true},
	}
	for _, c := range cases {
		got, ok := decodeUTF8Variants(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("decodeUTF8Variants(% x) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestSingleByteCodecs spot-checks the generated codec tables against the
// published codepages and ftfy's sloppy rule.
func TestSingleByteCodecs(t *testing.T) {
	byName := map[string]*singleByte{}
	for _, c := range codecs {
		byName[c.name] = c
	}
	cases := []struct {
		codec string
		b     byte
		r     rune
	}{
		{"latin-1", 0x80, 0x80},
		{"sloppy-windows-1252", 0x80, '€'},
		{"sloppy-windows-1252", 0x81, 0x81}, // undefined: same-numbered code point
		{"sloppy-windows-1252", 0x1A, 0xFFFD},
		{"sloppy-windows-1251", 0xD0, 'Р'},
		{"sloppy-windows-1251", 0x98, 0x98},
		{"sloppy-windows-1250", 0xC3, 'Ă'},
		{"sloppy-windows-1253", 0xC3, 'Γ'},
		{"sloppy-windows-1253", 0xAA, 0xAA},
		{"sloppy-windows-1254", 0xD0, 'Ğ'},
		{"sloppy-windows-1257", 0xE2, 'ā'},
		{"iso-8859-2", 0x85, 0x85}, // C1 range, as Python's codec
		{"iso-8859-2", 0xB1, 'ą'},
		{"iso-8859-2", 0x1A, 0x1A},
		{"macroman", 0xA7, 'ß'},
		{"macroman", 0xF0, 0xF8FF},
		{"cp437", 0xC4, '─'},
	}
	for _, c := range cases {
		codec := byName[c.codec]
		if got := codec.decode[c.b]; got != c.r {
			t.Errorf("%s: byte %#x -> %U, want %U", c.codec, c.b, got, c.r)
		}
		if b, ok := codec.encodeText(string(c.r)); !ok || len(b) != 1 || b[0] != c.b {
			t.Errorf("%s: encode %U = % x, %v; want %#x", c.codec, c.r, b, ok, c.b)
		}
	}
	// The sloppy codecs reserve 0x1A for U+FFFD, so a literal U+001A does not
	// fit them (and fits the others).
	if _, ok := byName["sloppy-windows-1252"].encodeText("\x1a"); ok {
		t.Error("sloppy-windows-1252 encoded U+001A")
	}
	if _, ok := latin1Codec.encodeText("\x1a"); !ok {
		t.Error("latin-1 refused U+001A")
	}
}

// TestCLIPMojibake checks the repair through the tokenizer: a mis-decoded
// prompt tokenizes exactly like the intended one.
func TestCLIPMojibake(t *testing.T) {
	tok := loadCLIP(t)
	for _, c := range []struct{ bad, good string }{
		{"a photo of a cafÃ© at night, â€œcinematicâ€\u009d", `a photo of a café at night, "cinematic"`},
		{"portrait of ZoÃ«, ðŸ˜€", "portrait of Zoë, 😀"},
	} {
		if a, b := tok.Tokenize(c.bad), tok.Tokenize(c.good); !slices.Equal(a, b) {
			t.Errorf("%q -> %v, %q -> %v: want equal", c.bad, a, c.good, b)
		}
	}
}

// BenchmarkFixText measures the ftfy cleaning of a prompt with double-encoded
// mojibake (several fix_encoding steps) and of a clean one (badness check only).
func BenchmarkFixText(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"mojibake", "A cozy cafÃƒÂ© by a rain-streaked window, â€œcinematicâ€\u009d light, Ã\u00a0 la franÃ§aise ðŸ˜€"},
		{"clean", "A cozy café by a rain-streaked window, “cinematic” light, à la française 😀"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				fixText(c.text)
			}
		})
	}
}

// TestIsBadWindows checks that isBad, which runs the regex only around
// mojibake-class characters, agrees with the plain regex over the whole text
// on random strings over an alphabet of class members and their neighbours.
func TestIsBadWindows(t *testing.T) {
	// Plain characters are drawn as often as class members, so windows stay
	// apart and sequences reaching past them (ГўВЂВ.x, "x Ã ") occur.
	plain := []rune("axZ .!\t\n日")
	members := []rune("\u00a0ÃÂÎÐØÙàâé©¢€œŸ˜¸¬°µ×²ÄŒš¦ВГРСвЂўβΒΓΞΟāÅ™”“‚√≈╗┐Ö¿ﬁ")
	rng := rand.New(rand.NewPCG(1, 2))
	bad := 0
	for range 20000 {
		n := 1 + rng.IntN(24)
		rs := make([]rune, n)
		for i := range rs {
			if rng.IntN(2) == 0 {
				rs[i] = plain[rng.IntN(len(plain))]
			} else {
				rs[i] = members[rng.IntN(len(members))]
			}
		}
		if rng.IntN(8) == 0 && n > 8 {
			copy(rs[rng.IntN(n-7):], []rune("ГўВЂВ.x"))
		}
		s := string(rs)
		want := badnessRE.MatchString(s)
		if got := isBad(s); got != want {
			t.Fatalf("isBad(%q) = %v, regex says %v", s, got, want)
		}
		if want {
			bad++
		}
	}
	if bad < 1000 || bad > 19000 {
		t.Errorf("%d of 20000 random strings bad: the sample does not exercise both outcomes", bad)
	}
}
