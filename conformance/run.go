package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxpulid/fluxpulid/backend"
)

// Runner computes a case's outputs on a backend.
type Runner func(c *Case, b backend.Backend) (Outputs, error)

var (
	mu      sync.RWMutex
	runners = map[string]Runner{}
)

// Register installs the runner of a case kind. It panics on a duplicate,
// a programming error caught by any test run.
func Register(kind string, r Runner) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := runners[kind]; dup {
		panic("conformance: kind " + kind + " registered twice")
	}
	runners[kind] = r
}

// Kinds lists the registered kinds.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(runners))
	for k := range runners {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Status is the outcome of a case on a backend.
type Status string

const (
	Pass           Status = "pass"
	Fail           Status = "FAIL"
	NotImplemented Status = "not implemented"
	// Unsupported: the case's runner exists but the backend lacks an op
	// it needs (reported by name; never computed elsewhere behind its back).
	Unsupported Status = "unsupported on backend"
	Error       Status = "ERROR"
)

// TensorResult compares one output tensor.
type TensorResult struct {
	Name           string
	MaxAbs, MaxRel float64
	Atol, Rtol     float64
	Bad            int // elements outside tolerance
	Compared       int
	Pass           bool
	Note           string // missing output, shape mismatch, …
}

// Result is the outcome of one case on one backend.
type Result struct {
	Case    string
	Kind    string
	Backend string
	Status  Status
	Err     error
	Tensors []TensorResult
	Elapsed time.Duration
}

// Run executes c on b and compares every out.* tensor.
func Run(c *Case, b backend.Backend) (res Result) {
	res = Result{Case: c.Name, Kind: c.Kind, Backend: b.Name()}
	mu.RLock()
	r, ok := runners[c.Kind]
	mu.RUnlock()
	if !ok {
		res.Status = NotImplemented
		res.Err = fmt.Errorf("kind %s has no runner", c.Kind)
		return res
	}
	start := time.Now()
	outs, err := runSafely(r, c, b)
	res.Elapsed = time.Since(start)
	if err != nil {
		res.Status, res.Err = Error, err
		if errors.Is(err, backend.ErrNotImplemented) {
			res.Status = Unsupported
		}
		return res
	}
	tols, err := tolerances(c)
	if err != nil {
		res.Status, res.Err = Error, err
		return res
	}
	res.Status = Pass
	for _, name := range c.Names("out.") {
		tr := compare(c, name, outs[name], tols)
		if !tr.Pass {
			res.Status = Fail
		}
		res.Tensors = append(res.Tensors, tr)
	}
	for name := range outs {
		if !c.Has(name) {
			res.Status = Error
			res.Err = fmt.Errorf("runner produced %q, which the case does not hold", name)
		}
	}
	return res
}

// runSafely turns a runner's panic into an error so one broken case
// cannot stop a whole conformance run.
func runSafely(r Runner, c *Case, b backend.Backend) (outs Outputs, err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = fmt.Errorf("panic: %w", e)
			} else {
				err = fmt.Errorf("panic: %v", p)
			}
		}
	}()
	return r(c, b)
}

type tol struct{ atol, rtol float64 }

func tolerances(c *Case) (map[string]tol, error) {
	def := tol{}
	var err error
	if _, ok := c.Meta["atol"]; ok {
		if def.atol, err = c.Float("atol"); err != nil {
			return nil, err
		}
	}
	if _, ok := c.Meta["rtol"]; ok {
		if def.rtol, err = c.Float("rtol"); err != nil {
			return nil, err
		}
	}
	out := map[string]tol{"": def}
	if s, ok := c.Meta["tolerances"]; ok {
		var per map[string]struct {
			Atol *float64 `json:"atol"`
			Rtol *float64 `json:"rtol"`
		}
		if err := json.Unmarshal([]byte(s), &per); err != nil {
			return nil, fmt.Errorf("case %s: tolerances: %w", c.Name, err)
		}
		for name, t := range per {
			v := def
			if t.Atol != nil {
				v.atol = *t.Atol
			}
			if t.Rtol != nil {
				v.rtol = *t.Rtol
			}
			if !strings.HasPrefix(name, "out.") {
				name = "out." + name
			}
			out[name] = v
		}
	}
	return out, nil
}

func compare(c *Case, name string, got Output, tols map[string]tol) TensorResult {
	tr := TensorResult{Name: name}
	info, _ := c.Info(name)
	t, ok := tols[name]
	if !ok {
		t = tols[""]
		if isInt(info.DType) {
			t = tol{} // integers match exactly unless a tolerance says otherwise
		}
	}
	tr.Atol, tr.Rtol = t.atol, t.rtol
	if got.F32 == nil && got.I64 == nil {
		tr.Note = "not computed"
		return tr
	}
	if !slices.Equal(got.Shape, info.Shape) {
		tr.Note = fmt.Sprintf("shape %v, want %v", got.Shape, info.Shape)
		return tr
	}
	want, _, err := c.F32(name)
	var wantI []int64
	if isInt(info.DType) {
		wantI, _, err = c.I64(name)
	}
	if err != nil {
		tr.Note = err.Error()
		return tr
	}
	n := len(want)
	if wantI != nil {
		n = len(wantI)
	}
	if (got.F32 != nil && len(got.F32) != n) || (got.I64 != nil && len(got.I64) != n) || (got.Mask != nil && len(got.Mask) != n) {
		tr.Note = "length mismatch"
		return tr
	}
	for i := range n {
		if got.Mask != nil && !got.Mask[i] {
			continue
		}
		var g, w float64
		if got.I64 != nil {
			g = float64(got.I64[i])
		} else {
			g = float64(got.F32[i])
		}
		if wantI != nil {
			w = float64(wantI[i])
		} else {
			w = float64(want[i])
		}
		tr.Compared++
		d := math.Abs(g - w)
		if math.IsNaN(g) != math.IsNaN(w) || (!math.IsNaN(d) && d > t.atol+t.rtol*math.Abs(w)) {
			tr.Bad++
		}
		if math.IsNaN(d) {
			continue
		}
		tr.MaxAbs = math.Max(tr.MaxAbs, d)
		if w != 0 {
			tr.MaxRel = math.Max(tr.MaxRel, d/math.Abs(w))
		}
	}
	tr.Pass = tr.Bad == 0
	if got.Mask != nil {
		tr.Note = fmt.Sprintf("%d of %d elements compared", tr.Compared, n)
	}
	return tr
}

// DefaultDir is $FLUXPULID_GOLDEN, else $FLUXPULID_SHARED/golden, else
// ../shared/golden beside the module root found above the working
// directory, else ../shared/golden.
func DefaultDir() string {
	if d := os.Getenv("FLUXPULID_GOLDEN"); d != "" {
		return d
	}
	if d := os.Getenv("FLUXPULID_SHARED"); d != "" {
		return filepath.Join(d, "golden")
	}
	if root := moduleRoot(); root != "" {
		return filepath.Join(root, "..", "shared", "golden")
	}
	return filepath.Join("..", "shared", "golden")
}

func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Discover lists the case files under dir. The root cases are named
// relative to is dir itself.
func Discover(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return casesIn(dir)
}

// RunDir runs every case under dir on each backend, calling report after
// each result.
func RunDir(dir string, bs []backend.Backend, report func(Result)) error {
	paths, err := Discover(dir)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("no case_*.safetensors under %s", dir)
	}
	for _, p := range paths {
		c, err := Open(p, dir)
		if err != nil {
			report(Result{Case: p, Status: Error, Err: err})
			continue
		}
		for _, b := range bs {
			report(Run(c, b))
		}
		c.Close()
	}
	return nil
}
