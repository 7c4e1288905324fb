package optest

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// weightTypes are the storage types a weight operand may have.
var weightTypes = []dtype.DType{dtype.F32, dtype.BF16, dtype.F16, dtype.F8E4M3, dtype.F8E5M2}

// f32 is an F32 input of the given shape with values in [-1, 1].
func f32(shape ...int) Input { return Input{Shape: shape} }

// rng is an F32 input with values in [lo, hi].
func rng(lo, hi float32, shape ...int) Input { return Input{Shape: shape, Lo: lo, Hi: hi} }

// typed is an input stored as dt.
func typed(dt dtype.DType, shape ...int) Input { return Input{Shape: shape, DType: dt} }

// Cases returns the op suite's table. Shapes are chosen to be awkward:
// odd sizes, 1-element dims, K larger than any block, broadcasting, and
// every parameter of every op.
func Cases() []Case {
	var cs []Case
	cs = append(cs, matmulCases()...)
	cs = append(cs, elementwiseCases()...)
	cs = append(cs, normCases()...)
	cs = append(cs, attentionCases()...)
	cs = append(cs, layoutCases()...)
	cs = append(cs, imageCases()...)
	return cs
}

func matmulCases() []Case {
	var cs []Case
	// (m, k, n): degenerate, odd, smaller and larger than the kernels'
	// register tiles and cache blocks, and K far beyond a block.
	sizes := [][3]int{
		{1, 1, 1}, {1, 7, 1}, {3, 5, 7}, {4, 8, 16}, {6, 16, 32}, {13, 31, 17},
		{17, 33, 65}, {33, 257, 47}, {64, 256, 64}, {71, 300, 129}, {2, 4099, 3}, {5, 20000, 4},
	}
	for _, s := range sizes {
		m, k, n := s[0], s[1], s[2]
		for _, dt := range weightTypes {
			if dt != dtype.F32 && m*k*n > 300000 && m > 5 {
				continue // the types' decoding is covered by the smaller sizes
			}
			cs = append(cs, Case{
				Op:    "matmul",
				Name:  fmt.Sprintf("m%d_k%d_n%d_%v", m, k, n, dt),
				In:    []Input{f32(m, k), typed(dt, n, k)},
				Run:   func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.MatMul(x[0], x[1]) },
				Flops: 2 * float64(m*k*n),
			})
		}
	}
	// leading dims broadcast: a batch against one weight, batches on both
	// sides, and a broadcast dim on each side
	batched := []struct{ a, b []int }{
		{[]int{2, 3, 5, 9}, []int{7, 9}},
		{[]int{2, 3, 5, 9}, []int{2, 3, 7, 9}},
		{[]int{2, 1, 5, 9}, []int{1, 3, 7, 9}},
		{[]int{1, 4, 1, 64}, []int{4, 10, 64}},
	}
	for _, s := range batched {
		for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
			m, k, n := s.a[len(s.a)-2], s.a[len(s.a)-1], s.b[len(s.b)-2]
			batch, _ := backend.Broadcast(s.a[:len(s.a)-2], s.b[:len(s.b)-2])
			cs = append(cs, Case{
				Op:    "matmul",
				Name:  fmt.Sprintf("%s_x_%s_%v", shapeName(s.a), shapeName(s.b), dt),
				In:    []Input{f32(s.a...), typed(dt, s.b...)},
				Run:   func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.MatMul(x[0], x[1]) },
				Flops: 2 * float64(backend.NumElements(batch)*m*k*n),
			})
		}
	}
	// Linear: rank-1 and rank-3 activations, with and without bias
	linear := []struct {
		x    []int
		n    int
		bias bool
	}{
		{[]int{7}, 5, true}, {[]int{2, 5, 33}, 17, true}, {[]int{3, 1, 64}, 65, false},
		{[]int{1, 1, 1}, 1, true}, {[]int{37, 300}, 131, true},
	}
	for _, l := range linear {
		k := l.x[len(l.x)-1]
		for _, dt := range weightTypes {
			in := []Input{f32(l.x...), typed(dt, l.n, k)}
			if l.bias {
				in = append(in, f32(l.n))
			}
			cs = append(cs, Case{
				Op:   "linear",
				Name: fmt.Sprintf("x%s_n%d_bias%v_%v", shapeName(l.x), l.n, l.bias, dt),
				In:   in,
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
					var bias backend.Tensor
					if len(x) == 3 {
						bias = x[2]
					}
					return b.Linear(x[0], x[1], bias)
				},
				Flops: 2 * float64(backend.NumElements(l.x)*l.n),
			})
		}
	}
	return cs
}

