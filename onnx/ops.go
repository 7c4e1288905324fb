package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/backend"
)

// registry maps op_type to its implementation. The set covers the
// exported iresnet (glintr100) and SCRFD (scrfd_10g_bnkps) graphs and the
// shape arithmetic torch exporters wrap around reshapes and resizes; the
// semantics are those of the ONNX operator documents for opsets 7-21
// (where an operator changed, the model's opset selects the version).
var registry map[string]*opDef

func init() {
	registry = map[string]*opDef{
		"Identity":           {run: runIdentity},
		"Dropout":            {prepare: prepareDropout, run: runIdentity},
		"Relu":               unaryOp(backend.ReLU, func(x float32) float32 { return max(x, 0) }),
		"Sigmoid":            unaryOp(backend.Sigmoid, nil),
		"Tanh":               unaryOp(backend.Tanh, nil),
		"Exp":                unaryOp(backend.Exp, nil),
		"Sqrt":               unaryOp(backend.Sqrt, func(x float32) float32 { return float32(math.Sqrt(float64(x))) }),
		"Neg":                unaryOp(backend.Neg, func(x float32) float32 { return -x }),
		"Abs":                unaryOp(backend.Abs, func(x float32) float32 { return float32(math.Abs(float64(x))) }),
		"Reciprocal":         unaryOp(backend.Recip, func(x float32) float32 { return 1 / x }),
		"Floor":              {run: hostOnlyUnary(math.Floor)},
		"Ceil":               {run: hostOnlyUnary(math.Ceil)},
		"Add":                binaryOp("Add", backend.Add),
		"Sub":                binaryOp("Sub", backend.Sub),
		"Mul":                binaryOp("Mul", backend.Mul),
		"Div":                binaryOp("Div", backend.Div),
		"Max":                binaryOp("Max", backend.Max),
		"Min":                binaryOp("Min", backend.Min),
		"Sum":                binaryOp("Add", backend.Add),
		"LeakyRelu":          {prepare: prepareLeakyRelu, run: runLeakyRelu},
		"PRelu":              {run: runPRelu},
		"Clip":               {prepare: prepareClip, run: runClip},
		"Softmax":            {prepare: prepareSoftmax, run: runSoftmax},
		"BatchNormalization": {prepare: prepareBatchNorm, run: runBatchNorm},
		"Conv":               {prepare: prepareConv, run: runConv},
		"MaxPool":            {prepare: preparePool(backend.MaxPool), run: runPool},
		"AveragePool":        {prepare: preparePool(backend.AvgPool), run: runPool},
		"GlobalAveragePool":  {run: globalPool(backend.Mean)},
		"GlobalMaxPool":      {run: globalPool(backend.ReduceMax)},
		"Gemm":               {prepare: prepareGemm, run: runGemm},
		"MatMul":             {prepare: prepareMatMul, run: runMatMul},
		"Flatten":            {prepare: prepareFlatten, run: runFlatten},
		"Reshape":            {prepare: prepareReshape, run: runReshape},
		"Transpose":          {prepare: prepareTranspose, run: runTranspose},
		"Concat":             {prepare: prepareConcat, run: runConcat},
		"Unsqueeze":          {prepare: prepareAxes, run: runUnsqueeze},
		"Squeeze":            {prepare: prepareAxes, run: runSqueeze},
		"Slice":              {prepare: prepareSlice, run: runSlice},
		"Gather":             {prepare: prepareGather, run: runGather},
		"Shape":              {prepare: prepareShape, run: runShape},
		"Constant":           {prepare: prepareConstant, run: runConstant},
		"ConstantOfShape":    {prepare: prepareConstantOfShape, run: runConstantOfShape},
		"Cast":               {prepare: prepareCast, run: runCast},
		"Resize":             {prepare: prepareResize, run: runResize},
		"Upsample":           {prepare: prepareResize, run: runResize},
		"Pad":                {prepare: preparePad, run: runPad},
	}
}

// maxOutputElements bounds the outputs of the ops whose size comes from
// operands rather than from their input tensors (Resize, Upsample, Pad),
// so that a corrupt graph fails instead of exhausting memory. A variable
// so the fuzz test can lower it.
var maxOutputElements = 1 << 30

func checkOutputSize(shape ...int) error {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > maxOutputElements/d) {
			return fmt.Errorf("output shape %v exceeds %d elements", shape, maxOutputElements)
		}
		n *= d
	}
	return nil
}

func one(v *value) []*value { return []*value{v} }

func dev(t backend.Tensor) []*value { return []*value{{dev: t}} }

func hostVal(h *hostTensor) []*value { return []*value{{host: h}} }

// input returns operand i, or an error naming it when it is missing.
func input(in []*value, i int) (*value, error) {
	if i >= len(in) || in[i] == nil {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	return in[i], nil
}

// hostInts reads an integer operand (shapes, axes, indices) on the host.
func (p *Program) hostInts(in []*value, i int) ([]int64, *hostTensor, error) {
	v, err := input(in, i)
	if err != nil {
		return nil, nil, err
	}
	h, err := p.toHost(v)
	if err != nil {
		return nil, nil, err
	}
	ints, err := h.ints()
	if err != nil {
		return nil, nil, fmt.Errorf("input %d: %w", i, err)
	}
	return ints, h, nil
}

// normAxis resolves a possibly negative axis against rank.
func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

func runIdentity(p *Program, n *Node, _ any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	return one(v), nil
}

func prepareDropout(p *Program, n *Node) (any, error) {
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return nil, errors.New("the mask output of Dropout is not supported")
	}
	return nil, nil
}

