package onnx

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
)

// Graph builders for operator tests.

func node(op string, ins, outs []string, attrs ...msg) msg {
	m := msg(nil)
	for _, in := range ins {
		m = m.str(1, in)
	}
	for _, out := range outs {
		m = m.str(2, out)
	}
	m = m.str(3, op+"_0").str(4, op)
	for _, a := range attrs {
		m = m.bytes(5, a)
	}
	return m
}

func attrI(name string, v int64) msg { return msg(nil).str(1, name).i64(20, int64(AttrInt)).i64(3, v) }
func attrF(name string, v float32) msg {
	return msg(nil).str(1, name).i64(20, int64(AttrFloat)).f32(2, v)
}
func attrS(name, v string) msg { return msg(nil).str(1, name).i64(20, int64(AttrString)).str(4, v) }
func attrIs(name string, vs ...int64) msg {
	return msg(nil).str(1, name).i64(20, int64(AttrInts)).packed(8, vs...)
}

func initF(name string, dims []int64, vals ...float32) msg {
	m := tensorMsg(name, Float, dims...)
	for _, v := range vals {
		m = m.f32(4, v)
	}
	return m
}

func initI(name string, dims []int64, vals ...int64) msg {
	return tensorMsg(name, Int64, dims...).packed(7, vals...)
}

// vinfo declares a FLOAT value; a negative dim is symbolic; no dims leaves
// the shape undeclared.
func vinfo(name string, dims ...int64) msg {
	if len(dims) == 0 {
		tt := msg(nil).i64(1, int64(Float))
		return msg(nil).str(1, name).bytes(2, msg(nil).bytes(1, tt))
	}
	shape := msg(nil)
	for _, d := range dims {
		if d < 0 {
			shape = shape.bytes(1, msg(nil).str(2, "N"))
		} else {
			shape = shape.bytes(1, msg(nil).i64(1, d))
		}
	}
	tt := msg(nil).i64(1, int64(Float)).bytes(2, shape)
	return msg(nil).str(1, name).bytes(2, msg(nil).bytes(1, tt))
}

type graphSpec struct {
	opset           int64
	nodes, inits    []msg
	inputs, outputs []msg
}

func (s graphSpec) model(t *testing.T) *Model {
	t.Helper()
	m, err := Parse(s.encode())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s graphSpec) encode() []byte {
	g := msg(nil)
	for _, n := range s.nodes {
		g = g.bytes(1, n)
	}
	for _, in := range s.inits {
		g = g.bytes(5, in)
	}
	for _, in := range s.inputs {
		g = g.bytes(11, in)
	}
	for _, out := range s.outputs {
		g = g.bytes(12, out)
	}
	opset := s.opset
	if opset == 0 {
		opset = 13
	}
	return msg(nil).i64(1, 7).bytes(8, msg(nil).i64(2, opset)).bytes(7, g)
}

type feed struct {
	shape []int
	data  []float32
}

type opCase struct {
	name      string
	spec      graphSpec
	in        map[string]feed
	wantShape []int
	want      []float32
}

// full completes the case's graph with its input and output declarations.
func (c opCase) full() graphSpec {
	spec := c.spec
	spec.outputs = []msg{vinfo("y")}
	for name := range c.in {
		spec.inputs = append(spec.inputs, vinfo(name))
	}
	return spec
}