func elementwiseCases() []Case {
	var cs []Case
	// Binary ops: equal shapes, a bias row, a column, a scalar, both sides
	// broadcasting, and operands of different ranks.
	shapes := [][2][]int{
		{{1}, {1}},
		{{1000, 3}, {1000, 3}},
		{{4, 7, 33}, {33}},
		{{4, 7, 33}, {7, 1}},
		{{5, 9}, {1}},
		{{2, 1, 4}, {1, 3, 1}},
		{{1, 6}, {5, 1}},
		{{3, 1, 5, 2}, {4, 1, 2}},
		{{301}, {17, 301}},
		// FLUX's per-sample modulation: [B, 1, D] against a [B, L, D] stream
		{{2, 1, 33}, {2, 7, 33}},
		{{2, 7, 33}, {2, 1, 33}},
	}
	for op := backend.Add; op <= backend.Min; op++ {
		for _, s := range shapes {
			b := f32(s[1]...)
			if op == backend.Div {
				b = rng(0.5, 2, s[1]...) // keep quotients finite
			}
			cs = append(cs, Case{
				Op:   "binary",
				Name: fmt.Sprintf("%v_%s_%s", op, shapeName(s[0]), shapeName(s[1])),
				In:   []Input{f32(s[0]...), b},
				Run:  func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Binary(op, x[0], x[1]) },
				// one float32 rounding of the exact result: the same everywhere
				Tol: Tol{Exact: true},
			})
		}
	}
	// Unary ops over the ranges where their approximations differ:
	// saturated tails, the region around 0, and shapes of odd lengths.
	for op := backend.SiLU; op <= backend.Recip; op++ {
		ranges := [][2]float32{{-1, 1}, {-12, 12}}
		switch op {
		case backend.Exp:
			ranges = [][2]float32{{-1, 1}, {-80, 80}}
		case backend.Sqrt:
			ranges = [][2]float32{{0, 1}, {0, 1e4}}
		case backend.Recip:
			ranges = [][2]float32{{0.25, 4}, {-100, -0.01}}
		case backend.SiLU, backend.Sigmoid, backend.QuickGELU, backend.GELUTanh, backend.GELUErf, backend.Tanh:
			ranges = append(ranges, [2]float32{-90, 90})
		}
		tol := Tol{}
		switch op {
		case backend.ReLU, backend.Neg, backend.Abs, backend.Square:
			tol = Tol{Exact: true}
		}
		for _, r := range ranges {
			for _, shape := range [][]int{{1}, {3, 1037}} {
				cs = append(cs, Case{
					Op:   "unary",
					Name: fmt.Sprintf("%v_%s_[%g,%g]", op, shapeName(shape), r[0], r[1]),
					In:   []Input{rng(r[0], r[1], shape...)},
					Run:  func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Unary(op, x[0]) },
					Tol:  tol,
				})
			}
		}
	}
	for _, p := range [][2]float32{{1, 0}, {-0.5, 3}, {1e-3, -1e3}} {
		cs = append(cs, Case{
			Op:   "affine",
			Name: fmt.Sprintf("alpha%g_beta%g", p[0], p[1]),
			In:   []Input{f32(5, 211)},
			Run:  func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Affine(x[0], p[0], p[1]) },
			// a fused multiply-add may differ from the reference's two
			// roundings by one ulp of the result
			Tol: Tol{NMSE: 1e-13, MaxRel: 1e-6},
		})
	}
	for _, c := range []struct{ from, to dtype.DType }{
		{dtype.F32, dtype.F32}, {dtype.F32, dtype.BF16}, {dtype.F32, dtype.F16},
		{dtype.BF16, dtype.F32}, {dtype.F16, dtype.F32}, {dtype.F8E4M3, dtype.F32}, {dtype.F8E5M2, dtype.F32},
	} {
		cs = append(cs, Case{
			Op:   "cast",
			Name: fmt.Sprintf("%v_to_%v", c.from, c.to),
			In:   []Input{typed(c.from, 3, 129)},
			Run:  func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Cast(x[0], c.to) },
			Tol:  Tol{Exact: true},
		})
	}
	return cs
}

