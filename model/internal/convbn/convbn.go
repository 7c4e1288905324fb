// Package convbn loads the convolutions of the face models (RetinaFace,
// BiSeNet), folding each inference-mode BatchNorm into the convolution in
// front of it: bn(conv(x)) = conv'(x) with w' = w·s and b' = β − μ·s
// (+ b·s for a biased conv), s = γ/√(σ²+ε) per output channel. The nets
// run in eval mode only, so the fold is exact up to float rounding and
// saves one pass over every activation.
package convbn

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
	"github.com/fluxpulid/fluxpulid/weights"
)

// Eps is BatchNorm2d's default epsilon, used by every BatchNorm of the
// facexlib nets.
const Eps = 1e-5

// Conv is a convolution (with any BatchNorm already folded in).
type Conv struct {
	W, B backend.Tensor // B may be nil
	Opt  backend.ConvOptions
	Out  int // output channels
}

// Forward applies the convolution.
func (c Conv) Forward(b backend.Backend, x backend.Tensor) backend.Tensor {
	return b.Conv2D(x, c.W, c.B, c.Opt)
}

// Loader reads conv and BatchNorm tensors from a source, collecting every
// problem (missing, mis-shaped, non-float) instead of stopping at the first.
type Loader struct {
	b        backend.Backend
	src      weights.Source
	problems []string
	used     map[string]bool
}

// NewLoader reads from src and uploads to b.
func NewLoader(b backend.Backend, src weights.Source) *Loader {
	return &Loader{b: b, src: src, used: map[string]bool{}}
}

