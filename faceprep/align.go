package faceprep

import (
	"fmt"
	"math"
	"slices"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// FFHQTemplate512 is facexlib's 5-point face template for a 512×512
// aligned face (FaceRestoreHelper.face_template, float64).
var FFHQTemplate512 = [5][2]float64{
	{192.98138, 239.94708}, {318.90277, 240.1936}, {256.63416, 314.01935},
	{201.26117, 371.41043}, {313.08905, 371.15118},
}

// AlignBorderBGR is the constant facexlib pads aligned faces with,
// (135, 133, 132) in BGR channel order.
var AlignBorderBGR = [3]uint8{135, 133, 132}

// AlignWarpFace is facexlib FaceRestoreHelper.align_warp_face for one face
// with upscale_factor 1 and crop_ratio (1, 1): the landmarks are mapped
// onto FFHQTemplate512·faceSize/512 by cv2.estimateAffinePartial2D (LMEDS)
// and the BGR image is warped to faceSize×faceSize with border
// AlignBorderBGR. It returns the aligned face, the matrix and the LMEDS
// inlier mask.
func AlignWarpFace(imgBGR *imageio.Image, lmk Landmarks, faceSize int) (*imageio.Image, Affine, []bool, error) {
	if faceSize <= 0 {
		return nil, Affine{}, nil, fmt.Errorf("align face: face size %d is not positive", faceSize)
	}
	from := make([][2]float32, 5)
	to := make([][2]float32, 5)
	k := float64(faceSize) / 512
	for i := range lmk {
		from[i] = lmk[i]
		// OpenCV converts the float64 template to float32.
		to[i] = [2]float32{float32(FFHQTemplate512[i][0] * k), float32(FFHQTemplate512[i][1] * k)}
	}
	m, inliers, err := EstimateAffinePartial2D(from, to)
	if err != nil {
		return nil, Affine{}, nil, fmt.Errorf("align face: %w", err)
	}
	out, err := WarpAffine(imgBGR, m, faceSize, faceSize, AlignBorderBGR)
	if err != nil {
		return nil, Affine{}, nil, fmt.Errorf("align face: %w", err)
	}
	return out, m, inliers, nil
}

// EstimateAffinePartial2D is cv2.estimateAffinePartial2D(from, to,
// method=cv2.LMEDS) with OpenCV's defaults (confidence 0.99, 2000
// iterations at most, 10 refinement iterations): a 4-degree-of-freedom
// similarity [[a, -b, tx], [b, a, ty]].
//
// As OpenCV does it: least-median-of-squares over random 2-point subsets
// drawn by OpenCV's RNG with its fixed seed, errors in float32; points
// within 2.5·1.4826·(1+5/(n-2))·√(best median) are inliers; then
// Levenberg–Marquardt on the inliers refines (a, b, tx, ty).
func EstimateAffinePartial2D(from, to [][2]float32) (Affine, []bool, error) {
	n := len(from)
	if n < 2 || len(to) != n {
		return Affine{}, nil, fmt.Errorf("partial affine estimate: need two or more point pairs, got %d and %d points", len(from), len(to))
	}
	for i := range from {
		for k := 0; k < 2; k++ {
			if !finite32(from[i][k]) || !finite32(to[i][k]) {
				return Affine{}, nil, fmt.Errorf("partial affine estimate: point %d is not finite", i)
			}
		}
	}
	m, inliers, ok := lmedsPartial(from, to)
	if !ok {
		return Affine{}, nil, fmt.Errorf("partial affine estimate: no consistent model (degenerate points)")
	}
	if n > 2 {
		var src, dst [][2]float32
		for i := range from {
			if inliers[i] {
				src = append(src, from[i])
				dst = append(dst, to[i])
			}
		}
		p := [4]float64{m[0][0], m[1][0], m[0][2], m[1][2]}
		p = refinePartialLM(src, dst, p, 10)
		m = Affine{{p[0], -p[1], p[2]}, {p[1], p[0], p[3]}}
	}
	return m, inliers, nil
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

// cvRNG is OpenCV's cv::RNG: a multiply-with-carry generator.
type cvRNG uint64

func (r *cvRNG) next() uint32 {
	s := uint64(*r)
	s = uint64(uint32(s))*4164903690 + s>>32
	*r = cvRNG(s)
	return uint32(s)
}

// uniform is RNG::uniform(a, b) for ints: a + next() mod (b-a).
func (r *cvRNG) uniform(a, b int) int {
	if a == b {
		return a
	}
	return int(r.next()%uint32(b-a)) + a
}

// partialFromPair is AffinePartial2DEstimatorCallback::runKernel: the
// similarity through two point pairs, solved in closed form.
func partialFromPair(f0, f1, t0, t1 [2]float32) Affine {
	x1, y1 := float64(f0[0]), float64(f0[1])
	x2, y2 := float64(f1[0]), float64(f1[1])
	X1, Y1 := float64(t0[0]), float64(t0[1])
	X2, Y2 := float64(t1[0]), float64(t1[1])
	// float64() on every product keeps the compiler from fusing.
	d := 1 / (float64((x1-x2)*(x1-x2)) + float64((y1-y2)*(y1-y2)))
	s0 := d * (float64((X1-X2)*(x1-x2)) + float64((Y1-Y2)*(y1-y2)))
	s1 := d * (float64((Y1-Y2)*(x1-x2)) - float64((X1-X2)*(y1-y2)))
	cross := float64(x1*y2) - float64(x2*y1)
	s2 := d * (float64((Y1-Y2)*cross) - float64((float64(X1*y2)-float64(X2*y1))*(y1-y2)) - float64((float64(X1*x2)-float64(X2*x1))*(x1-x2)))
	s3 := d * (float64(-(X1-X2)*cross) - float64((float64(Y1*x2)-float64(Y2*x1))*(x1-x2)) - float64((float64(Y1*y2)-float64(Y2*y1))*(y1-y2)))
	return Affine{{s0, -s1, s2}, {s1, s0, s3}}
}

// sqErrors is Affine2DEstimatorCallback::computeError: squared
// reprojection errors with the model rounded to float32 and float32
// arithmetic throughout.
func sqErrors(m Affine, from, to [][2]float32, err []float32) {
	f0, f1, f2 := float32(m[0][0]), float32(m[0][1]), float32(m[0][2])
	f3, f4, f5 := float32(m[1][0]), float32(m[1][1]), float32(m[1][2])
	for i := range from {
		x, y := from[i][0], from[i][1]
		a := float32(float32(float32(f0*x)+float32(f1*y))+f2) - to[i][0]
		b := float32(float32(float32(f3*x)+float32(f4*y))+f5) - to[i][1]
		err[i] = float32(a*a) + float32(b*b)
	}
}

// lmedsPartial is LMeDSPointSetRegistrator::run with the 2-point partial
// affine kernel; it returns the best model and the inlier mask.
func lmedsPartial(from, to [][2]float32) (Affine, []bool, bool) {
	const modelPoints = 2
	n := len(from)
	inliers := make([]bool, n)
	if n == modelPoints {
		for i := range inliers {
			inliers[i] = true
		}
		return partialFromPair(from[0], from[1], to[0], to[1]), inliers, true
	}
	// RANSACUpdateNumIters(0.99, 0.45, 2, 2000), at least 3.
	niters := updateNumIters(0.99, 0.45, modelPoints, 2000)
	niters = max(niters, 3)
	rng := cvRNG(math.MaxUint64)
	errs := make([]float32, n)
	sorted := make([]int32, n)
	minMedian := math.MaxFloat64
	var best Affine
	for iter := 0; iter < niters; iter++ {
		// getSubset: two distinct indices (the collinearity check cannot
		// reject a pair).
		i0 := rng.uniform(0, n)
		i1 := rng.uniform(0, n)
		for i1 == i0 {
			i1 = rng.uniform(0, n)
		}
		m := partialFromPair(from[i0], from[i1], to[i0], to[i1])
		sqErrors(m, from, to, errs)
		// OpenCV takes nth_element(count/2) of the errors reinterpreted as
		// int32 (the same order as float for non-negative values).
		for i, e := range errs {
			sorted[i] = int32(math.Float32bits(e))
		}
		slices.Sort(sorted)
		median := float64(math.Float32frombits(uint32(sorted[n/2])))
		if median < minMedian {
			minMedian = median
			best = m
		}
	}
	if minMedian == math.MaxFloat64 {
		return Affine{}, nil, false
	}
	sigma := 2.5 * 1.4826 * (1 + 5.0/float64(n-modelPoints)) * math.Sqrt(minMedian)
	sigma = math.Max(sigma, 0.001)
	t := float32(sigma * sigma)
	sqErrors(best, from, to, errs)
	count := 0
	for i, e := range errs {
		inliers[i] = e <= t
		if inliers[i] {
			count++
		}
	}
	if math.IsNaN(best[0][0]) || count < modelPoints {
		return Affine{}, nil, false
	}
	return best, inliers, true
}

// updateNumIters is RANSACUpdateNumIters.
func updateNumIters(p, ep float64, modelPoints, maxIters int) int {
	num := math.Max(1-p, math.SmallestNonzeroFloat64)
	denom := 1 - math.Pow(1-ep, float64(modelPoints))
	if denom < math.SmallestNonzeroFloat64 {
		return 0
	}
	num, denom = math.Log(num), math.Log(denom)
	if denom >= 0 || -num >= float64(maxIters)*(-denom) {
		return maxIters
	}
	return int(cvRound(num / denom))
}

// refinePartialLM is OpenCV's LMSolver (calib3d levmarq.cpp, the
// pre-4.7 Balda translation) on AffinePartial2DRefineCallback: residuals
// (a·x − b·y + tx − X, b·x + a·y + ty − Y) over the inlier pairs.
func refinePartialLM(src, dst [][2]float32, x [4]float64, maxIters int) [4]float64 {
	const lx = 4
	const eps = 1.1920928955078125e-07 // FLT_EPSILON: OpenCV's epsx = epsf
	residuals := func(p [4]float64, r []float64, J [][lx]float64) {
		for i := range src {
			mx, my := float64(src[i][0]), float64(src[i][1])
			xi := float64(float64(p[0]*mx)-float64(p[1]*my)) + p[2]
			yi := float64(float64(p[1]*mx)+float64(p[0]*my)) + p[3]
			r[2*i] = xi - float64(dst[i][0])
			r[2*i+1] = yi - float64(dst[i][1])
			if J != nil {
				J[2*i] = [lx]float64{mx, -my, 1, 0}
				J[2*i+1] = [lx]float64{my, mx, 0, 1}
			}
		}
	}
	m := 2 * len(src)
	r := make([]float64, m)
	rd := make([]float64, m)
	J := make([][lx]float64, m)
	normal := func() (A [lx][lx]float64, v [lx]float64) {
		for i := 0; i < m; i++ {
			for a := 0; a < lx; a++ {
				v[a] += J[i][a] * r[i]
				for b := 0; b < lx; b++ {
					A[a][b] += J[i][a] * J[i][b]
				}
			}
		}
		return
	}
	sumSq := func(v []float64) float64 {
		s := 0.0
		for _, e := range v {
			s += e * e
		}
		return s
	}
	residuals(x, r, J)
	S := sumSq(r)
	A, v := normal()
	var D [lx]float64
	for i := 0; i < lx; i++ {
		D[i] = A[i][i]
	}
	const rlo, rhi = 0.25, 0.75
	lambda, lc := 1.0, 0.75
	for iter := 1; ; iter++ {
		Ap := A
		for i := 0; i < lx; i++ {
			Ap[i][i] += lambda * D[i]
		}
		d, ok := solveSPD(Ap, v)
		if !ok {
			break
		}
		var xd [lx]float64
		for i := range xd {
			xd[i] = x[i] - d[i]
		}
		residuals(xd, rd, nil)
		Sd := sumSq(rd)
		// dS = d·(2v − A·d): the reduction the linear model predicts.
		var dS, dv float64
		for i := 0; i < lx; i++ {
			Ad := 0.0
			for j := 0; j < lx; j++ {
				Ad += A[i][j] * d[j]
			}
			dS += d[i] * (2*v[i] - Ad)
			dv += d[i] * v[i]
		}
		den := dS
		if math.Abs(dS) <= 2.220446049250313e-16 {
			den = 1
		}
		R := (S - Sd) / den
		if R > rhi {
			lambda *= 0.5
			if lambda < lc {
				lambda = 0
			}
		} else if R < rlo {
			t := dv
			if math.Abs(t) <= 2.220446049250313e-16 {
				t = 1
			}
			nu := (Sd-S)/t + 2
			nu = math.Min(math.Max(nu, 2), 10)
			if lambda == 0 {
				inv, ok := invertSym(A)
				maxval := 2.220446049250313e-16
				if ok {
					for i := 0; i < lx; i++ {
						maxval = math.Max(maxval, math.Abs(inv[i][i]))
					}
				}
				lambda = 1 / maxval
				lc = lambda
				nu *= 0.5
			}
			lambda *= nu
		}
		if Sd < S {
			S = Sd
			x = xd
			residuals(x, r, J)
			A, v = normal()
		}
		proceed := iter < maxIters && normInf(d[:]) >= eps && normInf(r) >= eps
		if !proceed {
			break
		}
	}
	return x
}

func normInf(v []float64) float64 {
	m := 0.0
	for _, e := range v {
		m = math.Max(m, math.Abs(e))
	}
	return m
}

// solveSPD solves A·x = b for a small symmetric positive (semi)definite
// matrix by Gaussian elimination with partial pivoting.
func solveSPD(A [4][4]float64, b [4]float64) ([4]float64, bool) {
	const n = 4
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(A[r][c]) > math.Abs(A[p][c]) {
				p = r
			}
		}
		if A[p][c] == 0 {
			return b, false
		}
		A[c], A[p] = A[p], A[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := A[r][c] / A[c][c]
			for k := c; k < n; k++ {
				A[r][k] -= f * A[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [4]float64
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= A[r][k] * x[k]
		}
		x[r] = s / A[r][r]
	}
	return x, true
}

// invertSym inverts a small matrix column by column.
func invertSym(A [4][4]float64) ([4][4]float64, bool) {
	var inv [4][4]float64
	for c := 0; c < 4; c++ {
		var e [4]float64
		e[c] = 1
		col, ok := solveSPD(A, e)
		if !ok {
			return inv, false
		}
		for r := 0; r < 4; r++ {
			inv[r][c] = col[r]
		}
	}
	return inv, true
}
