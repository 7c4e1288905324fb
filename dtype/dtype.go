// Package dtype names the element types of tensors and converts between
// their storage encodings and float32.
package dtype

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is an element type. The zero value is invalid.
type DType uint8

const (
	Invalid DType = iota
	F64
	F32
	F16
	BF16
	F8E4M3 // float8 e4m3fn: no infinities, NaN = S.1111.111
	F8E5M2
	I64
	I32
	I16
	I8
	U8
	Bool
)

var names = [...]string{
	Invalid: "invalid", F64: "F64", F32: "F32", F16: "F16", BF16: "BF16",
	F8E4M3: "F8_E4M3", F8E5M2: "F8_E5M2", I64: "I64", I32: "I32", I16: "I16",
	I8: "I8", U8: "U8", Bool: "BOOL",
}

var sizes = [...]int{
	F64: 8, F32: 4, F16: 2, BF16: 2, F8E4M3: 1, F8E5M2: 1,
	I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, Bool: 1,
}

// String returns the safetensors spelling of the type ("BF16", "F8_E4M3").
func (d DType) String() string {
	if int(d) < len(names) {
		return names[d]
	}
	return fmt.Sprintf("DType(%d)", d)
}

// Size is the number of bytes of one element.
func (d DType) Size() int {
	if int(d) < len(sizes) {
		return sizes[d]
	}
	return 0
}

// Valid reports whether d names a known type.
func (d DType) Valid() bool { return d > Invalid && int(d) < len(names) }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	switch d {
	case F64, F32, F16, BF16, F8E4M3, F8E5M2:
		return true
	}
	return false
}

// Parse maps a safetensors dtype name to a DType.
func Parse(s string) (DType, error) {
	for d, n := range names {
		if d != int(Invalid) && n == s {
			return DType(d), nil
		}
	}
	return Invalid, fmt.Errorf("unknown dtype %q", s)
}

// BF16ToF32 widens a bfloat16 (the top half of a float32).
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 rounds to nearest even, keeping NaNs quiet.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// F16ToF32 widens an IEEE 754 half.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or nan
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// subnormal half: value = man * 2^-24
	f := float32(man) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// F32ToF16 rounds to nearest even.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		man |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := man >> shift
		rem := man & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// F8E4M3ToF32 widens a float8 e4m3fn (bias 7, no infinities).
func F8E4M3ToF32(v uint8) float32 {
	sign := float32(1)
	if v&0x80 != 0 {
		sign = -1
	}
	exp := int(v>>3) & 0xf
	man := float32(v & 7)
	if exp == 0xf && v&7 == 7 {
		return float32(math.NaN())
	}
	if exp == 0 {
		return sign * man / 8 * (1.0 / 64) // 2^(1-7)
	}
	return sign * (1 + man/8) * float32(math.Ldexp(1, exp-7))
}

// F8E5M2ToF32 widens a float8 e5m2 (the top byte of a half).
func F8E5M2ToF32(v uint8) float32 { return F16ToF32(uint16(v) << 8) }

// ToF32 decodes n = len(dst) elements of type d from little-endian src.
// Integer types convert by value. It panics if src is too short; callers
// validate sizes first.
func ToF32(d DType, src []byte, dst []float32) {
	n := len(dst)
	switch d {
	case F32:
		for i := range n {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F64:
		for i := range n {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case F16:
		for i := range n {
			dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range n {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case F8E4M3:
		for i := range n {
			dst[i] = F8E4M3ToF32(src[i])
		}
	case F8E5M2:
		for i := range n {
			dst[i] = F8E5M2ToF32(src[i])
		}
	case I64:
		for i := range n {
			dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case I32:
		for i := range n {
			dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case I16:
		for i := range n {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	case I8:
		for i := range n {
			dst[i] = float32(int8(src[i]))
		}
	case U8, Bool:
		for i := range n {
			dst[i] = float32(src[i])
		}
	default:
		panic(fmt.Sprintf("dtype: ToF32 of %v", d))
	}
}

// ToI64 decodes integer (or bool) elements by value.
func ToI64(d DType, src []byte, dst []int64) error {
	n := len(dst)
	switch d {
	case I64:
		for i := range n {
			dst[i] = int64(binary.LittleEndian.Uint64(src[8*i:]))
		}
	case I32:
		for i := range n {
			dst[i] = int64(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case I16:
		for i := range n {
			dst[i] = int64(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	case I8:
		for i := range n {
			dst[i] = int64(int8(src[i]))
		}
	case U8, Bool:
		for i := range n {
			dst[i] = int64(src[i])
		}
	default:
		return fmt.Errorf("dtype: %v is not an integer type", d)
	}
	return nil
}
