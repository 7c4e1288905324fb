// Package backend defines the tensors and the small set of primitive ops
// that every model in fluxpulid is written against. A backend (the CPU, a
// Vulkan device) implements Backend; model code never imports one.
//
// Activations are always F32. Weights may stay in their storage type (F32,
// F16, BF16, F8): MatMul and Linear accept them as the right-hand operand
// and accumulate in F32, and Cast widens any tensor to F32 for the other
// ops. Device backends may queue work and synchronise only in ReadF32.
//
// Errors: ops do not return errors, so that model code reads like the math
// (`x = b.Add(x, b.Mul(gate, y))`). An op given operands it cannot handle
// (mismatched shapes, an op a backend lacks) panics with an *Error; the
// entry points of model packages turn that back into an ordinary error
// with Catch. Inputs from users are validated before they reach an op.
package backend

import (
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Tensor is an n-dimensional row-major array owned by one backend.
// Tensors are values: no op modifies its operands.
type Tensor interface {
	Shape() []int
	DType() dtype.DType
}

// Backend creates tensors and runs ops on them.
type Backend interface {
	// Name identifies the backend and device ("cpu", "vulkan:0 llvmpipe").
	Name() string

	// FromF32 creates an F32 tensor holding a copy of data.
	FromF32(shape []int, data []float32) Tensor
	// FromBytes creates a tensor of type dt from little-endian data. The
	// backend may keep referring to data (a memory-mapped weight) instead
	// of copying it; the caller must keep data unchanged.
	FromBytes(dt dtype.DType, shape []int, data []byte) Tensor
	// Zeros creates an F32 tensor of zeros.
	Zeros(shape []int) Tensor
	// ReadF32 waits for all queued work on t and returns its values,
	// widened to float32.
	ReadF32(t Tensor) ([]float32, error)
	// Free releases t's memory early; using t afterwards is an error.
	// Freeing is optional: unreachable tensors are reclaimed eventually.
	Free(t Tensor)

	// MatMul returns a·bᵀ over the last two dims: a [..., M, K],
	// b [..., N, K] → [..., M, N]. Leading dims broadcast (b is often a
	// 2-D weight). b may be any float type; a must be F32.
	MatMul(a, b Tensor) Tensor
	// Linear returns x·wᵀ + bias (torch.nn.Linear): x [..., K], w [N, K]
	// in any float type, bias [N] or nil.
	Linear(x, w, bias Tensor) Tensor

	// Binary applies op elementwise with NumPy broadcasting.
	Binary(op BinaryOp, a, b Tensor) Tensor
	// Unary applies op elementwise.
	Unary(op UnaryOp, x Tensor) Tensor
	// Affine returns alpha·x + beta elementwise.
	Affine(x Tensor, alpha, beta float32) Tensor
	// Cast converts to dt (F32 is the only activation type).
	Cast(x Tensor, dt dtype.DType) Tensor

	// Softmax normalises over the last dim.
	Softmax(x Tensor) Tensor
	// LayerNorm normalises over the last dim: (x-mean)/sqrt(var+eps),
	// then ·w + b where w, b (length of the last dim) are not nil.
	LayerNorm(x, w, b Tensor, eps float32) Tensor
	// RMSNorm returns x·rsqrt(mean(x²)+eps)·w over the last dim (w may be nil).
	RMSNorm(x, w Tensor, eps float32) Tensor
	// GroupNorm normalises x [N, C, ...] over groups of C/groups channels
	// and all trailing dims, then applies per-channel w, b (may be nil).
	GroupNorm(x Tensor, groups int, w, b Tensor, eps float32) Tensor
	// Reduce applies op over the last dim, keeping it with size 1.
	Reduce(op ReduceOp, x Tensor) Tensor

	// RoPE rotates adjacent pairs (x[2j], x[2j+1]) of x [B, H, L, D] by the
	// angles whose cosines and sines are given as [L, D/2] or [B, L, D/2]:
	// out[2j] = cos·x[2j] − sin·x[2j+1], out[2j+1] = sin·x[2j] + cos·x[2j+1].
	RoPE(x, cos, sin Tensor) Tensor
	// Attention returns softmax(q·kᵀ·scale + bias [+ causal mask])·v for
	// q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] → [B, H, Lq, Dv],
	// without materialising all heads' score matrices at once.
	Attention(q, k, v Tensor, opt AttentionOptions) Tensor

	// Reshape returns x with a new shape of the same size; one dim may be -1.
	Reshape(x Tensor, shape ...int) Tensor
	// Permute reorders dims: out.Shape()[i] = x.Shape()[perm[i]].
	Permute(x Tensor, perm ...int) Tensor
	// Concat joins tensors along axis (negative counts from the end).
	Concat(axis int, ts ...Tensor) Tensor
	// Slice keeps indices start, start+step, … < end along axis.
	Slice(x Tensor, axis, start, end, step int) Tensor
	// Pad adds before[i] and after[i] elements of value around dim i
	// (len(before) == len(after) == rank; negative values crop).
	Pad(x Tensor, before, after []int, value float32) Tensor
	// TakeRows gathers rows of a 2-D table (any float type) → [len(ids), D] F32.
	TakeRows(table Tensor, ids []int32) Tensor

	// Conv2D is torch's conv2d (cross-correlation) on x [N, C, H, W] with
	// w [O, C/groups, kh, kw] (any float type) and bias [O] or nil.
	Conv2D(x, w, bias Tensor, opt ConvOptions) Tensor
	// Pool2D is max or average pooling on x [N, C, H, W].
	Pool2D(x Tensor, opt PoolOptions) Tensor
	// Resize2D scales the last two dims of x [N, C, H, W] to h × w.
	Resize2D(x Tensor, h, w int, mode ResizeMode, alignCorners bool) Tensor
}

// BinaryOp names an elementwise binary op.
type BinaryOp uint8

const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
	Max
	Min
)

