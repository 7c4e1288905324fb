package imageio

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// readPPM parses a binary P6 file with maxval 255.
func readPPM(t *testing.T, path string) *Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var magic string
	var w, h, maxv int
	r := bytes.NewReader(b)
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P6" || maxv != 255 {
		t.Fatalf("%s: bad PPM header (%v)", path, err)
	}
	pix := b[len(b)-3*w*h:]
	m, err := FromPix(w, h, append([]uint8(nil), pix...))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// diffStats returns the largest per-channel difference and how many values
// differ at all.
func diffStats(a, b *Image) (maxd, ne int) {
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			ne++
		}
		maxd = max(maxd, d)
	}
	return maxd, ne
}

func decodeFile(t *testing.T, path string) *Image {
	t.Helper()
	m, err := DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// WebP: libwebp's own decode (dwebp) is the expectation, bit for bit.
func TestWebPMatchesLibwebp(t *testing.T) {
	for _, name := range []string{"card.webp", "card-even.webp"} {
		got := decodeFile(t, filepath.Join("testdata", name))
		want := readPPM(t, filepath.Join("testdata", name+".ppm"))
		if got.W != want.W || got.H != want.H {
			t.Fatalf("%s: %dx%d, want %dx%d", name, got.W, got.H, want.W, want.H)
		}
		if maxd, ne := diffStats(got, want); ne != 0 {
			t.Errorf("%s: %d values differ from dwebp (max %d)", name, ne, maxd)
		}
	}
	got := decodeFile(t, "testdata/card-even.lossless.webp")
	want := readPPM(t, "testdata/card-even.ppm")
	if maxd, ne := diffStats(got, want); ne != 0 {
		t.Errorf("lossless: %d values differ from the source (max %d)", ne, maxd)
	}
}

// JPEG: libjpeg-turbo's decode (djpeg) is the expectation. Colour
// conversion and chroma upsampling follow libjpeg exactly; the standard
// library's inverse DCT rounds differently from libjpeg's islow one, so a
// few values differ by a level or two.
func TestJPEGMatchesLibjpeg(t *testing.T) {
	for _, name := range []string{"card420.jpg", "card422.jpg", "card440.jpg", "card444.jpg"} {
		got := decodeFile(t, filepath.Join("testdata", name))
		want := readPPM(t, filepath.Join("testdata", name+".ppm"))
		maxd, ne := diffStats(got, want)
		t.Logf("%s: %d of %d values differ from djpeg, max %d", name, ne, len(want.Pix), maxd)
		if maxd > 3 || ne > len(want.Pix)/10 {
			t.Errorf("%s: %d of %d values differ from djpeg, max %d (want max 3, ≤10%%)", name, ne, len(want.Pix), maxd)
		}
	}
}

// The faceprep goldens hold the reference's decoded pixels (`in.image_rgb`)
// of the photos beside them (config `source_file`).
func TestDecodeGoldenPhotos(t *testing.T) {
	dir := testenv.Golden(t, "faceprep")
	cases, _ := filepath.Glob(filepath.Join(dir, "case_*.safetensors"))
	if len(cases) == 0 {
		t.Skip("no faceprep goldens at", dir)
	}
	seen := 0
	for _, c := range cases {
		f, err := safetensors.Open(c)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			SourceFile string `json:"source_file"`
		}
		json.Unmarshal([]byte(f.Metadata["config"]), &cfg)
		info, ok := f.Info("in.image_rgb")
		photo := filepath.Join(dir, cfg.SourceFile)
		if _, err := os.Stat(photo); !ok || cfg.SourceFile == "" || err != nil {
			f.Close()
			continue
		}
		want, _ := f.Bytes("in.image_rgb")
		got := decodeFile(t, photo)
		if got.H != info.Shape[0] || got.W != info.Shape[1] {
			t.Fatalf("%s: %dx%d, want %v", photo, got.W, got.H, info.Shape)
		}
		maxd, ne := diffStats(got, &Image{W: got.W, H: got.H, Pix: want})
		t.Logf("%s: %d of %d values differ, max %d", cfg.SourceFile, ne, len(want), maxd)
		if strings.HasSuffix(photo, ".png") && ne != 0 {
			t.Errorf("%s: PNG decode differs in %d values", photo, ne)
		}
		// JPEG: inverse-DCT rounding only (see TestJPEGMatchesLibjpeg).
		if maxd > 4 || ne > len(want)/20 {
			t.Errorf("%s: %d of %d values differ, max %d", photo, ne, len(want), maxd)
		}
		seen++
		f.Close()
	}
	if seen == 0 {
		t.Skip("no golden case names a photo present in", dir)
	}
}

