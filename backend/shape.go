package backend

import (
	"fmt"
	"slices"
)

// NumElements is the product of shape (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Strides returns the row-major element strides of shape.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// Axis resolves a possibly negative axis against rank, failing op if out of range.
func Axis(op string, axis, rank int) int {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		Fail(op, "axis %d out of range for rank %d", axis, rank)
	}
	return axis
}

// Broadcast returns the NumPy broadcast of two shapes.
func Broadcast(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// BroadcastStrides returns strides that read a tensor of shape in as if
// it had shape out (zero stride along broadcast dims).
func BroadcastStrides(in, out []int) []int {
	s := make([]int, len(out))
	st := Strides(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			s[off+i] = st[i]
		}
	}
	return s
}

// ResolveReshape fills in a -1 dim and checks the element count.
func ResolveReshape(op string, from, to []int) []int {
	out := slices.Clone(to)
	n := NumElements(from)
	infer, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			Fail(op, "invalid target shape %v", to)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			Fail(op, "cannot reshape %v to %v", from, to)
		}
		out[infer] = n / known
	}
	if NumElements(out) != n {
		Fail(op, "cannot reshape %v (%d elements) to %v", from, n, to)
	}
	return out
}

// ConvOutSize is the output length of a convolution or pooling window.
func ConvOutSize(in, k, stride, padLo, padHi, dilation int, ceil bool) int {
	span := dilation*(k-1) + 1
	num := in + padLo + padHi - span
	if num < 0 {
		return 0
	}
	if ceil {
		o := (num+stride-1)/stride + 1
		// torch: the last window must start inside the input or left padding
		if (o-1)*stride >= in+padLo {
			o--
		}
		return o
	}
	return num/stride + 1
}

// Normalized fills zero-valued convolution options with their defaults.
func (o ConvOptions) Normalized() ConvOptions {
	if o.Stride == [2]int{} {
		o.Stride = [2]int{1, 1}
	}
	if o.Dilation == [2]int{} {
		o.Dilation = [2]int{1, 1}
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return o
}

// Normalized fills zero-valued pooling options with their defaults.
func (o PoolOptions) Normalized() PoolOptions {
	if o.Stride == [2]int{} {
		o.Stride = o.Kernel
	}
	return o
}
