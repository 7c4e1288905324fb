// Package ref holds the reference kernels: plain loops over contiguous
// row-major float32 data, written to be obviously correct rather than
// fast. They are the numerical reference every other kernel (the fast CPU
// kernels in package ops, the Vulkan shaders) is tested against, and the
// fallback of the CPU backend for ops that are not hot.
//
// Sums accumulate in float64 so the reference is at least as accurate as
// anything compared with it.
package ref
