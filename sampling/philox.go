package sampling

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// philox4x32 is the Philox4x32-10 counter-based generator of Salmon et al.
// ("Parallel random numbers: as easy as 1, 2, 3", SC 2011), the engine of
// cuRAND's curandStatePhilox4_32_10_t and so of torch's CUDA generator:
// ten rounds of two 32x32->64-bit multiplications over a 128-bit counter,
// with the 64-bit key bumped by the Weyl constants between rounds.
func philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	const (
		m0 = 0xD2511F53
		m1 = 0xCD9E8D57
		w0 = 0x9E3779B9 // golden ratio
		w1 = 0xBB67AE85 // sqrt(3) - 1
	)
	for r := 0; r < 10; r++ {
		if r > 0 {
			key[0] += w0
			key[1] += w1
		}
		hi0, lo0 := bits.Mul32(m0, ctr[0])
		hi1, lo1 := bits.Mul32(m1, ctr[2])
		ctr = [4]uint32{hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0}
	}
	return ctr
}

// curandPhilox is cuRAND's curandStatePhilox4_32_10_t: a 128-bit counter,
// a 64-bit key (the seed), the block of four outputs at the counter and the
// position (0..3) of the next word inside it.
type curandPhilox struct {
	ctr    [4]uint32
	key    [2]uint32
	output [4]uint32
	state  int
}

// newCurandPhilox is curand_init(seed, subsequence, offset): the key is the
// seed, the subsequence goes to the high half of the counter (each thread
// of a kernel its own), the offset (in 32-bit words) to the low half.
func newCurandPhilox(seed, subsequence, offset uint64) *curandPhilox {
	s := &curandPhilox{key: [2]uint32{uint32(seed), uint32(seed >> 32)}}
	s.incrHi(subsequence)
	s.output = philox4x32(s.ctr, s.key)
	s.state += int(offset & 3)
	n := offset / 4
	if s.state > 3 {
		n++
		s.state -= 4
	}
	s.incr(n)
	s.output = philox4x32(s.ctr, s.key)
	return s
}

// incr adds n to the low 64 bits of the counter, carrying into the high half.
func (s *curandPhilox) incr(n uint64) {
	lo, carry := bits.Add32(s.ctr[0], uint32(n), 0)
	s.ctr[0] = lo
	mid, carry := bits.Add32(s.ctr[1], uint32(n>>32), carry)
	s.ctr[1] = mid
	if carry != 0 {
		s.ctr[2]++
		if s.ctr[2] == 0 {
			s.ctr[3]++
		}
	}
}

// incrHi adds n to the high 64 bits of the counter.
func (s *curandPhilox) incrHi(n uint64) {
	z, carry := bits.Add32(s.ctr[2], uint32(n), 0)
	s.ctr[2] = z
	s.ctr[3] += uint32(n>>32) + carry
}

// next4 is curand4: four words from the current position, moving to the
// next counter value.
func (s *curandPhilox) next4() [4]uint32 {
	cur := s.output
	s.incr(1)
	s.output = philox4x32(s.ctr, s.key)
	var r [4]uint32
	for i := range r {
		if j := s.state + i; j < 4 {
			r[i] = cur[j]
		} else {
			r[i] = s.output[j-4]
		}
	}
	return r
}

// cuRAND's float constants: 2^-32, and 2^-32 * 2pi rounded to float.
const (
	curand2Pow32Inv    = float32(2.3283064e-10)
	curand2Pow32Inv2Pi = float32(curand2Pow32Inv * float32(6.2831855))
)

// boxMuller is cuRAND's _curand_box_muller: u in (0, 1] and v in (0, 2pi)
// from two words, then (s sin v, s cos v) with s = sqrt(-2 ln u). The
// device evaluates sin and cos with the __sincosf hardware approximation
// and ln with logf; here they are correctly rounded, a difference of about
// 1e-6 that rounding to bfloat16 almost always hides.
func boxMuller(x, y uint32) (float32, float32) {
	u := fma32(float32(x), curand2Pow32Inv, curand2Pow32Inv/2)
	v := fma32(float32(y), curand2Pow32Inv2Pi, curand2Pow32Inv2Pi/2)
	s := float32(math.Sqrt(float64(-2 * float32(math.Log(float64(u))))))
	return s * float32(math.Sin(float64(v))), s * float32(math.Cos(float64(v)))
}

