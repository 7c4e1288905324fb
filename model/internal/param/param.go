// Package param lets one constructor both load a model's parameters from a
// checkpoint and list their names and shapes without allocating anything,
// so the real-size shape list a checkpoint is checked against is, by
// construction, exactly what the loader asks for.
package param

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/nn"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Set hands out parameters under a name prefix: loaded through a
// weights.Loader, or (listing mode) recorded by name and shape, with nil
// tensors returned.
type Set struct {
	l      *weights.Loader
	prefix string
	list   map[string][]int
}

// Load returns a Set that loads from l (shape-checked; problems collect in l.Err()).
func Load(l *weights.Loader) Set { return Set{l: l} }

// List returns a Set that only records names and shapes into the returned map.
func List() (Set, map[string][]int) {
	m := map[string][]int{}
	return Set{list: m}, m
}

// Backend is the backend tensors load onto (nil when listing).
func (s Set) Backend() backend.Backend {
	if s.l == nil {
		return nil
	}
	return s.l.Backend()
}

// Listing reports whether the set only records shapes (tensors are nil).
func (s Set) Listing() bool { return s.l == nil }

// Sub returns the set for names under prefix + ".".
func (s Set) Sub(prefix string) Set {
	s.prefix += prefix + "."
	return s
}

// Subf is Sub with a formatted prefix: p.Subf("double_blocks.%d", i).
func (s Set) Subf(format string, args ...any) Set { return s.Sub(fmt.Sprintf(format, args...)) }

// Weight is a tensor kept in its storage type (matmul, linear operands).
func (s Set) Weight(name string, shape ...int) backend.Tensor {
	if s.l == nil {
		s.record(name, shape)
		return nil
	}
	return s.l.Weight(s.prefix+name, shape...)
}

// F32 is a tensor widened to F32 (biases, norm scales, anything used elementwise).
func (s Set) F32(name string, shape ...int) backend.Tensor {
	if s.l == nil {
		s.record(name, shape)
		return nil
	}
	return s.l.F32(s.prefix+name, shape...)
}

func (s Set) record(name string, shape []int) {
	full := s.prefix + name
	if _, dup := s.list[full]; dup {
		panic("param: " + full + " listed twice") // a constructor bug, caught by the shape tests
	}
	s.list[full] = slices.Clone(shape)
}

// Linear is torch.nn.Linear(in, out, bias) stored as name.weight [out, in], name.bias [out].
func (s Set) Linear(name string, in, out int, bias bool) nn.Linear {
	m := nn.Linear{Weight: s.Weight(name+".weight", out, in)}
	if bias {
		m.Bias = s.F32(name+".bias", out)
	}
	return m
}

// LayerNorm is torch.nn.LayerNorm(n, eps) with its affine weight and bias.
func (s Set) LayerNorm(name string, n int, eps float32) nn.LayerNorm {
	return nn.LayerNorm{Weight: s.F32(name+".weight", n), Bias: s.F32(name+".bias", n), Eps: eps}
}

// Unexpected reports the tensors of src under one of roots that want does
// not list (nil if none), so a checkpoint of another configuration is named
// for what it has too much of, not only what it lacks.
func Unexpected(src weights.Source, want map[string][]int, roots []string) error {
	var extra []string
	for _, n := range src.Names() {
		if _, ok := want[n]; ok {
			continue
		}
		for _, r := range roots {
			if strings.HasPrefix(n, r) {
				extra = append(extra, fmt.Sprintf("unexpected tensor %q", n))
				break
			}
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	const keep = 20
	if len(extra) > keep {
		extra = append(extra[:keep], fmt.Sprintf("… and %d more", len(extra)-keep))
	}
	return errors.New(strings.Join(extra, "; "))
}
