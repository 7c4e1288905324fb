package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// maxElements bounds the element count a tensor may declare (2^40, a
// terabyte of bytes): larger shapes are corrupt, and the bound keeps every
// size computation far from int64 overflow.
const maxElements = 1 << 40

// Tensor is a TensorProto with its data decoded: whichever of raw_data or
// the typed fields (float_data, int32_data, int64_data, ...) the writer
// used, Raw holds the elements row-major in the fixed-width little-endian
// layout raw_data specifies.
type Tensor struct {
	Name      string
	DataType  DataType
	Dims      []int // every dimension >= 0; empty for a scalar
	Raw       []byte
	Strings   [][]byte // the elements of a STRING tensor (Raw is nil)
	DocString string
}

// NumElements is the product of Dims (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Float32s decodes the elements of a floating-point or integer tensor to
// float32.
func (t *Tensor) Float32s() ([]float32, error) {
	d, err := t.DataType.DType()
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	out := make([]float32, t.NumElements())
	dtype.ToF32(d, t.Raw, out)
	return out, nil
}

// Int64s decodes the elements of an integer or BOOL tensor.
func (t *Tensor) Int64s() ([]int64, error) {
	out := make([]int64, t.NumElements())
	switch t.DataType {
	case Uint16:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint16(t.Raw[2*i:]))
		}
		return out, nil
	case Uint32:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint32(t.Raw[4*i:]))
		}
		return out, nil
	}
	d, err := t.DataType.DType()
	if err == nil {
		err = dtype.ToI64(d, t.Raw, out)
	}
	if err != nil {
		return nil, fmt.Errorf("tensor %q of type %v: not an integer tensor: %w", t.Name, t.DataType, err)
	}
	return out, nil
}

// ErrExternalData is returned (wrapped) for tensors whose bytes live in a
// separate file: the antelopev2 models are self-contained, and following
// file paths named inside a model is not something a reader of untrusted
// files should do implicitly.
var ErrExternalData = errors.New("external tensor data is not supported")

