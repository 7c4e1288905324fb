package onnx

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
)

// FuzzParse feeds arbitrary bytes to the model reader: it must return an
// error or a model whose every tensor holds exactly the bytes its type and
// shape need, never panic or allocate beyond the input's size.
func FuzzParse(f *testing.F) {
	f.Add([]byte(tinyModel()))
	f.Add([]byte(msg(nil).i64(1, 6).bytes(7, msg(nil).bytes(5, tensorMsg("w", Int64, 2).packed(7, 1, -1)))))
	f.Add([]byte(msg(nil).i64(1, 6).bytes(7, msg(nil).bytes(5, tensorMsg("h", Float16, 1).packed(5, 0x3c00)))))
	f.Add([]byte(msg(nil).bytes(7, msg(nil).bytes(1, msg(nil).str(4, "If").
		bytes(5, msg(nil).str(1, "g").bytes(6, msg(nil).str(2, "sub")))))))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		checkGraph(t, m.Graph)
	})
}

func checkGraph(t *testing.T, g *Graph) {
	for _, in := range g.Initializers {
		checkTensor(t, in)
	}
	for _, n := range g.Nodes {
		for _, a := range n.Attributes {
			if a.T != nil {
				checkTensor(t, a.T)
			}
			for _, tt := range a.Tensors {
				checkTensor(t, tt)
			}
			if a.G != nil {
				checkGraph(t, a.G)
			}
			for _, sub := range a.Graphs {
				checkGraph(t, sub)
			}
		}
	}
}

func checkTensor(t *testing.T, x *Tensor) {
	n := int64(x.NumElements())
	if x.DataType == String {
		if int64(len(x.Strings)) != n {
			t.Fatalf("tensor %q: %d strings for shape %v", x.Name, len(x.Strings), x.Dims)
		}
		return
	}
	if want := x.DataType.rawSize(n); int64(len(x.Raw)) != want {
		t.Fatalf("tensor %q: %d bytes for %v %v, want %d", x.Name, len(x.Raw), x.DataType, x.Dims, want)
	}
	if _, err := x.DataType.DType(); err == nil && n < 1<<20 {
		x.Float32s()
		x.Int64s()
	}
}

// FuzzLoadRun loads arbitrary models on the CPU backend and runs them on
// small inputs shaped as declared: every failure must be an error, never a
// panic. Output sizes that come from operands are capped low so that the
// fuzzer cannot ask for gigabytes.
func FuzzLoadRun(f *testing.F) {
	for _, c := range opCases() {
		f.Add(c.full().encode())
	}
	old := maxOutputElements
	maxOutputElements = 1 << 16
	f.Cleanup(func() { maxOutputElements = old })
	b := cpu.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		p, err := Load(m, b)
		if err != nil {
			return
		}
		inputs := map[string]backend.Tensor{}
		for _, in := range p.Inputs() {
			shape := []int{2}
			if in.Type != nil && in.Type.HasShape {
				shape = shape[:0]
				for _, d := range in.Type.Shape {
					if d.Param != "" || d.Value < 0 {
						shape = append(shape, 2)
					} else {
						shape = append(shape, int(min(d.Value, 64)))
					}
				}
			}
			if len(shape) > 6 || backend.NumElements(shape) > 4096 {
				return
			}
			data := make([]float32, backend.NumElements(shape))
			for i := range data {
				data[i] = float32(i%7) - 3
			}
			inputs[in.Name] = b.FromF32(shape, data)
		}
		p.Run(inputs)
	})
}
