// Package testshared finds the shared test data (golden tensors, real
// checkpoint manifests) for the model packages' tests.
package testshared

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Dir is $FLUXPULID_SHARED or ../shared beside the module root.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FLUXPULID_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Golden is $FLUXPULID_GOLDEN or <shared>/golden; when it is missing the
// test skips (and fails under CI=true).
func Golden(t testing.TB) string {
	t.Helper()
	d := os.Getenv("FLUXPULID_GOLDEN")
	if d == "" {
		d = filepath.Join(Dir(t), "golden")
	}
	Require(t, d)
	return d
}

// Require skips the test when path does not exist (fails under CI=true).
func Require(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v", path, err)
		}
		t.Skipf("SKIPPING: %s not found: %v", path, err)
	}
}

// Manifest reads <shared>/checkpoints/<name>.json, the tensor names and
// shapes of a real checkpoint, as a data-less weights.Source.
func Manifest(t testing.TB, name string) weights.Map {
	t.Helper()
	dir := filepath.Join(Dir(t), "checkpoints")
	Require(t, dir)
	raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
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
