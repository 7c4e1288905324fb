package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field: its number, wire type and raw value.
// The ONNX messages are hand-mapped onto these (no generated code): each
// message decoder switches on the field number and asks the field for the
// Go type the schema gives it, which checks the wire type.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64 // varint, fixed32 or fixed64 payload
	b   []byte // length-delimited payload (a view into the input)
}

// eachField decodes the fields of one message in order and calls fn for
// each. Groups (never used by ONNX) are skipped whole.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		case protowire.StartGroupType:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		default:
			return fmt.Errorf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (f field) wireErr(want string) error {
	return fmt.Errorf("field %d: wire type %d where the schema has %s", f.num, f.typ, want)
}

// bytes returns a length-delimited payload (string, bytes or message).
func (f field) bytes() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, f.wireErr("a length-delimited value")
	}
	return f.b, nil
}

func (f field) str() (string, error) {
	b, err := f.bytes()
	return string(b), err
}

// int64 decodes an int64/int32/enum varint (two's complement, not zigzag).
func (f field) int64() (int64, error) {
	if f.typ != protowire.VarintType {
		return 0, f.wireErr("a varint")
	}
	return int64(f.u), nil
}

// int32 decodes an int32/enum varint; negative int32 values are encoded as
// ten-byte sign-extended varints, so the 64-bit value must fit in 32 bits.
func (f field) int32() (int32, error) {
	v, err := f.int64()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("field %d: value %d overflows int32", f.num, v)
	}
	return int32(v), nil
}

func (f field) float32() (float32, error) {
	if f.typ != protowire.Fixed32Type {
		return 0, f.wireErr("a fixed32 float")
	}
	return math.Float32frombits(uint32(f.u)), nil
}

// Repeated scalar fields may be packed (one length-delimited run) or not
// (one field per element); proto parsers must accept both.

// appendVarints appends the varint elements of a repeated field (int64,
// int32, uint64 or enum: the caller reinterprets the 64 bits).
func appendVarints(dst []uint64, f field) ([]uint64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, f.u), nil
	case protowire.BytesType:
		for b := f.b; len(b) > 0; {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("field %d: packed varint: %w", f.num, protowire.ParseError(n))
			}
			dst = append(dst, v)
			b = b[n:]
		}
		return dst, nil
	}
	return nil, f.wireErr("varints")
}

func appendFixed32s(dst []uint32, f field) ([]uint32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, uint32(f.u)), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, fmt.Errorf("field %d: packed fixed32 run of %d bytes", f.num, len(f.b))
		}
		for b := f.b; len(b) > 0; b = b[4:] {
			v, _ := protowire.ConsumeFixed32(b)
			dst = append(dst, v)
		}
		return dst, nil
	}
	return nil, f.wireErr("fixed32 values")
}

func appendFixed64s(dst []uint64, f field) ([]uint64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, f.u), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return nil, fmt.Errorf("field %d: packed fixed64 run of %d bytes", f.num, len(f.b))
		}
		for b := f.b; len(b) > 0; b = b[8:] {
			v, _ := protowire.ConsumeFixed64(b)
			dst = append(dst, v)
		}
		return dst, nil
	}
	return nil, f.wireErr("fixed64 values")
}
