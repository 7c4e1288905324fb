// Package weights maps tensor names to stored data across the checkpoint
// formats users have (single safetensors files, sharded HF folders with an
// index JSON, and any other Source such as a PyTorch pickle or an ONNX
// graph), and loads them onto a backend by name.
package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

// Info describes a stored tensor.
type Info struct {
	DType dtype.DType
	Shape []int
}

// Source is a read-only collection of named tensors.
type Source interface {
	Names() []string
	Info(name string) (Info, bool)
	// Bytes returns little-endian row-major data; it may be a view into a
	// memory mapping, valid until the source is closed.
	Bytes(name string) ([]byte, error)
}

// KnownPrefixes are stripped from names when opening files, so a ComfyUI
// checkpoint (`model.diffusion_model.double_blocks.0...`) loads like the
// original release.
var KnownPrefixes = []string{"model.diffusion_model."}

// Store is a Source over one or more safetensors files.
type Store struct {
	files []*safetensors.File
	names []string
	where map[string]entry
}

type entry struct {
	file *safetensors.File
	name string // name inside the file
}

// Open opens a checkpoint: a .safetensors file, a directory holding a
// `*.safetensors.index.json` (HF shards) or a single .safetensors, or an
// index JSON itself.
func Open(path string) (*Store, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		idx, _ := filepath.Glob(filepath.Join(path, "*.safetensors.index.json"))
		if len(idx) == 1 {
			return openIndex(idx[0])
		}
		files, _ := filepath.Glob(filepath.Join(path, "*.safetensors"))
		if len(files) == 0 {
			return nil, fmt.Errorf("weights %s: no .safetensors file or index in directory", path)
		}
		if len(idx) > 1 {
			return nil, fmt.Errorf("weights %s: %d index files; name one", path, len(idx))
		}
		return OpenFiles(files...)
	}
	if strings.HasSuffix(path, ".json") {
		return openIndex(path)
	}
	return OpenFiles(path)
}

// openIndex opens the shards an HF index JSON lists in its weight_map.
func openIndex(path string) (*Store, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("weights index %s: %w", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("weights index %s: empty weight_map", path)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range idx.WeightMap {
		if filepath.Base(f) != f {
			return nil, fmt.Errorf("weights index %s: shard name %q is not a plain file name", path, f)
		}
		if !seen[f] {
			seen[f] = true
			files = append(files, filepath.Join(filepath.Dir(path), f))
		}
	}
	sort.Strings(files)
	s, err := OpenFiles(files...)
	if err != nil {
		return nil, err
	}
	for name := range idx.WeightMap {
		if _, ok := s.where[stripKnown(name)]; !ok {
			s.Close()
			return nil, fmt.Errorf("weights index %s: tensor %q is not in its shard", path, name)
		}
	}
	return s, nil
}

// OpenFiles opens several safetensors files as one store. A name present
// in two files is an error.
func OpenFiles(paths ...string) (*Store, error) {
	s := &Store{where: map[string]entry{}}
	for _, p := range paths {
		f, err := safetensors.Open(p)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("weights: %w", err)
		}
		s.files = append(s.files, f)
		for _, n := range f.Names() {
			key := stripKnown(n)
			if prev, dup := s.where[key]; dup {
				s.Close()
				return nil, fmt.Errorf("weights: tensor %q is in both %s and %s", key, prev.file.Path, p)
			}
			s.where[key] = entry{f, n}
			s.names = append(s.names, key)
		}
	}
	return s, nil
}

func stripKnown(name string) string {
	for _, p := range KnownPrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest
		}
	}
	return name
}

func (s *Store) Names() []string { return s.names }

func (s *Store) Info(name string) (Info, bool) {
	e, ok := s.where[name]
	if !ok {
		return Info{}, false
	}
	i, _ := e.file.Info(e.name)
	return Info{DType: i.DType, Shape: i.Shape}, true
}

func (s *Store) Bytes(name string) ([]byte, error) {
	e, ok := s.where[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	return e.file.Bytes(e.name)
}

// Metadata returns the __metadata__ of the first file.
func (s *Store) Metadata() map[string]string {
	if len(s.files) == 0 {
		return nil
	}
	return s.files[0].Metadata
}

// Close unmaps every file.
func (s *Store) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.Close())
	}
	s.files = nil
	return errors.Join(errs...)
}

// Prefixed views the tensors of src under prefix, with the prefix removed
// (e.g. "pulid_ca.3." of a PuLID checkpoint).
func Prefixed(src Source, prefix string) Source { return prefixed{src, prefix} }

type prefixed struct {
	src    Source
	prefix string
}

func (p prefixed) Names() []string {
	var out []string
	for _, n := range p.src.Names() {
		if rest, ok := strings.CutPrefix(n, p.prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}
func (p prefixed) Info(name string) (Info, bool)     { return p.src.Info(p.prefix + name) }
func (p prefixed) Bytes(name string) ([]byte, error) { return p.src.Bytes(p.prefix + name) }

// Map is an in-memory Source (tests, converted formats).
type Map map[string]Tensor

// Tensor is an in-memory stored tensor.
type Tensor struct {
	Info
	Data []byte
}

func (m Map) Names() []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
func (m Map) Info(name string) (Info, bool) { t, ok := m[name]; return t.Info, ok }
func (m Map) Bytes(name string) ([]byte, error) {
	t, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	return t.Data, nil
}