// unaryOp runs op on the device, or hostFn on host values when given.
func unaryOp(op backend.UnaryOp, hostFn func(float32) float32) *opDef {
	return &opDef{run: func(p *Program, n *Node, _ any, in []*value) ([]*value, error) {
		v, err := input(in, 0)
		if err != nil {
			return nil, err
		}
		if v.host != nil && hostFn != nil {
			f := v.host.floats()
			out := &hostTensor{shape: v.host.shape, float: true, f: make([]float32, len(f))}
			for i, x := range f {
				out.f[i] = hostFn(x)
			}
			return hostVal(out), nil
		}
		x, err := p.toDevice(v)
		if err != nil {
			return nil, err
		}
		return dev(p.b.Unary(op, x)), nil
	}}
}

// hostOnlyUnary is for rounding ops that only appear in shape arithmetic.
func hostOnlyUnary(fn func(float64) float64) func(*Program, *Node, any, []*value) ([]*value, error) {
	return func(p *Program, n *Node, _ any, in []*value) ([]*value, error) {
		v, err := input(in, 0)
		if err != nil {
			return nil, err
		}
		h, err := p.toHost(v)
		if err != nil {
			return nil, err
		}
		if !h.float {
			return hostVal(h), nil
		}
		out := &hostTensor{shape: h.shape, float: true, f: make([]float32, len(h.f))}
		for i, x := range h.f {
			out.f[i] = float32(fn(float64(x)))
		}
		return hostVal(out), nil
	}
}

// binaryOp folds its inputs left to right (Sum is variadic), on the host
// when every operand is a host value, else on the device.
func binaryOp(name string, op backend.BinaryOp) *opDef {
	return &opDef{run: func(p *Program, n *Node, _ any, in []*value) ([]*value, error) {
		if len(in) < 1 {
			return nil, errors.New("no inputs")
		}
		allHost := true
		for i := range in {
			if in[i] == nil {
				return nil, fmt.Errorf("input %d is missing", i)
			}
			allHost = allHost && in[i].host != nil
		}
		if allHost {
			acc := in[0].host
			for _, v := range in[1:] {
				var err error
				if acc, err = hostBinary(name, acc, v.host); err != nil {
					return nil, err
				}
			}
			return hostVal(acc), nil
		}
		acc, _ := p.toDevice(in[0])
		for _, v := range in[1:] {
			y, _ := p.toDevice(v)
			acc = p.b.Binary(op, acc, y)
		}
		return dev(acc), nil
	}}
}

// rectify returns max(x, 0) + slope·min(x, 0), the shared form of
// PRelu and LeakyRelu (slope broadcasts, or is a scalar when slopeT is nil).
func (p *Program) rectify(x, slopeT backend.Tensor, slope float32) backend.Tensor {
	zero := p.b.FromF32([]int{1}, []float32{0})
	pos := p.b.Binary(backend.Max, x, zero)
	neg := p.b.Binary(backend.Min, x, zero)
	if slopeT != nil {
		neg = p.b.Binary(backend.Mul, neg, slopeT)
	} else {
		neg = p.b.Affine(neg, slope, 0)
	}
	return p.b.Binary(backend.Add, pos, neg)
}

func runPRelu(p *Program, n *Node, _ any, in []*value) ([]*value, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, errors.New("PRelu needs X and slope")
	}
	x, _ := p.toDevice(in[0])
	s, _ := p.toDevice(in[1])
	return dev(p.rectify(x, s, 0)), nil
}

func prepareLeakyRelu(p *Program, n *Node) (any, error) {
	return attrFloat(n, "alpha", 0.01)
}

func runLeakyRelu(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	x, _ := p.toDevice(v)
	return dev(p.rectify(x, nil, st.(float32))), nil
}

type clipState struct{ lo, hi float32 }

func prepareClip(p *Program, n *Node) (any, error) {
	a := attrs{n: n}
	st := clipState{lo: a.float("min", -math.MaxFloat32), hi: a.float("max", math.MaxFloat32)}
	return st, a.err
}

func runClip(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	c := st.(clipState)
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	// opset 11+: bounds are optional scalar inputs
	for i, dst := range []*float32{&c.lo, &c.hi} {
		if i+1 < len(in) && in[i+1] != nil {
			h, err := p.toHost(in[i+1])
			if err != nil {
				return nil, err
			}
			if h.len() != 1 {
				return nil, fmt.Errorf("Clip bound %d has %d elements, want 1", i, h.len())
			}
			*dst = h.floats()[0]
		}
	}
	x, _ := p.toDevice(v)
	lo := p.b.FromF32([]int{1}, []float32{c.lo})
	hi := p.b.FromF32([]int{1}, []float32{c.hi})
	return dev(p.b.Binary(backend.Min, p.b.Binary(backend.Max, x, lo), hi)), nil
}

func prepareSoftmax(p *Program, n *Node) (any, error) {
	def := int64(-1)
	if p.opset < 13 {
		def = 1
	}
	return attrInt(n, "axis", def)
}

// runSoftmax: from opset 13 the axis is a single dim; before, the input is
// viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])] and each row
// normalised.
func runSoftmax(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	x, _ := p.toDevice(v)
	shape := x.Shape()
	axis, err := normAxis(st.(int64), len(shape))
	if err != nil {
		return nil, err
	}
	if p.opset < 13 {
		rows := backend.NumElements(shape[:axis])
		y := p.b.Softmax(p.b.Reshape(x, rows, backend.NumElements(shape[axis:])))
		return dev(p.b.Reshape(y, shape...)), nil
	}
	if axis == len(shape)-1 {
		return dev(p.b.Softmax(x)), nil
	}
	perm := make([]int, 0, len(shape))
	for i := range shape {
		if i != axis {
			perm = append(perm, i)
		}
	}
	perm = append(perm, axis)
	inv := make([]int, len(perm))
	for i, d := range perm {
		inv[d] = i
	}
	return dev(p.b.Permute(p.b.Softmax(p.b.Permute(x, perm...)), inv...)), nil
}

// bnState is an inference BatchNormalization folded to y = x·scale + shift
// per channel: scale = γ/√(σ²+ε), shift = β − μ·scale (computed in float64).
type bnState struct{ scale, shift backend.Tensor }

