// Package testenv locates the test data kept outside the repository: the
// golden tensors, the real checkpoints' tensor manifests and the real
// tokenizer vocabularies (never committed, see shared/tokenizers/*/README.md).
//
// Lookup order: $FLUXPULID_GOLDEN (golden tensors) and $FLUXPULID_TOKENIZERS
// (vocabularies), else under $FLUXPULID_SHARED, else under ../shared beside
// the repository root (the directory holding go.mod). Missing data skips the
// test loudly, or fails it under CI=true where the data must be present.
package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/weights"
)

// SharedDir is $FLUXPULID_SHARED or ../shared beside the module root. It
// does not check that the directory exists; Shared does.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FLUXPULID_SHARED"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared")
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Shared joins elem onto the shared directory and requires the result.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	return Require(t, filepath.Join(append([]string{SharedDir(t)}, elem...)...))
}

// Golden joins elem (an area, a case file) onto the golden directory,
// $FLUXPULID_GOLDEN or <shared>/golden, and requires the result.
func Golden(t testing.TB, elem ...string) string {
	t.Helper()
	return Require(t, filepath.Join(append([]string{dir(t, "FLUXPULID_GOLDEN", "golden")}, elem...)...))
}

// Tokenizers joins elem (t5/spiece.model, clip) onto the vocabulary
// directory, $FLUXPULID_TOKENIZERS or <shared>/tokenizers, and requires the
// result.
func Tokenizers(t testing.TB, elem ...string) string {
	t.Helper()
	return Require(t, filepath.Join(append([]string{dir(t, "FLUXPULID_TOKENIZERS", "tokenizers")}, elem...)...))
}

func dir(t testing.TB, env, sub string) string {
	t.Helper()
	if d := os.Getenv(env); d != "" {
		return d
	}
	return filepath.Join(SharedDir(t), sub)
}

// Require returns path when it exists; otherwise it skips the test with a
// loud message, or fails it under CI=true.
func Require(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("TEST DATA MISSING, TEST NOT RUN: %v (set FLUXPULID_SHARED, FLUXPULID_GOLDEN or FLUXPULID_TOKENIZERS)", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "!!! "+msg)
		t.Skip(msg)
	}
	return path
}

// Manifest reads <shared>/checkpoints/<name>.json, the tensor names and
// shapes of a real checkpoint, as a data-less weights.Source (BF16, as the
// released checkpoints store them).
func Manifest(t testing.TB, name string) weights.Map {
	t.Helper()
	raw, err := os.ReadFile(Shared(t, "checkpoints", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Tensors map[string][]int `json:"tensors"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	if len(m.Tensors) == 0 {
		t.Fatalf("%s.json lists no tensors", name)
	}
	src := weights.Map{}
	for n, s := range m.Tensors {
		src[n] = weights.Tensor{Info: weights.Info{DType: dtype.BF16, Shape: s}}
	}
	return src
}

// Copy copies every tensor of src into an editable in-memory source.
func Copy(t testing.TB, src weights.Source) weights.Map {
	t.Helper()
	m := weights.Map{}
	for _, n := range src.Names() {
		info, _ := src.Info(n)
		data, err := src.Bytes(n)
		if err != nil {
			t.Fatal(err)
		}
		m[n] = weights.Tensor{Info: info, Data: data}
	}
	return m
}

// GoldenWeights opens <golden>/<area>/weights.safetensors, closed when the
// test ends.
func GoldenWeights(t testing.TB, area string) *weights.Store {
	t.Helper()
	st, err := weights.Open(Golden(t, area, "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
