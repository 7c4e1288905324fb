//go:build !purego

package ops

//go:noescape
func expAVX2(dst, src *float32, n int)

//go:noescape
func expSubSumAVX2(x *float32, n int, m float32) float32

//go:noescape
func siluAVX2(dst, src *float32, n int)

//go:noescape
func geluTanhAVX2(dst, src *float32, n int)

//go:noescape
func scaleMaxAVX2(x *float32, n int, s float32) float32

func hasSIMDExp() bool { return CPU.AVX2 && CPU.FMA3 }