func prepareBatchNorm(p *Program, n *Node) (any, error) {
	a := attrs{n: n}
	eps := a.float("epsilon", 1e-5)
	if a.int("training_mode", 0) != 0 {
		return nil, errors.New("training-mode BatchNormalization is not supported")
	}
	if p.opset < 9 && a.int("spatial", 1) != 1 {
		return nil, errors.New("non-spatial BatchNormalization is not supported")
	}
	if a.err != nil {
		return nil, a.err
	}
	for _, o := range n.Outputs[min(1, len(n.Outputs)):] {
		if o != "" {
			return nil, errors.New("the running statistics outputs of BatchNormalization are not supported")
		}
	}
	var params [4][]float32
	for i := range params {
		c := p.constInput(n, i+1)
		if c == nil || c.host == nil {
			return nil, fmt.Errorf("input %d (%s) must be a constant vector", i+1, []string{"scale", "B", "mean", "var"}[i])
		}
		params[i] = c.host.floats()
		if len(params[i]) != len(params[0]) {
			return nil, fmt.Errorf("parameter vectors have %d and %d elements", len(params[0]), len(params[i]))
		}
	}
	c := len(params[0])
	scale, shift := make([]float32, c), make([]float32, c)
	for k := range c {
		s := float64(params[0][k]) / math.Sqrt(float64(params[3][k])+float64(eps))
		scale[k] = float32(s)
		shift[k] = float32(float64(params[1][k]) - float64(params[2][k])*s)
	}
	return bnState{scale: p.b.FromF32([]int{c}, scale), shift: p.b.FromF32([]int{c}, shift)}, nil
}

func runBatchNorm(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	bn := st.(bnState)
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	x, _ := p.toDevice(v)
	shape := x.Shape()
	c := bn.scale.Shape()[0]
	if len(shape) < 2 || shape[1] != c {
		return nil, fmt.Errorf("input %v does not have %d channels in dim 1", shape, c)
	}
	// [C] → [C, 1, ...] so the channel lines up with dim 1 of x
	bshape := append([]int{c}, make([]int, len(shape)-2)...)
	for i := 1; i < len(bshape); i++ {
		bshape[i] = 1
	}
	scale, shift := p.b.Reshape(bn.scale, bshape...), p.b.Reshape(bn.shift, bshape...)
	return dev(p.b.Binary(backend.Add, p.b.Binary(backend.Mul, x, scale), shift)), nil
}

// window holds the spatial attributes shared by Conv and the pools.
type window struct {
	kernel, strides, dilations []int
	pads                       []int // ONNX order: begins then ends
	autoPad                    string
}

func readWindow(n *Node, needKernel bool) (window, error) {
	a := attrs{n: n}
	k, s, d, pads := a.ints("kernel_shape"), a.ints("strides"), a.ints("dilations"), a.ints("pads")
	w := window{autoPad: a.string("auto_pad", "NOTSET")}
	if a.err != nil {
		return w, a.err
	}
	var err error
	if w.kernel, err = toInts("kernel_shape", k); err != nil {
		return w, err
	}
	if needKernel && len(w.kernel) != 2 {
		return w, fmt.Errorf("kernel_shape %v: only 2-D windows are supported", k)
	}
	if len(w.kernel) != 0 && len(w.kernel) != 2 {
		return w, fmt.Errorf("kernel_shape %v: only 2-D windows are supported", k)
	}
	fill := func(name string, v []int64, n, def int) ([]int, error) {
		if v == nil {
			out := make([]int, n)
			for i := range out {
				out[i] = def
			}
			return out, nil
		}
		if len(v) != n {
			return nil, fmt.Errorf("%s %v: want %d values", name, v, n)
		}
		return toInts(name, v)
	}
	if w.strides, err = fill("strides", s, 2, 1); err != nil {
		return w, err
	}
	if w.dilations, err = fill("dilations", d, 2, 1); err != nil {
		return w, err
	}
	if w.pads, err = fill("pads", pads, 4, 0); err != nil {
		return w, err
	}
	for _, v := range append(slices.Clone(w.strides), w.dilations...) {
		if v < 1 {
			return w, fmt.Errorf("strides %v / dilations %v must be positive", s, d)
		}
	}
	for _, v := range w.pads {
		if v < 0 {
			return w, fmt.Errorf("pads %v must not be negative", pads)
		}
	}
	switch w.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return w, fmt.Errorf("auto_pad %q is not supported", w.autoPad)
	}
	return w, nil
}

// resolvePads returns [top, left, bottom, right] for an input of h×w and
// a kernel of kh×kw, applying auto_pad.
func (w window) resolvePads(h, wd, kh, kw int) [4]int {
	switch w.autoPad {
	case "VALID":
		return [4]int{}
	case "SAME_UPPER", "SAME_LOWER":
		var p [4]int
		for i, in := range []int{h, wd} {
			k := []int{kh, kw}[i]
			out := (in + w.strides[i] - 1) / w.strides[i]
			total := max(0, (out-1)*w.strides[i]+(k-1)*w.dilations[i]+1-in)
			lo := total / 2
			if w.autoPad == "SAME_LOWER" {
				lo = total - total/2
			}
			p[i], p[i+2] = lo, total-lo
		}
		return p
	}
	return [4]int{w.pads[0], w.pads[1], w.pads[2], w.pads[3]}
}

type convState struct {
	win   window
	group int
}

func prepareConv(p *Program, n *Node) (any, error) {
	win, err := readWindow(n, false)
	if err != nil {
		return nil, err
	}
	g, err := attrInt(n, "group", 1)
	if err != nil {
		return nil, err
	}
	if g < 1 || g > 1<<20 {
		return nil, fmt.Errorf("group %d", g)
	}
	if w := p.constInput(n, 1); w != nil && len(w.shape()) != 4 {
		return nil, fmt.Errorf("weight shape %v: only 2-D convolutions are supported", w.shape())
	}
	return convState{win: win, group: int(g)}, nil
}

