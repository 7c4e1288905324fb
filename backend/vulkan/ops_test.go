package vulkan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/backend/cpu"
	"github.com/fluxpulid/fluxpulid/dtype"
)

var (
	openOnce sync.Once
	openErr  error
	backends map[string]*Backend
)

// testBackends opens the device under three configurations: the default;
// chunks of 16 KiB, so that tensors over 4096 floats span several buffers
// and the multi-chunk shader variants run; and transfers through staging
// buffers, the path of GPUs whose memory the host cannot map. Without a
// Vulkan device the test is skipped, except under CI=true, where lavapipe
// is part of the environment and its absence fails the test.
func testBackends(t *testing.T) map[string]*Backend {
	t.Helper()
	openOnce.Do(func() {
		backends = map[string]*Backend{}
		for name, opt := range map[string]Options{
			"default":       {},
			"chunked":       {ChunkBytes: 16 << 10},
			"staging":       {Staging: true},
			"suite-chunked": {ChunkBytes: 128 << 10},
		} {
			b, err := NewWithOptions("", opt)
			if err != nil {
				openErr = err
				return
			}
			backends[name] = b
		}
	})
	if openErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("vulkan unavailable under CI=true: %v", openErr)
		}
		t.Skipf("no Vulkan device: %v", openErr)
	}
	return backends
}

// input describes one operand: its shape, type and value distribution.
type input struct {
	shape []int
	dt    dtype.DType // F32 unless a weight
	dist  string      // "" normal(0,1), "pos" uniform(0.5, 2)
}

type opCase struct {
	name string
	in   []input
	run  func(b backend.Backend, x []backend.Tensor) backend.Tensor
	// atol and rtol bound |got-want| ≤ atol + rtol·|want| elementwise.
	atol, rtol float64
}

func f32in(shape ...int) input               { return input{shape: shape, dt: dtype.F32} }
func posin(shape ...int) input               { return input{shape: shape, dt: dtype.F32, dist: "pos"} }
func win(dt dtype.DType, shape ...int) input { return input{shape: shape, dt: dt} }

// makeInputs draws the values once; both backends get the same bytes.
func makeInputs(seed uint64, ins []input) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([][]byte, len(ins))
	for i, in := range ins {
		n := backend.NumElements(in.shape)
		vals := make([]float32, n)
		for j := range vals {
			if in.dist == "pos" {
				vals[j] = float32(0.5 + 1.5*r.Float64())
			} else {
				vals[j] = float32(r.NormFloat64())
			}
		}
		switch in.dt {
		case dtype.F32:
			out[i] = make([]byte, 4*n)
			for j, v := range vals {
				binary.LittleEndian.PutUint32(out[i][4*j:], math.Float32bits(v))
			}
		default:
			out[i] = encode(in.dt, vals)
		}
	}
	return out
}

func encode(dt dtype.DType, vals []float32) []byte {
	b := make([]byte, len(vals)*dt.Size())
	for i, v := range vals {
		switch dt {
		case dtype.BF16:
			h := dtype.F32ToBF16(v)
			b[2*i], b[2*i+1] = byte(h), byte(h>>8)
		case dtype.F16:
			h := dtype.F32ToF16(v)
			b[2*i], b[2*i+1] = byte(h), byte(h>>8)
		case dtype.F8E4M3:
			b[i] = f8e4m3(v)
		}
	}
	return b
}

// f8e4m3 picks the nearest of the 256 codes by brute force; test inputs
// only need some valid codes.
func f8e4m3(v float32) byte {
	best, bd := byte(0), math.Inf(1)
	for c := range 256 {
		f := float64(dtype.F8E4M3ToF32(uint8(c)))
		if d := math.Abs(f - float64(v)); d < bd {
			best, bd = byte(c), d
		}
	}
	return best
}

func upload(b backend.Backend, ins []input, data [][]byte) []backend.Tensor {
	ts := make([]backend.Tensor, len(ins))
	for i, in := range ins {
		ts[i] = b.FromBytes(in.dt, in.shape, data[i])
	}
	return ts
}