// opCases are graphs of one or a few operators on inputs small enough to
// compute the result by hand.
func opCases() []opCase {
	const big = math.MaxInt64
	return []opCase{
		{
			name: "Gemm alpha beta transB=0",
			spec: graphSpec{
				nodes: []msg{node("Gemm", []string{"a", "b", "c"}, []string{"y"}, attrF("alpha", 2), attrF("beta", 0.5))},
				inits: []msg{initF("b", []int64{2, 3}, 1, 0, 2, 0, 1, 3), initF("c", []int64{3}, 1, 1, 1)},
			},
			// [1 2]·B = [1 2 8]; ·2 + 0.5
			in: map[string]feed{"a": {[]int{1, 2}, []float32{1, 2}}}, wantShape: []int{1, 3}, want: []float32{2.5, 4.5, 16.5},
		},
		{
			name: "Gemm transB=1 fused",
			spec: graphSpec{
				nodes: []msg{node("Gemm", []string{"a", "b", "c"}, []string{"y"}, attrI("transB", 1))},
				inits: []msg{initF("b", []int64{2, 2}, 1, 2, 3, 4), initF("c", []int64{2}, 10, 20)},
			},
			in: map[string]feed{"a": {[]int{1, 2}, []float32{1, 1}}}, wantShape: []int{1, 2}, want: []float32{13, 27},
		},
		{
			name: "MatMul batched by a constant matrix",
			spec: graphSpec{
				nodes: []msg{node("MatMul", []string{"a", "b"}, []string{"y"})},
				inits: []msg{initF("b", []int64{2, 2}, 1, 2, 3, 4)},
			},
			in:        map[string]feed{"a": {[]int{2, 1, 2}, []float32{1, 0, 0, 1}}},
			wantShape: []int{2, 1, 2}, want: []float32{1, 2, 3, 4},
		},
		{
			name: "Softmax opset 11 flattens from the axis",
			spec: graphSpec{opset: 11, nodes: []msg{node("Softmax", []string{"x"}, []string{"y"}, attrI("axis", 1))}},
			in:   map[string]feed{"x": {[]int{1, 2, 2}, []float32{0, 0, 0, 0}}}, wantShape: []int{1, 2, 2},
			want: []float32{0.25, 0.25, 0.25, 0.25},
		},
		{
			name: "Softmax opset 13 over one axis",
			spec: graphSpec{nodes: []msg{node("Softmax", []string{"x"}, []string{"y"}, attrI("axis", 1))}},
			in:   map[string]feed{"x": {[]int{1, 2, 2}, []float32{0, 0, 0, 0}}}, wantShape: []int{1, 2, 2},
			want: []float32{0.5, 0.5, 0.5, 0.5},
		},
		{
			name: "Reshape copies 0 and infers -1",
			spec: graphSpec{
				nodes: []msg{node("Reshape", []string{"x", "s"}, []string{"y"})},
				inits: []msg{initI("s", []int64{2}, 0, -1)},
			},
			in:        map[string]feed{"x": {[]int{2, 1, 2}, []float32{1, 2, 3, 4}}},
			wantShape: []int{2, 2}, want: []float32{1, 2, 3, 4},
		},
		{
			name: "Slice backwards on the host",
			spec: graphSpec{
				nodes: []msg{node("Slice", []string{"d", "st", "en", "ax", "sp"}, []string{"y"})},
				inits: []msg{initF("d", []int64{10}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
					initI("st", []int64{1}, -2), initI("en", []int64{1}, 2), initI("ax", []int64{1}, 0), initI("sp", []int64{1}, -2)},
			},
			wantShape: []int{3}, want: []float32{8, 6, 4},
		},
		{
			name: "Slice on the device with an INT64_MAX end",
			spec: graphSpec{
				nodes: []msg{node("Slice", []string{"x", "st", "en", "ax", "sp"}, []string{"y"})},
				inits: []msg{initI("st", []int64{1}, 1), initI("en", []int64{1}, big), initI("ax", []int64{1}, -1), initI("sp", []int64{1}, 2)},
			},
			in:        map[string]feed{"x": {[]int{1, 6}, []float32{0, 1, 2, 3, 4, 5}}},
			wantShape: []int{1, 3}, want: []float32{1, 3, 5},
		},
		{
			name: "Shape arithmetic feeds Reshape (Shape, Gather, Unsqueeze, Concat, Cast)",
			spec: graphSpec{
				opset: 11,
				nodes: []msg{
					node("Shape", []string{"x"}, []string{"s"}),
					node("Gather", []string{"s", "i"}, []string{"d"}, attrI("axis", 0)),
					node("Unsqueeze", []string{"d"}, []string{"du"}, attrIs("axes", 0)),
					node("Concat", []string{"m1", "du"}, []string{"shape"}, attrI("axis", 0)),
					node("Cast", []string{"shape"}, []string{"shape64"}, attrI("to", int64(Int64))),
					node("Reshape", []string{"x", "shape64"}, []string{"y"}),
				},
				inits: []msg{initI("i", nil, 2), initI("m1", []int64{1}, -1)},
			},
			in:        map[string]feed{"x": {[]int{2, 2, 3}, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}},
			wantShape: []int{4, 3}, want: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		},
		{
			name: "Squeeze and Unsqueeze (opset 13 axes inputs)",
			spec: graphSpec{
				nodes: []msg{node("Unsqueeze", []string{"x", "a"}, []string{"u"}), node("Squeeze", []string{"u", "b"}, []string{"y"})},
				inits: []msg{initI("a", []int64{2}, 0, -1), initI("b", []int64{1}, 0)},
			},
			in:        map[string]feed{"x": {[]int{2}, []float32{1, 2}}},
			wantShape: []int{2, 1}, want: []float32{1, 2},
		},
		{
			name: "Resize nearest asymmetric floor to sizes",
			spec: graphSpec{
				opset: 11,
				nodes: []msg{node("Resize", []string{"x", "roi", "sc", "sz"}, []string{"y"},
					attrS("mode", "nearest"), attrS("coordinate_transformation_mode", "asymmetric"), attrS("nearest_mode", "floor"))},
				inits: []msg{initF("roi", []int64{0}), initF("sc", []int64{0}), initI("sz", []int64{4}, 1, 1, 2, 3)},
			},
			in:        map[string]feed{"x": {[]int{1, 1, 1, 2}, []float32{1, 2}}},
			wantShape: []int{1, 1, 2, 3}, want: []float32{1, 1, 2, 1, 1, 2},
		},
		{
			name: "Upsample nearest by scales",
			spec: graphSpec{
				opset: 9,
				nodes: []msg{node("Upsample", []string{"x", "sc"}, []string{"y"}, attrS("mode", "nearest"))},
				inits: []msg{initF("sc", []int64{4}, 1, 1, 2, 2)},
			},
			in:        map[string]feed{"x": {[]int{1, 1, 1, 2}, []float32{1, 2}}},
			wantShape: []int{1, 1, 2, 4}, want: []float32{1, 1, 2, 2, 1, 1, 2, 2},
		},
		{
			name: "PRelu per channel",
			spec: graphSpec{
				nodes: []msg{node("PRelu", []string{"x", "s"}, []string{"y"})},
				inits: []msg{initF("s", []int64{2, 1, 1}, 0.5, 2)},
			},
			in:        map[string]feed{"x": {[]int{1, 2, 1, 2}, []float32{-2, 3, -1, 4}}},
			wantShape: []int{1, 2, 1, 2}, want: []float32{-1, 3, -2, 4},
		},
		{
			name: "LeakyRelu",
			spec: graphSpec{nodes: []msg{node("LeakyRelu", []string{"x"}, []string{"y"}, attrF("alpha", 0.25))}},
			in:   map[string]feed{"x": {[]int{2}, []float32{-4, 4}}}, wantShape: []int{2}, want: []float32{-1, 4},
		},
		{
			name: "BatchNormalization",
			spec: graphSpec{
				nodes: []msg{node("BatchNormalization", []string{"x", "g", "b", "m", "v"}, []string{"y"}, attrF("epsilon", 1))},
				inits: []msg{initF("g", []int64{2}, 2, 1), initF("b", []int64{2}, 0, 1), initF("m", []int64{2}, 1, 0), initF("v", []int64{2}, 3, 0)},
			},
			// (5-1)/2·2+0 = 4; (2-0)/1·1+1 = 3
			in: map[string]feed{"x": {[]int{1, 2}, []float32{5, 2}}}, wantShape: []int{1, 2}, want: []float32{4, 3},
		},
		{
			name: "Conv SAME_UPPER stride 2",
			spec: graphSpec{
				nodes: []msg{node("Conv", []string{"x", "w"}, []string{"y"}, attrS("auto_pad", "SAME_UPPER"), attrIs("strides", 2, 2))},
				inits: []msg{initF("w", []int64{1, 1, 2, 2}, 1, 1, 1, 1)},
			},
			// 3×3 → 2×2, padding one row/column at the end
			in:        map[string]feed{"x": {[]int{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}},
			wantShape: []int{1, 1, 2, 2}, want: []float32{12, 9, 15, 9},
		},
		{
			name: "AveragePool ceil mode without padding counted",
			spec: graphSpec{nodes: []msg{node("AveragePool", []string{"x"}, []string{"y"},
				attrIs("kernel_shape", 2, 2), attrIs("strides", 2, 2), attrI("ceil_mode", 1))}},
			in:        map[string]feed{"x": {[]int{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}},
			wantShape: []int{1, 1, 2, 2}, want: []float32{3, 4.5, 7.5, 9},
		},
		{
			name: "MaxPool strides default to 1",
			spec: graphSpec{nodes: []msg{node("MaxPool", []string{"x"}, []string{"y"}, attrIs("kernel_shape", 2, 2))}},
			in:   map[string]feed{"x": {[]int{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}}, wantShape: []int{1, 1, 2, 2},
			want: []float32{5, 6, 8, 9},
		},
		{
			name: "GlobalAveragePool",
			spec: graphSpec{nodes: []msg{node("GlobalAveragePool", []string{"x"}, []string{"y"})}},
			in:   map[string]feed{"x": {[]int{1, 2, 1, 2}, []float32{1, 3, 5, 7}}}, wantShape: []int{1, 2, 1, 1},
			want: []float32{2, 6},
		},
		{
			name: "Flatten, Transpose and Concat",
			spec: graphSpec{nodes: []msg{
				node("Transpose", []string{"x"}, []string{"t"}),
				node("Concat", []string{"t", "t"}, []string{"c"}, attrI("axis", -1)),
				node("Flatten", []string{"c"}, []string{"y"}, attrI("axis", 0)),
			}},
			in:        map[string]feed{"x": {[]int{2, 1}, []float32{1, 2}}},
			wantShape: []int{1, 4}, want: []float32{1, 2, 1, 2},
		},
		{
			name: "Clip with bound inputs, Sub and Div",
			spec: graphSpec{
				nodes: []msg{node("Clip", []string{"x", "lo", "hi"}, []string{"c"}), node("Sub", []string{"c", "lo"}, []string{"s"}),
					node("Div", []string{"s", "two"}, []string{"y"})},
				inits: []msg{initF("lo", nil, -1), initF("hi", nil, 1), initF("two", nil, 2)},
			},
			in:        map[string]feed{"x": {[]int{3}, []float32{-5, 0, 5}}},
			wantShape: []int{3}, want: []float32{0, 0.5, 1},
		},
		{
			name: "Pad constant",
			spec: graphSpec{
				nodes: []msg{node("Pad", []string{"x", "p", "v"}, []string{"y"})},
				inits: []msg{initI("p", []int64{4}, 0, 1, 0, 2), initF("v", nil, 7)},
			},
			in:        map[string]feed{"x": {[]int{1, 1}, []float32{3}}},
			wantShape: []int{1, 4}, want: []float32{7, 3, 7, 7},
		},
		{
			name: "Constant and Sigmoid",
			spec: graphSpec{nodes: []msg{
				node("Constant", nil, []string{"k"}, msg(nil).str(1, "value").i64(20, int64(AttrTensor)).bytes(5, initF("", []int64{1}, 0))),
				node("Add", []string{"x", "k"}, []string{"a"}), node("Sigmoid", []string{"a"}, []string{"y"}),
			}},
			in: map[string]feed{"x": {[]int{1}, []float32{0}}}, wantShape: []int{1}, want: []float32{0.5},
		},
	}
}

// TestOps checks each operator against its hand-computed result.
func TestOps(t *testing.T) {
	b := cpu.New()
	for _, tt := range opCases() {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(tt.full().model(t), b)
			if err != nil {
				t.Fatal(err)
			}
			inputs := map[string]backend.Tensor{}
			for name, f := range tt.in {
				inputs[name] = b.FromF32(f.shape, f.data)
			}
			out, err := p.Run(inputs)
			if err != nil {
				t.Fatal(err)
			}
			y := out["y"]
			got, _ := b.ReadF32(y)
			if !reflect.DeepEqual(y.Shape(), tt.wantShape) {
				t.Fatalf("shape %v, want %v", y.Shape(), tt.wantShape)
			}
			for i := range got {
				if math.Abs(float64(got[i]-tt.want[i])) > 1e-6 {
					t.Fatalf("y = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestLoadErrors: problems are reported when the graph is loaded, every
// unsupported operator by name.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		spec graphSpec
		want []string
	}{
		{"unsupported operators", graphSpec{nodes: []msg{
			node("NonMaxSuppression", []string{"x"}, []string{"a"}), node("Relu", []string{"a"}, []string{"b"}),
			node("Einsum", []string{"b"}, []string{"y"}), node("Einsum", []string{"y"}, []string{"z"}),
		}}, []string{"unsupported operators: Einsum (2 nodes", "NonMaxSuppression (1 nodes, e.g. \"NonMaxSuppression_0\")"}},
		{"custom domain", graphSpec{nodes: []msg{node("Relu", []string{"x"}, []string{"y"}).str(7, "com.microsoft")}},
			[]string{"com.microsoft.Relu"}},
		{"undefined value", graphSpec{nodes: []msg{node("Relu", []string{"nowhere"}, []string{"y"})}},
			[]string{`reads "nowhere" before anything defines it`}},
		{"unsupported resize", graphSpec{opset: 11, nodes: []msg{node("Resize", []string{"x"}, []string{"y"},
			attrS("mode", "nearest"), attrS("coordinate_transformation_mode", "tf_crop_and_resize"))}},
			[]string{`mode "nearest" with coordinate_transformation_mode "tf_crop_and_resize"`}},
		{"3-D conv", graphSpec{nodes: []msg{node("Conv", []string{"x", "w"}, []string{"y"})},
			inits: []msg{initF("w", []int64{1, 1, 1, 1, 1}, 1)}}, []string{"only 2-D convolutions"}},
		{"computed BatchNorm parameters", graphSpec{nodes: []msg{node("BatchNormalization", []string{"x", "x", "x", "x", "x"}, []string{"y"})}},
			[]string{"must be a constant vector"}},
	}
	b := cpu.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.inputs = []msg{vinfo("x", -1)}
			spec.outputs = []msg{vinfo("y")}
			_, err := Load(spec.model(t), b)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	b := cpu.New()
	spec := graphSpec{
		nodes:   []msg{node("Reshape", []string{"x", "s"}, []string{"y"})},
		inits:   []msg{initI("s", []int64{1}, 5)},
		inputs:  []msg{vinfo("x", -1, 4)},
		outputs: []msg{vinfo("y")},
	}
	p, err := Load(spec.model(t), b)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		in   map[string]backend.Tensor
		want string
	}{
		{"missing input", map[string]backend.Tensor{}, `input "x" is not given`},
		{"unknown input", map[string]backend.Tensor{"x": b.Zeros([]int{1, 4}), "q": b.Zeros([]int{1})}, `no input "q"`},
		{"fixed dim", map[string]backend.Tensor{"x": b.Zeros([]int{2, 3})}, "dimension 1 must be 4"},
		{"rank", map[string]backend.Tensor{"x": b.Zeros([]int{4})}, "rank 1"},
		{"bad reshape", map[string]backend.Tensor{"x": b.Zeros([]int{1, 4})}, `node Reshape "Reshape_0": cannot reshape [1 4]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Run(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
