package faceprep

import (
	"fmt"
	"math"
)

// Umeyama returns the least-squares similarity transform (rotation,
// uniform scale, translation) mapping src onto dst — Umeyama 1991, the
// estimate of skimage's SimilarityTransform (`_umeyama` with
// estimate_scale=True), in float64.
//
// With float32 inputs skimage's result carries float32 rounding;
// umeyamaNumpyF32 reproduces it (norm_crop).
func Umeyama(src, dst [][2]float64) (Affine, error) {
	n := len(src)
	if n < 2 || len(dst) != n {
		return Affine{}, fmt.Errorf("similarity estimate: need two or more point pairs, got %d and %d points", len(src), len(dst))
	}
	for i := range src {
		for k := 0; k < 2; k++ {
			if math.IsNaN(src[i][k]) || math.IsInf(src[i][k], 0) || math.IsNaN(dst[i][k]) || math.IsInf(dst[i][k], 0) {
				return Affine{}, fmt.Errorf("similarity estimate: point %d is not finite", i)
			}
		}
	}
	var sm, dm [2]float64
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			sm[k] += src[i][k]
			dm[k] += dst[i][k]
		}
	}
	for k := 0; k < 2; k++ {
		sm[k] /= float64(n)
		dm[k] /= float64(n)
	}
	// A = dst_demeanᵀ · src_demean / n (Eq. 38); Σ var(src) for the scale.
	var A [2][2]float64
	var varSum float64
	for i := 0; i < n; i++ {
		s := [2]float64{src[i][0] - sm[0], src[i][1] - sm[1]}
		d := [2]float64{dst[i][0] - dm[0], dst[i][1] - dm[1]}
		for r := 0; r < 2; r++ {
			for c := 0; c < 2; c++ {
				A[r][c] += d[r] * s[c]
			}
		}
		varSum += s[0]*s[0] + s[1]*s[1]
	}
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			A[r][c] /= float64(n)
		}
	}
	varSum /= float64(n)
	if varSum == 0 {
		return Affine{}, fmt.Errorf("similarity estimate: source points are all equal")
	}
	// Eq. 39: reflect the last axis when det(A) < 0.
	sign := [2]float64{1, 1}
	if A[0][0]*A[1][1]-A[0][1]*A[1][0] < 0 {
		sign[1] = -1
	}
	U, S, V := svd2(A)
	if S[0] == 0 {
		return Affine{}, fmt.Errorf("similarity estimate: destination points are all equal")
	}
	if S[1] <= S[0]*4*2.220446049250313e-16 {
		// Rank 1 (Eq. 43): choose the sign that keeps det(R) = det(U)·det(V).
		if (U[0][0]*U[1][1]-U[0][1]*U[1][0])*(V[0][0]*V[1][1]-V[0][1]*V[1][0]) > 0 {
			sign = [2]float64{1, 1}
		} else {
			sign = [2]float64{1, -1}
		}
	}
	// R = U·diag(sign)·V (Eq. 40), scale = (S·sign)/Σvar (Eq. 41–42).
	var R [2][2]float64
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			R[r][c] = U[r][0]*sign[0]*V[0][c] + U[r][1]*sign[1]*V[1][c]
		}
	}
	scale := (S[0]*sign[0] + S[1]*sign[1]) / varSum
	var m Affine
	for r := 0; r < 2; r++ {
		t := dm[r] - scale*(R[r][0]*sm[0]+R[r][1]*sm[1])
		m[r] = [3]float64{R[r][0] * scale, R[r][1] * scale, t}
	}
	return m, nil
}

// svd2 returns A = U·diag(S)·V for a 2×2 matrix (V as numpy returns it,
// i.e. already transposed), S descending and non-negative.
func svd2(A [2][2]float64) (U [2][2]float64, S [2]float64, V [2][2]float64) {
	// Eigenvectors of AᵀA are the right singular vectors.
	a := A[0][0]*A[0][0] + A[1][0]*A[1][0]
	b := A[0][0]*A[0][1] + A[1][0]*A[1][1]
	c := A[0][1]*A[0][1] + A[1][1]*A[1][1]
	theta := 0.5 * math.Atan2(2*b, a-c)
	cs, sn := math.Cos(theta), math.Sin(theta)
	v := [2][2]float64{{cs, sn}, {-sn, cs}}
	for i := 0; i < 2; i++ {
		// u_i = A·v_i / s_i
		ux := A[0][0]*v[i][0] + A[0][1]*v[i][1]
		uy := A[1][0]*v[i][0] + A[1][1]*v[i][1]
		s := math.Hypot(ux, uy)
		S[i] = s
		switch {
		case s > 0:
			U[0][i], U[1][i] = ux/s, uy/s
		case i == 1: // complete an orthonormal basis
			U[0][1], U[1][1] = -U[1][0], U[0][0]
		default:
			U[0][0], U[1][0] = 1, 0
		}
		V[i] = v[i]
	}
	if S[1] > S[0] {
		S[0], S[1] = S[1], S[0]
		V[0], V[1] = V[1], V[0]
		U[0][0], U[0][1] = U[0][1], U[0][0]
		U[1][0], U[1][1] = U[1][1], U[1][0]
		if S[1] == 0 { // the zero column came first: recomplete the basis
			U[0][1], U[1][1] = -U[1][0], U[0][0]
		}
	}
	return U, S, V
}
