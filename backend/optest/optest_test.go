package optest

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
)

// faulty wraps the CPU backend and damages every MatMul result with fn,
// to show that the suite's checks catch each kind of fault.
type faulty struct {
	*cpu.Backend
	fn func(out []float32, a []float32)
}

func (f faulty) MatMul(a, w backend.Tensor) backend.Tensor {
	out := f.Backend.MatMul(a, w)
	d, _ := f.ReadF32(out)
	ad := a.(*cpu.Tensor).Data()
	f.fn(d, ad)
	return f.FromF32(out.Shape(), d)
}

func TestCheckCatchesFaults(t *testing.T) {
	var c *Case
	for _, cc := range Cases() {
		if cc.FullName() == "matmul/m71_k300_n129_F32" {
			c = &cc
			break
		}
	}
	if c == nil {
		t.Fatal("case matmul/m71_k300_n129_F32 missing")
	}
	ref := cpu.NewReference()
	if err := Check(c, cpu.New(), ref); err != nil {
		t.Fatalf("undamaged backend fails: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		fn         func(out, a []float32)
	}{
		// one element of 9159 off by 1%: far below the NMSE bound's reach
		// on its own, caught by the max-error bound
		{"one element", "max abs error", func(out, a []float32) { out[4321] *= 1.01 }},
		{"uniform drift", "NMSE", func(out, a []float32) {
			for i := range out {
				out[i] *= 1 + 1e-4
			}
		}},
		{"unwritten", "not written", func(out, a []float32) { out[len(out)-1] = float32(math.NaN()) }},
		{"operand modified", "modified", func(out, a []float32) { a[0]++ }},
	} {
		err := Check(c, faulty{cpu.New(), tc.fn}, ref)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	s := Compare([]float32{1, 2, 3, 4}, []float32{1, 2, 3, 5})
	// Σ err² = 1, Σ ref² = 1+4+9+25 = 39
	if math.Abs(s.NMSE-1.0/39) > 1e-15 || s.MaxAbs != 1 || s.Worst != 3 || s.Mismatches != 1 || s.First != 3 {
		t.Errorf("Compare = %+v, want NMSE 1/39, max 1 at 3, one mismatch at 3", s)
	}
	if s := Compare([]float32{0, 0}, []float32{0, 0}); s.NMSE != 0 || s.Mismatches != 0 {
		t.Errorf("Compare of zeros = %+v", s)
	}
}

// TestZerosUnderPoison checks that poisoning, which fills op outputs
// with NaN, leaves Zeros zero: its contents are part of its contract.
func TestZerosUnderPoison(t *testing.T) {
	b := cpu.New()
	b.SetPoison(true)
	defer b.SetPoison(false)
	z, _ := b.ReadF32(b.Zeros([]int{3}))
	for _, v := range z {
		if v != 0 {
			t.Fatalf("Zeros under poisoning = %v", z)
		}
	}
}

// lacking is a backend without Attention.
type lacking struct{ *cpu.Backend }

func (lacking) Attention(q, k, v backend.Tensor, opt backend.AttentionOptions) backend.Tensor {
	backend.NotImplemented("attention", "lacking")
	return nil
}

// TestNotImplementedIsSkipped checks that an op a backend lacks is
// reported as such, distinguishable from a wrong result.
func TestNotImplementedIsSkipped(t *testing.T) {
	for _, c := range Cases() {
		if c.Op != "attention" {
			continue
		}
		err := Check(&c, lacking{cpu.New()}, cpu.NewReference())
		if !errors.Is(err, backend.ErrNotImplemented) {
			t.Fatalf("%s: error %v, want one wrapping ErrNotImplemented", c.FullName(), err)
		}
		return
	}
	t.Fatal("no attention case")
}

// TestReport checks the command-line report: one line per selected case
// with its rate.
func TestReport(t *testing.T) {
	var sb strings.Builder
	err := Report(&sb, cpu.New(), Cases(), func(name string) bool {
		return name == "matmul/m17_k33_n65_F32" || name == "softmax/3x7_[-1,1]"
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "GFLOPS") || !strings.Contains(lines[1], "GB/s") {
		t.Errorf("report:\n%s", sb.String())
	}
}
