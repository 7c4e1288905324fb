// Package cpu is the CPU backend: tensors are Go slices, hot ops run the
// parallel SIMD kernels of package ops, the rest the reference kernels of
// ops/ref. NewReference gives a backend that runs ops/ref alone, the
// numerical reference the op suite compares every backend with.
package cpu

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/ops"
)

// Tensor is a CPU tensor: F32 data in f, any other type as raw bytes.
type Tensor struct {
	shape []int
	dt    dtype.DType
	f     []float32
	raw   []byte
}

func (t *Tensor) Shape() []int       { return t.shape }
func (t *Tensor) DType() dtype.DType { return t.dt }
func (t *Tensor) String() string     { return fmt.Sprintf("cpu.Tensor(%v %v)", t.dt, t.shape) }

// Data returns the F32 values of t without copying (nil for other types).
func (t *Tensor) Data() []float32 { return t.f }

// Backend is the CPU backend.
type Backend struct {
	reference bool
}

// New returns the CPU backend with its fast kernels.
func New() *Backend { return &Backend{} }

// NewReference returns a CPU backend that uses only the reference kernels.
func NewReference() *Backend { return &Backend{reference: true} }

func (b *Backend) Name() string {
	if b.reference {
		return "cpu-reference"
	}
	return "cpu"
}

// Describe names the processor and the kernels in use.
func (b *Backend) Describe() string {
	if b.reference {
		return "reference kernels"
	}
	return ops.Describe()
}

// poison, when set, makes new op outputs start as NaN (see SetPoison).
var poison atomic.Bool

// SetPoison makes every op output created afterwards start filled with NaN
// instead of zeros, so that tests catch kernels leaving elements unwritten
// (optest.Poisoner). It applies to all CPU backends of the process.
func (b *Backend) SetPoison(on bool) { poison.Store(on) }

// newF32 allocates an op's output.
func newF32(shape []int) *Tensor {
	t := &Tensor{shape: slices.Clone(shape), dt: dtype.F32, f: make([]float32, backend.NumElements(shape))}
	if poison.Load() {
		nan := float32(math.NaN())
		for i := range t.f {
			t.f[i] = nan
		}
	}
	return t
}

func checkShape(op string, shape []int) {
	for _, d := range shape {
		if d < 0 {
			backend.Fail(op, "negative dimension in shape %v", shape)
		}
	}
}

func (b *Backend) FromF32(shape []int, data []float32) backend.Tensor {
	checkShape("from_f32", shape)
	if n := backend.NumElements(shape); n != len(data) {
		backend.Fail("from_f32", "%d values for shape %v (%d elements)", len(data), shape, n)
	}
	t := newF32(shape)
	copy(t.f, data)
	return t
}

func (b *Backend) FromBytes(dt dtype.DType, shape []int, data []byte) backend.Tensor {
	checkShape("from_bytes", shape)
	n := backend.NumElements(shape)
	if !dt.Valid() || n*dt.Size() != len(data) {
		backend.Fail("from_bytes", "%d bytes for %v %v", len(data), dt, shape)
	}
	if dt == dtype.F32 {
		t := newF32(shape)
		dtype.ToF32(dt, data, t.f)
		return t
	}
	return &Tensor{shape: slices.Clone(shape), dt: dt, raw: data}
}

func (b *Backend) Zeros(shape []int) backend.Tensor {
	checkShape("zeros", shape)
	return &Tensor{shape: slices.Clone(shape), dt: dtype.F32, f: make([]float32, backend.NumElements(shape))}
}

func (b *Backend) ReadF32(t backend.Tensor) ([]float32, error) {
	ct, ok := t.(*Tensor)
	if !ok {
		return nil, fmt.Errorf("cpu: read of a %T", t)
	}
	if ct.dt == dtype.F32 {
		return slices.Clone(ct.f), nil
	}
	if !ct.dt.IsFloat() && ct.dt != dtype.U8 && ct.dt != dtype.I8 && ct.dt != dtype.I32 && ct.dt != dtype.I64 {
		return nil, fmt.Errorf("cpu: read of a %v tensor", ct.dt)
	}
	out := make([]float32, backend.NumElements(ct.shape))
	dtype.ToF32(ct.dt, ct.raw, out)
	return out, nil
}

func (b *Backend) Free(t backend.Tensor) {
	if ct, ok := t.(*Tensor); ok {
		ct.f, ct.raw = nil, nil
	}
}

// get asserts t is a CPU tensor.
func get(op string, t backend.Tensor) *Tensor {
	ct, ok := t.(*Tensor)
	if !ok || ct == nil {
		backend.Fail(op, "operand %v is not a CPU tensor", t)
	}
	if ct.f == nil && ct.raw == nil && backend.NumElements(ct.shape) > 0 {
		backend.Fail(op, "operand %v was freed", ct)
	}
	return ct
}

// f32 returns the F32 data of t, failing for other types.
func f32(op string, t backend.Tensor) []float32 {
	ct := get(op, t)
	if ct.dt != dtype.F32 {
		backend.Fail(op, "operand is %v, want F32 (Cast it first)", ct.dt)
	}
	return ct.f
}

// optF32 is f32 for optional operands.
func optF32(op string, t backend.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return f32(op, t)
}

// widen returns t's values as float32, decoding weight types.
func widen(op string, t backend.Tensor) []float32 {
	ct := get(op, t)
	if ct.dt == dtype.F32 {
		return ct.f
	}
	if !ct.dt.IsFloat() {
		backend.Fail(op, "operand is %v, want a float type", ct.dt)
	}
	out := make([]float32, backend.NumElements(ct.shape))
	dtype.ToF32(ct.dt, ct.raw, out)
	return out
}

// matrix views a 2-D (or flattened) weight as an ops.Matrix.
func matrix(op string, t backend.Tensor, n, k int) ops.Matrix {
	ct := get(op, t)
	if !ct.dt.IsFloat() {
		backend.Fail(op, "weight is %v, want a float type", ct.dt)
	}
	return ops.Matrix{N: n, K: k, DType: ct.dt, F32: ct.f, Raw: ct.raw}
}

func init() {
	backend.Register("cpu", func(string) (backend.Backend, error) { return New(), nil })
	backend.Register("cpu-reference", func(string) (backend.Backend, error) { return NewReference(), nil })
}
