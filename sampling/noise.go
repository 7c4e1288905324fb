package sampling

import (
	"fmt"
	"math"
	"math/big"
	"strings"
)

// TorchCPUGenerator reproduces torch's default CPU generator
// (at::CPUGeneratorImpl) and the CPU normal kernel of torch 1.13, so that
// a seed gives the same initial noise as
// torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed)).
//
// It is not safe for concurrent use.
type TorchCPUGenerator struct {
	mt mt19937
	// The Box-Muller transform yields two normals; torch's scalar path keeps
	// the second one (r*sin) for the next draw.
	nextNormal    float64
	hasNextNormal bool
}

// NewTorchCPUGenerator returns a generator in the state of
// torch.Generator("cpu").manual_seed(seed). torch keeps the full 64-bit
// seed but initialises mt19937 with its low 32 bits only.
func NewTorchCPUGenerator(seed uint64) *TorchCPUGenerator {
	g := &TorchCPUGenerator{}
	g.mt.seed(uint32(seed))
	return g
}

// random is CPUGeneratorImpl::random: one 32-bit engine output.
func (g *TorchCPUGenerator) random() uint32 { return g.mt.next() }

// random64 is CPUGeneratorImpl::random64: the first output is the high word.
func (g *TorchCPUGenerator) random64() uint64 {
	hi := g.mt.next()
	lo := g.mt.next()
	return uint64(hi)<<32 | uint64(lo)
}

// uniform32 is uniform_real_distribution<float>(0, 1): the low 24 bits
// (float's digits) of one output, times 2^-24; always in [0, 1).
func (g *TorchCPUGenerator) uniform32() float32 {
	return float32(g.random()&(1<<24-1)) * (1.0 / (1 << 24))
}

// uniform64 is uniform_real_distribution<double>(0, 1): the low 53 bits of
// random64, times 2^-53.
func (g *TorchCPUGenerator) uniform64() float64 {
	return float64(g.random64()&(1<<53-1)) * (1.0 / (1 << 53))
}

// normal64 is at::normal_distribution<double>(0, 1) as in torch 1.13:
// Box-Muller on two double uniforms, r*cos returned and r*sin cached in the
// generator for the following call.
func (g *TorchCPUGenerator) normal64() float64 {
	if g.hasNextNormal {
		g.hasNextNormal = false
		return g.nextNormal
	}
	u1 := g.uniform64()
	u2 := g.uniform64()
	r := math.Sqrt(-2 * math.Log(1-u2))
	theta := 2 * math.Pi * u1
	g.nextNormal, g.hasNextNormal = r*math.Sin(theta), true
	return r * math.Cos(theta)
}

// NormalMath selects how torch's block-of-16 normal kernel evaluates log,
// sin and cos for float32 tensors; it depends on the CPU capability torch
// dispatched to.
type NormalMath int

const (
	// MathAVX2 is the AVX2 kernel (normal_fill_AVX2) that torch uses on any
	// x86-64 CPU with AVX2: Cephes float32 polynomials. The golden noise was
	// recorded with it.
	MathAVX2 NormalMath = iota
	// MathLibm is the portable kernel (normal_fill) of builds or CPUs without
	// AVX2: float32 logf/cosf/sinf, taken here as correctly rounded.
	MathLibm
)

func (m NormalMath) String() string {
	switch m {
	case MathAVX2:
		return "avx2"
	case MathLibm:
		return "libm"
	}
	return fmt.Sprintf("NormalMath(%d)", int(m))
}

// RandnF32 draws n standard normal float32 values as torch.randn does for a
// contiguous float32 tensor of n elements.
//
// For n >= 16 torch first draws all n uniforms, then transforms each block
// of 16 in place: for j < 8, u1 = 1 - u[j], u2 = u[j+8],
// out[j] = sqrt(-2 ln u1) cos(2 pi u2), out[j+8] = sqrt(-2 ln u1) sin(2 pi u2).
// When n is not a multiple of 16 the last 16 outputs are recomputed from 16
// fresh uniforms. For n < 16 it draws from the scalar double-precision
// Box-Muller (normal64) and rounds each value to float32.
func (g *TorchCPUGenerator) RandnF32(n int, m NormalMath) []float32 {
	out := make([]float32, n)
	if n < 16 {
		for i := range out {
			out[i] = float32(g.normal64())
		}
		return out
	}
	for i := range out {
		out[i] = g.uniform32()
	}
	for i := 0; i+16 <= n; i += 16 {
		normalBlock16F32(out[i:i+16], m)
	}
	if n%16 != 0 {
		tail := out[n-16:]
		for i := range tail {
			tail[i] = g.uniform32()
		}
		normalBlock16F32(tail, m)
	}
	return out
}

