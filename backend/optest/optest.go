// Package optest is the op suite every backend runs, in the manner of
// ggml's test-backend-ops: one table of op cases (Cases) — the op, its
// operand shapes and types, its parameters — drives both a correctness
// check and a performance report on any backend.Backend.
//
// Correctness: each case's inputs are drawn from a seeded generator, given
// to the backend under test and to the reference backend (cpu.NewReference,
// the plain kernels of ops/ref), and the outputs compared by normalised
// mean squared error,
//
//	NMSE = Σ (out − ref)² / Σ ref²,
//
// plus, per case, a bound on the largest single error (exact for ops that
// only move data or round once, otherwise relative to the output's RMS so
// that one wrong element cannot hide in a large mean). Sentinels catch
// kernels that do not write every output element: backends implementing
// Poisoner fill fresh outputs with NaN while the suite runs, and every
// output must be finite; inputs are read back after the op and must be
// unchanged, since no op may modify its operands.
//
// Performance: Bench runs the same table (and PerfCases, sized like FLUX's
// layers) and reports GFLOPS for ops with a flop count, GB/s for the rest.
package optest

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Input describes one operand: its shape, its storage type and the range
// its values are drawn from (uniformly; [-1, 1] when Lo == Hi == 0).
type Input struct {
	Shape  []int
	DType  dtype.DType // zero value means F32
	Lo, Hi float32
}

// Tol bounds a case's error against the reference.
type Tol struct {
	// NMSE is the largest normalised mean squared error accepted.
	NMSE float64
	// Exact demands bitwise-equal outputs (data movement, single float32
	// roundings computed the same way everywhere).
	Exact bool
	// MaxRel bounds max|out − ref| / rms(ref): one element far off fails
	// even when the mean error is small. Zero means the default 1e-4.
	MaxRel float64
}

// Case is one op applied to inputs of given shapes.
type Case struct {
	Op   string // family ("matmul", "conv2d", …), the first level of test names
	Name string // distinguishes cases of one op: shapes and parameters
	In   []Input
	// Run applies the op on b to the inputs (created on b from In).
	Run func(b backend.Backend, x []backend.Tensor) backend.Tensor
	Tol Tol
	// Flops is the floating-point work of one run (2 per multiply-add);
	// zero for ops measured by memory traffic.
	Flops float64
}

// defaultTol suits ops computed in float32 against the float64
// reference: it allows accumulation order and approximated
// transcendentals at a few ulp, nothing more.
var defaultTol = Tol{NMSE: 1e-10}

// Poisoner is implemented by backends that can fill every newly created
// output with a value (NaN) so that elements an op fails to write are
// caught. The suite turns poisoning on while it runs.
type Poisoner interface {
	SetPoison(on bool)
}

// FullName is the case's test name: op/name.
func (c *Case) FullName() string { return c.Op + "/" + c.Name }

// Bytes is the memory an op touches once: its inputs and its output.
func (c *Case) bytes(out []int) float64 {
	var n float64
	for _, in := range c.In {
		n += float64(backend.NumElements(in.Shape) * in.dtype().Size())
	}
	return n + 4*float64(backend.NumElements(out))
}

func (in Input) dtype() dtype.DType {
	if in.DType == dtype.Invalid {
		return dtype.F32
	}
	return in.DType
}

// data is an input's generated values, both as the bytes handed to a
// backend and widened to float32.
type data struct {
	in  Input
	raw []byte
	f   []float32
}

// generate draws the inputs of c from a generator seeded by its name, so
// every backend and every run sees the same values.
func (c *Case) generate() []data {
	h := fnv.New64a()
	h.Write([]byte(c.FullName()))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x9e3779b97f4a7c15))
	out := make([]data, len(c.In))
	for i, in := range c.In {
		n := backend.NumElements(in.Shape)
		lo, hi := in.Lo, in.Hi
		if lo == 0 && hi == 0 {
			lo, hi = -1, 1
		}
		f := make([]float32, n)
		dt := in.dtype()
		raw := make([]byte, n*dt.Size())
		for j := range f {
			v := lo + (hi-lo)*rng.Float32()
			switch dt {
			case dtype.F32:
				putU32(raw[4*j:], math.Float32bits(v))
			case dtype.BF16:
				putU16(raw[2*j:], dtype.F32ToBF16(v))
			case dtype.F16:
				putU16(raw[2*j:], dtype.F32ToF16(v))
			case dtype.F8E4M3, dtype.F8E5M2:
				raw[j] = randF8(rng, dt)
			default:
				panic(fmt.Sprintf("optest: input type %v", dt))
			}
		}
		dtype.ToF32(dt, raw, f)
		out[i] = data{in: in, raw: raw, f: f}
	}
	return out
}

// randF8 draws a float8 code that is not NaN or infinite; the byte's full
// range exercises subnormals and the largest exponents.
func randF8(rng *rand.Rand, dt dtype.DType) byte {
	for {
		v := byte(rng.UintN(256))
		if dt == dtype.F8E4M3 && v&0x7f == 0x7f {
			continue
		}
		if dt == dtype.F8E5M2 && v&0x7c == 0x7c {
			continue
		}
		return v
	}
}

func putU16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// tensors creates the inputs on b.
func tensors(b backend.Backend, ds []data) []backend.Tensor {
	x := make([]backend.Tensor, len(ds))
	for i, d := range ds {
		if d.in.dtype() == dtype.F32 {
			x[i] = b.FromF32(d.in.Shape, d.f)
		} else {
			x[i] = b.FromBytes(d.in.dtype(), d.in.Shape, slices.Clone(d.raw))
		}
	}
	return x
}

// result is an op's output read back.
type result struct {
	shape []int
	f     []float32
}