func normCases() []Case {
	var cs []Case
	for _, s := range []struct {
		shape  []int
		lo, hi float32
	}{
		{[]int{1}, -1, 1}, {[]int{3, 7}, -1, 1}, {[]int{2, 5, 1000}, -1, 1},
		{[]int{4, 3072}, -50, 50}, {[]int{2, 37}, 1000, 1001},
	} {
		in := Input{Shape: s.shape, Lo: s.lo, Hi: s.hi}
		name := fmt.Sprintf("%s_[%g,%g]", shapeName(s.shape), s.lo, s.hi)
		n := s.shape[len(s.shape)-1]
		cs = append(cs, Case{
			Op: "softmax", Name: name, In: []Input{in},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Softmax(x[0]) },
		})
		for _, affine := range []bool{false, true} {
			ins := []Input{in}
			if affine {
				ins = append(ins, f32(n), f32(n))
			}
			cs = append(cs, Case{
				Op: "layernorm", Name: fmt.Sprintf("%s_affine%v", name, affine), In: ins,
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
					if len(x) == 3 {
						return b.LayerNorm(x[0], x[1], x[2], 1e-6)
					}
					return b.LayerNorm(x[0], nil, nil, 1e-5)
				},
				// a row of equal values normalises to ±eps-scaled noise;
				// the reference's float64 mean makes that exact, float32 not
				Tol: Tol{NMSE: 1e-9, MaxRel: 1e-3},
			})
			cs = append(cs, Case{
				Op: "rmsnorm", Name: fmt.Sprintf("%s_weight%v", name, affine), In: ins[:min(len(ins), 2)],
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
					if len(x) == 2 {
						return b.RMSNorm(x[0], x[1], 1e-6)
					}
					return b.RMSNorm(x[0], nil, 1e-6)
				},
			})
		}
		for op := backend.Sum; op <= backend.ReduceMax; op++ {
			tol := Tol{}
			if op == backend.ReduceMax {
				tol = Tol{Exact: true}
			}
			cs = append(cs, Case{
				Op: "reduce", Name: fmt.Sprintf("%v_%s", op, name), In: []Input{in},
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Reduce(op, x[0]) },
				Tol: tol,
			})
		}
	}
	for _, g := range []struct {
		shape  []int
		groups int
		affine bool
	}{
		{[]int{1, 4, 3, 5}, 1, false}, {[]int{2, 64, 5, 7}, 32, true}, {[]int{1, 6, 1, 1}, 3, true},
		{[]int{2, 12, 9}, 4, true}, {[]int{1, 32, 33, 17}, 32, false},
	} {
		in := []Input{f32(g.shape...)}
		if g.affine {
			in = append(in, f32(g.shape[1]), f32(g.shape[1]))
		}
		cs = append(cs, Case{
			Op: "groupnorm", Name: fmt.Sprintf("%s_g%d_affine%v", shapeName(g.shape), g.groups, g.affine), In: in,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				if len(x) == 3 {
					return b.GroupNorm(x[0], g.groups, x[1], x[2], 1e-6)
				}
				return b.GroupNorm(x[0], g.groups, nil, nil, 1e-6)
			},
		})
	}
	for _, r := range []struct {
		x       []int
		batched bool
	}{
		{[]int{1, 1, 1, 2}, false}, {[]int{2, 3, 5, 16}, false}, {[]int{2, 3, 5, 16}, true}, {[]int{1, 24, 37, 128}, false},
	} {
		bb, l, d := r.x[0], r.x[2], r.x[3]
		cshape := []int{l, d / 2}
		if r.batched {
			cshape = []int{bb, l, d / 2}
		}
		cs = append(cs, Case{
			Op: "rope", Name: fmt.Sprintf("%s_batched%v", shapeName(r.x), r.batched),
			In: []Input{f32(r.x...), f32(cshape...), f32(cshape...)},
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.RoPE(x[0], x[1], x[2])
			},
			// two products and a sum: fused or not, within an ulp or two
			Tol: Tol{NMSE: 1e-13, MaxRel: 1e-6},
		})
	}
	return cs
}

