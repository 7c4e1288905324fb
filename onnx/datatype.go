package onnx

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// DataType is TensorProto.DataType: the element type of a tensor, numbered
// as in onnx.proto.
type DataType int32

const (
	Undefined      DataType = 0
	Float          DataType = 1
	Uint8          DataType = 2
	Int8           DataType = 3
	Uint16         DataType = 4
	Int16          DataType = 5
	Int32          DataType = 6
	Int64          DataType = 7
	String         DataType = 8
	Bool           DataType = 9
	Float16        DataType = 10
	Double         DataType = 11
	Uint32         DataType = 12
	Uint64         DataType = 13
	Complex64      DataType = 14
	Complex128     DataType = 15
	BFloat16       DataType = 16
	Float8E4M3FN   DataType = 17
	Float8E4M3FNUZ DataType = 18
	Float8E5M2     DataType = 19
	Float8E5M2FNUZ DataType = 20
	Uint4          DataType = 21
	Int4           DataType = 22
	Float4E2M1     DataType = 23
)

var dataTypeNames = [...]string{
	"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
	"STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
	"COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
	"FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
}

func (t DataType) String() string {
	if t >= 0 && int(t) < len(dataTypeNames) {
		return dataTypeNames[t]
	}
	return fmt.Sprintf("DataType(%d)", int32(t))
}

// Known reports whether t is one of the types onnx.proto defines (besides
// UNDEFINED).
func (t DataType) Known() bool { return t > Undefined && int(t) < len(dataTypeNames) }

// bits is the storage width of one element in raw_data; 0 for STRING and
// unknown types.
func (t DataType) bits() int64 {
	switch t {
	case Uint4, Int4, Float4E2M1:
		return 4
	case Uint8, Int8, Bool, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ:
		return 8
	case Uint16, Int16, Float16, BFloat16:
		return 16
	case Float, Int32, Uint32:
		return 32
	case Int64, Double, Uint64, Complex64:
		return 64
	case Complex128:
		return 128
	}
	return 0
}

// rawSize is the byte length of n elements in raw_data: 4-bit types pack
// two elements per byte (the first in the low nibble), rounded up.
func (t DataType) rawSize(n int64) int64 { return (n*t.bits() + 7) / 8 }

// DType maps t to the repository's element type, where one exists.
func (t DataType) DType() (dtype.DType, error) {
	switch t {
	case Float:
		return dtype.F32, nil
	case Double:
		return dtype.F64, nil
	case Float16:
		return dtype.F16, nil
	case BFloat16:
		return dtype.BF16, nil
	case Float8E4M3FN:
		return dtype.F8E4M3, nil
	case Float8E5M2:
		return dtype.F8E5M2, nil
	case Int64:
		return dtype.I64, nil
	case Int32:
		return dtype.I32, nil
	case Int16:
		return dtype.I16, nil
	case Int8:
		return dtype.I8, nil
	case Uint8:
		return dtype.U8, nil
	case Bool:
		return dtype.Bool, nil
	}
	return dtype.Invalid, fmt.Errorf("ONNX data type %v has no counterpart element type", t)
}
