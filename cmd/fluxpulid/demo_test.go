package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs the demo end to end: tiny models written, the generate
// path run, a 256×256 PNG with varied pixels written.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	stderr = &bytes.Buffer{}
	defer func() { stderr = os.Stderr }()
	var out bytes.Buffer
	if err := runDemo([]string{"--dir", dir}, &out); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fluxpulid-42-0.png")
	if !strings.Contains(out.String(), path) {
		t.Errorf("output does not name %s:\n%s", path, out.String())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("image is %v, want 256x256", b)
	}
	colours := map[uint32]bool{}
	for y := 0; y < 256; y += 7 {
		for x := 0; x < 256; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r<<16^g<<8^b] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("only %d distinct colours sampled: a flat or broken image", len(colours))
	}
}
