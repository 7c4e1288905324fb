package onnx

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
	"github.com/fluxpulid/fluxpulid/safetensors"
)

func opCounts(g *Graph) map[string]int {
	ops := map[string]int{}
	for _, n := range g.Nodes {
		ops[n.OpType]++
	}
	return ops
}

func initializer(g *Graph, name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func TestTinyModel(t *testing.T) {
	m, err := Parse(tinyModel())
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion != 6 || m.ProducerName != "test" || m.OpsetVersion() != 11 {
		t.Errorf("model header: ir %d producer %q opset %d", m.IRVersion, m.ProducerName, m.OpsetVersion())
	}
	g := m.Graph
	if len(g.Nodes) != 1 || g.Nodes[0].OpType != "Relu" || g.Nodes[0].Name != "relu0" {
		t.Fatalf("nodes %+v", g.Nodes)
	}
	if a := g.Nodes[0].Attr("alpha"); a == nil || a.Type != AttrFloat || a.F != 0.5 {
		t.Errorf("alpha = %+v", a)
	}
	w := initializer(g, "w")
	if w == nil {
		t.Fatal("no initializer w")
	}
	if v, err := w.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1.5, -2}) {
		t.Errorf("w = %v, %v", v, err)
	}
	want := []Dim{{Value: 1}, {Value: -1, Param: "N"}}
	if got := g.Inputs[0].Type.Shape; !reflect.DeepEqual(got, want) {
		t.Errorf("input shape %+v, want %+v", got, want)
	}
}

// TestTensorData checks every way a TensorProto can carry its elements
// against the little-endian bytes raw_data would hold.
func TestTensorData(t *testing.T) {
	le16 := func(vs ...uint16) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		return b
	}
	le32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	le64 := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		return b
	}
	neg := func(v int64) uint64 { return uint64(v) }
	tests := []struct {
		name string
		m    msg
		want []byte
	}{
		{"raw float", tensorMsg("t", Float, 2).bytes(9, le32(math.Float32bits(1), math.Float32bits(-3))),
			le32(math.Float32bits(1), math.Float32bits(-3))},
		{"float_data unpacked", tensorMsg("t", Float, 2).f32(4, 1).f32(4, -3),
			le32(math.Float32bits(1), math.Float32bits(-3))},
		{"float_data packed", tensorMsg("t", Float, 2).bytes(4, le32(math.Float32bits(1), math.Float32bits(-3))),
			le32(math.Float32bits(1), math.Float32bits(-3))},
		{"int64_data packed", tensorMsg("t", Int64, 3).packed(7, -1, 0, 1<<40),
			le64(neg(-1), 0, 1<<40)},
		{"int64_data unpacked", tensorMsg("t", Int64, 2).i64(7, -5).i64(7, 7), le64(neg(-5), 7)},
		{"int32_data int32", tensorMsg("t", Int32, 2).packed(5, -2, 3), le32(uint32(0xfffffffe), 3)},
		{"int32_data int8", tensorMsg("t", Int8, 2).packed(5, -128, 127), []byte{0x80, 0x7f}},
		{"int32_data uint8", tensorMsg("t", Uint8, 2).packed(5, 0, 255), []byte{0, 255}},
		{"int32_data bool", tensorMsg("t", Bool, 2).packed(5, 1, 0), []byte{1, 0}},
		{"int32_data int16", tensorMsg("t", Int16, 1).packed(5, -300), le16(uint16(0xfed4))},
		{"int32_data float16", tensorMsg("t", Float16, 2).packed(5, 0x3c00, 0xc000), le16(0x3c00, 0xc000)},
		{"int32_data bfloat16", tensorMsg("t", BFloat16, 1).packed(5, 0x3f80), le16(0x3f80)},
		{"double_data", tensorMsg("t", Double, 1).f64(10, 2.5), le64(math.Float64bits(2.5))},
		{"uint64_data uint32", tensorMsg("t", Uint32, 1).packed(11, 4000000000), le32(4000000000)},
		{"uint64_data uint64", tensorMsg("t", Uint64, 1).packed(11, -1), le64(math.MaxUint64)},
		{"complex64 float_data", tensorMsg("t", Complex64, 1).f32(4, 1).f32(4, 2),
			le32(math.Float32bits(1), math.Float32bits(2))},
		{"scalar", tensorMsg("t", Float).f32(4, 7), le32(math.Float32bits(7))},
		{"empty", tensorMsg("t", Float, 0, 3), []byte{}},
		{"raw int4 packs two per byte", tensorMsg("t", Int4, 3).bytes(9, []byte{0x21, 0x03}), []byte{0x21, 0x03}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeTensor(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Raw, tt.want) {
				t.Errorf("raw = %x, want %x", got.Raw, tt.want)
			}
		})
	}

	s, err := decodeTensor(tensorMsg("s", String, 2).str(6, "ab").str(6, ""))
	if err != nil || len(s.Strings) != 2 || string(s.Strings[0]) != "ab" {
		t.Errorf("string tensor %+v, %v", s, err)
	}
	i8, _ := decodeTensor(tensorMsg("t", Int8, 2).packed(5, -3, 4))
	if v, err := i8.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{-3, 4}) {
		t.Errorf("Int64s = %v, %v", v, err)
	}
	h, _ := decodeTensor(tensorMsg("t", Float16, 1).packed(5, 0x3800))
	if v, err := h.Float32s(); err != nil || v[0] != 0.5 {
		t.Errorf("Float32s of a FLOAT16 tensor = %v, %v", v, err)
	}
}