// apply runs c on b, turning an op failure into an error.
func (c *Case) apply(b backend.Backend, x []backend.Tensor) (r result, err error) {
	defer backend.Catch(&err)
	out := c.Run(b, x)
	r.shape = slices.Clone(out.Shape())
	if dt := out.DType(); dt != dtype.F32 && c.Op != "cast" {
		return r, fmt.Errorf("output type %v, want F32", dt)
	}
	r.f, err = b.ReadF32(out)
	if err != nil {
		return r, fmt.Errorf("read output: %w", err)
	}
	if len(r.f) != backend.NumElements(r.shape) {
		return r, fmt.Errorf("read %d values for shape %v", len(r.f), r.shape)
	}
	b.Free(out)
	return r, nil
}

// Run checks every case of Cases on b against the reference backend.
// Cases whose op fails with backend.ErrNotImplemented are skipped (a
// backend without some op still runs the rest); any other failure fails.
func Run(t *testing.T, b backend.Backend) {
	t.Helper()
	RunCases(t, b, Cases())
}

// RunCases checks the given cases on b (a backend's own tests may add
// cases for ops it specialises).
func RunCases(t *testing.T, b backend.Backend, cases []Case) {
	t.Helper()
	ref := cpu.NewReference()
	for _, p := range []backend.Backend{b, ref} {
		if ps, ok := p.(Poisoner); ok {
			ps.SetPoison(true)
			defer ps.SetPoison(false)
		}
	}
	seen := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		if seen[c.FullName()] {
			t.Fatalf("duplicate case %s", c.FullName())
		}
		seen[c.FullName()] = true
		t.Run(c.FullName(), func(t *testing.T) {
			err := Check(c, b, ref)
			switch {
			case errors.Is(err, backend.ErrNotImplemented):
				// like test-backend-ops' "not supported": listed, not failed
				t.Skipf("not supported: %v", err)
			case err != nil:
				t.Error(err)
			}
		})
	}
}

// Check runs one case on b and on ref and compares them.
func Check(c *Case, b, ref backend.Backend) error {
	ds := c.generate()
	want, err := c.apply(ref, tensors(ref, ds))
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	if i := firstNonFinite(want.f); i >= 0 {
		return fmt.Errorf("reference output [%d] = %v: inputs must keep outputs finite (or the reference left it unwritten)", i, want.f[i])
	}
	xs := tensors(b, ds)
	got, err := c.apply(b, xs)
	if err != nil {
		return err
	}
	// no op modifies its operands
	for i, x := range xs {
		after, err := b.ReadF32(x)
		if err != nil {
			return fmt.Errorf("read input %d back: %w", i, err)
		}
		if !sameBits(after, ds[i].f) {
			return fmt.Errorf("input %d was modified by the op", i)
		}
		b.Free(x)
	}
	if !slices.Equal(got.shape, want.shape) {
		return fmt.Errorf("shape %v, want %v", got.shape, want.shape)
	}
	if i := firstNonFinite(got.f); i >= 0 {
		return fmt.Errorf("output [%d] = %v (reference %v): element not written or overflowed", i, got.f[i], want.f[i])
	}
	s := Compare(got.f, want.f)
	tol := c.Tol
	if tol.NMSE == 0 && !tol.Exact {
		tol.NMSE = defaultTol.NMSE
	}
	if tol.Exact {
		if s.Mismatches > 0 {
			return fmt.Errorf("%d of %d elements differ from the reference (first at [%d]: %v, want %v), want bitwise equality",
				s.Mismatches, len(got.f), s.First, got.f[s.First], want.f[s.First])
		}
		return nil
	}
	maxRel := tol.MaxRel
	if maxRel == 0 {
		maxRel = 1e-4
	}
	if s.NMSE > tol.NMSE {
		return fmt.Errorf("NMSE %.3g > %.3g (max abs error %.3g at [%d]: %v, want %v)",
			s.NMSE, tol.NMSE, s.MaxAbs, s.Worst, got.f[s.Worst], want.f[s.Worst])
	}
	if s.MaxAbs > maxRel*s.RMS {
		return fmt.Errorf("max abs error %.3g at [%d] (%v, want %v) exceeds %.3g × rms %.3g (NMSE %.3g)",
			s.MaxAbs, s.Worst, got.f[s.Worst], want.f[s.Worst], maxRel, s.RMS, s.NMSE)
	}
	return nil
}

// Stats summarises the difference between an output and its reference.
type Stats struct {
	NMSE       float64 // Σ(got−want)² / Σwant² (0 when both are zero)
	MaxAbs     float64 // largest |got−want|
	Worst      int     // index of MaxAbs
	RMS        float64 // root mean square of want
	Mismatches int     // elements not bitwise equal (NaNs of any payload are equal)
	First      int     // index of the first mismatch
}

// Compare computes the error statistics of got against want.
func Compare(got, want []float32) Stats {
	var s Stats
	var num, den float64
	s.First = -1
	for i := range want {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			if s.Mismatches == 0 {
				s.First = i
			}
			s.Mismatches++
		}
		d := float64(g) - float64(w)
		num += d * d
		den += float64(w) * float64(w)
		if a := math.Abs(d); a > s.MaxAbs {
			s.MaxAbs, s.Worst = a, i
		}
	}
	switch {
	case den > 0:
		s.NMSE = num / den
	case num > 0:
		s.NMSE = math.Inf(1)
	}
	if len(want) > 0 {
		s.RMS = math.Sqrt(den / float64(len(want)))
	}
	return s
}

func firstNonFinite(f []float32) int {
	for i, v := range f {
		if v != v || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// shapeName formats shapes for case names: "3x5x7".
func shapeName(s []int) string {
	p := make([]string, len(s))
	for i, d := range s {
		p[i] = fmt.Sprint(d)
	}
	return strings.Join(p, "x")
}