func attentionCases() []Case {
	var cs []Case
	type att struct {
		b, h, lq, lk, d, dv int
		causal              bool
		bias                []int // nil: none
		scale               float32
	}
	for _, a := range []att{
		{1, 1, 1, 1, 1, 1, false, nil, 0},
		{1, 2, 3, 5, 8, 8, false, nil, 0},
		{2, 3, 7, 7, 16, 16, true, nil, 0},
		{1, 2, 9, 4, 16, 24, false, nil, 0.5},               // Dv ≠ D, Lk < Lq
		{2, 2, 6, 6, 32, 32, true, nil, 0},                  // causal, square
		{1, 3, 5, 9, 8, 8, true, nil, 0},                    // causal with more keys than queries
		{2, 4, 5, 11, 16, 16, false, []int{1, 4, 5, 11}, 0}, // T5's relative bias
		{2, 4, 5, 11, 16, 16, true, []int{2, 1, 1, 11}, 0},  // a key mask per sample
		{1, 2, 3, 4, 8, 8, false, []int{4}, 0},              // bias broadcast from one dim
		{1, 2, 33, 77, 64, 64, false, nil, 0},
		{1, 3, 67, 300, 128, 128, false, nil, 0},
		{1, 2, 129, 129, 128, 128, true, nil, 0},
		{1, 1, 2, 1000, 72, 72, false, nil, 0.3}, // long keys, large logits
	} {
		in := []Input{f32(a.b, a.h, a.lq, a.d), f32(a.b, a.h, a.lk, a.d), f32(a.b, a.h, a.lk, a.dv)}
		if a.bias != nil {
			in = append(in, rng(-3, 3, a.bias...))
		}
		name := fmt.Sprintf("b%d_h%d_lq%d_lk%d_d%d_dv%d", a.b, a.h, a.lq, a.lk, a.d, a.dv)
		if a.causal {
			name += "_causal"
		}
		if a.bias != nil {
			name += "_bias" + shapeName(a.bias)
		}
		if a.scale != 0 {
			name += fmt.Sprintf("_scale%g", a.scale)
		}
		cs = append(cs, Case{
			Op: "attention", Name: name, In: in,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				opt := backend.AttentionOptions{Scale: a.scale, Causal: a.causal}
				if len(x) == 4 {
					opt.Bias = x[3]
				}
				return b.Attention(x[0], x[1], x[2], opt)
			},
			Flops: 2 * float64(a.b*a.h*a.lq*a.lk*(a.d+a.dv)),
		})
	}
	return cs
}

func layoutCases() []Case {
	var cs []Case
	exact := Tol{Exact: true}
	for _, r := range []struct{ from, to []int }{
		{[]int{2, 3, 4}, []int{6, 4}}, {[]int{2, 3, 4}, []int{-1}}, {[]int{5}, []int{1, 5, 1}}, {[]int{6, 4}, []int{2, -1, 3}},
	} {
		cs = append(cs, Case{
			Op: "reshape", Name: shapeName(r.from) + "_to_" + shapeName(r.to), In: []Input{f32(r.from...)}, Tol: exact,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Reshape(x[0], r.to...) },
		})
	}
	for _, p := range []struct{ shape, perm []int }{
		{[]int{3, 5}, []int{1, 0}}, {[]int{2, 3, 4, 5}, []int{0, 2, 1, 3}}, {[]int{2, 3, 4, 5}, []int{3, 2, 1, 0}},
		{[]int{1, 7, 1, 3}, []int{2, 3, 0, 1}}, {[]int{4, 5, 6}, []int{0, 1, 2}}, {[]int{2, 17, 3, 33}, []int{0, 3, 1, 2}},
	} {
		cs = append(cs, Case{
			Op: "permute", Name: shapeName(p.shape) + "_" + shapeName(p.perm), In: []Input{f32(p.shape...)}, Tol: exact,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Permute(x[0], p.perm...) },
		})
	}
	for _, c := range []struct {
		axis   int
		shapes [][]int
	}{
		{0, [][]int{{2, 3}, {5, 3}}}, {1, [][]int{{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}}, {-1, [][]int{{3, 2, 1}, {3, 2, 7}}},
		{0, [][]int{{1}, {1}, {1}, {1}}}, {1, [][]int{{2, 0, 3}, {2, 4, 3}}},
	} {
		in := make([]Input, len(c.shapes))
		name := fmt.Sprintf("axis%d", c.axis)
		for i, s := range c.shapes {
			in[i] = f32(s...)
			name += "_" + shapeName(s)
		}
		cs = append(cs, Case{
			Op: "concat", Name: name, In: in, Tol: exact,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Concat(c.axis, x...) },
		})
	}
	for _, s := range []struct {
		shape                  []int
		axis, start, end, step int
	}{
		{[]int{10}, 0, 0, 10, 1}, {[]int{10}, 0, 3, 9, 2}, {[]int{4, 9, 5}, 1, 1, 8, 3}, {[]int{4, 9, 5}, -1, 4, 5, 1},
		{[]int{4, 9, 5}, 0, 2, 2, 1}, {[]int{3, 7}, 1, 0, 7, 7},
	} {
		cs = append(cs, Case{
			Op: "slice", Name: fmt.Sprintf("%s_axis%d_%d:%d:%d", shapeName(s.shape), s.axis, s.start, s.end, s.step),
			In: []Input{f32(s.shape...)}, Tol: exact,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Slice(x[0], s.axis, s.start, s.end, s.step)
			},
		})
	}
	for _, p := range []struct {
		shape, before, after []int
		value                float32
	}{
		{[]int{3, 4}, []int{1, 2}, []int{0, 3}, 0}, {[]int{1, 2, 5, 5}, []int{0, 0, 1, 1}, []int{0, 0, 1, 1}, -1.5},
		{[]int{4, 6}, []int{-1, 2}, []int{1, -3}, 7}, {[]int{5}, []int{0}, []int{0}, 0},
	} {
		cs = append(cs, Case{
			Op:   "pad",
			Name: fmt.Sprintf("%s_before%s_after%s_v%g", shapeName(p.shape), shapeName(p.before), shapeName(p.after), p.value),
			In:   []Input{f32(p.shape...)}, Tol: exact,
			Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Pad(x[0], p.before, p.after, p.value)
			},
		})
	}
	for _, dt := range weightTypes {
		for _, ids := range [][]int32{{0}, {6, 0, 6, 3, 1}} {
			cs = append(cs, Case{
				Op: "take_rows", Name: fmt.Sprintf("%v_7x33_ids%d", dt, len(ids)), In: []Input{typed(dt, 7, 33)}, Tol: exact,
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.TakeRows(x[0], ids) },
			})
		}
	}
	return cs
}