// TestInvalid feeds malformed models and tensors; each must give an error
// that names the problem.
func TestInvalid(t *testing.T) {
	graphWith := func(parts ...msg) msg {
		var g msg
		for _, p := range parts {
			g = append(g, p...)
		}
		return msg(nil).i64(1, 6).bytes(7, g)
	}
	init := func(t msg) msg { return msg(nil).bytes(5, t) }
	node := func(n msg) msg { return msg(nil).bytes(1, n) }
	ext := msg(nil).str(1, "location").str(2, "weights.bin")
	nested := msg(nil)
	for range maxGraphDepth + 2 {
		attr := msg(nil).str(1, "body").i64(20, int64(AttrGraph)).bytes(6, nested)
		nested = msg(nil).bytes(1, msg(nil).str(4, "If").bytes(5, attr))
	}
	full := tinyModel()
	badShape := msg(nil).bytes(1, msg(nil).i64(1, -4))
	badInput := msg(nil).str(1, "x").bytes(2, msg(nil).bytes(1, msg(nil).i64(1, 1).bytes(2, badShape)))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"no graph", msg(nil).i64(1, 6), "no graph"},
		{"truncated", full[:len(full)-3], "ModelProto: field 7: unexpected EOF"},
		{"bad tag", []byte{0x00}, "field tag"},
		{"external data", graphWith(init(tensorMsg("w", Float, 4).bytes(13, ext).i64(14, 1))),
			"external tensor data is not supported"},
		{"raw size", graphWith(init(tensorMsg("w", Float, 3).bytes(9, make([]byte, 8)))),
			"raw_data has 8 bytes, FLOAT [3] needs 12"},
		{"typed count", graphWith(init(tensorMsg("w", Float, 3).f32(4, 1))), "needs 3 values, float_data has 1"},
		{"typed wrong field", graphWith(init(tensorMsg("w", Int64, 1).f32(4, 1))), "float_data cannot hold INT64"},
		{"two sources", graphWith(init(tensorMsg("w", Float, 1).f32(4, 1).bytes(9, make([]byte, 4)))),
			"more than one"},
		{"no data", graphWith(init(tensorMsg("w", Float, 2))), "holds no data"},
		{"negative dim", graphWith(init(tensorMsg("w", Float, -1))), "dimension 0 is -1"},
		{"huge shape", graphWith(init(tensorMsg("w", Float, 1<<30, 1<<30, 1<<30))), "more than"},
		{"unknown type", graphWith(init(tensorMsg("w", 99, 1).bytes(9, []byte{1}))), "unknown data type 99"},
		{"int8 range", graphWith(init(tensorMsg("w", Int8, 1).packed(5, 300))), "out of range for INT8"},
		{"segment", graphWith(init(tensorMsg("w", Float, 0).bytes(3, msg(nil).i64(1, 0)))), "segment"},
		{"duplicate initializer", graphWith(init(tensorMsg("w", Float, 0)), init(tensorMsg("w", Float, 0))),
			`initializer "w" is defined twice`},
		{"unnamed initializer", graphWith(init(tensorMsg("", Float, 0))), "has no name"},
		{"attribute type mismatch", graphWith(node(msg(nil).str(4, "Relu").
			bytes(5, msg(nil).str(1, "a").i64(20, int64(AttrInts)).f32(2, 1)))), "INTS attribute holds a FLOAT value"},
		{"attribute without name", graphWith(node(msg(nil).str(4, "Relu").
			bytes(5, msg(nil).i64(20, int64(AttrInt)).i64(3, 1)))), "without a name"},
		{"duplicate attribute", graphWith(node(msg(nil).str(4, "Relu").
			bytes(5, msg(nil).str(1, "a").i64(3, 1)).bytes(5, msg(nil).str(1, "a").i64(3, 2)))), `"a" given twice`},
		{"tensor attribute without value", graphWith(node(msg(nil).str(4, "Constant").
			bytes(5, msg(nil).str(1, "value").i64(20, int64(AttrTensor))))), "without its value"},
		{"node without op", graphWith(node(msg(nil).str(3, "n"))), "no op_type"},
		{"wire type", graphWith(msg(nil).i64(2, 5)), "wire type"},
		{"deep nesting", graphWith(nested), "nested more than"},
		{"negative declared dim", graphWith(msg(nil).bytes(11, badInput)), "dimension 0 is -4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	_, err := Parse(graphWith(init(tensorMsg("w", Float, 4).bytes(13, ext))))
	if !errors.Is(err, ErrExternalData) {
		t.Errorf("external data error %v is not ErrExternalData", err)
	}
}

