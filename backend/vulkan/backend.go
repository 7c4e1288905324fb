// Package vulkan is the Vulkan compute backend: tensors live in device
// buffers, ops are the SPIR-V shaders of package shaders, and work is
// recorded into one command buffer that is submitted only when a tensor is
// read back (or when much freed memory waits for it). The Vulkan loader is
// opened at run time (package vk), so programs built with CGO_ENABLED=0
// run everywhere and report a clear error where Vulkan is absent.
//
// Activations are F32; weights may be F32, F16 or BF16 and stay in that
// type on the device (F8 weights are widened to BF16 on upload, which is
// exact). Ops that have no shader yet fail with backend.ErrNotImplemented
// rather than falling back to the CPU.
package vulkan

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Backend runs ops on one Vulkan device.
type Backend struct {
	d      *device
	name   string
	poison atomic.Bool
}

// SetPoison makes every op output created afterwards start filled with
// NaN, so that tests catch shaders leaving elements unwritten
// (optest.Poisoner).
func (b *Backend) SetPoison(on bool) { b.poison.Store(on) }

// New opens the device selected by spec ("" for the best one, an index or
// a name substring).
func New(spec string) (*Backend, error) { return NewWithOptions(spec, Options{}) }

// NewWithOptions is New with test options.
func NewWithOptions(spec string, opt Options) (*Backend, error) {
	d, err := openDevice(spec, opt)
	if err != nil {
		return nil, err
	}
	return &Backend{d: d, name: fmt.Sprintf("vulkan:%d %s", d.phys.info.Index, d.phys.info.Name)}, nil
}

func init() {
	backend.Register("vulkan", func(spec string) (backend.Backend, error) { return New(spec) })
}

// Close waits for the device and releases it; tensors of this backend
// must not be used afterwards.
func (b *Backend) Close() {
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	b.d.destroy()
}

func (b *Backend) Name() string { return b.name }

// Describe summarises the device for `fluxpulid info`.
func (b *Backend) Describe() string {
	i := b.d.phys.info
	return fmt.Sprintf("%s, Vulkan %s, %s, %d MiB chunks", i.Type, i.APIVersion, i.Driver, b.d.chunkBytes()>>20)
}

// Device describes the physical device in use.
func (b *Backend) Device() DeviceInfo { return b.d.phys.info }

// Tensor is a tensor in device memory.
type Tensor struct {
	shape []int
	dt    dtype.DType // the type the tensor was created with
	h     *handle
	d     *device
}

// handle owns one reference to a storage. It is separate from Tensor so
// that the tensor's cleanup can release the storage without keeping the
// tensor reachable.
type handle struct {
	st    *storage
	freed bool // guarded by the device mutex
}

func (t *Tensor) Shape() []int       { return t.shape }
func (t *Tensor) DType() dtype.DType { return t.dt }
func (t *Tensor) String() string     { return fmt.Sprintf("vulkan.Tensor(%v %v)", t.dt, t.shape) }

// storageType is how a tensor of type dt is held on the device.
func storageType(dt dtype.DType) (dtype.DType, bool) {
	switch dt {
	case dtype.F32, dtype.F16, dtype.BF16:
		return dt, true
	case dtype.F8E4M3, dtype.F8E5M2:
		return dtype.BF16, true // every F8 value is exactly a BF16
	}
	return 0, false
}

// payload is the byte size of n elements held as st (16-bit types padded
// to whole 32-bit words, the unit the shaders read).
func payload(st dtype.DType, n int) uint64 {
	if st == dtype.F32 {
		return uint64(4 * n)
	}
	return uint64(4 * ((n + 1) / 2))
}