func runConv(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	c := st.(convState)
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, errors.New("Conv needs X and W")
	}
	x, _ := p.toDevice(in[0])
	w, _ := p.toDevice(in[1])
	var bias backend.Tensor
	if len(in) > 2 && in[2] != nil {
		bias, _ = p.toDevice(in[2])
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 {
		return nil, fmt.Errorf("input %v and weight %v: only 2-D convolutions are supported", xs, ws)
	}
	if len(c.win.kernel) == 2 && (c.win.kernel[0] != ws[2] || c.win.kernel[1] != ws[3]) {
		return nil, fmt.Errorf("kernel_shape %v disagrees with weight %v", c.win.kernel, ws)
	}
	pads := c.win.resolvePads(xs[2], xs[3], ws[2], ws[3])
	opt := backend.ConvOptions{
		Stride:   [2]int{c.win.strides[0], c.win.strides[1]},
		Pad:      pads,
		Dilation: [2]int{c.win.dilations[0], c.win.dilations[1]},
		Groups:   c.group,
	}
	return dev(p.b.Conv2D(x, w, bias, opt)), nil
}

type poolState struct {
	win  window
	opt  backend.PoolOptions
	kind backend.PoolKind
}

func preparePool(kind backend.PoolKind) func(*Program, *Node) (any, error) {
	return func(p *Program, n *Node) (any, error) {
		win, err := readWindow(n, true)
		if err != nil {
			return nil, err
		}
		if win.dilations[0] != 1 || win.dilations[1] != 1 {
			return nil, fmt.Errorf("dilated pooling %v is not supported", win.dilations)
		}
		a := attrs{n: n}
		opt := backend.PoolOptions{
			Kind:     kind,
			Kernel:   [2]int{win.kernel[0], win.kernel[1]},
			Stride:   [2]int{win.strides[0], win.strides[1]}, // ONNX defaults to 1, not the kernel
			CeilMode: a.int("ceil_mode", 0) != 0,
			CountPad: a.int("count_include_pad", 0) != 0,
		}
		if a.int("storage_order", 0) != 0 {
			return nil, errors.New("column-major storage_order is not supported")
		}
		if len(n.Outputs) > 1 && n.Outputs[1] != "" {
			return nil, errors.New("the Indices output of MaxPool is not supported")
		}
		return poolState{win: win, opt: opt, kind: kind}, a.err
	}
}

func runPool(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	s := st.(poolState)
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	x, _ := p.toDevice(v)
	xs := x.Shape()
	if len(xs) != 4 {
		return nil, fmt.Errorf("input %v: only 2-D pooling is supported", xs)
	}
	opt := s.opt
	opt.Pad = s.win.resolvePads(xs[2], xs[3], opt.Kernel[0], opt.Kernel[1])
	return dev(p.b.Pool2D(x, opt)), nil
}

// globalPool reduces every spatial dim: x [N, C, ...] → [N, C, 1, ...].
func globalPool(op backend.ReduceOp) func(*Program, *Node, any, []*value) ([]*value, error) {
	return func(p *Program, n *Node, _ any, in []*value) ([]*value, error) {
		v, err := input(in, 0)
		if err != nil {
			return nil, err
		}
		x, _ := p.toDevice(v)
		xs := x.Shape()
		if len(xs) < 3 {
			return nil, fmt.Errorf("input %v has no spatial dims", xs)
		}
		r := p.b.Reduce(op, p.b.Reshape(x, xs[0], xs[1], backend.NumElements(xs[2:])))
		out := slices.Clone(xs)
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		return dev(p.b.Reshape(r, out...)), nil
	}
}

type gemmState struct {
	alpha, beta    float32
	transA, transB bool
	bT             backend.Tensor // B laid out [N, K] when B is constant
}

func prepareGemm(p *Program, n *Node) (any, error) {
	a := attrs{n: n}
	st := gemmState{alpha: a.float("alpha", 1), beta: a.float("beta", 1),
		transA: a.int("transA", 0) != 0, transB: a.int("transB", 0) != 0}
	if a.err != nil {
		return nil, a.err
	}
	if b := p.constInput(n, 1); b != nil {
		if len(b.shape()) != 2 {
			return nil, fmt.Errorf("B has shape %v, want 2-D", b.shape())
		}
		bt, _ := p.toDevice(b)
		if !st.transB {
			bt = p.b.Permute(bt, 1, 0)
		}
		st.bT = bt
	}
	return st, nil
}

// runGemm computes alpha·A'·B' + beta·C; the backend's MatMul takes its
// right operand as [N, K], which is B itself when transB is set.
func runGemm(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	g := st.(gemmState)
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, errors.New("Gemm needs A and B")
	}
	a, _ := p.toDevice(in[0])
	if len(a.Shape()) != 2 {
		return nil, fmt.Errorf("A has shape %v, want 2-D", a.Shape())
	}
	if g.transA {
		a = p.b.Permute(a, 1, 0)
	}
	bT := g.bT
	if bT == nil {
		bT, _ = p.toDevice(in[1])
		if len(bT.Shape()) != 2 {
			return nil, fmt.Errorf("B has shape %v, want 2-D", bT.Shape())
		}
		if !g.transB {
			bT = p.b.Permute(bT, 1, 0)
		}
	}
	nOut := bT.Shape()[0]
	var c backend.Tensor
	if len(in) > 2 && in[2] != nil {
		c, _ = p.toDevice(in[2])
	}
	if g.alpha == 1 && g.beta == 1 && c != nil && backend.NumElements(c.Shape()) == nOut && len(c.Shape()) <= 2 {
		return dev(p.b.Linear(a, bT, p.b.Reshape(c, nOut))), nil
	}
	y := p.b.MatMul(a, bT)
	if g.alpha != 1 {
		y = p.b.Affine(y, g.alpha, 0)
	}
	if c != nil && g.beta != 0 {
		if g.beta != 1 {
			c = p.b.Affine(c, g.beta, 0)
		}
		y = p.b.Binary(backend.Add, y, c)
	}
	return dev(y), nil
}