// card returns a w×h image of four solid quadrants: red, green (top),
// blue, white (bottom).
func card(w, h int) *Image {
	m := New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := [4][3]uint8{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}}[2*(2*y/h)+2*x/w]
			copy(m.Pix[3*(y*w+x):], c[:])
		}
	}
	return m
}

// tiffOrientationBlock is a minimal TIFF block whose IFD0 holds the
// orientation tag, little- or big-endian.
func tiffOrientationBlock(o int, bigEndian bool) []byte {
	if bigEndian {
		return []byte("MM\x00*\x00\x00\x00\x08\x00\x01" +
			"\x01\x12\x00\x03\x00\x00\x00\x01" + string([]byte{0, byte(o), 0, 0}) +
			"\x00\x00\x00\x00")
	}
	return []byte("II*\x00\x08\x00\x00\x00\x01\x00" + // IFD0 at 8, one entry
		"\x12\x01\x03\x00\x01\x00\x00\x00" + string([]byte{byte(o), 0, 0, 0}) +
		"\x00\x00\x00\x00")
}

// withOrientation inserts an EXIF APP1 segment carrying orientation o
// right after the SOI marker.
func withOrientation(t testing.TB, jpg []byte, o int, bigEndian bool) []byte {
	t.Helper()
	seg := append([]byte("Exif\x00\x00"), tiffOrientationBlock(o, bigEndian)...)
	n := len(seg) + 2
	app1 := append([]byte{0xff, 0xe1, byte(n >> 8), byte(n)}, seg...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	return append(out, jpg[2:]...)
}

// pngWithOrientation inserts an eXIf chunk after IHDR.
func pngWithOrientation(png []byte, o int) []byte {
	body := tiffOrientationBlock(o, false)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append([]byte{}, png[:33]...) // signature + IHDR
	out = append(out, chunk...)
	return append(out, png[33:]...)
}

// webpWithOrientation wraps a simple (VP8) WebP of w×h in the extended
// format with an EXIF chunk ("Exif\0\0"-prefixed, as some writers do).
func webpWithOrientation(simple []byte, w, h, o int) []byte {
	vp8x := []byte("VP8X\x0a\x00\x00\x00\x08\x00\x00\x00")
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	exif := append([]byte("Exif\x00\x00"), tiffOrientationBlock(o, true)...)
	ex := append([]byte("EXIF"), binary.LittleEndian.AppendUint32(nil, uint32(len(exif)))...)
	ex = append(ex, exif...)
	if len(exif)%2 == 1 {
		ex = append(ex, 0)
	}
	body := append(append(vp8x, simple[12:]...), ex...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	out = append(out, "WEBP"...)
	return append(out, body...)
}

func TestEXIFOrientation(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeJPEG(&buf, card(32, 16), 100); err != nil {
		t.Fatal(err)
	}
	const R, G, B, W = 'R', 'G', 'B', 'W'
	// The displayed quadrants (top-left, top-right, bottom-left,
	// bottom-right) for each orientation, from the EXIF definitions.
	want := map[int][4]byte{
		1: {R, G, B, W}, 2: {G, R, W, B}, 3: {W, B, G, R}, 4: {B, W, R, G},
		5: {R, B, G, W}, 6: {B, R, W, G}, 7: {W, G, B, R}, 8: {G, W, R, B},
	}
	name := func(p []uint8) byte {
		switch {
		case p[0] > 200 && p[1] > 200 && p[2] > 200:
			return W
		case p[0] > 200 && p[1] < 60 && p[2] < 60:
			return R
		case p[1] > 200 && p[0] < 60 && p[2] < 60:
			return G
		case p[2] > 200 && p[0] < 60 && p[1] < 60:
			return B
		}
		return '?'
	}
	for o := 1; o <= 8; o++ {
		for _, be := range []bool{false, true} {
			m, err := Decode(withOrientation(t, buf.Bytes(), o, be), "card.jpg")
			if err != nil {
				t.Fatal(err)
			}
			ww, wh := 32, 16
			if o >= 5 {
				ww, wh = 16, 32
			}
			if m.W != ww || m.H != wh {
				t.Fatalf("orientation %d: %dx%d, want %dx%d", o, m.W, m.H, ww, wh)
			}
			var got [4]byte
			for q := 0; q < 4; q++ {
				x, y := (q%2)*m.W/2+m.W/4, (q/2)*m.H/2+m.H/4
				got[q] = name(m.Pix[3*(y*m.W+x):])
			}
			if got != want[o] {
				t.Errorf("orientation %d (big-endian %v): quadrants %s, want %s", o, be, string(got[:]), fmt.Sprintf("%c", want[o]))
			}
		}
	}
	// PNG (eXIf) and WebP (EXIF chunk) carry the same tag.
	var pngb bytes.Buffer
	EncodePNG(&pngb, card(32, 16))
	m, err := Decode(pngWithOrientation(pngb.Bytes(), 6), "card.png")
	if err != nil || m.W != 16 || m.H != 32 || name(m.Pix[3*(8*16+4):]) != B {
		t.Errorf("png orientation 6: %v, %dx%d", err, m.W, m.H)
	}
	simple, _ := os.ReadFile("testdata/card-even.webp")
	ref := readPPM(t, "testdata/card-even.webp.ppm")
	m, err = Decode(webpWithOrientation(simple, ref.W, ref.H, 3), "card.webp")
	if err != nil {
		t.Fatal(err)
	}
	if want := applyOrientation(ref, 3); !bytes.Equal(m.Pix, want.Pix) || ref.Pix[0] != m.Pix[len(m.Pix)-3] {
		t.Errorf("webp orientation 3 does not turn the image 180°")
	}
	// Invalid or damaged EXIF is ignored, not fatal.
	for _, o := range []int{0, 9, 200} {
		m, err := Decode(withOrientation(t, buf.Bytes(), o, false), "card.jpg")
		if err != nil || m.W != 32 {
			t.Errorf("orientation %d: %v, width %d", o, err, m.W)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	var jpg, pngb bytes.Buffer
	EncodeJPEG(&jpg, card(32, 16), 90)
	EncodePNG(&pngb, card(32, 16))
	webpb, _ := os.ReadFile("testdata/card.webp")

	// A JPEG whose SOF claims 40000×40000 (no checksum guards SOF).
	huge := append([]byte(nil), jpg.Bytes()...)
	if i := bytes.Index(huge, []byte{0xff, 0xc0}); i > 0 {
		huge[i+5], huge[i+6], huge[i+7], huge[i+8] = 0x9c, 0x40, 0x9c, 0x40
	} else {
		t.Fatal("no SOF0 in the test JPEG")
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"notes.txt", []byte("hello, not an image"), "not a JPEG, PNG or WebP"},
		{"empty.jpg", nil, "not a JPEG, PNG or WebP"},
		{"cut.jpg", jpg.Bytes()[:jpg.Len()/2], "truncated"},
		{"cut.png", pngb.Bytes()[:pngb.Len()/2], "truncated"},
		{"cut.webp", webpb[:len(webpb)/2], "truncated"},
		{"header.png", pngb.Bytes()[:20], "truncated"},
		{"huge.jpg", huge, "exceeds the limit"},
	}
	for _, tc := range tests {
		_, err := Decode(tc.data, tc.name)
		if err == nil {
			t.Errorf("%s: decoded without error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q should name the file and say %q", tc.name, err, tc.want)
		}
	}
	if _, err := Decode([]byte("GIF89a"), "x.gif"); !errors.Is(err, ErrNotImage) {
		t.Errorf("gif: %v, want ErrNotImage", err)
	}
	if _, err := DecodeFile("testdata/does-not-exist.png"); err == nil || !strings.Contains(err.Error(), "does-not-exist.png") {
		t.Errorf("missing file: %v", err)
	}
}

func TestCheckSize(t *testing.T) {
	tests := []struct {
		w, h int
		ok   bool
	}{
		{1, 1, true}, {8000, 8000, true}, {0, 5, false}, {5, -1, false},
		{MaxSide + 1, 1, false}, {8001, 8000, false}, {32768, 1953, true}, {32768, 1954, false},
	}
	for _, tc := range tests {
		if err := checkSize(tc.w, tc.h); (err == nil) != tc.ok {
			t.Errorf("checkSize(%d, %d) = %v, want ok=%v", tc.w, tc.h, err, tc.ok)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	m := card(33, 17)
	var buf bytes.Buffer
	if err := EncodePNG(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(buf.Bytes(), "rt.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, ne := diffStats(got, m); ne != 0 {
		t.Errorf("png round trip changed %d values", ne)
	}
	var q1, q95 bytes.Buffer
	if err := EncodeJPEG(&q1, m, 1); err != nil {
		t.Fatal(err)
	}
	if err := EncodeJPEG(&q95, m, 95); err != nil {
		t.Fatal(err)
	}
	if q1.Len() >= q95.Len() {
		t.Errorf("quality 1 (%d bytes) should be smaller than quality 95 (%d bytes)", q1.Len(), q95.Len())
	}
	// A smooth image survives JPEG nearly unchanged.
	smooth := New(33, 17)
	for i := 0; i < 33*17; i++ {
		x, y := i%33, i/33
		smooth.Pix[3*i], smooth.Pix[3*i+1], smooth.Pix[3*i+2] = uint8(7*x), uint8(9*y), uint8(100+x+y)
	}
	q95.Reset()
	EncodeJPEG(&q95, smooth, 95)
	m = smooth
	got, _ = Decode(q95.Bytes(), "rt.jpg")
	sum := 0
	for i := range got.Pix {
		sum += max(int(got.Pix[i])-int(m.Pix[i]), int(m.Pix[i])-int(got.Pix[i]))
	}
	if mean := float64(sum) / float64(len(got.Pix)); mean > 1.5 {
		t.Errorf("jpeg q95 round trip: mean difference %.2f", mean)
	}
	for _, q := range []int{0, 101, -5} {
		if err := EncodeJPEG(&buf, m, q); err == nil {
			t.Errorf("quality %d accepted", q)
		}
	}
	if err := EncodePNG(&buf, &Image{W: 2, H: 2, Pix: make([]uint8, 5)}); err == nil {
		t.Error("malformed image encoded")
	}
	// WebP is lossless: the decoder gives back every value.
	for _, img := range []*Image{card(33, 17), smooth} {
		buf.Reset()
		if err := Encode(&buf, img, WebP, 80); err != nil {
			t.Fatal(err)
		}
		got, err := Decode(buf.Bytes(), "rt.webp")
		if err != nil {
			t.Fatal(err)
		}
		if _, ne := diffStats(got, img); ne != 0 {
			t.Errorf("webp round trip of %dx%d changed %d values", img.W, img.H, ne)
		}
	}
	if err := EncodeWebP(&buf, &Image{W: 2, H: 2, Pix: make([]uint8, 5)}); err == nil {
		t.Error("malformed image encoded as webp")
	}
}

func TestFromImage(t *testing.T) {
	// Alpha is dropped without compositing (PIL convert("RGB")).
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	n.SetNRGBA(1, 0, color.NRGBA{1, 2, 3, 128})
	p := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.NRGBA{9, 8, 7, 0}})
	g := image.NewGray16(image.Rect(0, 0, 1, 1))
	g.SetGray16(0, 0, color.Gray16{0xabcd})
	tests := []struct {
		src  image.Image
		want []uint8
	}{
		{n, []uint8{200, 100, 50, 1, 2, 3}},
		{p, []uint8{9, 8, 7}},
		{g, []uint8{0xab, 0xab, 0xab}},
	}
	for i, tc := range tests {
		if got := FromImage(tc.src).Pix; !bytes.Equal(got, tc.want) {
			t.Errorf("case %d: %v, want %v", i, got, tc.want)
		}
	}
	// SwapRB and PlanarF32 keep values and move channels.
	m, _ := FromPix(2, 1, []uint8{1, 2, 3, 4, 5, 6})
	if got := m.SwapRB().Pix; !bytes.Equal(got, []uint8{3, 2, 1, 6, 5, 4}) {
		t.Errorf("SwapRB: %v", got)
	}
	if got := m.PlanarF32(); fmt.Sprint(got) != "[1 4 2 5 3 6]" {
		t.Errorf("PlanarF32: %v", got)
	}
}
