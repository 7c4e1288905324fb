package imageio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must return an image of
// consistent shape or an error, never panic (decoder panics are let
// through here so that the fuzzer sees them) or hang.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.jpg")
	webps, _ := filepath.Glob("testdata/*.webp")
	for _, p := range append(seeds, webps...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	var png, jpg bytes.Buffer
	EncodePNG(&png, card(9, 5))
	EncodeJPEG(&jpg, card(9, 5), 50)
	f.Add(png.Bytes())
	f.Add(jpg.Bytes())
	f.Add(withOrientation(f, jpg.Bytes(), 6, true))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))

	maxPixels, recoverPanics = 1<<16, false
	f.Cleanup(func() { maxPixels, recoverPanics = MaxPixels, true })
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, "fuzz")
		if err != nil {
			return
		}
		if m.W <= 0 || m.H <= 0 || int64(m.W)*int64(m.H) > maxPixels || len(m.Pix) != 3*m.W*m.H {
			t.Fatalf("decoded a malformed image %dx%d with %d bytes", m.W, m.H, len(m.Pix))
		}
	})
}
