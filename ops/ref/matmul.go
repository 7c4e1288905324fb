package ref

// MatMulNT computes c = a·bᵀ for a [M, K], b [N, K], c [M, N].
func MatMulNT(c, a, b []float32, m, n, k int) {
	for i := range m {
		ai := a[i*k : i*k+k]
		for j := range n {
			bj := b[j*k : j*k+k]
			var s float64
			for p := range k {
				s += float64(ai[p]) * float64(bj[p])
			}
			c[i*n+j] = float32(s)
		}
	}
}
