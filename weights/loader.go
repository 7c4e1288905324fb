package weights

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Loader loads tensors by name onto a backend, collecting every problem
// (missing, mis-shaped) instead of stopping at the first, so a user with
// the wrong file learns everything that is wrong at once.
type Loader struct {
	b      backend.Backend
	src    Source
	prefix string
	st     *loadState
}

type loadState struct {
	problems []string
	used     map[string]bool
}

// NewLoader loads from src onto b.
func NewLoader(b backend.Backend, src Source) *Loader {
	return &Loader{b: b, src: src, st: &loadState{used: map[string]bool{}}}
}

// Sub returns a loader for names under prefix + "." (sharing the problem list).
func (l *Loader) Sub(prefix string) *Loader {
	c := *l
	c.prefix = l.prefix + prefix + "."
	return &c
}

// Subf is Sub with a formatted prefix: l.Subf("double_blocks.%d", i).
func (l *Loader) Subf(format string, args ...any) *Loader { return l.Sub(fmt.Sprintf(format, args...)) }

// Backend is the backend tensors are loaded onto.
func (l *Loader) Backend() backend.Backend { return l.b }

// Has reports whether the named tensor exists.
func (l *Loader) Has(name string) bool {
	_, ok := l.src.Info(l.prefix + name)
	return ok
}

// Shape returns the stored shape of name, or nil if it is missing.
func (l *Loader) Shape(name string) []int {
	i, ok := l.src.Info(l.prefix + name)
	if !ok {
		return nil
	}
	return i.Shape
}

func (l *Loader) problem(format string, args ...any) {
	l.st.problems = append(l.st.problems, fmt.Sprintf(format, args...))
}

// Weight loads name in its stored type (for MatMul, Linear, Conv2D and
// TakeRows, which widen on the fly). If shape is given it must match.
func (l *Loader) Weight(name string, shape ...int) backend.Tensor {
	return l.load(name, shape, false)
}

// F32 loads name widened to F32 (biases, norm scales, embeddings used by
// elementwise ops). If shape is given it must match.
func (l *Loader) F32(name string, shape ...int) backend.Tensor {
	return l.load(name, shape, true)
}

func (l *Loader) load(name string, shape []int, widen bool) backend.Tensor {
	full := l.prefix + name
	info, ok := l.src.Info(full)
	if !ok {
		l.problem("missing tensor %q", full)
		return nil
	}
	l.st.used[full] = true
	if shape != nil && !slices.Equal(info.Shape, shape) {
		l.problem("tensor %q has shape %v, want %v", full, info.Shape, shape)
		return nil
	}
	if !info.DType.IsFloat() {
		l.problem("tensor %q is %v, want a float type", full, info.DType)
		return nil
	}
	data, err := l.src.Bytes(full)
	if err != nil {
		l.problem("tensor %q: %v", full, err)
		return nil
	}
	if widen && info.DType != dtype.F32 {
		f := make([]float32, backend.NumElements(info.Shape))
		dtype.ToF32(info.DType, data, f)
		return l.b.FromF32(info.Shape, f)
	}
	return l.b.FromBytes(info.DType, info.Shape, data)
}

// Err reports every problem met so far, or nil.
func (l *Loader) Err() error {
	if len(l.st.problems) == 0 {
		return nil
	}
	return errors.New(summarise(l.st.problems))
}

// Unused lists the source's names under the loader's prefix that were
// never loaded.
func (l *Loader) Unused() []string {
	var out []string
	for _, n := range l.src.Names() {
		if strings.HasPrefix(n, l.prefix) && !l.st.used[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Check compares the tensors of src against the expected names and
// shapes, reporting every missing, unexpected and mis-shaped tensor.
// Names for which ignore returns true (optional extras) are skipped.
func Check(src Source, want map[string][]int, ignore func(name string) bool) error {
	var problems []string
	for name, shape := range want {
		info, ok := src.Info(name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing tensor %q %v", name, shape))
		case !slices.Equal(info.Shape, shape):
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, want %v", name, info.Shape, shape))
		}
	}
	for _, name := range src.Names() {
		if _, ok := want[name]; !ok && (ignore == nil || !ignore(name)) {
			problems = append(problems, fmt.Sprintf("unexpected tensor %q", name))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return errors.New(summarise(problems))
}

// summarise joins problems, eliding the middle of very long lists.
func summarise(p []string) string {
	const keep = 20
	if len(p) <= keep {
		return fmt.Sprintf("%d problem(s): %s", len(p), strings.Join(p, "; "))
	}
	return fmt.Sprintf("%d problems: %s; … and %d more", len(p), strings.Join(p[:keep], "; "), len(p)-keep)
}
