package sampling

import (
	"math"
	"testing"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// Known-answer vectors of Philox4x32-10 from Random123 (kat_vectors).
func TestPhiloxKAT(t *testing.T) {
	tests := []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, tc := range tests {
		if got := philox4x32(tc.ctr, tc.key); got != tc.want {
			t.Errorf("philox(%08x, %08x) = %08x, want %08x", tc.ctr, tc.key, got, tc.want)
		}
	}
}

// TestCurandState follows curand_init's definition: the key is the seed,
// the subsequence the high counter half, the offset counts 32-bit words.
func TestCurandState(t *testing.T) {
	const seed = 0x0123456789abcdef
	key := [2]uint32{0x89abcdef, 0x01234567}
	block := func(lo0, lo1 uint32, sub uint64) [4]uint32 {
		return philox4x32([4]uint32{lo0, lo1, uint32(sub), uint32(sub >> 32)}, key)
	}
	tests := []struct {
		name        string
		sub, offset uint64
		want        [][4]uint32
	}{
		{"start", 5, 0, [][4]uint32{block(0, 0, 5), block(1, 0, 5)}},
		{"offset of two blocks", 5, 8, [][4]uint32{block(2, 0, 5), block(3, 0, 5)}},
		{"subsequence carry", 1 << 32, 0, [][4]uint32{block(0, 0, 1<<32)}},
		{"offset carry into ctr.y", 0, 4 << 32, [][4]uint32{block(0, 1, 0)}},
	}
	for _, tc := range tests {
		s := newCurandPhilox(seed, tc.sub, tc.offset)
		for i, w := range tc.want {
			if got := s.next4(); got != w {
				t.Errorf("%s: call %d = %08x, want %08x", tc.name, i, got, w)
			}
		}
	}
	// An offset of one word shifts the stream by one word across blocks.
	s := newCurandPhilox(seed, 0, 1)
	b0, b1 := block(0, 0, 0), block(1, 0, 0)
	if got, want := s.next4(), [4]uint32{b0[1], b0[2], b0[3], b1[0]}; got != want {
		t.Errorf("offset 1: %08x, want %08x", got, want)
	}
}

// kernelReference transcribes torch's distribution_elementwise_grid_stride_kernel
// loop literally (rounded_size, linear_index, li), as a second
// implementation of the layout RandnCUDA computes.
func kernelReference(seed uint64, n int, dev CUDADevice) []float32 {
	out := make([]float32, n)
	grid := (n + cudaBlockSize - 1) / cudaBlockSize
	if m := dev.SMs * (dev.MaxThreadsPerSM / cudaBlockSize); m < grid {
		grid = m
	}
	threads := grid * cudaBlockSize
	rounded := ((n-1)/(threads*cudaUnroll) + 1) * threads * cudaUnroll
	for idx := 0; idx < threads; idx++ {
		st := newCurandPhilox(seed, uint64(idx), 0)
		for li0 := idx; li0 < rounded; li0 += threads * cudaUnroll {
			r := st.normal4()
			for ii := 0; ii < cudaUnroll; ii++ {
				if li := li0 + threads*ii; li < n {
					out[li] = r[ii]
				}
			}
		}
	}
	return out
}

func TestRandnCUDALayout(t *testing.T) {
	small := CUDADevice{Name: "one SM", SMs: 1, MaxThreadsPerSM: 1024} // 4 blocks of 256
	for _, tc := range []struct {
		n   int
		dev CUDADevice
	}{
		{1, CUDAH100}, {5, CUDAH100}, {300, CUDAH100}, {1000, small}, {1024, small},
		{5000, small}, {20000, small}, {16 * 8 * 12, CUDAA100},
	} {
		got, err := RandnCUDA(42, tc.n, tc.dev, false)
		if err != nil {
			t.Fatal(err)
		}
		want := kernelReference(42, tc.n, tc.dev)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("n %d on %s: element %d = %v, kernel loop gives %v", tc.n, tc.dev.Name, i, got[i], want[i])
			}
		}
	}
}

func TestRandnCUDAProperties(t *testing.T) {
	// The 1152x896 latent needs 1008 blocks: under the H100's 1056, over
	// the A100's 864, so the two devices give different noise.
	h, _, err := GetNoiseCUDA(1, 1152, 896, 7, CUDAH100, false)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := GetNoiseCUDA(1, 1152, 896, 7, CUDAA100, false)
	if CUDAH100.grid(len(h)) != 1008 || CUDAA100.grid(len(h)) != 864 {
		t.Fatalf("grids %d, %d", CUDAH100.grid(len(h)), CUDAA100.grid(len(h)))
	}
	if slicesEqual(h, a) {
		t.Error("H100 and A100 layouts give identical noise")
	}
	// A small latent fits both devices: identical noise.
	hs, _, _ := GetNoiseCUDA(1, 256, 256, 7, CUDAH100, false)
	as, _, _ := GetNoiseCUDA(1, 256, 256, 7, CUDAA100, false)
	if !slicesEqual(hs, as) {
		t.Error("a 256x256 latent differs between devices")
	}

	var sum, sq float64
	for _, v := range h {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean, std := sum/float64(len(h)), math.Sqrt(sq/float64(len(h)))
	if math.Abs(mean) > 0.01 || math.Abs(std-1) > 0.01 {
		t.Errorf("mean %v, std %v over %d values", mean, std, len(h))
	}

	// The CUDA generator keys Philox with all 64 bits of the seed.
	b, _, _ := GetNoiseCUDA(1, 256, 256, 7+1<<32, CUDAH100, false)
	if slicesEqual(b, hs) {
		t.Error("seeds 7 and 7+2^32 give the same CUDA noise")
	}

	// bfloat16 output: representable, and within half a bf16 ulp of float32.
	bf, _, _ := GetNoiseCUDA(1, 256, 256, 7, CUDAH100, true)
	for i, v := range bf {
		if dtype.BF16ToF32(dtype.F32ToBF16(v)) != v {
			t.Fatalf("value %d = %v is not a bfloat16", i, v)
		}
		if d := math.Abs(float64(v - hs[i])); d > math.Abs(float64(hs[i]))/256+1e-30 {
			t.Fatalf("value %d: bf16 %v vs f32 %v", i, v, hs[i])
		}
	}
	if _, err := RandnCUDA(1, 10, CUDADevice{SMs: 0, MaxThreadsPerSM: 2048}, false); err == nil {
		t.Error("device without SMs accepted")
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