// TestArcfaceONNX reads the golden iresnet export and checks its graph and
// initializers against the torch weights it was exported from
// (arcface/MANIFEST.md): the pre-activation BatchNorms, fc and features
// keep their torch names and values; PRelu slopes are the torch (C,)
// weights reshaped to (C,1,1); every conv has its following BatchNorm
// folded in: W' = W * g/sqrt(v+eps) per output channel, b' = b - m*g/sqrt(v+eps).
func TestArcfaceONNX(t *testing.T) {
	dir := testenv.Golden(t, "arcface")
	m, err := ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Open(filepath.Join(dir, "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := m.Graph
	if m.OpsetVersion() != 11 {
		t.Errorf("opset %d, want 11", m.OpsetVersion())
	}
	wantOps := map[string]int{"Add": 8, "BatchNormalization": 10, "Conv": 21, "Flatten": 1, "Gemm": 1, "PRelu": 9}
	if got := opCounts(g); !reflect.DeepEqual(got, wantOps) {
		t.Errorf("ops %v, want %v", got, wantOps)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "data" {
		t.Fatalf("inputs %+v", g.Inputs)
	}
	wantIn := []Dim{{Value: -1, Param: "None"}, {Value: 3}, {Value: 112}, {Value: 112}}
	if got := g.Inputs[0].Type.Shape; !reflect.DeepEqual(got, wantIn) || g.Inputs[0].Type.ElemType != Float {
		t.Errorf("input type %+v", g.Inputs[0].Type)
	}
	if len(g.Outputs) != 1 || !reflect.DeepEqual(g.Outputs[0].Type.Shape, []Dim{{Value: 1}, {Value: 64}}) {
		t.Errorf("outputs %+v", g.Outputs)
	}

	f32 := func(name string) []float32 {
		v, _, err := st.F32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	exact := 0
	for _, in := range g.Initializers {
		if _, ok := st.Info(in.Name); !ok {
			continue
		}
		want := f32(in.Name)
		got, err := in.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("initializer %q differs from the torch tensor", in.Name)
		}
		exact++
	}
	// 10 BatchNorms x 4 tensors + fc weight and bias.
	if exact != 42 {
		t.Errorf("%d initializers carry torch names, want 42", exact)
	}

	folded := 0
	for _, n := range g.Nodes {
		switch n.OpType {
		case "PRelu":
			// "/layer1/layer1.0/prelu/PRelu" -> "layer1.0.prelu.weight"; the stem's "/prelu/PRelu" -> "prelu.weight"
			key := torchPath(n.Name) + ".weight"
			slope := initializer(g, n.Inputs[1])
			got, _ := slope.Float32s()
			if !reflect.DeepEqual(slope.Dims, []int{len(got), 1, 1}) || !reflect.DeepEqual(got, f32(key)) {
				t.Errorf("PRelu %s slope %v %v differs from %s", n.Name, slope.Name, slope.Dims, key)
			}
		case "Conv":
			conv := torchPath(n.Name)
			bn := foldedBN(conv)
			w, _ := initializer(g, n.Inputs[1]).Float32s()
			b, _ := initializer(g, n.Inputs[2]).Float32s()
			tw, gamma, beta, mean, vr := f32(conv+".weight"), f32(bn+".weight"), f32(bn+".bias"), f32(bn+".running_mean"), f32(bn+".running_var")
			per := len(tw) / len(gamma)
			for o := range gamma {
				s := float64(gamma[o]) / math.Sqrt(float64(vr[o])+1e-5)
				for i := range per {
					want := float64(tw[o*per+i]) * s
					if d := math.Abs(float64(w[o*per+i]) - want); d > 1e-6+1e-5*math.Abs(want) {
						t.Fatalf("%s weight[%d] = %g, folded %g", n.Name, o*per+i, w[o*per+i], want)
					}
				}
				want := float64(beta[o]) - float64(mean[o])*s
				if d := math.Abs(float64(b[o]) - want); d > 1e-6+1e-5*math.Abs(want) {
					t.Fatalf("%s bias[%d] = %g, folded %g", n.Name, o, b[o], want)
				}
			}
			folded++
		}
	}
	if folded != 21 {
		t.Errorf("checked %d folded convs, want 21", folded)
	}
}

// torchPath turns an exporter node name ("/layer1/layer1.0/conv1/Conv")
// into the torch module path ("layer1.0.conv1"): torch names each scope
// after the module's attribute, prefixed by its container's
// ("layer1.0" inside "layer1"), so such a scope replaces its parent.
func torchPath(node string) string {
	scopes := strings.Split(strings.Trim(node, "/"), "/")
	var path []string
	for _, s := range scopes[:len(scopes)-1] { // the last element is the op
		if n := len(path); n > 0 && strings.HasPrefix(s, path[n-1]+".") {
			path[n-1] = s
		} else {
			path = append(path, s)
		}
	}
	return strings.Join(path, ".")
}

// foldedBN names the BatchNorm folded into a conv of arcface_torch's
// IResNet: the stem conv1 -> bn1, a block's conv1 -> bn2 and conv2 -> bn3,
// downsample.0 -> downsample.1.
func foldedBN(conv string) string {
	switch {
	case conv == "conv1":
		return "bn1"
	case strings.HasSuffix(conv, ".conv1"):
		return strings.TrimSuffix(conv, "conv1") + "bn2"
	case strings.HasSuffix(conv, ".conv2"):
		return strings.TrimSuffix(conv, "conv2") + "bn3"
	case strings.HasSuffix(conv, ".downsample.0"):
		return strings.TrimSuffix(conv, "0") + "1"
	}
	return "?" + conv
}

// TestScrfdONNX checks the SCRFD-shaped graph against the description the
// golden generator recorded in the case metadata (config.onnx).
func TestScrfdONNX(t *testing.T) {
	dir := testenv.Golden(t, "scrfd")
	m, err := ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Open(filepath.Join(dir, "case_forward_160x160.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var cfg struct {
		ONNX struct {
			Ops          map[string]int  `json:"ops"`
			Input        json.RawMessage `json:"input"`
			Outputs      [][]any         `json:"outputs"`
			Opset        int64           `json:"opset"`
			Nodes        int             `json:"n_nodes"`
			Initializers int             `json:"n_initializers"`
			Producer     string          `json:"producer"`
		} `json:"onnx"`
	}
	if err := json.Unmarshal([]byte(st.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	want := cfg.ONNX
	g := m.Graph
	if got := opCounts(g); !reflect.DeepEqual(got, want.Ops) {
		t.Errorf("ops %v, want %v", got, want.Ops)
	}
	if len(g.Nodes) != want.Nodes || len(g.Initializers) != want.Initializers || m.OpsetVersion() != want.Opset {
		t.Errorf("%d nodes, %d initializers, opset %d; want %d, %d, %d",
			len(g.Nodes), len(g.Initializers), m.OpsetVersion(), want.Nodes, want.Initializers, want.Opset)
	}
	if got := m.ProducerName + " " + m.ProducerVersion; got != want.Producer {
		t.Errorf("producer %q, want %q", got, want.Producer)
	}
	declared := func(v *ValueInfo) []any {
		var dims []any
		for _, d := range v.Type.Shape {
			if d.Param != "" {
				dims = append(dims, d.Param)
			} else {
				dims = append(dims, float64(d.Value))
			}
		}
		return []any{v.Name, dims}
	}
	var wantIn []any
	json.Unmarshal(want.Input, &wantIn)
	if got := declared(g.Inputs[0]); len(g.Inputs) != 1 || !reflect.DeepEqual(got, wantIn) {
		t.Errorf("input %v, want %v", got, wantIn)
	}
	if len(g.Outputs) != len(want.Outputs) {
		t.Fatalf("%d outputs, want %d", len(g.Outputs), len(want.Outputs))
	}
	for i, o := range g.Outputs {
		if got := declared(o); !reflect.DeepEqual(got, want.Outputs[i]) {
			t.Errorf("output %d = %v, want %v", i, got, want.Outputs[i])
		}
	}
	// The Resize nodes carry the opset-11 nearest/asymmetric/floor attributes.
	for _, n := range g.Nodes {
		if n.OpType != "Resize" {
			continue
		}
		for k, v := range map[string]string{"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"} {
			if a := n.Attr(k); a == nil || a.Type != AttrString || string(a.S) != v {
				t.Errorf("%s: attribute %s = %+v, want %q", n.Name, k, a, v)
			}
		}
	}
}