func (l *Loader) problem(format string, args ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

// Host reads name widened to float32 on the host. If shape is not nil the
// stored shape must equal it. A problem is recorded and nil returned on
// any mismatch.
func (l *Loader) Host(name string, shape []int) []float32 {
	info, ok := l.src.Info(name)
	if !ok {
		l.problem("missing tensor %q", name)
		return nil
	}
	l.used[name] = true
	if shape != nil && !slices.Equal(info.Shape, shape) {
		l.problem("tensor %q has shape %v, want %v", name, info.Shape, shape)
		return nil
	}
	if !info.DType.IsFloat() {
		l.problem("tensor %q is %v, want a float type", name, info.DType)
		return nil
	}
	data, err := l.src.Bytes(name)
	if err != nil {
		l.problem("tensor %q: %v", name, err)
		return nil
	}
	n := backend.NumElements(info.Shape)
	if len(data) != n*info.DType.Size() {
		l.problem("tensor %q holds %d bytes, want %d", name, len(data), n*info.DType.Size())
		return nil
	}
	out := make([]float32, n)
	dtype.ToF32(info.DType, data, out)
	return out
}

// Shape returns the stored shape of name, or nil when it is missing.
func (l *Loader) Shape(name string) []int {
	info, ok := l.src.Info(name)
	if !ok {
		return nil
	}
	return info.Shape
}

// Has reports whether name is stored.
func (l *Loader) Has(name string) bool { _, ok := l.src.Info(name); return ok }

// Skip marks name as deliberately unused (BatchNorm's num_batches_tracked).
func (l *Loader) Skip(name string) {
	if l.Has(name) {
		l.used[name] = true
	}
}

// Tensor uploads name as F32 (a bias, a norm vector).
func (l *Loader) Tensor(name string, shape ...int) backend.Tensor {
	v := l.Host(name, shape)
	if v == nil {
		return nil
	}
	return l.b.FromF32(l.Shape(name), v)
}

// Spec describes a square convolution to load.
type Spec struct {
	In, Out, K  int
	Stride, Pad int
	Bias        bool // the conv has its own bias (name.bias)
	Groups      int  // 0 means 1
}

func (s Spec) opt() backend.ConvOptions {
	g := max(s.Groups, 1)
	st := max(s.Stride, 1)
	return backend.ConvOptions{Stride: [2]int{st, st}, Pad: [4]int{s.Pad, s.Pad, s.Pad, s.Pad}, Groups: g}
}

// Conv loads conv.weight (and conv.bias when s.Bias) without a BatchNorm.
func (l *Loader) Conv(conv string, s Spec) Conv {
	c := Conv{Opt: s.opt(), Out: s.Out}
	w := l.Host(conv+".weight", []int{s.Out, s.In / max(s.Groups, 1), s.K, s.K})
	if w != nil {
		c.W = l.b.FromF32([]int{s.Out, s.In / max(s.Groups, 1), s.K, s.K}, w)
	}
	if s.Bias {
		c.B = l.Tensor(conv+".bias", s.Out)
	}
	return c
}

// ConvBN loads conv.weight followed by the BatchNorm bn.{weight, bias,
// running_mean, running_var} and returns the folded convolution.
func (l *Loader) ConvBN(conv, bn string, s Spec) Conv {
	c := Conv{Opt: s.opt(), Out: s.Out}
	wshape := []int{s.Out, s.In / max(s.Groups, 1), s.K, s.K}
	w := l.Host(conv+".weight", wshape)
	var cb []float32
	if s.Bias {
		cb = l.Host(conv+".bias", []int{s.Out})
	}
	gamma := l.Host(bn+".weight", []int{s.Out})
	beta := l.Host(bn+".bias", []int{s.Out})
	mean := l.Host(bn+".running_mean", []int{s.Out})
	variance := l.Host(bn+".running_var", []int{s.Out})
	l.Skip(bn + ".num_batches_tracked")
	if w == nil || gamma == nil || beta == nil || mean == nil || variance == nil || (s.Bias && cb == nil) {
		return c
	}
	fw, fb := Fold(w, cb, gamma, beta, mean, variance, Eps)
	c.W = l.b.FromF32(wshape, fw)
	c.B = l.b.FromF32([]int{s.Out}, fb)
	return c
}

// Fold returns the weight and bias of conv followed by BatchNorm; w is
// [out, ...] row-major, bias may be nil. Computed in float64, rounded once.
func Fold(w, bias, gamma, beta, mean, variance []float32, eps float64) ([]float32, []float32) {
	out := len(gamma)
	per := len(w) / out
	fw := make([]float32, len(w))
	fb := make([]float32, out)
	for o := range out {
		s := float64(gamma[o]) / math.Sqrt(float64(variance[o])+eps)
		for i := range per {
			fw[o*per+i] = float32(float64(w[o*per+i]) * s)
		}
		b := float64(beta[o]) - float64(mean[o])*s
		if bias != nil {
			b += float64(bias[o]) * s
		}
		fb[o] = float32(b)
	}
	return fw, fb
}

// Err reports every problem met so far, or nil.
func (l *Loader) Err() error {
	if len(l.problems) == 0 {
		return nil
	}
	p := l.problems
	const keep = 20
	if len(p) > keep {
		return fmt.Errorf("%d problems: %s; … and %d more", len(p), strings.Join(p[:keep], "; "), len(p)-keep)
	}
	return errors.New(fmt.Sprintf("%d problem(s): %s", len(p), strings.Join(p, "; ")))
}

// Unused lists the source's tensors that were never read.
func (l *Loader) Unused() []string {
	var out []string
	for _, n := range l.src.Names() {
		if !l.used[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Shapes collects the tensor shapes of a torch state dict.
type Shapes map[string][]int

// Conv adds name.weight of a bias-free k×k convolution, [o, i, k, k].
func (m Shapes) Conv(name string, o, i, k int) { m[name+".weight"] = []int{o, i, k, k} }

// BN adds a BatchNorm2d of n channels: its four vectors and the scalar
// num_batches_tracked (shape []).
func (m Shapes) BN(name string, n int) {
	for _, p := range []string{"weight", "bias", "running_mean", "running_var"} {
		m[name+"."+p] = []int{n}
	}
	m[name+".num_batches_tracked"] = []int{}
}