// runCase returns the output of c on b, or the op's error.
func runCase(b backend.Backend, c opCase, data [][]byte) (vals []float32, shape []int, err error) {
	defer backend.Catch(&err)
	out := c.run(b, upload(b, c.in, data))
	shape = out.Shape()
	vals, err = b.ReadF32(out)
	return vals, shape, err
}

func opCases() []opCase {
	const tight, loose = 1e-5, 1e-4
	mm := func(a, w backend.Tensor, b backend.Backend) backend.Tensor { return b.MatMul(a, w) }
	var cs []opCase
	add := func(c opCase) {
		if c.atol == 0 {
			c.atol = tight
		}
		if c.rtol == 0 {
			c.rtol = loose
		}
		cs = append(cs, c)
	}

	// matmul and linear: odd sizes, a 1-row case, K beyond one tile, each
	// weight type, broadcast batches, multi-chunk operands.
	for _, dt := range []dtype.DType{dtype.F32, dtype.BF16, dtype.F16} {
		add(opCase{name: "linear/" + dt.String() + "/67x45x33", in: []input{f32in(3, 67, 45), win(dt, 33, 45), f32in(33)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Linear(x[0], x[1], x[2]) }})
		add(opCase{name: "linear/" + dt.String() + "/1x300x50-nobias", in: []input{f32in(1, 300), win(dt, 50, 300)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Linear(x[0], x[1], nil) }})
		add(opCase{name: "matmul/" + dt.String() + "/batched-broadcast", in: []input{f32in(2, 3, 17, 40), win(dt, 1, 3, 29, 40)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return mm(x[0], x[1], b) }})
	}
	add(opCase{name: "linear/F32/multichunk-130x70x90", in: []input{f32in(130, 70), win(dtype.F32, 90, 70), f32in(90)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Linear(x[0], x[1], x[2]) }})
	add(opCase{name: "linear/F8E4M3/20x24x10", in: []input{f32in(20, 24), win(dtype.F8E4M3, 10, 24)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Linear(x[0], x[1], nil) }})
	add(opCase{name: "matmul/F32/largeK", in: []input{f32in(5, 2000), win(dtype.F32, 7, 2000)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return mm(x[0], x[1], b) }, atol: 1e-4})
	add(opCase{name: "matmul/F32/k0", in: []input{f32in(4, 0), win(dtype.F32, 3, 0)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return mm(x[0], x[1], b) }})

	// elementwise
	for _, o := range []backend.BinaryOp{backend.Add, backend.Sub, backend.Mul, backend.Div, backend.Max, backend.Min} {
		add(opCase{name: "binary/" + o.String() + "/broadcast", in: []input{f32in(2, 1, 5, 7), posin(3, 1, 7)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Binary(o, x[0], x[1]) }})
	}
	add(opCase{name: "binary/add/same-shape-multichunk", in: []input{f32in(9000), f32in(9000)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Binary(backend.Add, x[0], x[1]) }})
	add(opCase{name: "binary/mul/bias-row", in: []input{f32in(37, 130), f32in(130)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Binary(backend.Mul, x[0], x[1]) }})
	add(opCase{name: "binary/add/scalar-lhs", in: []input{f32in(1), f32in(4, 3)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Binary(backend.Add, x[0], x[1]) }})
	for o := backend.SiLU; o <= backend.Recip; o++ {
		in := f32in(5, 301)
		if o == backend.Sqrt || o == backend.Recip {
			in = posin(5, 301)
		}
		add(opCase{name: "unary/" + o.String(), in: []input{in}, atol: 2e-6, rtol: 2e-5,
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Unary(o, x[0]) }})
	}
	add(opCase{name: "affine", in: []input{f32in(3, 333)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Affine(x[0], 0.125, -3) }})
	for _, dt := range []dtype.DType{dtype.BF16, dtype.F16} {
		add(opCase{name: "cast/F32-" + dt.String() + "-F32", in: []input{f32in(7, 77)}, atol: 1e-30, rtol: 1e-30,
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Cast(b.Cast(x[0], dt), dtype.F32)
			}})
		add(opCase{name: "cast/" + dt.String() + "-F32-odd", in: []input{win(dt, 3, 5)}, atol: 1e-30, rtol: 1e-30,
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Cast(x[0], dtype.F32) }})
	}

	// row kernels
	add(opCase{name: "softmax/odd", in: []input{f32in(3, 5, 1001)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Softmax(x[0]) }, atol: 1e-7})
	add(opCase{name: "softmax/one", in: []input{f32in(5, 1)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Softmax(x[0]) }})
	add(opCase{name: "layernorm/affine", in: []input{f32in(4, 3, 513), f32in(513), f32in(513)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.LayerNorm(x[0], x[1], x[2], 1e-6) }})
	add(opCase{name: "layernorm/plain-multichunk", in: []input{f32in(6, 2000)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.LayerNorm(x[0], nil, nil, 1e-5) }})
	add(opCase{name: "rmsnorm/weight", in: []input{f32in(2, 5, 128), f32in(128)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.RMSNorm(x[0], x[1], 1e-6) }})
	add(opCase{name: "rmsnorm/plain", in: []input{f32in(3, 77)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.RMSNorm(x[0], nil, 1e-6) }})
	add(opCase{name: "groupnorm/affine", in: []input{f32in(2, 12, 5, 7), f32in(12), f32in(12)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.GroupNorm(x[0], 4, x[1], x[2], 1e-6)
		}})
	add(opCase{name: "groupnorm/plain", in: []input{f32in(1, 6, 300)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.GroupNorm(x[0], 3, nil, nil, 1e-5)
		}})
	for o := backend.Sum; o <= backend.ReduceMax; o++ {
		add(opCase{name: "reduce/" + o.String(), in: []input{f32in(3, 4, 517)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Reduce(o, x[0]) }})
	}

	// RoPE and attention
	add(opCase{name: "rope/shared", in: []input{f32in(2, 3, 11, 16), f32in(11, 8), f32in(11, 8)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.RoPE(x[0], x[1], x[2]) }})
	add(opCase{name: "rope/batched", in: []input{f32in(2, 2, 5, 6), f32in(2, 5, 3), f32in(2, 5, 3)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.RoPE(x[0], x[1], x[2]) }})
	attn := func(opt backend.AttentionOptions) func(backend.Backend, []backend.Tensor) backend.Tensor {
		return func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			if len(x) > 3 {
				opt.Bias = x[3]
			}
			return b.Attention(x[0], x[1], x[2], opt)
		}
	}
	add(opCase{name: "attention/plain", in: []input{f32in(1, 2, 70, 32), f32in(1, 2, 33, 32), f32in(1, 2, 33, 24)},
		run: attn(backend.AttentionOptions{})})
	add(opCase{name: "attention/causal", in: []input{f32in(2, 1, 67, 16), f32in(2, 1, 67, 16), f32in(2, 1, 67, 16)},
		run: attn(backend.AttentionOptions{Causal: true})})
	add(opCase{name: "attention/bias-scale-d128", in: []input{f32in(1, 2, 9, 128), f32in(1, 2, 20, 128), f32in(1, 2, 20, 128), f32in(1, 2, 9, 20)},
		run: attn(backend.AttentionOptions{Scale: 0.05})})
	add(opCase{name: "attention/bias-broadcast", in: []input{f32in(2, 3, 5, 8), f32in(2, 3, 6, 8), f32in(2, 3, 6, 8), f32in(1, 3, 5, 6)},
		run: attn(backend.AttentionOptions{})})

	// layout
	add(opCase{name: "permute/0213", in: []input{f32in(2, 5, 3, 7)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Permute(x[0], 0, 2, 1, 3) }})
	add(opCase{name: "permute/multichunk", in: []input{f32in(90, 100)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Permute(x[0], 1, 0) }})
	add(opCase{name: "reshape-permute", in: []input{f32in(6, 20)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.Permute(b.Reshape(x[0], 2, 3, -1), 2, 0, 1)
		}})
	add(opCase{name: "concat/axis1", in: []input{f32in(2, 3, 4), f32in(2, 1, 4), f32in(2, 5, 4)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Concat(1, x...) }})
	add(opCase{name: "concat/last", in: []input{f32in(3, 2), f32in(3, 5)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Concat(-1, x...) }})
	add(opCase{name: "slice/step", in: []input{f32in(4, 11, 3)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Slice(x[0], 1, 2, 10, 3) }})
	add(opCase{name: "slice/multichunk-cols", in: []input{f32in(100, 120)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor { return b.Slice(x[0], -1, 30, 110, 1) }})
	add(opCase{name: "pad/mixed-crop", in: []input{f32in(2, 3, 5, 4)}, atol: 1e-30, rtol: 1e-30,
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.Pad(x[0], []int{0, 1, -1, 2}, []int{0, 0, 2, -1}, 1.5)
		}})
	for _, dt := range []dtype.DType{dtype.F32, dtype.BF16, dtype.F16} {
		add(opCase{name: "take_rows/" + dt.String(), in: []input{win(dt, 10, 7)}, atol: 1e-30, rtol: 1e-30,
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.TakeRows(x[0], []int32{3, 0, 9, 3, 5})
			}})
	}

	// convolution, pooling, resizing
	for _, dt := range []dtype.DType{dtype.F32, dtype.BF16} {
		add(opCase{name: "conv2d/" + dt.String() + "/3x3-pad", in: []input{f32in(2, 5, 9, 11), win(dt, 7, 5, 3, 3), f32in(7)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Conv2D(x[0], x[1], x[2], backend.ConvOptions{Pad: [4]int{1, 1, 1, 1}})
			}})
	}
	add(opCase{name: "conv2d/stride-dilation-groups", in: []input{f32in(1, 4, 13, 10), win(dtype.F32, 6, 2, 3, 2)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.Conv2D(x[0], x[1], nil, backend.ConvOptions{Stride: [2]int{2, 1}, Pad: [4]int{2, 0, 1, 1}, Dilation: [2]int{1, 2}, Groups: 2})
		}})
	add(opCase{name: "conv2d/1x1-multichunk", in: []input{f32in(1, 70, 10, 10), win(dtype.F32, 40, 70, 1, 1), f32in(40)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.Conv2D(x[0], x[1], x[2], backend.ConvOptions{})
		}})
	add(opCase{name: "pool2d/max-ceil", in: []input{f32in(2, 3, 9, 8)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.Pool2D(x[0], backend.PoolOptions{Kind: backend.MaxPool, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, CeilMode: true})
		}})
	add(opCase{name: "pool2d/avg-countpad", in: []input{f32in(1, 2, 7, 7)},
		run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
			return b.Pool2D(x[0], backend.PoolOptions{Kind: backend.AvgPool, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, CountPad: true})
		}})
	for _, m := range []struct {
		name string
		mode backend.ResizeMode
		ac   bool
	}{{"nearest2x", backend.Nearest, false}, {"bilinear", backend.Bilinear, false}, {"bilinear-ac", backend.Bilinear, true}, {"bicubic", backend.Bicubic, false}} {
		add(opCase{name: "resize2d/" + m.name, in: []input{f32in(1, 2, 5, 6)},
			run: func(b backend.Backend, x []backend.Tensor) backend.Tensor {
				return b.Resize2D(x[0], 10, 13, m.mode, m.ac)
			}})
	}
	return cs
}