// wrap makes a tensor of a fresh storage and arranges for the garbage
// collector to release the storage when the tensor becomes unreachable.
func (b *Backend) wrap(shape []int, dt dtype.DType, st *storage) *Tensor {
	t := &Tensor{shape: shape, dt: dt, h: &handle{st: st}, d: b.d}
	d := b.d
	runtime.AddCleanup(t, func(h *handle) {
		d.collectedMu.Lock()
		d.collected = append(d.collected, h)
		d.collectedMu.Unlock()
	}, t.h)
	return t
}

// alloc creates an op's F32 output, uninitialised (NaN when poisoning);
// the caller holds the lock.
func (b *Backend) alloc(op string, shape []int) *Tensor {
	t := b.allocType(op, shape, dtype.F32)
	if b.poison.Load() {
		b.fill(op, t, float32(math.NaN()))
	}
	return t
}

func (b *Backend) allocType(op string, shape []int, dt dtype.DType) *Tensor {
	for _, d := range shape {
		if d < 0 {
			backend.Fail(op, "negative dimension in shape %v", shape)
		}
	}
	n := backend.NumElements(shape)
	if n > math.MaxUint32/2 {
		backend.Fail(op, "shape %v has more elements than the shaders index", shape)
	}
	stt, _ := storageType(dt)
	st, err := b.d.newStorage(payload(stt, n))
	if err != nil {
		backend.Fail(op, "%v", err)
	}
	return b.wrap(slices.Clone(shape), dt, st)
}

// lock takes the device lock for an op; ops defer the returned unlock. It
// also releases the storage of tensors the garbage collector found
// unreachable: here, before the op looks at its operands, which are
// reachable and therefore not among them.
func (b *Backend) lock() func() {
	b.d.mu.Lock()
	if b.d.dev == 0 {
		b.d.mu.Unlock()
		backend.Fail("vulkan", "%s is closed", b.name)
	}
	b.d.drainCollected()
	return b.d.mu.Unlock
}

// get asserts that t is a live tensor of this backend.
func (b *Backend) get(op string, t backend.Tensor) *Tensor {
	vt, ok := t.(*Tensor)
	if !ok || vt == nil {
		backend.Fail(op, "operand %v is not a Vulkan tensor", t)
	}
	if vt.d != b.d {
		backend.Fail(op, "operand %v belongs to another Vulkan device", vt)
	}
	if vt.h.freed {
		backend.Fail(op, "operand %v was freed", vt)
	}
	return vt
}

// f32 is get for operands that must be F32 activations.
func (b *Backend) f32(op string, t backend.Tensor) *Tensor {
	vt := b.get(op, t)
	if vt.dt != dtype.F32 {
		backend.Fail(op, "operand is %v, want F32 (Cast it first)", vt.dt)
	}
	return vt
}

// weight is get for operands that may be any float type; it returns the
// shader variant suffix of the storage type.
func (b *Backend) weight(op string, t backend.Tensor) (*Tensor, string) {
	vt := b.get(op, t)
	st, ok := storageType(vt.dt)
	if !ok {
		backend.Fail(op, "weight is %v, want a float type", vt.dt)
	}
	switch st {
	case dtype.F16:
		return vt, "f16"
	case dtype.BF16:
		return vt, "bf16"
	}
	return vt, "f32"
}

// run records a dispatch, failing op on error.
func (b *Backend) run(op, shader string, args []arg, p push, spec []uint32, gx, gy, gz uint32) {
	if err := b.d.dispatch(shader, args, p, spec, gx, gy, gz); err != nil {
		backend.Fail(op, "%v", err)
	}
}

// unsupported fails op for operands beyond what the shaders handle, with
// an error wrapping backend.ErrNotImplemented ("… not implemented on
// vulkan for …"), so that callers and the op suite can tell a limitation
// from a wrong result.
func unsupported(op, format string, args ...any) {
	panic(&backend.Error{Op: op, Err: fmt.Errorf("%w on vulkan for "+format, append([]any{backend.ErrNotImplemented}, args...)...)})
}

