package main

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/generate/tinyset"
	"github.com/fluxpulid/fluxpulid/idembed"
)

// tinyModels writes the tiny model set and an ID embedding for it.
func tinyModels(t *testing.T) (dir, emb string) {
	t.Helper()
	dir = t.TempDir()
	cfg := tinyset.Default()
	if err := tinyset.Write(dir, cfg); err != nil {
		t.Fatal(err)
	}
	enc := cfg.PuLID.Encoder
	e := &idembed.Embedding{Tokens: enc.NumQueries, Dim: enc.OutputDim,
		Cond: tinyset.Values("id", []int{enc.NumQueries, enc.OutputDim}, 7)}
	emb = filepath.Join(dir, "face.gguf")
	if err := idembed.Save(emb, e, dtype.F16); err != nil {
		t.Fatal(err)
	}
	return dir, emb
}

func TestGenerateCommand(t *testing.T) {
	dir, emb := tinyModels(t)
	out := filepath.Join(t.TempDir(), "images")
	var progress bytes.Buffer
	stderr = &progress
	defer func() { stderr = os.Stderr }()
	var stdout bytes.Buffer
	err := runGenerate([]string{"--models", dir, "--id-embedding", emb, "--prompt", "a portrait of a man",
		"--size", "260*256", "--num-steps", "2", "--seed", "7", "--output-format", "jpg", "--output-quality", "90",
		"--out", out}, &stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	want := filepath.Join(out, "fluxpulid-7-0.jpg")
	if !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), "seed 7, 256x256") {
		t.Errorf("stdout %q does not name %s and the seed", stdout.String(), want)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("image %v, want 256x256 (260 rounded down)", b)
	}
	for _, line := range []string{"note: width 260 rounded down to 256", "step 1/2 of image 1/1", "step 2/2 of image 1/1", "loaded " + filepath.Join(dir, "flux1-dev.safetensors")} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}
}

func TestGenerateCommandErrors(t *testing.T) {
	dir, emb := tinyModels(t)
	stderr = &bytes.Buffer{}
	defer func() { stderr = os.Stderr }()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"bad input names the field", []string{"--models", dir, "--id-embedding", emb, "--num-steps", "50"}, []string{"num_steps: 50 is outside 1-20"}},
		{"no face", []string{"--models", dir}, []string{"main_face_image: is required"}},
		{"not a number", []string{"--models", dir, "--id-embedding", emb, "--width", "wide"}, []string{`"wide" is not an integer`}},
		{"missing models named", []string{"--models", t.TempDir(), "--id-embedding", emb, "--out", t.TempDir()},
			[]string{"flux1-dev.safetensors (the FLUX.1-dev transformer)", "ae.safetensors", "spiece.model", "--clip-tokenizer"}},
		{"output folder is a file", []string{"--models", dir, "--id-embedding", emb, "--out", emb}, []string{"--out " + emb}},
		{"face models needed for a photo", []string{"--models", dir, "--face", "me.jpg", "--out", t.TempDir()},
			[]string{"scrfd_10g_bnkps.onnx", "glintr100.onnx", "detection_Resnet50_Final.pth", "parsing_bisenet.pth", "EVA02_CLIP_L_336_psz14_s6B.pt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := runGenerate(c.args, &bytes.Buffer{})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if err := runEmbed([]string{"--models", dir, "--face", "me.jpg", "--out", dir}, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "--out "+dir+": is a folder") {
		t.Errorf("embed --out a folder: %v", err)
	}
	if err := runEmbed([]string{"--models", t.TempDir(), "--face", "me.jpg", "--out", "x.gguf"}, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "pulid_flux_v0.9.1.safetensors") || !strings.Contains(err.Error(), "glintr100.onnx") {
		t.Errorf("embed without models: %v", err)
	}
	if err := runEmbed([]string{"--out", "x.gguf"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--face") {
		t.Errorf("embed without --face: %v", err)
	}
}

// An image whose file cannot be written (here a folder has its name) is
// saved beside it under another name, not lost after the whole run.
func TestGenerateCommandKeepsImages(t *testing.T) {
	dir, emb := tinyModels(t)
	out := t.TempDir()
	blocked := filepath.Join(out, "fluxpulid-3-0.png")
	if err := os.Mkdir(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	var progress, stdout bytes.Buffer
	stderr = &progress
	defer func() { stderr = os.Stderr }()
	err := runGenerate([]string{"--models", dir, "--id-embedding", emb, "--size", "256*256", "--num-steps", "1",
		"--seed", "3", "--out", out}, &stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	saved := strings.SplitN(stdout.String(), "\n", 2)[0]
	if filepath.Dir(saved) != out || !strings.HasPrefix(filepath.Base(saved), "fluxpulid-3-0-") || !strings.HasSuffix(saved, ".png") {
		t.Fatalf("first output line %q, want another png beside %s", saved, blocked)
	}
	if data, err := os.ReadFile(saved); err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Errorf("saved image %s: %v, %d bytes", saved, err, len(data))
	}
	if !strings.Contains(progress.String(), "the image is saved as "+saved+" instead") {
		t.Errorf("no note on where the image went:\n%s", progress.String())
	}
}
