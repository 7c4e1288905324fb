// Package ops holds the fast CPU kernels: cache-blocked, parallel over the
// cores, with SIMD micro-kernels chosen at start-up from the CPU's
// features (klauspost/cpuid). Each kernel computes exactly what its
// counterpart in ops/ref states and is tested against it on awkward sizes.
package ops
