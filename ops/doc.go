// Package ops holds the fast CPU kernels: cache-blocked, parallel over the
// cores, with SIMD micro-kernels chosen at start-up from the CPU's
// features (klauspost/cpuid). Each kernel computes what its counterpart in
// ops/ref states and is tested against it on awkward sizes; each assembly
// kernel has a portable Go fallback (build tag purego, or another
// architecture) tested the same way.
//
//   - MatMul, Conv2D, Attention: one packed GEMM (gemm.go, Goto/BLIS
//     blocking) with a 6×16 AVX2+FMA micro-kernel (gemm_amd64.s). Weights
//     stay in their storage type and are widened exactly while packed, so
//     every product is float32 in, float32 accumulation, no lossy step.
//     Rows fewer than the register tile use dot products (gemv.go).
//   - exp, SiLU, GELU (tanh form), softmax: a vectorised exp (exp.go);
//     measured errors: exp ≤ 1 ulp, SiLU ≤ 2 ulp, GELU ≤ 14 ulp for
//     x ≥ −3 and a relative 4·|u|·2⁻²⁴ below (exp_test.go).
//   - MeasurePeak and BenchMatMul report the machine's peak and the
//     product's rate for the benchmarks and the command line.
package ops
