package faceprep

import (
	"fmt"
	"math"
)

// Umeyama returns the least-squares similarity transform (rotation,
// uniform scale, translation; no reflection unless the data demand it)
// mapping src onto dst: Umeyama 1991, as skimage's
// SimilarityTransform.estimate computes it (`_umeyama` with
// estimate_scale=True), in float64.
func Umeyama(src, dst [][2]float64) (Affine, error) {
	return umeyama(src, dst, false)
}

// UmeyamaF32 is Umeyama on float32 point sets, following the precision of
// skimage when both arrays are float32 (insightface's norm_crop: SCRFD
// landmarks and the float32 ArcFace template): means, centring, the
// cross-covariance and the variances are float32, the SVD factors are
// float32, the rest float64. Results differ from the float64 estimate by
// ~1e-5, which moves a few warped pixels.
func UmeyamaF32(src, dst [][2]float32) (Affine, error) {
	s := make([][2]float64, len(src))
	d := make([][2]float64, len(dst))
	for i := range src {
		s[i] = [2]float64{float64(src[i][0]), float64(src[i][1])}
	}
	for i := range dst {
		d[i] = [2]float64{float64(dst[i][0]), float64(dst[i][1])}
	}
	return umeyama(s, d, true)
}

// prec is the working precision of an emulated numpy computation: true
// rounds every intermediate to float32.
type prec bool

func (p prec) r(v float64) float64 {
	if p {
		return float64(float32(v))
	}
	return v
}

func umeyama(src, dst [][2]float64, single bool) (Affine, error) {
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
	p := prec(single)
	// Means (numpy sums along axis 0 in order, then divides).
	var sm, dm [2]float64
	for k := 0; k < 2; k++ {
		var ss, ds float64
		for i := 0; i < n; i++ {
			ss = p.r(ss + src[i][k])
			ds = p.r(ds + dst[i][k])
		}
		sm[k] = p.r(ss / float64(n))
		dm[k] = p.r(ds / float64(n))
	}
	sd := make([][2]float64, n)
	dd := make([][2]float64, n)
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			sd[i][k] = p.r(src[i][k] - sm[k])
			dd[i][k] = p.r(dst[i][k] - dm[k])
		}
	}
	// A = dst_demeanᵀ · src_demean / n (Eq. 38).
	var A [2][2]float64
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			var s float64
			for i := 0; i < n; i++ {
				s = p.r(s + p.r(dd[i][r]*sd[i][c]))
			}
			A[r][c] = p.r(s / float64(n))
		}
	}
	// Eq. 39: reflect the last axis when det(A) < 0.
	dsign := [2]float64{1, 1}
	detA := A[0][0]*A[1][1] - A[0][1]*A[1][0]
	if detA < 0 {
		dsign[1] = -1
	}
	U, S, V := svd2(A)
	if single {
		for r := 0; r < 2; r++ {
			S[r] = p.r(S[r])
			for c := 0; c < 2; c++ {
				U[r][c], V[r][c] = p.r(U[r][c]), p.r(V[r][c])
			}
		}
	}
	rank := 0
	tol := math.Max(S[0], S[1]) * 2 * eps(single)
	for _, s := range S {
		if s > tol {
			rank++
		}
	}
	if rank == 0 {
		return Affine{}, fmt.Errorf("similarity estimate: points are degenerate (all equal)")
	}
	// T = U·diag(d)·V (Eq. 40, 43); with rank 1 the sign is chosen so that
	// det(T) > 0.
	dd2 := dsign
	if rank == 1 {
		detU := U[0][0]*U[1][1] - U[0][1]*U[1][0]
		detV := V[0][0]*V[1][1] - V[0][1]*V[1][0]
		if detU*detV > 0 {
			dd2 = [2]float64{1, 1}
		} else {
			dd2 = [2]float64{1, -1}
		}
	}
	var R [2][2]float64
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			// numpy multiplies float32 matrices in float32.
			R[r][c] = p.r(p.r(U[r][0]*dd2[0]*V[0][c]) + p.r(U[r][1]*dd2[1]*V[1][c]))
		}
	}
	// Eq. 41–42: scale = (S·d) / Σ var(src).
	varSum := varianceSum(sd, n, p)
	scale := 1 / varSum * (S[0]*dsign[0] + S[1]*dsign[1])
	var m Affine
	for r := 0; r < 2; r++ {
		t := dm[r] - scale*(R[r][0]*sm[0]+R[r][1]*sm[1])
		m[r] = [3]float64{R[r][0] * scale, R[r][1] * scale, t}
	}
	return m, nil
}

// varianceSum is src_demean.var(axis=0).sum() at precision p: numpy's
// var subtracts the column mean again (≈0 after centring, not exactly),
// squares, sums in order, divides by n; then the two variances are added.
func varianceSum(sd [][2]float64, n int, p prec) float64 {
	var total float64
	for k := 0; k < 2; k++ {
		var s float64
		for i := 0; i < n; i++ {
			s = p.r(s + sd[i][k])
		}
		mean := p.r(s / float64(n))
		var q float64
		for i := 0; i < n; i++ {
			x := p.r(sd[i][k] - mean)
			q = p.r(q + p.r(x*x))
		}
		total = p.r(total + p.r(q/float64(n)))
	}
	return total
}

func eps(single bool) float64 {
	if single {
		return 1.1920929e-07
	}
	return 2.220446049250313e-16
}

// svd2 returns A = U·diag(S)·V for a 2×2 matrix (V as numpy returns it,
// i.e. already transposed), S descending and non-negative.
func svd2(A [2][2]float64) (U [2][2]float64, S [2]float64, V [2][2]float64) {
	// Eigen-decompose AᵀA = Vᵀ diag(S²) V.
	a := A[0][0]*A[0][0] + A[1][0]*A[1][0]
	b := A[0][0]*A[0][1] + A[1][0]*A[1][1]
	c := A[0][1]*A[0][1] + A[1][1]*A[1][1]
	theta := 0.5 * math.Atan2(2*b, a-c)
	cs, sn := math.Cos(theta), math.Sin(theta)
	// Columns of the right singular matrix: v1 = (cs, sn), v2 = (-sn, cs).
	v := [2][2]float64{{cs, sn}, {-sn, cs}}
	for i := 0; i < 2; i++ {
		// u_i = A v_i / s_i
		ux := A[0][0]*v[i][0] + A[0][1]*v[i][1]
		uy := A[1][0]*v[i][0] + A[1][1]*v[i][1]
		s := math.Hypot(ux, uy)
		S[i] = s
		if s > 0 {
			U[0][i], U[1][i] = ux/s, uy/s
		} else if i == 1 { // complete an orthonormal basis
			U[0][1], U[1][1] = -U[1][0], U[0][0]
		} else {
			U[0][0], U[1][0] = 1, 0
		}
		V[i] = v[i]
	}
	if S[1] > S[0] {
		S[0], S[1] = S[1], S[0]
		V[0], V[1] = V[1], V[0]
		U[0][0], U[0][1] = U[0][1], U[0][0]
		U[1][0], U[1][1] = U[1][1], U[1][0]
	}
	return U, S, V
}
