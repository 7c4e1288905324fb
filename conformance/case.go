// Package conformance checks fluxpulid's models against golden tensors
// produced by the original PyTorch code (format: shared/golden/FORMAT.md).
//
// Each case file names its computation in the metadata key `kind`; model
// code registers a Runner per kind (one file per area: flux.go, text.go,
// ...). Run executes a case on a backend and compares every `out.*` tensor
// with the case's per-tensor tolerances.
package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/safetensors"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Case is one golden case file.
type Case struct {
	Path string // file path
	Name string // path relative to the golden root, e.g. "flux/case_forward_noid"
	Kind string
	Meta map[string]string

	file *safetensors.File
}

// Open reads a case file; root is the golden root the Name is relative to.
func Open(path, root string) (*Case, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	name, err := filepath.Rel(root, path)
	if err != nil || strings.HasPrefix(name, "..") {
		name = filepath.Base(path)
	}
	c := &Case{Path: path, Name: strings.TrimSuffix(filepath.ToSlash(name), ".safetensors"), Meta: f.Metadata, file: f}
	if c.Meta == nil {
		c.Meta = map[string]string{}
	}
	c.Kind = c.Meta["kind"]
	if c.Kind == "" {
		f.Close()
		return nil, fmt.Errorf("case %s: metadata has no kind", path)
	}
	return c, nil
}

// Close releases the case file.
func (c *Case) Close() error { return c.file.Close() }

// Dir is the folder holding the case (weights are relative to it).
func (c *Case) Dir() string { return filepath.Dir(c.Path) }

// Has reports whether the case holds the named tensor ("in.x", "out.y").
func (c *Case) Has(name string) bool { _, ok := c.file.Info(name); return ok }

// Names lists the tensors of the case whose names start with prefix.
func (c *Case) Names(prefix string) []string {
	var out []string
	for _, n := range c.file.Names() {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Info describes a tensor of the case.
func (c *Case) Info(name string) (safetensors.Info, error) {
	i, ok := c.file.Info(name)
	if !ok {
		return i, fmt.Errorf("case %s: no tensor %q", c.Name, name)
	}
	return i, nil
}

// F32 returns a tensor's values as float32 and its shape.
func (c *Case) F32(name string) ([]float32, []int, error) {
	v, s, err := c.file.F32(name)
	if err != nil {
		return nil, nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	return v, s, nil
}

// I64 returns an integer tensor's values and its shape.
func (c *Case) I64(name string) ([]int64, []int, error) {
	v, s, err := c.file.I64(name)
	if err != nil {
		return nil, nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	return v, s, nil
}

// Bytes returns a tensor's raw data (U8 images).
func (c *Case) Bytes(name string) ([]byte, error) { return c.file.Bytes(name) }

// Tensor uploads a tensor of the case to b as F32.
func (c *Case) Tensor(b backend.Backend, name string) (backend.Tensor, error) {
	v, s, err := c.F32(name)
	if err != nil {
		return nil, err
	}
	return b.FromF32(s, v), nil
}

// JSON decodes the metadata value key into v. Numbers decode exactly:
// into json.Number when v holds interfaces, and seeds above 2^63 fit a
// uint64 field.
func (c *Case) JSON(key string, v any) error {
	s, ok := c.Meta[key]
	if !ok {
		return fmt.Errorf("case %s: metadata has no %q", c.Name, key)
	}
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("case %s: metadata %q: %w", c.Name, key, err)
	}
	return nil
}

// Float reads a metadata value holding a float.
func (c *Case) Float(key string) (float64, error) {
	s, ok := c.Meta[key]
	if !ok {
		return 0, fmt.Errorf("case %s: metadata has no %q", c.Name, key)
	}
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// WeightPaths lists the weight files the case uses (metadata `weights`).
func (c *Case) WeightPaths() []string {
	var out []string
	for _, w := range strings.Split(c.Meta["weights"], ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, filepath.Join(c.Dir(), w))
		}
	}
	return out
}

// Weights opens the case's safetensors weight files as one store.
func (c *Case) Weights() (*weights.Store, error) {
	var st []string
	for _, p := range c.WeightPaths() {
		if strings.HasSuffix(p, ".safetensors") {
			st = append(st, p)
		}
	}
	if len(st) == 0 {
		return nil, fmt.Errorf("case %s: no safetensors weights named in metadata", c.Name)
	}
	return weights.OpenFiles(st...)
}

// Output is a computed tensor to compare with the case's out.* tensor.
type Output struct {
	Shape []int
	F32   []float32
	I64   []int64
	// Mask, if not nil, selects the elements to compare (a MANIFEST rule
	// such as BiSeNet's label-margin condition); false elements are skipped.
	Mask []bool
}

// Outputs maps out.* names to computed tensors.
type Outputs map[string]Output

// Float is an Output of float values.
func Float(shape []int, v []float32) Output { return Output{Shape: slices.Clone(shape), F32: v} }

// Ints is an Output of integer values.
func Ints(shape []int, v []int64) Output { return Output{Shape: slices.Clone(shape), I64: v} }

// Read reads t back from its backend into an Output.
func Read(b backend.Backend, t backend.Tensor) (Output, error) {
	v, err := b.ReadF32(t)
	if err != nil {
		return Output{}, err
	}
	return Float(t.Shape(), v), nil
}

// isInt reports whether want values are compared as integers.
func isInt(d dtype.DType) bool { return !d.IsFloat() }

// casesIn lists case files under dir (recursively), sorted.
func casesIn(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "case_") && strings.HasSuffix(d.Name(), ".safetensors") {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
