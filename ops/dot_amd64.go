//go:build !purego

package ops

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotBF16AVX2(a *float32, b *uint16, n int) float32

func hasSIMDDot() bool { return CPU.AVX2 && CPU.FMA3 }
