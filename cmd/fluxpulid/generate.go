package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/generate"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/imageio"
)

func init() {
	commands["generate"] = command{"generate images of the person in a face photo (the main job)", runGenerate}
	commands["embed"] = command{"encode a face photo once into an ID-embedding file (GGUF)", runEmbed}
}

// stderr receives progress; tests replace it.
var stderr io.Writer = os.Stderr

// modelFlags are the flags that locate the model files.
type modelFlags struct {
	dir, antelope, fluxConfig string
	paths                     generate.Paths
	backend                   string
}

func (m *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.dir, "models", os.Getenv("FLUXPULID_MODELS"), "folder holding the model files under their usual names ($FLUXPULID_MODELS)")
	fs.StringVar(&m.backend, "backend", "cpu", "backend: cpu, vulkan or vulkan:N")
	fs.StringVar(&m.fluxConfig, "flux-config", "", "FLUX configuration to check the weights against (flux-dev, flux-krea-dev); default: read from the weights")
	fs.StringVar(&m.antelope, "antelopev2", "", "insightface antelopev2 folder (scrfd_10g_bnkps.onnx and glintr100.onnx)")
	for _, c := range generate.Components {
		fs.Func(c.Key, fmt.Sprintf("%s: %s", c.Name, c.What), func(s string) error { return m.paths.Set(c.Key, s) })
	}
}

// load finds and loads what need requires, logging to stderr.
func (m *modelFlags) load(need generate.Need) (*generate.Models, error) {
	if m.antelope != "" {
		m.paths.SetAntelopeDir(m.antelope)
	}
	paths, err := generate.Find(m.dir, m.paths, need)
	if err != nil {
		return nil, err
	}
	b, err := backend.Open(m.backend)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	models, err := generate.Load(b, paths, generate.LoadOptions{Need: need, FluxConfig: m.fluxConfig,
		Log: func(s string) { fmt.Fprintf(stderr, "%6.1fs %s\n", time.Since(start).Seconds(), s) }})
	if err != nil {
		return nil, err
	}
	return models, nil
}

// requestFlags are the job's inputs, SPEC.md's names with hyphens.
type requestFlags struct {
	fs *flag.FlagSet
	in generate.Input
}

func (r *requestFlags) register(fs *flag.FlagSet) {
	r.fs = fs
	str := func(dst **string, name, usage string) {
		fs.Func(name, usage, func(s string) error { *dst = &s; return nil })
	}
	integer := func(dst **int, name, usage string) {
		fs.Func(name, usage, func(s string) error {
			var v int
			if _, err := fmt.Sscan(s, &v); err != nil || fmt.Sprint(v) != strings.TrimSpace(s) {
				return fmt.Errorf("%q is not an integer", s)
			}
			*dst = &v
			return nil
		})
	}
	float := func(dst **float64, name, usage string) {
		fs.Func(name, usage, func(s string) error {
			var v float64
			if _, err := fmt.Sscan(s, &v); err != nil {
				return fmt.Errorf("%q is not a number", s)
			}
			*dst = &v
			return nil
		})
	}
	in := &r.in
	str(&in.MainFaceImage, "face", "face photo: jpg, png or webp (main_face_image)")
	str(&in.IDEmbedding, "id-embedding", "saved ID-embedding file (from 'fluxpulid embed') instead of --face")
	str(&in.Prompt, "prompt", fmt.Sprintf("prompt (default %q)", generate.DefaultPrompt))
	str(&in.NegativePrompt, "negative-prompt", "negative prompt, used when --true-cfg > 1 (default: the hosted APIs')")
	integer(&in.Width, "width", fmt.Sprintf("width in pixels, %d-%d, rounded down to a multiple of 16 (default %d)", generate.MinSize, generate.MaxSize, generate.DefaultWidth))
	integer(&in.Height, "height", fmt.Sprintf("height in pixels, %d-%d, rounded down to a multiple of 16 (default %d)", generate.MinSize, generate.MaxSize, generate.DefaultHeight))
	str(&in.Size, "size", "W*H, instead of --width and --height")
	integer(&in.NumSteps, "num-steps", fmt.Sprintf("denoising steps, 1-20 (default %d)", generate.DefaultNumSteps))
	integer(&in.StartStep, "start-step", "first step that injects the identity, 0-10 (default 0)")
	float(&in.GuidanceScale, "guidance-scale", fmt.Sprintf("distilled guidance, 1-10 (default %g)", generate.DefaultGuidanceScale))
	float(&in.TrueCFG, "true-cfg", "true classifier-free guidance scale, 1-10; 1 is off (default 1)")
	float(&in.IDWeight, "id-weight", "identity strength, 0-3 (default 1)")
	integer(&in.MaxSequenceLength, "max-sequence-length", "T5 tokens, 128-512 (default 128)")
	integer(&in.NumOutputs, "num-outputs", "images to generate, 1-4 (default 1)")
	str(&in.OutputFormat, "output-format", "png, jpg or webp (default png here; the hosted APIs default to webp, written lossless)")
	integer(&in.OutputQuality, "output-quality", "jpg quality, 1-100 (default 80)")
	str(&in.Seed, "seed", "seed; -1 or empty for a random one, which is printed")
}