func imageCases() []Case {
	var cs []Case
	type conv struct {
		x, w []int
		opt  backend.ConvOptions
		bias bool
	}
	for _, c := range []conv{
		{[]int{1, 1, 1, 1}, []int{1, 1, 1, 1}, backend.ConvOptions{}, false},
		{[]int{1, 3, 5, 7}, []int{4, 3, 1, 1}, backend.ConvOptions{}, true},
		{[]int{2, 3, 9, 8}, []int{5, 3, 3, 3}, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}, true},
		{[]int{1, 4, 11, 10}, []int{6, 4, 3, 3}, backend.ConvOptions{Stride: [2]int{2, 2}}, true},
		{[]int{1, 2, 8, 9}, []int{3, 2, 3, 3}, backend.ConvOptions{Stride: [2]int{2, 2}, Pad: [4]int{0, 0, 1, 1}}, false}, // AE downsample
		{[]int{1, 3, 10, 12}, []int{4, 3, 3, 2}, backend.ConvOptions{Stride: [2]int{1, 3}, Pad: [4]int{2, 0, 1, 3}}, true},
		{[]int{1, 2, 13, 13}, []int{3, 2, 3, 3}, backend.ConvOptions{Dilation: [2]int{2, 3}, Pad: [4]int{2, 3, 2, 3}}, true},
		{[]int{2, 4, 6, 6}, []int{6, 2, 3, 3}, backend.ConvOptions{Groups: 2, Pad: [4]int{1, 1, 1, 1}}, true},
		{[]int{1, 8, 7, 5}, []int{8, 1, 3, 3}, backend.ConvOptions{Groups: 8, Pad: [4]int{1, 1, 1, 1}}, true}, // depthwise
		{[]int{1, 3, 1, 1}, []int{2, 3, 3, 3}, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}, true},
		{[]int{1, 3, 14, 14}, []int{8, 3, 7, 7}, backend.ConvOptions{Stride: [2]int{2, 2}, Pad: [4]int{3, 3, 3, 3}}, false}, // resnet stem
		{[]int{1, 64, 9, 9}, []int{32, 64, 3, 3}, backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}}, true},
	} {
		for _, dt := range []dtype.DType{dtype.F32, dtype.BF16, dtype.F16} {
			if dt != dtype.F32 && c.x[1] < 3 {
				continue
			}
			in := []Input{f32(c.x...), typed(dt, c.w...)}
			if c.bias {
				in = append(in, f32(c.w[0]))
			}
			o := c.opt.Normalized()
			oh := backend.ConvOutSize(c.x[2], c.w[2], o.Stride[0], o.Pad[0], o.Pad[2], o.Dilation[0], false)
			ow := backend.ConvOutSize(c.x[3], c.w[3], o.Stride[1], o.Pad[1], o.Pad[3], o.Dilation[1], false)
			cs = append(cs, Case{
				Op: "conv2d",
				Name: fmt.Sprintf("x%s_w%s_s%dx%d_p%d.%d.%d.%d_d%dx%d_g%d_bias%v_%v", shapeName(c.x), shapeName(c.w),
					o.Stride[0], o.Stride[1], o.Pad[0], o.Pad[1], o.Pad[2], o.Pad[3], o.Dilation[0], o.Dilation[1], o.Groups, c.bias, dt),
				In: in,
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
					var bias backend.Tensor
					if len(x) == 3 {
						bias = x[2]
					}
					return b.Conv2D(x[0], x[1], bias, c.opt)
				},
				Flops: 2 * float64(c.x[0]*c.w[0]*oh*ow*c.w[1]*c.w[2]*c.w[3]),
			})
		}
	}
	for _, p := range []struct {
		x   []int
		opt backend.PoolOptions
	}{
		{[]int{1, 2, 6, 6}, backend.PoolOptions{Kernel: [2]int{2, 2}}},
		{[]int{2, 3, 7, 9}, backend.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}}},
		{[]int{2, 3, 7, 9}, backend.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true}},
		{[]int{1, 2, 8, 7}, backend.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}},
		{[]int{1, 2, 8, 7}, backend.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, CeilMode: true}},
		{[]int{1, 2, 8, 7}, backend.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, CountPad: true}},
		{[]int{1, 2, 8, 7}, backend.PoolOptions{Kernel: [2]int{3, 2}, Stride: [2]int{3, 2}, Pad: [4]int{1, 1, 1, 1}, CeilMode: true, CountPad: true}},
		{[]int{1, 1, 1, 1}, backend.PoolOptions{Kernel: [2]int{1, 1}}},
		{[]int{1, 3, 5, 5}, backend.PoolOptions{Kernel: [2]int{5, 5}}},
	} {
		for _, kind := range []backend.PoolKind{backend.MaxPool, backend.AvgPool} {
			opt := p.opt
			opt.Kind = kind
			n := opt.Normalized()
			kname := "max"
			tol := Tol{Exact: true}
			if kind == backend.AvgPool {
				kname = "avg"
				tol = Tol{}
			}
			cs = append(cs, Case{
				Op: "pool2d",
				Name: fmt.Sprintf("%s_%s_k%dx%d_s%dx%d_p%d.%d.%d.%d_ceil%v_countpad%v", kname, shapeName(p.x),
					n.Kernel[0], n.Kernel[1], n.Stride[0], n.Stride[1], n.Pad[0], n.Pad[1], n.Pad[2], n.Pad[3], n.CeilMode, n.CountPad),
				In: []Input{f32(p.x...)}, Tol: tol,
				Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Pool2D(x[0], opt) },
			})
		}
	}
	for _, mode := range []backend.ResizeMode{backend.Nearest, backend.Bilinear, backend.Bicubic} {
		for _, r := range []struct{ x, to []int }{
			{[]int{1, 2, 4, 4}, []int{8, 8}}, {[]int{1, 2, 5, 7}, []int{3, 11}}, {[]int{2, 1, 1, 1}, []int{3, 2}},
			{[]int{1, 3, 9, 6}, []int{4, 4}}, {[]int{1, 1, 6, 5}, []int{1, 1}},
		} {
			for _, ac := range []bool{false, true} {
				if mode == backend.Nearest && ac {
					continue // torch's nearest has no align_corners
				}
				tol := Tol{}
				if mode == backend.Nearest {
					tol = Tol{Exact: true}
				}
				names := [...]string{"nearest", "bilinear", "bicubic"}
				cs = append(cs, Case{
					Op:   "resize2d",
					Name: fmt.Sprintf("%s_%s_to_%s_align%v", names[mode], shapeName(r.x), shapeName(r.to), ac),
					In:   []Input{f32(r.x...)}, Tol: tol,
					Run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
						return b.Resize2D(x[0], r.to[0], r.to[1], mode, ac)
					},
				})
			}
		}
	}
	return cs
}