// decodeTensor parses a TensorProto and validates its data against its
// type and shape.
func decodeTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var (
		dims                      []uint64
		raw                       []byte
		hasRaw, segment           bool
		floats                    []uint32
		int32s, int64s, uint64s   []uint64
		doubles                   []uint64
		external                  []string
		location                  int64
		nInt32, nInt64, nUint64   int
		nFloat, nDouble, nStrings int
		stringsSeen               [][]byte
		dataType                  int32
	)
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			dims, err = appendVarints(dims, f)
		case 2:
			dataType, err = f.int32()
		case 3:
			segment = true
		case 4:
			floats, err = appendFixed32s(floats, f)
		case 5:
			int32s, err = appendVarints(int32s, f)
		case 6:
			var s []byte
			if s, err = f.bytes(); err == nil {
				stringsSeen = append(stringsSeen, s)
			}
		case 7:
			int64s, err = appendVarints(int64s, f)
		case 8:
			t.Name, err = f.str()
		case 9:
			raw, err = f.bytes()
			hasRaw = true
		case 10:
			doubles, err = appendFixed64s(doubles, f)
		case 11:
			uint64s, err = appendVarints(uint64s, f)
		case 12:
			t.DocString, err = f.str()
		case 13:
			var kv [2]string
			if kv, err = decodeStringPair(f); err == nil {
				external = append(external, kv[0]+"="+kv[1])
			}
		case 14:
			location, err = f.int64()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	t.DataType = DataType(dataType)
	nFloat, nInt32, nInt64, nDouble, nUint64, nStrings =
		len(floats), len(int32s), len(int64s), len(doubles), len(uint64s), len(stringsSeen)
	wrap := func(err error) error {
		if t.Name != "" {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return err
	}
	if location != 0 || len(external) > 0 {
		return nil, wrap(fmt.Errorf("%w (data_location %d, external_data [%s]); re-save the model with its weights embedded",
			ErrExternalData, location, strings.Join(external, ", ")))
	}
	if segment {
		return nil, wrap(errors.New("segmented tensors (TensorProto.segment) are not supported"))
	}
	if !t.DataType.Known() {
		return nil, wrap(fmt.Errorf("unknown data type %d", dataType))
	}
	n := int64(1)
	t.Dims = make([]int, len(dims))
	for i, d := range dims {
		if int64(d) < 0 || d > maxElements {
			return nil, wrap(fmt.Errorf("dimension %d is %d", i, int64(d)))
		}
		t.Dims[i] = int(d)
		if n != 0 && d > maxElements/uint64(n) {
			return nil, wrap(fmt.Errorf("shape %v has more than %d elements", t.Dims, int64(maxElements)))
		}
		n *= int64(d)
	}

	sources := 0
	for _, c := range []int{nFloat, nInt32, nInt64, nDouble, nUint64, nStrings} {
		if c > 0 {
			sources++
		}
	}
	if hasRaw && len(raw) > 0 {
		sources++
	}
	if sources > 1 {
		return nil, wrap(errors.New("data is stored in more than one of raw_data and the typed *_data fields"))
	}

	if t.DataType == String {
		if hasRaw && len(raw) > 0 {
			return nil, wrap(errors.New("STRING tensor with raw_data"))
		}
		if sources > 0 && nStrings == 0 {
			return nil, wrap(errors.New("STRING tensor with numeric data"))
		}
		if int64(nStrings) != n {
			return nil, wrap(fmt.Errorf("shape %v needs %d strings, string_data has %d", t.Dims, n, nStrings))
		}
		t.Strings = stringsSeen
		return t, nil
	}
	if nStrings > 0 {
		return nil, wrap(fmt.Errorf("%v tensor with string_data", t.DataType))
	}

	want := t.DataType.rawSize(n)
	// Elements per value of the typed fields: complex numbers are stored as
	// (real, imaginary) pairs of float_data / double_data.
	per := int64(1)
	if t.DataType == Complex64 || t.DataType == Complex128 {
		per = 2
	}
	count := func(name string, got int) error {
		if int64(got) != n*per {
			return fmt.Errorf("shape %v needs %d values, %s has %d", t.Dims, n*per, name, got)
		}
		return nil
	}
	typeErr := func(name string) error {
		return fmt.Errorf("%s cannot hold %v elements", name, t.DataType)
	}
	// out is allocated only after the value count matched the shape, so a
	// corrupt shape cannot force a large allocation.
	var out []byte
	switch {
	case sources == 0:
		if n != 0 {
			return nil, wrap(fmt.Errorf("shape %v has %d elements but the tensor holds no data", t.Dims, n))
		}
		t.Raw = []byte{}
		return t, nil
	case hasRaw && len(raw) > 0:
		if int64(len(raw)) != want {
			return nil, wrap(fmt.Errorf("raw_data has %d bytes, %v %v needs %d", len(raw), t.DataType, t.Dims, want))
		}
		t.Raw = raw
		return t, nil
	case nFloat > 0:
		if t.DataType != Float && t.DataType != Complex64 {
			return nil, wrap(typeErr("float_data"))
		}
		if err := count("float_data", nFloat); err != nil {
			return nil, wrap(err)
		}
		out = make([]byte, 0, want)
		for _, v := range floats {
			out = binary.LittleEndian.AppendUint32(out, v)
		}
	case nDouble > 0:
		if t.DataType != Double && t.DataType != Complex128 {
			return nil, wrap(typeErr("double_data"))
		}
		if err := count("double_data", nDouble); err != nil {
			return nil, wrap(err)
		}
		out = make([]byte, 0, want)
		for _, v := range doubles {
			out = binary.LittleEndian.AppendUint64(out, v)
		}
	case nInt64 > 0:
		if t.DataType != Int64 {
			return nil, wrap(typeErr("int64_data"))
		}
		if err := count("int64_data", nInt64); err != nil {
			return nil, wrap(err)
		}
		out = make([]byte, 0, want)
		for _, v := range int64s {
			out = binary.LittleEndian.AppendUint64(out, v)
		}
	case nUint64 > 0:
		if t.DataType != Uint64 && t.DataType != Uint32 {
			return nil, wrap(typeErr("uint64_data"))
		}
		if err := count("uint64_data", nUint64); err != nil {
			return nil, wrap(err)
		}
		out = make([]byte, 0, want)
		for i, v := range uint64s {
			if t.DataType == Uint32 {
				if v > math.MaxUint32 {
					return nil, wrap(fmt.Errorf("uint64_data[%d] = %d overflows UINT32", i, v))
				}
				out = binary.LittleEndian.AppendUint32(out, uint32(v))
			} else {
				out = binary.LittleEndian.AppendUint64(out, v)
			}
		}
	case nInt32 > 0:
		// int32_data carries every type of 32 bits or fewer as an int32
		// value; 16-bit floats as their bit patterns (onnx.proto).
		var lo, hi int64
		switch t.DataType {
		case Int32:
			lo, hi = math.MinInt32, math.MaxInt32
		case Int16:
			lo, hi = math.MinInt16, math.MaxInt16
		case Int8:
			lo, hi = math.MinInt8, math.MaxInt8
		case Uint16, Float16, BFloat16:
			lo, hi = 0, math.MaxUint16
		case Uint8, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ:
			lo, hi = 0, math.MaxUint8
		case Bool:
			lo, hi = 0, 1
		default:
			return nil, wrap(typeErr("int32_data"))
		}
		if err := count("int32_data", nInt32); err != nil {
			return nil, wrap(err)
		}
		out = make([]byte, 0, want)
		size := t.DataType.bits() / 8
		for i, u := range int32s {
			v := int64(u)
			if v < lo || v > hi {
				return nil, wrap(fmt.Errorf("int32_data[%d] = %d is out of range for %v", i, v, t.DataType))
			}
			switch size {
			case 1:
				out = append(out, byte(v))
			case 2:
				out = binary.LittleEndian.AppendUint16(out, uint16(v))
			case 4:
				out = binary.LittleEndian.AppendUint32(out, uint32(v))
			}
		}
	}
	if int64(len(out)) != want {
		return nil, wrap(fmt.Errorf("decoded %d bytes, %v %v needs %d", len(out), t.DataType, t.Dims, want))
	}
	t.Raw = out
	return t, nil
}

// decodeStringPair parses a StringStringEntryProto (key 1, value 2).
func decodeStringPair(f field) ([2]string, error) {
	var kv [2]string
	b, err := f.bytes()
	if err != nil {
		return kv, err
	}
	err = eachField(b, func(g field) error {
		var err error
		switch g.num {
		case 1:
			kv[0], err = g.str()
		case 2:
			kv[1], err = g.str()
		}
		return err
	})
	return kv, err
}