var binaryNames = [...]string{"add", "sub", "mul", "div", "max", "min"}

func (o BinaryOp) String() string { return binaryNames[o] }

// UnaryOp names an elementwise unary op.
type UnaryOp uint8

const (
	SiLU      UnaryOp = iota // x·σ(x)
	GELUTanh                 // 0.5x(1+tanh(√(2/π)(x+0.044715x³)))
	GELUErf                  // 0.5x(1+erf(x/√2))
	QuickGELU                // x·σ(1.702x), CLIP's activation
	Sigmoid
	ReLU
	Tanh
	Exp
	Sqrt
	Neg
	Abs
	Square
	Recip // 1/x
)

var unaryNames = [...]string{"silu", "gelu_tanh", "gelu_erf", "quick_gelu", "sigmoid", "relu", "tanh", "exp", "sqrt", "neg", "abs", "square", "recip"}

func (o UnaryOp) String() string { return unaryNames[o] }

// ReduceOp names a reduction over the last dim.
type ReduceOp uint8

const (
	Sum ReduceOp = iota
	Mean
	ReduceMax
)

var reduceNames = [...]string{"sum", "mean", "max"}

func (o ReduceOp) String() string { return reduceNames[o] }

// AttentionOptions modify Attention.
type AttentionOptions struct {
	// Scale multiplies q·kᵀ; 0 means 1/√D.
	Scale float32
	// Causal masks key j > query i (queries and keys aligned at the start).
	Causal bool
	// Bias, if not nil, is added to the scores; it broadcasts to
	// [B, H, Lq, Lk] (T5's relative position bias is [1, H, Lq, Lk]).
	Bias Tensor
}

// ConvOptions configure Conv2D. Zero values mean stride 1, no padding,
// dilation 1, one group.
type ConvOptions struct {
	Stride   [2]int // (h, w)
	Pad      [4]int // top, left, bottom, right
	Dilation [2]int
	Groups   int
}

// PoolKind selects max or average pooling.
type PoolKind uint8

const (
	MaxPool PoolKind = iota
	AvgPool
)

// PoolOptions configure Pool2D.
type PoolOptions struct {
	Kind   PoolKind
	Kernel [2]int
	Stride [2]int // zero means Kernel
	Pad    [4]int // top, left, bottom, right; padded cells are ignored by max, counted by avg when CountPad
	// CeilMode rounds the output size up, as torch's ceil_mode.
	CeilMode bool
	// CountPad includes padding in the average's divisor (torch's count_include_pad).
	CountPad bool
}

// ResizeMode selects the Resize2D interpolation.
type ResizeMode uint8

const (
	Nearest ResizeMode = iota
	Bilinear
	Bicubic // torch's cubic convolution, a = -0.75, without antialiasing
)
