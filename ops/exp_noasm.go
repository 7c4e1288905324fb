//go:build !amd64 || purego

package ops

func hasSIMDExp() bool { return false }

// Never called: simdExp is false without assembly.
func expAVX2(dst, src *float32, n int)                   { panic("unreachable") }
func expSubSumAVX2(x *float32, n int, m float32) float32 { panic("unreachable") }
func siluAVX2(dst, src *float32, n int)                  { panic("unreachable") }
func geluTanhAVX2(dst, src *float32, n int)              { panic("unreachable") }
func scaleMaxAVX2(x *float32, n int, s float32) float32  { panic("unreachable") }
