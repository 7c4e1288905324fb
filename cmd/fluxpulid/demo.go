package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/generate/tinyset"
	"github.com/fluxpulid/fluxpulid/idembed"
)

func init() {
	commands["demo"] = command{"run the whole generation job on a tiny random-weight model set (no downloads)", runDemo}
}

// runDemo writes a tiny model set under the real file and tensor names
// and a synthetic identity, then runs 'generate' on them: every code path
// of the real job, in seconds, on a machine without the multi-GB weights.
// The weights are random, so the picture is noise.
func runDemo(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(os.TempDir(), "fluxpulid-demo"), "folder for the tiny models and the output image")
	backendSpec := fs.String("backend", "cpu", "backend: cpu, vulkan or vulkan:N")
	if err := fs.Parse(args); err != nil {
		return err
	}
	models := filepath.Join(*dir, "models")
	if err := os.MkdirAll(models, 0o755); err != nil {
		return err
	}
	cfg := tinyset.Default()
	if err := tinyset.Write(models, cfg); err != nil {
		return fmt.Errorf("write tiny models: %w", err)
	}
	enc := cfg.PuLID.Encoder
	id := &idembed.Embedding{Tokens: enc.NumQueries, Dim: enc.OutputDim,
		Cond: tinyset.Values("demo identity", []int{enc.NumQueries, enc.OutputDim}, 1)}
	for i := range id.Cond {
		id.Cond[i] *= 8 // tokens of roughly unit size, like a real identity
	}
	idPath := filepath.Join(*dir, "identity.gguf")
	if err := idembed.Save(idPath, id, dtype.F32); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tiny model set in %s, synthetic identity %s\n", models, idPath)
	return runGenerate([]string{
		"--models", models, "--id-embedding", idPath, "--backend", *backendSpec,
		"--prompt", "portrait of a person, cinematic", "--width", "256", "--height", "256",
		"--num-steps", "4", "--seed", "42", "--out", *dir,
	}, stdout)
}