// prepareMatMul pre-transposes a constant right operand to the [..., N, K]
// layout the backend's MatMul takes.
func prepareMatMul(p *Program, n *Node) (any, error) {
	b := p.constInput(n, 1)
	if b == nil || len(b.shape()) < 2 {
		return nil, nil
	}
	bt, _ := p.toDevice(b)
	return p.transposeLast(bt), nil
}

func (p *Program) transposeLast(t backend.Tensor) backend.Tensor {
	r := len(t.Shape())
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[r-1], perm[r-2] = r-2, r-1
	return p.b.Permute(t, perm...)
}

// runMatMul is numpy.matmul; 1-D operands are promoted and the added dim
// removed again.
func runMatMul(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, errors.New("MatMul needs A and B")
	}
	a, _ := p.toDevice(in[0])
	as := a.Shape()
	if len(as) == 1 {
		a = p.b.Reshape(a, 1, as[0])
	}
	var bT backend.Tensor
	bs := in[1].shape()
	switch {
	case st != nil:
		bT = st.(backend.Tensor)
	case len(bs) == 1:
		b, _ := p.toDevice(in[1])
		bT = p.b.Reshape(b, 1, bs[0])
	default:
		b, _ := p.toDevice(in[1])
		bT = p.transposeLast(b)
	}
	y := p.b.MatMul(a, bT)
	ys := y.Shape()
	if len(as) == 1 {
		ys = append(slices.Clone(ys[:len(ys)-2]), ys[len(ys)-1])
	}
	if len(bs) == 1 {
		ys = ys[:len(ys)-1]
	}
	if !slices.Equal(ys, y.Shape()) {
		y = p.b.Reshape(y, ys...)
	}
	return dev(y), nil
}

// reshapeValue gives v a new shape, on the host or the device.
func (p *Program) reshapeValue(v *value, shape []int) *value {
	if v.host != nil {
		return &value{host: v.host.reshape(shape)}
	}
	return &value{dev: p.b.Reshape(v.dev, shape...)}
}

func prepareFlatten(p *Program, n *Node) (any, error) { return attrInt(n, "axis", 1) }

func runFlatten(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	shape := v.shape()
	axis := st.(int64)
	if axis < -int64(len(shape)) || axis > int64(len(shape)) {
		return nil, fmt.Errorf("axis %d is out of range for rank %d", axis, len(shape))
	}
	if axis < 0 {
		axis += int64(len(shape))
	}
	out := []int{backend.NumElements(shape[:axis]), backend.NumElements(shape[axis:])}
	return one(p.reshapeValue(v, out)), nil
}

func prepareReshape(p *Program, n *Node) (any, error) { return attrInt(n, "allowzero", 0) }

// runReshape resolves ONNX's target shape: 0 copies the input dim (unless
// allowzero), -1 is inferred.
func runReshape(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	target, _, err := p.hostInts(in, 1)
	if err != nil {
		return nil, err
	}
	from := v.shape()
	out := make([]int, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == 0 && st.(int64) == 0:
			if i >= len(from) {
				return nil, fmt.Errorf("shape %v copies dim %d of a rank-%d input", target, i, len(from))
			}
			out[i] = from[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1 dims", target)
			}
			infer = i
			continue
		case d < 0 || d > 1<<40:
			return nil, fmt.Errorf("shape %v has dim %d", target, d)
		default:
			out[i] = int(d)
		}
		known *= out[i]
	}
	total := backend.NumElements(from)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", from, target)
		}
		out[infer] = total / known
	}
	if backend.NumElements(out) != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", from, total, out)
	}
	return one(p.reshapeValue(v, out)), nil
}

func prepareTranspose(p *Program, n *Node) (any, error) {
	perm, err := attrInts(n, "perm")
	if err != nil {
		return nil, err
	}
	return toInts("perm", perm)
}