// normal4 is curand_normal4: Box-Muller on the two halves of one curand4.
func (s *curandPhilox) normal4() [4]float32 {
	w := s.next4()
	a, b := boxMuller(w[0], w[1])
	c, d := boxMuller(w[2], w[3])
	return [4]float32{a, b, c, d}
}

// CUDADevice is what torch's CUDA random kernels read from the device to
// size their grid: the number of streaming multiprocessors and the maximum
// resident threads per SM. The noise for a seed depends on it once a
// tensor needs more blocks than the device holds at once.
type CUDADevice struct {
	Name            string
	SMs             int
	MaxThreadsPerSM int
}

// Devices the hosted FLUX services commonly run on.
var (
	CUDAH100 = CUDADevice{Name: "H100 SXM", SMs: 132, MaxThreadsPerSM: 2048}
	CUDAA100 = CUDADevice{Name: "A100", SMs: 108, MaxThreadsPerSM: 2048}
	CUDAL40S = CUDADevice{Name: "L40S", SMs: 142, MaxThreadsPerSM: 1536}
)

// torch's launch configuration for random kernels (calc_execution_policy):
// 256 threads per block, and curand_normal4 yields 4 values per call.
const (
	cudaBlockSize = 256
	cudaUnroll    = 4
)

// cudaGrid is the number of blocks torch launches for n elements.
func (d CUDADevice) grid(n int) int {
	g := (n + cudaBlockSize - 1) / cudaBlockSize
	maxBlocks := d.SMs * (d.MaxThreadsPerSM / cudaBlockSize)
	return min(g, maxBlocks)
}

// RandnCUDA draws n standard normal values as torch.randn does on a CUDA
// device with a fresh generator (torch.Generator("cuda").manual_seed(seed)):
// torch's grid-stride kernel gives thread t (one cuRAND Philox subsequence
// each, keyed by the full 64-bit seed) the elements t + (4k + i)*stride,
// i = 0..3 being the lanes of its k-th curand_normal4, with stride the
// number of threads launched. With bf16 the values are rounded to bfloat16
// (nearest even), as torch.randn(..., dtype=torch.bfloat16) stores them.
//
// The Philox engine is checked against the Random123 known-answer vectors;
// the kernel layout follows torch's source (DistributionTemplates.h) but
// has not been compared with values from a real GPU, and the device's
// approximate sin/cos/log can move a float32 value by about 1e-6.
func RandnCUDA(seed uint64, n int, dev CUDADevice, bf16 bool) ([]float32, error) {
	if n < 0 {
		return nil, fmt.Errorf("randn cuda: negative size %d", n)
	}
	if dev.SMs < 1 || dev.MaxThreadsPerSM < cudaBlockSize {
		return nil, fmt.Errorf("randn cuda: device %q with %d SMs of %d threads cannot run %d-thread blocks",
			dev.Name, dev.SMs, dev.MaxThreadsPerSM, cudaBlockSize)
	}
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	stride := dev.grid(n) * cudaBlockSize
	for t := 0; t < stride && t < n; t++ {
		st := newCurandPhilox(seed, uint64(t), 0)
		for base := t; base < n; base += cudaUnroll * stride {
			r := st.normal4()
			for i, v := range r {
				if e := base + i*stride; e < n {
					out[e] = v
				}
			}
		}
	}
	if bf16 {
		for i, v := range out {
			out[i] = dtype.BF16ToF32(dtype.F32ToBF16(v))
		}
	}
	return out, nil
}

// GetNoiseCUDA is get_noise on a CUDA device: the shape of NoiseShape,
// drawn by RandnCUDA (bf16 as the PuLID app requests it).
func GetNoiseCUDA(numSamples, height, width int, seed uint64, dev CUDADevice, bf16 bool) ([]float32, [4]int, error) {
	shape, err := NoiseShape(numSamples, height, width)
	if err != nil {
		return nil, shape, err
	}
	v, err := RandnCUDA(seed, shape[0]*shape[1]*shape[2]*shape[3], dev, bf16)
	return v, shape, err
}