// twoPiF32 is 2*pi rounded to float32, the constant both float kernels
// multiply u2 by (the scalar kernel multiplies in double, then rounds).
const twoPiF32 = float32(2 * math.Pi)

func normalBlock16F32(d []float32, m NormalMath) {
	for j := 0; j < 8; j++ {
		u1 := 1 - d[j] // in (0, 1], exact
		u2 := d[j+8]
		var r, s, c float32
		switch m {
		case MathAVX2:
			r = float32(math.Sqrt(float64(float32(-2 * logCephes(u1)))))
			s, c = sincosCephes(float32(twoPiF32 * u2))
		default:
			r = float32(math.Sqrt(float64(-2 * float32(math.Log(float64(u1))))))
			theta := float32(2 * math.Pi * float64(u2))
			s = float32(math.Sin(float64(theta)))
			c = float32(math.Cos(float64(theta)))
		}
		d[j] = float32(r * c)
		d[j+8] = float32(r * s)
	}
}

// RandnF64 draws n standard normal float64 values as torch.randn does for a
// contiguous float64 tensor: for n >= 16 the block-of-16 transform on 53-bit
// uniforms (each from two engine outputs) in double precision, for n < 16
// the scalar Box-Muller with its cached second value.
func (g *TorchCPUGenerator) RandnF64(n int) []float64 {
	out := make([]float64, n)
	if n < 16 {
		for i := range out {
			out[i] = g.normal64()
		}
		return out
	}
	for i := range out {
		out[i] = g.uniform64()
	}
	block := func(d []float64) {
		for j := 0; j < 8; j++ {
			r := math.Sqrt(-2 * math.Log(1-d[j]))
			// 2.0f * c10::pi<double> * u2, all in double.
			theta := 2 * math.Pi * d[j+8]
			d[j] = r * math.Cos(theta)
			d[j+8] = r * math.Sin(theta)
		}
	}
	for i := 0; i+16 <= n; i += 16 {
		block(out[i : i+16])
	}
	if n%16 != 0 {
		tail := out[n-16:]
		for i := range tail {
			tail[i] = g.uniform64()
		}
		block(tail)
	}
	return out
}

// LatentChannels is the number of channels of the FLUX latent.
const LatentChannels = 16

// NoiseShape is the shape get_noise draws for an image of the given pixel
// size: (numSamples, 16, 2*ceil(height/16), 2*ceil(width/16)).
func NoiseShape(numSamples, height, width int) ([4]int, error) {
	if numSamples < 1 || height < 1 || width < 1 {
		return [4]int{}, fmt.Errorf("noise shape: need positive sizes, got %d samples of %dx%d px", numSamples, width, height)
	}
	return [4]int{numSamples, LatentChannels, 2 * ceilDiv(height, 16), 2 * ceilDiv(width, 16)}, nil
}

// GetNoise is flux.sampling.get_noise on the CPU generator in float32:
// torch.randn(numSamples, 16, 2*ceil(height/16), 2*ceil(width/16),
// generator=torch.Generator("cpu").manual_seed(seed)). Height comes before
// width, as in the reference. It returns the values and their shape.
func GetNoise(numSamples, height, width int, seed uint64, m NormalMath) ([]float32, [4]int, error) {
	shape, err := NoiseShape(numSamples, height, width)
	if err != nil {
		return nil, shape, err
	}
	n := shape[0] * shape[1] * shape[2] * shape[3]
	return NewTorchCPUGenerator(seed).RandnF32(n, m), shape, nil
}

// ParseSeed reads a seed written as a decimal integer (a JSON number, which
// may exceed 2^63): 0 to 2^64-1 as is, and negative values down to -2^63 as
// their two's complement, which is how torch's manual_seed accepts them.
func ParseSeed(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	v, ok := new(big.Int).SetString(t, 10)
	if !ok {
		return 0, fmt.Errorf("seed %q: not a decimal integer", s)
	}
	minInt64 := new(big.Int).Lsh(big.NewInt(-1), 63)
	maxUint64 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	switch {
	case v.Sign() >= 0 && v.Cmp(maxUint64) <= 0:
		return v.Uint64(), nil
	case v.Sign() < 0 && v.Cmp(minInt64) >= 0:
		return uint64(v.Int64()), nil
	}
	return 0, fmt.Errorf("seed %s: outside [-2^63, 2^64-1]", t)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