// TestOps runs every op case on the Vulkan configurations and compares
// with the CPU reference kernels.
func TestOps(t *testing.T) {
	bs := testBackends(t)
	ref := cpu.NewReference()
	for i, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			data := makeInputs(uint64(i), c.in)
			want, wshape, err := runCase(ref, c, data)
			if err != nil {
				t.Fatalf("reference: %v", err)
			}
			for _, name := range []string{"default", "chunked", "staging"} {
				got, gshape, err := runCase(bs[name], c, data)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if fmt.Sprint(gshape) != fmt.Sprint(wshape) {
					t.Errorf("%s: shape %v, want %v", name, gshape, wshape)
					continue
				}
				compare(t, name, got, want, c.atol, c.rtol)
			}
		})
	}
}

func compare(t *testing.T, name string, got, want []float32, atol, rtol float64) {
	t.Helper()
	bad, worst, worstAt := 0, 0.0, -1
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		d := math.Abs(g - w)
		if !(d <= atol+rtol*math.Abs(w)) {
			bad++
			if d > worst || worstAt < 0 {
				worst, worstAt = d, i
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values off; worst at %d: got %v, want %v", name, bad, len(want), worstAt, got[worstAt], want[worstAt])
	}
}

// TestErrors checks that bad operands fail with a backend.Error naming the
// op instead of crashing.
func TestErrors(t *testing.T) {
	b := testBackends(t)["default"]
	x := b.FromF32([]int{2, 3}, make([]float32, 6))
	y := b.FromF32([]int{4}, make([]float32, 4))
	cases := []struct {
		name, op string
		fn       func()
	}{
		{"broadcast", "add", func() { b.Binary(backend.Add, x, y) }},
		{"matmul-inner", "matmul", func() { b.MatMul(x, b.Zeros([]int{2, 4})) }},
		{"foreign-tensor", "softmax", func() { b.Softmax(cpu.New().Zeros([]int{2})) }},
		{"int-weight", "from_bytes", func() { b.FromBytes(dtype.I64, []int{1}, make([]byte, 8)) }},
		{"freed", "softmax", func() {
			z := b.Zeros([]int{3})
			b.Free(z)
			b.Softmax(z)
		}},
		{"head-dim", "attention", func() {
			q := b.Zeros([]int{1, 1, 2, 130})
			b.Attention(q, q, q, backend.AttentionOptions{})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			func() {
				defer backend.Catch(&err)
				c.fn()
			}()
			var be *backend.Error
			if !errors.As(err, &be) || be.Op != c.op {
				t.Fatalf("err = %v, want a backend.Error of op %q", err, c.op)
			}
			if c.name == "head-dim" && !errors.Is(err, backend.ErrNotImplemented) {
				t.Errorf("err = %v, want one wrapping ErrNotImplemented", err)
			}
			t.Log(err)
		})
	}
}

// TestTooLarge checks the clear error for a tensor beyond maxChunks chunks.
func TestTooLarge(t *testing.T) {
	b := testBackends(t)["chunked"]
	var err error
	func() {
		defer backend.Catch(&err)
		b.Zeros([]int{5 * 4096})
	}()
	if err == nil {
		t.Fatal("a tensor of 5 chunks was accepted")
	}
	t.Log(err)
}

// TestFreeReuse frees tensors and checks that memory is recycled across
// synchronisations rather than growing.
func TestFreeReuse(t *testing.T) {
	testBackends(t) // skips (or fails under CI) without a device
	// A backend of its own: the shared ones also receive frees of other
	// tests' unreachable tensors (from the garbage collector) at any time,
	// which moves their allocation count independently of this loop.
	b, err := NewWithOptions("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x := b.FromF32([]int{1000}, make([]float32, 1000))
	var first uint64
	for i := range 20 {
		y := b.Affine(x, 1, float32(i))
		v, err := b.ReadF32(y)
		if err != nil {
			t.Fatal(err)
		}
		if v[999] != float32(i) {
			t.Fatalf("step %d: %v", i, v[999])
		}
		b.Free(y)
		if i == 1 {
			first = b.d.allocated
		}
	}
	if b.d.allocated > first {
		t.Errorf("allocated grew from %d to %d bytes over freed iterations", first, b.d.allocated)
	}
}
