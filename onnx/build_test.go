package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// msg builds a protobuf message field by field for tests.
type msg []byte

func (m msg) varint(num protowire.Number, v uint64) msg {
	m = protowire.AppendTag(m, num, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

func (m msg) i64(num protowire.Number, v int64) msg { return m.varint(num, uint64(v)) }

func (m msg) bytes(num protowire.Number, b []byte) msg {
	m = protowire.AppendTag(m, num, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) str(num protowire.Number, s string) msg { return m.bytes(num, []byte(s)) }

func (m msg) f32(num protowire.Number, v float32) msg {
	m = protowire.AppendTag(m, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, math.Float32bits(v))
}

func (m msg) f64(num protowire.Number, v float64) msg {
	m = protowire.AppendTag(m, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(m, math.Float64bits(v))
}

// packed appends a packed run of varints.
func (m msg) packed(num protowire.Number, vs ...int64) msg {
	var run []byte
	for _, v := range vs {
		run = protowire.AppendVarint(run, uint64(v))
	}
	return m.bytes(num, run)
}

func tensorMsg(name string, dt DataType, dims ...int64) msg {
	m := msg(nil).packed(1, dims...).i64(2, int64(dt))
	if name != "" {
		m = m.str(8, name)
	}
	return m
}

// tinyModel is a valid one-node model: y = Relu(x) with x declared [1, 'N'].
func tinyModel() msg {
	dim1 := msg(nil).i64(1, 1)
	dimN := msg(nil).str(2, "N")
	shape := msg(nil).bytes(1, dim1).bytes(1, dimN)
	ttype := msg(nil).i64(1, int64(Float)).bytes(2, shape)
	typ := msg(nil).bytes(1, ttype)
	in := msg(nil).str(1, "x").bytes(2, typ)
	out := msg(nil).str(1, "y").bytes(2, typ)
	node := msg(nil).str(1, "x").str(2, "y").str(3, "relu0").str(4, "Relu").
		bytes(5, msg(nil).str(1, "alpha").i64(20, int64(AttrFloat)).f32(2, 0.5))
	w := tensorMsg("w", Float, 2).f32(4, 1.5).f32(4, -2)
	graph := msg(nil).bytes(1, node).str(2, "g").bytes(5, w).bytes(11, in).bytes(12, out)
	opset := msg(nil).str(1, "").i64(2, 11)
	return msg(nil).i64(1, 6).str(2, "test").bytes(8, opset).bytes(7, graph)
}
