//go:build !amd64 || purego

package ops

// Without assembly the portable micro-kernel (gemm.go) is used.
