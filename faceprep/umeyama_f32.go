package faceprep

import (
	"fmt"
	"math"
)

// umeyamaNumpyF32 is skimage's _umeyama as numpy evaluates it on float32
// point sets (insightface's norm_crop: float32 SCRFD landmarks, float32
// template). Numpy keeps float32 for the means, the centring, the variance
// and the cross-covariance — a BLAS sgemm, whose x86-64 kernels (OpenBLAS)
// accumulate with fused multiply-adds in index order — while
// numpy.linalg computes the SVD in float64 and returns it rounded to
// float32 (its "lite" convention); the rest is float64. Reproducing those
// roundings reproduces the reference matrix, and so its warped crop, bit
// for bit.
func umeyamaNumpyF32(src, dst [][2]float32) (Affine, error) {
	n := len(src)
	if n < 2 || len(dst) != n {
		return Affine{}, fmt.Errorf("similarity estimate: need two or more point pairs, got %d and %d points", len(src), len(dst))
	}
	for i := range src {
		for k := 0; k < 2; k++ {
			if !finite32(src[i][k]) || !finite32(dst[i][k]) {
				return Affine{}, fmt.Errorf("similarity estimate: point %d is not finite", i)
			}
		}
	}
	// src.mean(axis=0): float32 sums in row order, then a float32 division.
	mean := func(p [][2]float32) (m [2]float32) {
		for k := 0; k < 2; k++ {
			s := p[0][k]
			for i := 1; i < n; i++ {
				s += p[i][k]
			}
			m[k] = s / float32(n)
		}
		return m
	}
	sm, dm := mean(src), mean(dst)
	sd := make([][2]float32, n)
	dd := make([][2]float32, n)
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			sd[i][k] = src[i][k] - sm[k]
			dd[i][k] = dst[i][k] - dm[k]
		}
	}
	// A = dst_demeanᵀ @ src_demean / num (sgemm, then a float32 division).
	var A [2][2]float64
	col := func(p [][2]float32, k int) []float32 {
		c := make([]float32, n)
		for i := range p {
			c[i] = p[i][k]
		}
		return c
	}
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			A[r][c] = float64(fmaChain32(col(dd, r), col(sd, c)) / float32(n))
		}
	}
	// det(A) and the SVD in float64, the factors rounded to float32.
	sign := [2]float64{1, 1}
	if A[0][0]*A[1][1]-A[0][1]*A[1][0] < 0 {
		sign[1] = -1
	}
	U, S, V := svd2(A)
	for r := 0; r < 2; r++ {
		S[r] = float64(float32(S[r]))
		for c := 0; c < 2; c++ {
			U[r][c], V[r][c] = float64(float32(U[r][c])), float64(float32(V[r][c]))
		}
	}
	// matrix_rank: singular values above S.max()·max(M, N)·eps(float32).
	tol := S[0] * 2 * 1.1920929e-07
	switch {
	case S[0] <= tol:
		return Affine{}, fmt.Errorf("similarity estimate: points are degenerate")
	case S[1] <= tol:
		if (U[0][0]*U[1][1]-U[0][1]*U[1][0])*(V[0][0]*V[1][1]-V[0][1]*V[1][0]) > 0 {
			sign = [2]float64{1, 1}
		} else {
			sign = [2]float64{1, -1}
		}
	}
	// U @ diag(d) @ V in float64: products of float32 factors are exact,
	// one rounding per element.
	var R [2][2]float64
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			R[r][c] = float64(U[r][0]*sign[0]*V[0][c]) + float64(U[r][1]*sign[1]*V[1][c])
		}
	}
	// src_demean.var(axis=0).sum() in float32; 1.0 / that is float64.
	var varSum float32
	for k := 0; k < 2; k++ {
		c := col(sd, k)
		m := c[0]
		for _, v := range c[1:] {
			m += v
		}
		m /= float32(n)
		var q float32
		for i, v := range c {
			x := v - m
			if i == 0 {
				q = float32(x * x)
			} else {
				q += float32(x * x)
			}
		}
		varSum += q / float32(n)
	}
	if varSum == 0 {
		return Affine{}, fmt.Errorf("similarity estimate: source points are all equal")
	}
	scale := 1 / float64(varSum) * (S[0]*sign[0] + S[1]*sign[1])
	var m Affine
	for r := 0; r < 2; r++ {
		rs := float64(R[r][0]*float64(sm[0])) + float64(R[r][1]*float64(sm[1]))
		m[r] = [3]float64{R[r][0] * scale, R[r][1] * scale, float64(dm[r]) - float64(scale*rs)}
	}
	return m, nil
}

// fmaChain32 is a float32 dot product accumulated in index order with
// fused multiply-adds, as OpenBLAS's sgemm kernels do.
func fmaChain32(a, b []float32) float32 {
	var acc float32
	for i := range a {
		acc = float32(math.FMA(float64(a[i]), float64(b[i]), float64(acc)))
	}
	return acc
}