func runTranspose(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	rank := len(v.shape())
	perm := st.([]int)
	if len(perm) == 0 {
		perm = make([]int, rank)
		for i := range perm {
			perm[i] = rank - 1 - i
		}
	}
	seen := make([]bool, rank)
	if len(perm) != rank {
		return nil, fmt.Errorf("perm %v for rank %d", perm, rank)
	}
	for _, d := range perm {
		if d < 0 || d >= rank || seen[d] {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		seen[d] = true
	}
	if v.host != nil {
		return hostVal(v.host.permute(perm)), nil
	}
	return dev(p.b.Permute(v.dev, perm...)), nil
}

func prepareConcat(p *Program, n *Node) (any, error) {
	if n.Attr("axis") == nil {
		return nil, errors.New("Concat without an axis")
	}
	return attrInt(n, "axis", 0)
}

func runConcat(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	if len(in) == 0 {
		return nil, errors.New("Concat of nothing")
	}
	allHost := true
	for i, v := range in {
		if v == nil {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		allHost = allHost && v.host != nil
	}
	rank := len(in[0].shape())
	axis, err := normAxis(st.(int64), rank)
	if err != nil {
		return nil, err
	}
	for i, v := range in {
		s := v.shape()
		if len(s) != rank {
			return nil, fmt.Errorf("input %d has rank %d, input 0 %d", i, len(s), rank)
		}
		for d := range s {
			if d != axis && s[d] != in[0].shape()[d] {
				return nil, fmt.Errorf("input %d has shape %v, input 0 %v", i, s, in[0].shape())
			}
		}
	}
	if allHost {
		parts := make([]*hostTensor, len(in))
		for i, v := range in {
			parts[i] = v.host
		}
		return hostVal(hostConcat(axis, parts)), nil
	}
	ts := make([]backend.Tensor, 0, len(in))
	for _, v := range in {
		if v.shape()[axis] == 0 {
			continue
		}
		t, _ := p.toDevice(v)
		ts = append(ts, t)
	}
	return dev(p.b.Concat(axis, ts...)), nil
}

// prepareAxes reads the axes attribute of Unsqueeze/Squeeze (an input
// from opset 13).
func prepareAxes(p *Program, n *Node) (any, error) {
	axes, err := attrInts(n, "axes")
	if err != nil {
		return nil, err
	}
	if p.opset >= 13 && axes != nil {
		return nil, errors.New("axes is an input from opset 13, not an attribute")
	}
	return axes, nil
}

func (p *Program) axesOf(st any, in []*value) ([]int64, error) {
	if p.opset >= 13 {
		if len(in) < 2 || in[1] == nil {
			return nil, nil
		}
		ints, _, err := p.hostInts(in, 1)
		return ints, err
	}
	return st.([]int64), nil
}

func runUnsqueeze(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	axes, err := p.axesOf(st, in)
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 {
		return nil, errors.New("Unsqueeze without axes")
	}
	shape := v.shape()
	rank := len(shape) + len(axes)
	ones := make([]bool, rank)
	for _, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if ones[ax] {
			return nil, fmt.Errorf("axes %v repeat %d", axes, ax)
		}
		ones[ax] = true
	}
	out := make([]int, 0, rank)
	k := 0
	for i := range rank {
		if ones[i] {
			out = append(out, 1)
		} else {
			out = append(out, shape[k])
			k++
		}
	}
	return one(p.reshapeValue(v, out)), nil
}

func runSqueeze(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	axes, err := p.axesOf(st, in)
	if err != nil {
		return nil, err
	}
	shape := v.shape()
	drop := make([]bool, len(shape))
	if len(axes) == 0 {
		for i, d := range shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := normAxis(a, len(shape))
		if err != nil {
			return nil, err
		}
		if shape[ax] != 1 {
			return nil, fmt.Errorf("cannot squeeze dim %d of %v", ax, shape)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return one(p.reshapeValue(v, out)), nil
}

// sliceState holds the opset < 10 attributes of Slice.
type sliceState struct{ starts, ends, axes []int64 }

func prepareSlice(p *Program, n *Node) (any, error) {
	if p.opset >= 10 {
		return nil, nil
	}
	a := attrs{n: n}
	st := sliceState{starts: a.ints("starts"), ends: a.ints("ends"), axes: a.ints("axes")}
	if a.err == nil && (st.starts == nil || st.ends == nil) {
		return nil, errors.New("Slice without starts or ends")
	}
	return st, a.err
}

func runSlice(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	var starts, ends, axes, steps []int64
	if p.opset < 10 {
		s := st.(sliceState)
		starts, ends, axes = s.starts, s.ends, s.axes
	} else {
		if starts, _, err = p.hostInts(in, 1); err != nil {
			return nil, err
		}
		if ends, _, err = p.hostInts(in, 2); err != nil {
			return nil, err
		}
		if len(in) > 3 && in[3] != nil {
			if axes, _, err = p.hostInts(in, 3); err != nil {
				return nil, err
			}
		}
		if len(in) > 4 && in[4] != nil {
			if steps, _, err = p.hostInts(in, 4); err != nil {
				return nil, err
			}
		}
	}
	shape := v.shape()
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("starts %v, ends %v, axes %v, steps %v differ in length", starts, ends, axes, steps)
	}
	cur := v
	for i := range starts {
		ax, err := normAxis(axes[i], len(shape))
		if err != nil {
			return nil, err
		}
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		start, count, err := sliceRange(starts[i], ends[i], step, int64(shape[ax]))
		if err != nil {
			return nil, err
		}
		if cur.host != nil {
			cur = &value{host: cur.host.slice(ax, start, int(step), count)}
			continue
		}
		if step < 0 {
			return nil, fmt.Errorf("negative step %d on a device tensor is not supported", step)
		}
		end := start + 1
		if count > 0 {
			end = start + (count-1)*int(step) + 1
		} else {
			end = start
		}
		cur = &value{dev: p.b.Slice(cur.dev, ax, start, end, int(step))}
	}
	return one(cur), nil
}

// sliceRange clamps an ONNX slice of a dim of size dim: it returns the
// first index and the number of indices kept.
func sliceRange(start, end, step, dim int64) (int, int, error) {
	if step == 0 {
		return 0, 0, errors.New("slice step 0")
	}
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	var count int64
	if step > 0 {
		start = min(max(start, 0), dim)
		end = min(max(end, 0), dim)
		if end > start {
			count = (end - start + step - 1) / step
		}
	} else {
		start = min(max(start, 0), dim-1)
		end = min(max(end, -1), dim-1)
		if start > end {
			count = (start - end - step - 1) / -step
		}
	}
	return int(start), int(count), nil
}

func prepareGather(p *Program, n *Node) (any, error) { return attrInt(n, "axis", 0) }

func runGather(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	idx, ih, err := p.hostInts(in, 1)
	if err != nil {
		return nil, err
	}
	shape := v.shape()
	axis, err := normAxis(st.(int64), len(shape))
	if err != nil {
		return nil, err
	}
	dim := shape[axis]
	pos := make([]int, len(idx))
	for i, k := range idx {
		if k < -int64(dim) || k >= int64(dim) {
			return nil, fmt.Errorf("index %d is out of range for dim %d of size %d", k, axis, dim)
		}
		if k < 0 {
			k += int64(dim)
		}
		pos[i] = int(k)
	}
	out := append(append(slices.Clone(shape[:axis]), ih.shape...), shape[axis+1:]...)
	if v.host != nil {
		if err := checkHostSize(out); err != nil {
			return nil, err
		}
		inner := backend.NumElements(shape[axis+1:])
		nIdx := len(pos)
		return hostVal(v.host.gather(out, func(k int) int {
			o, rest := k/(nIdx*inner), k%(nIdx*inner)
			return (o*dim+pos[rest/inner])*inner + rest%inner
		})), nil
	}
	parts := make([]backend.Tensor, len(pos))
	for i, k := range pos {
		parts[i] = p.b.Slice(v.dev, axis, k, k+1, 1)
	}
	var t backend.Tensor
	if len(parts) == 1 {
		t = parts[0]
	} else {
		t = p.b.Concat(axis, parts...)
	}
	return dev(p.b.Reshape(t, out...)), nil
}

func prepareShape(p *Program, n *Node) (any, error) {
	a := attrs{n: n}
	r := [2]int64{a.int("start", 0), a.int("end", math.MaxInt32)}
	return r, a.err
}

// runShape returns dims [start, end) of the input's shape (opset 15's
// range attributes; the whole shape before).
func runShape(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	shape := v.shape()
	r := st.([2]int64)
	rank := int64(len(shape))
	lo, hi := r[0], r[1]
	if lo < 0 {
		lo += rank
	}
	if hi < 0 {
		hi += rank
	}
	lo, hi = min(max(lo, 0), rank), min(max(hi, 0), rank)
	out := &hostTensor{shape: []int{0}}
	for i := lo; i < hi; i++ {
		out.i = append(out.i, int64(shape[i]))
	}
	out.shape[0] = len(out.i)
	return hostVal(out), nil
}

func prepareConstant(p *Program, n *Node) (any, error) {
	if len(n.Attributes) != 1 {
		return nil, fmt.Errorf("Constant with %d attributes, want 1", len(n.Attributes))
	}
	a := n.Attributes[0]
	switch a.Name {
	case "value":
		if a.Type != AttrTensor {
			return nil, fmt.Errorf("value is %v, want TENSOR", a.Type)
		}
		return constValue(p.b, a.T)
	case "value_float":
		return &value{host: &hostTensor{shape: []int{}, float: true, f: []float32{a.F}}}, nil
	case "value_floats":
		return &value{host: &hostTensor{shape: []int{len(a.Floats)}, float: true, f: a.Floats}}, nil
	case "value_int":
		return &value{host: &hostTensor{shape: []int{}, i: []int64{a.I}}}, nil
	case "value_ints":
		return &value{host: &hostTensor{shape: []int{len(a.Ints)}, i: a.Ints}}, nil
	}
	return nil, fmt.Errorf("Constant attribute %q is not supported", a.Name)
}

func runConstant(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	return one(st.(*value)), nil
}

func prepareConstantOfShape(p *Program, n *Node) (any, error) {
	a := n.Attr("value")
	if a == nil {
		return &hostTensor{shape: []int{1}, float: true, f: []float32{0}}, nil
	}
	if a.Type != AttrTensor || a.T.NumElements() != 1 {
		return nil, errors.New("value must be a one-element tensor")
	}
	v, err := constValue(nil, a.T)
	if err != nil {
		return nil, err
	}
	if v.host == nil {
		return nil, errors.New("value is not a host constant")
	}
	return v.host, nil
}

func runConstantOfShape(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	dims, _, err := p.hostInts(in, 0)
	if err != nil {
		return nil, err
	}
	shape, err := toInts("shape", dims)
	if err != nil {
		return nil, err
	}
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("shape %v", dims)
		}
	}
	if err := checkHostSize(shape); err != nil {
		return nil, err
	}
	fill := st.(*hostTensor)
	return hostVal(fill.gather(shape, func(int) int { return 0 })), nil
}