func boolSpec(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

func (b *Backend) FromF32(shape []int, data []float32) backend.Tensor {
	defer b.lock()()
	if n := backend.NumElements(shape); n != len(data) {
		backend.Fail("from_f32", "%d values for shape %v (%d elements)", len(data), shape, n)
	}
	t := b.allocType("from_f32", shape, dtype.F32)
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := b.d.upload(t.h.st, raw); err != nil {
		backend.Fail("from_f32", "%v", err)
	}
	return t
}

func (b *Backend) FromBytes(dt dtype.DType, shape []int, data []byte) backend.Tensor {
	const op = "from_bytes"
	defer b.lock()()
	n := backend.NumElements(shape)
	if !dt.Valid() || n*dt.Size() != len(data) {
		backend.Fail(op, "%d bytes for %v %v", len(data), dt, shape)
	}
	st, ok := storageType(dt)
	if !ok {
		backend.Fail(op, "%v tensors are not supported on vulkan (float types only)", dt)
	}
	t := b.allocType(op, shape, dt)
	src := data
	if st != dt || len(data)%4 != 0 {
		// F8 → BF16, and 16-bit data padded to whole words.
		src = make([]byte, payload(st, n))
		if st == dt {
			copy(src, data)
		} else {
			f := make([]float32, n)
			dtype.ToF32(dt, data, f)
			for i, v := range f {
				binary.LittleEndian.PutUint16(src[2*i:], dtype.F32ToBF16(v))
			}
		}
	}
	if err := b.d.upload(t.h.st, src); err != nil {
		backend.Fail(op, "%v", err)
	}
	return t
}

func (b *Backend) Zeros(shape []int) backend.Tensor {
	defer b.lock()()
	t := b.allocType("zeros", shape, dtype.F32)
	b.fill("zeros", t, 0)
	return t
}

// fill sets every element of the F32 tensor t to v.
func (b *Backend) fill(op string, t *Tensor, v float32) {
	n := backend.NumElements(t.shape)
	gx, gy := groups1D(n, 256)
	b.run(op, "fill", []arg{out(t.h.st)}, push{}.u(n).f(v), nil, gx, gy, 1)
}

func (b *Backend) ReadF32(t backend.Tensor) ([]float32, error) {
	vt, ok := t.(*Tensor)
	if !ok || vt == nil || vt.d != b.d {
		return nil, fmt.Errorf("vulkan: read of a %T that is not this device's", t)
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	if b.d.dev == 0 {
		return nil, fmt.Errorf("vulkan: read after %s was closed", b.name)
	}
	b.d.drainCollected()
	if vt.h.freed {
		return nil, fmt.Errorf("vulkan: read of a freed tensor %v", vt)
	}
	raw, err := b.d.read(vt.h.st)
	if err != nil {
		return nil, fmt.Errorf("vulkan: read %v: %w", vt, err)
	}
	n := backend.NumElements(vt.shape)
	outv := make([]float32, n)
	st, _ := storageType(vt.dt)
	switch st {
	case dtype.F32:
		for i := range outv {
			outv[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	default:
		dtype.ToF32(st, raw[:2*n], outv)
	}
	runtime.KeepAlive(vt)
	return outv, nil
}

func (b *Backend) Free(t backend.Tensor) {
	vt, ok := t.(*Tensor)
	if !ok || vt == nil || vt.d != b.d {
		return
	}
	b.d.mu.Lock()
	defer b.d.mu.Unlock()
	if !vt.h.freed {
		vt.h.freed = true
		b.d.release(vt.h.st)
	}
}

func (b *Backend) Reshape(x backend.Tensor, shape ...int) backend.Tensor {
	defer b.lock()()
	t := b.get("reshape", x)
	s := backend.ResolveReshape("reshape", t.shape, shape)
	// A view: tensors are immutable, so sharing the storage is safe.
	t.h.st.refs++
	return b.wrap(s, t.dt, t.h.st)
}

var _ backend.Backend = (*Backend)(nil)
