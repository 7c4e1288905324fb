//go:build !amd64 || purego

package ops

func hasSIMDDot() bool { return false }

// Never called: simdDot is false without assembly.
func dotF32AVX2(a, b *float32, n int) float32          { panic("unreachable") }
func dotBF16AVX2(a *float32, b *uint16, n int) float32 { panic("unreachable") }