func prepareCast(p *Program, n *Node) (any, error) {
	to, err := attrInt(n, "to", 0)
	if err != nil {
		return nil, err
	}
	dt := DataType(to)
	switch dt {
	case Float, Double, Float16, BFloat16, Int64, Int32, Int16, Int8, Uint8, Bool:
		return dt, nil
	}
	return nil, fmt.Errorf("Cast to %v is not supported", dt)
}

// runCast: device tensors stay F32 for float targets; integer targets are
// computed on the host (torch exporters cast shape values).
func runCast(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	to := st.(DataType)
	float := to == Float || to == Double || to == Float16 || to == BFloat16
	if v.host == nil && float {
		return one(v), nil
	}
	h, err := p.toHost(v)
	if err != nil {
		return nil, err
	}
	out := &hostTensor{shape: h.shape, float: float}
	if float {
		out.f = h.floats()
		return hostVal(out), nil
	}
	out.i = make([]int64, h.len())
	for k := range out.i {
		var x int64
		if h.float {
			f := float64(h.f[k])
			if math.IsNaN(f) || math.Abs(f) > 1<<62 {
				return nil, fmt.Errorf("cannot cast %g to %v", f, to)
			}
			x = int64(f) // truncation, as a C cast
		} else {
			x = h.i[k]
		}
		if to == Bool && x != 0 {
			x = 1
		}
		out.i[k] = x
	}
	return hostVal(out), nil
}

type resizeState struct {
	mode         backend.ResizeMode
	alignCorners bool
	halfPixelPT  bool // pytorch_half_pixel: as half_pixel except for outputs of size 1
	scalesAttr   []float32
}

