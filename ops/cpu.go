package ops

import "github.com/klauspost/cpuid/v2"

// Features describes the SIMD the kernels may use on this machine.
type Features struct {
	AVX2, FMA3, AVX512F, AVX512BF16, AVX512VNNI bool
}

// CPU is the detected feature set.
var CPU = Features{
	AVX2:       cpuid.CPU.Supports(cpuid.AVX2),
	FMA3:       cpuid.CPU.Supports(cpuid.FMA3),
	AVX512F:    cpuid.CPU.Supports(cpuid.AVX512F),
	AVX512BF16: cpuid.CPU.Supports(cpuid.AVX512BF16),
	AVX512VNNI: cpuid.CPU.Supports(cpuid.AVX512VNNI),
}

// Describe names the processor and the features in use.
func Describe() string {
	s := cpuid.CPU.BrandName
	for _, f := range []struct {
		on   bool
		name string
	}{{CPU.AVX2, "avx2"}, {CPU.FMA3, "fma"}, {CPU.AVX512F, "avx512f"}, {CPU.AVX512BF16, "avx512_bf16"}, {CPU.AVX512VNNI, "avx512_vnni"}} {
		if f.on {
			s += " " + f.name
		}
	}
	return s + "; kernel " + kernelName
}