func runGenerate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	var mf modelFlags
	var rf requestFlags
	mf.register(fs)
	rf.register(fs)
	out := fs.String("out", ".", "folder to write the images to")
	debug := fs.Bool("debug-images", false, "also write the detected face crop and the masked gray face")
	asJSON := fs.Bool("json", false, "print the result as JSON (paths, seed, timings) instead of lines")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if rf.in.OutputFormat == nil {
		png := "png"
		rf.in.OutputFormat = &png
	}
	req, err := rf.in.Resolve()
	if err != nil {
		return err
	}
	for _, n := range req.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if err := checkWritable(*out); err != nil {
		return err
	}
	need := generate.NeedGenerate
	if req.IDEmbeddingPath == "" {
		need |= generate.NeedFace
	}
	models, err := mf.load(need)
	if err != nil {
		return err
	}
	defer models.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := generate.RunProgress(ctx, models, req, progressPrinter(stderr, start))
	if err != nil {
		return err
	}
	var written []string
	for i, img := range res.Images {
		name := filepath.Join(*out, fmt.Sprintf("fluxpulid-%d-%d.%s", res.Seed, i, img.Format.Ext()))
		path, err := save(name, img.Data)
		if err != nil {
			return err
		}
		written = append(written, path)
	}
	if *debug && res.Face != nil {
		for _, d := range []struct {
			name string
			img  *imageio.Image
		}{{"face-crop", res.Face.FaceCrop}, {"face-masked-gray", res.Face.MaskedGray}} {
			if d.img == nil {
				continue
			}
			name := filepath.Join(*out, fmt.Sprintf("fluxpulid-%d-%s.png", res.Seed, d.name))
			f, err := os.Create(name)
			if err != nil {
				return err
			}
			err = imageio.EncodePNG(f, d.img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			written = append(written, name)
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"output": written, "seed": res.Seed, "width": res.Width, "height": res.Height, "notes": res.Notes,
			"timings_ms": map[string]int64{
				"face": res.Timings.Face.Milliseconds(), "prompt": res.Timings.Prompt.Milliseconds(),
				"denoise": res.Timings.Denoise.Milliseconds(), "encode": res.Timings.Encode.Milliseconds(),
				"total": res.Timings.Total.Milliseconds(),
			},
		})
	}
	for _, name := range written {
		fmt.Fprintln(stdout, name)
	}
	fmt.Fprintf(stdout, "seed %d, %dx%d, %.1fs\n", res.Seed, res.Width, res.Height, res.Timings.Total.Seconds())
	return nil
}

// checkWritable creates dir if needed and makes sure a file can be created
// in it, so that an output folder the images cannot go to fails the run
// before the minutes of denoising rather than after.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".fluxpulid-write-check-*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot write there: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// save writes data to name. Should that fail (a folder of that name, the
// output folder removed or full, ...), the image is not thrown away: it goes
// to a new file beside name, or else in the temporary folder, and a note
// says where. It fails only when no copy could be written.
func save(name string, data []byte) (string, error) {
	first := os.WriteFile(name, data, 0o644)
	if first == nil {
		return name, nil
	}
	ext := filepath.Ext(name)
	pattern := strings.TrimSuffix(filepath.Base(name), ext) + "-*" + ext
	for _, dir := range []string{filepath.Dir(name), os.TempDir()} {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			continue
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			continue
		}
		fmt.Fprintf(stderr, "note: %v; the image is saved as %s instead\n", first, f.Name())
		return f.Name(), nil
	}
	return "", fmt.Errorf("save image: %w (and no other place would take it)", first)
}

// progressPrinter prints one line per stage and per denoising step.
func progressPrinter(w io.Writer, start time.Time) func(generate.Event) {
	last := time.Now()
	return func(e generate.Event) {
		now := time.Now()
		switch e.Stage {
		case "denoise":
			fmt.Fprintf(w, "%6.1fs step %d/%d of image %d/%d (%.2fs/step)\n", now.Sub(start).Seconds(),
				e.Step, e.Steps, e.Output+1, e.Outputs, now.Sub(last).Seconds())
		default:
			fmt.Fprintf(w, "%6.1fs %s\n", now.Sub(start).Seconds(), e.Stage)
		}
		last = now
	}
}

func runEmbed(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	face := fs.String("face", "", "face photo: jpg, png or webp")
	out := fs.String("out", "", "ID-embedding file to write (GGUF, as stable-diffusion.cpp's PuLID reads)")
	uncond := fs.Bool("uncond", true, "also store the uncond tokens true CFG uses")
	f16 := fs.Bool("f16", false, "store float16 instead of float32")
	debug := fs.String("debug-images", "", "folder to write the detected face crop and the masked gray face to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case *face == "":
		return errors.New("--face is required")
	case *out == "":
		return errors.New("--out is required")
	}
	// Where the embedding goes is checked before the face models run.
	if fi, err := os.Stat(*out); err == nil && fi.IsDir() {
		return fmt.Errorf("--out %s: is a folder, want the file name of the embedding", *out)
	}
	if err := checkWritable(filepath.Dir(*out)); err != nil {
		return err
	}
	models, err := mf.load(generate.NeedFace)
	if err != nil {
		return err
	}
	defer models.Close()
	start := time.Now()
	res, err := models.EncodeFace(*face, nil, *uncond)
	if err != nil {
		return err
	}
	dt := dtype.F32
	if *f16 {
		dt = dtype.F16
	}
	if err := idembed.Save(*out, res.Embedding, dt); err != nil {
		return err
	}
	if *debug != "" {
		if err := os.MkdirAll(*debug, 0o755); err != nil {
			return err
		}
		for name, img := range map[string]*imageio.Image{"face-crop.png": res.FaceCrop, "face-masked-gray.png": res.MaskedGray} {
			if img == nil {
				continue
			}
			f, err := os.Create(filepath.Join(*debug, name))
			if err != nil {
				return err
			}
			err = imageio.EncodePNG(f, img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "%s: %d tokens x %d (ArcFace from the %s face), %.1fs\n", *out, res.Embedding.Tokens, res.Embedding.Dim, res.ArcFaceFrom, time.Since(start).Seconds())
	return nil
}