// prepareResize maps the Resize/Upsample attribute combinations the
// backend's torch-style Resize2D reproduces; anything else is refused at
// load time rather than computed differently.
func prepareResize(p *Program, n *Node) (any, error) {
	a := attrs{n: n}
	mode := a.string("mode", "nearest")
	ctm, nearest := "asymmetric", "floor"
	if n.OpType == "Resize" && p.opset >= 11 {
		ctm = a.string("coordinate_transformation_mode", "half_pixel")
		nearest = a.string("nearest_mode", "round_prefer_floor")
		if a.int("exclude_outside", 0) != 0 {
			return nil, errors.New("exclude_outside is not supported")
		}
		if a.int("antialias", 0) != 0 {
			return nil, errors.New("antialiased Resize is not supported")
		}
		if mode == "cubic" && a.float("cubic_coeff_a", -0.75) != -0.75 {
			return nil, errors.New("cubic_coeff_a other than -0.75 is not supported")
		}
		if n.Attr("axes") != nil || n.Attr("keep_aspect_ratio_policy") != nil {
			return nil, errors.New("Resize axes / keep_aspect_ratio_policy are not supported")
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	st := resizeState{}
	if n.OpType == "Upsample" && p.opset < 9 {
		f, err := attrFloats(n, "scales")
		if err != nil || f == nil {
			return nil, errors.New("Upsample without scales")
		}
		st.scalesAttr = f
	}
	switch {
	case mode == "nearest" && ctm == "asymmetric" && nearest == "floor":
		st.mode = backend.Nearest
	case (mode == "linear" || mode == "bilinear") && ctm == "align_corners":
		st.mode, st.alignCorners = backend.Bilinear, true
	case (mode == "linear" || mode == "bilinear") && (ctm == "half_pixel" || ctm == "pytorch_half_pixel"):
		st.mode, st.halfPixelPT = backend.Bilinear, ctm == "pytorch_half_pixel"
	case mode == "cubic" && ctm == "align_corners":
		st.mode, st.alignCorners = backend.Bicubic, true
	case mode == "cubic" && (ctm == "half_pixel" || ctm == "pytorch_half_pixel"):
		st.mode, st.halfPixelPT = backend.Bicubic, ctm == "pytorch_half_pixel"
	default:
		return nil, fmt.Errorf("mode %q with coordinate_transformation_mode %q and nearest_mode %q is not supported",
			mode, ctm, nearest)
	}
	return st, nil
}

func runResize(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	s := st.(resizeState)
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	x, _ := p.toDevice(v)
	xs := x.Shape()
	if len(xs) != 4 {
		return nil, fmt.Errorf("input %v: only 4-D resizing is supported", xs)
	}
	// Operand positions: Upsample(X, scales); Resize-10(X, scales);
	// Resize-11+(X, roi, scales, sizes).
	scalesAt, sizesAt := 1, -1
	if n.OpType == "Resize" && p.opset >= 11 {
		scalesAt, sizesAt = 2, 3
	}
	var oh, ow int
	switch {
	case sizesAt > 0 && len(in) > sizesAt && in[sizesAt] != nil && backend.NumElements(in[sizesAt].shape()) > 0:
		sizes, _, err := p.hostInts(in, sizesAt)
		if err != nil {
			return nil, err
		}
		if len(sizes) != 4 || sizes[0] != int64(xs[0]) || sizes[1] != int64(xs[1]) {
			return nil, fmt.Errorf("sizes %v for input %v: only the last two dims may change", sizes, xs)
		}
		if sizes[2] < 1 || sizes[3] < 1 || sizes[2] > 1<<20 || sizes[3] > 1<<20 {
			return nil, fmt.Errorf("sizes %v", sizes)
		}
		oh, ow = int(sizes[2]), int(sizes[3])
	default:
		scales := s.scalesAttr
		if scales == nil {
			if len(in) <= scalesAt || in[scalesAt] == nil {
				return nil, errors.New("neither scales nor sizes is given")
			}
			h, err := p.toHost(in[scalesAt])
			if err != nil {
				return nil, err
			}
			scales = h.floats()
		}
		if len(scales) != 4 || scales[0] != 1 || scales[1] != 1 {
			return nil, fmt.Errorf("scales %v: only the last two dims may be scaled", scales)
		}
		fh, fw := math.Floor(float64(xs[2])*float64(scales[2])), math.Floor(float64(xs[3])*float64(scales[3]))
		if !(fh >= 1 && fw >= 1 && fh <= 1<<20 && fw <= 1<<20) {
			return nil, fmt.Errorf("scales %v give an output of %g×%g", scales, fh, fw)
		}
		oh, ow = int(fh), int(fw)
	}
	if err := checkOutputSize(xs[0], xs[1], oh, ow); err != nil {
		return nil, err
	}
	if s.halfPixelPT && (oh == 1 || ow == 1) {
		return nil, errors.New("pytorch_half_pixel to an output of size 1 is not supported")
	}
	return dev(p.b.Resize2D(x, oh, ow, s.mode, s.alignCorners)), nil
}

type padState struct {
	pads  []int64
	value float32
}

func preparePad(p *Program, n *Node) (any, error) {
	a := attrs{n: n}
	if mode := a.string("mode", "constant"); mode != "constant" {
		return nil, fmt.Errorf("Pad mode %q is not supported", mode)
	}
	st := padState{}
	if p.opset < 11 {
		st.pads = a.ints("pads")
		st.value = a.float("value", 0)
	}
	return st, a.err
}

func runPad(p *Program, n *Node, st any, in []*value) ([]*value, error) {
	s := st.(padState)
	v, err := input(in, 0)
	if err != nil {
		return nil, err
	}
	pads := s.pads
	if p.opset >= 11 {
		if pads, _, err = p.hostInts(in, 1); err != nil {
			return nil, err
		}
		if len(in) > 2 && in[2] != nil {
			h, err := p.toHost(in[2])
			if err != nil {
				return nil, err
			}
			if h.len() != 1 {
				return nil, errors.New("constant_value must be a scalar")
			}
			s.value = h.floats()[0]
		}
		if len(in) > 3 && in[3] != nil {
			return nil, errors.New("Pad axes are not supported")
		}
	}
	x, _ := p.toDevice(v)
	rank := len(x.Shape())
	if len(pads) != 2*rank {
		return nil, fmt.Errorf("pads %v for rank %d", pads, rank)
	}
	ps, err := toInts("pads", pads)
	if err != nil {
		return nil, err
	}
	out := make([]int, rank)
	for i, d := range x.Shape() {
		out[i] = d + ps[i] + ps[rank+i]
	}
	if err := checkOutputSize(out...); err != nil {
		return nil, err
	}
	return dev(p.b.Pad(x, ps[:rank], ps[rank:], s.value)), nil
}
