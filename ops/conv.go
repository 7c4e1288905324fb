package ops

import (
	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Conv2D is torch's conv2d (cross-correlation) as ref.Conv2D states it:
// x [N, C, H, W], w [O, C/groups, kh, kw] (any float type, N = O rows of
// K = C/groups·kh·kw), bias [O] or nil, out [N, O, OH, OW].
//
// Per sample and group it is the product out[o, q] = Σ_t w[o, t]·X[q, t]
// over taps t = (c, ky, kx) and output pixels q, X the image patches
// (im2col). The patches are never materialised: the right operand's
// packing routine reads them from the image block by block (an implicit
// im2col), so memory stays that of the GEMM's packing buffers. Work is
// split over the cores by output pixels.
func Conv2D(out, x []float32, w Matrix, bias []float32, n, c, h, wd, o, kh, kw int, opt backend.ConvOptions) {
	opt = opt.Normalized()
	g := opt.Groups
	cg, og := c/g, o/g
	kk := cg * kh * kw
	geo := convGeom{
		h: h, w: wd, kh: kh, kw: kw,
		oh: backend.ConvOutSize(h, kh, opt.Stride[0], opt.Pad[0], opt.Pad[2], opt.Dilation[0], false),
		ow: backend.ConvOutSize(wd, kw, opt.Stride[1], opt.Pad[1], opt.Pad[3], opt.Dilation[1], false),
		sy: opt.Stride[0], sx: opt.Stride[1], dy: opt.Dilation[0], dx: opt.Dilation[1],
		py: opt.Pad[0], px: opt.Pad[1],
	}
	pix := geo.oh * geo.ow
	if pix == 0 || o == 0 {
		return
	}
	// the weight is the left operand, widened once (it is small)
	wf := w.F32
	if w.DType != dtype.F32 {
		wf = make([]float32, o*kk)
		dtype.ToF32(w.DType, w.Raw[:o*kk*w.DType.Size()], wf)
	}
	for ni := range n {
		for gi := range g {
			dst := out[(ni*o+gi*og)*pix : (ni*o+(gi+1)*og)*pix]
			for oc := range og {
				row := dst[oc*pix : (oc+1)*pix]
				if bias != nil {
					for i := range row {
						row[i] = bias[gi*og+oc]
					}
				} else {
					clear(row)
				}
			}
			if kk == 0 {
				continue
			}
			img := x[(ni*c+gi*cg)*h*wd : (ni*c+(gi+1)*cg)*h*wd]
			wg := wf[gi*og*kk : (gi+1)*og*kk]
			tiles := (pix + nr - 1) / nr
			workers := min(Workers, tiles)
			if 2*og*kk*pix < 1<<20 {
				workers = 1
			}
			Parallel(workers, 1, func(lo, hi int) {
				for wi := lo; wi < hi; wi++ {
					q0, q1 := tiles*wi/workers*nr, min(pix, tiles*(wi+1)/workers*nr)
					gemmCore(dst, pix, wg, kk, 0, og, q0, q1, kk, func(d []float32, j0, nn, p0, kk int) {
						geo.pack(d, img, j0, nn, p0, kk)
					})
				}
			})
		}
	}
}

// convGeom is the geometry of one convolution plane.
type convGeom struct {
	h, w, kh, kw, oh, ow int
	sy, sx, dy, dx       int // strides and dilations
	py, px               int // top and left padding
}

// pack writes the patches of output pixels [j0, j0+nn) at taps
// [p0, p0+kk) in packB's layout: dst[jr·kk + nr·p + j] is the input
// value under tap p0+p for pixel j0+jr+j (0 in the padding). img holds
// the group's input planes.
func (g *convGeom) pack(dst, img []float32, j0, nn, p0, kk int) {
	plane := g.h * g.w
	var iy0, ix0 [nr]int
	for jr := 0; jr < nn; jr += nr {
		panel := dst[jr*kk : (jr+nr)*kk]
		cols := min(nr, nn-jr)
		q0 := j0 + jr
		for j := range cols {
			q := q0 + j
			iy0[j] = q/g.ow*g.sy - g.py
			ix0[j] = q%g.ow*g.sx - g.px
		}
		// all nr pixels in one output row at stride 1: each tap reads nr
		// consecutive input values
		run := g.sx == 1 && cols == nr && q0%g.ow+nr <= g.ow
		t := p0
		ic, ky, kx := t/(g.kh*g.kw), t/g.kw%g.kh, t%g.kw
		for p := range kk {
			out := panel[nr*p : nr*p+nr]
			src := img[ic*plane : (ic+1)*plane]
			oy, ox := ky*g.dy, kx*g.dx
			iy, ix := iy0[0]+oy, ix0[0]+ox
			if run && iy >= 0 && iy < g.h && ix >= 0 && ix+nr <= g.w {
				copy(out, src[iy*g.w+ix:iy*g.w+ix+nr])
			} else {
				for j := range nr {
					v := float32(0)
					if j < cols {
						iy, ix := iy0[j]+oy, ix0[j]+ox
						if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
							v = src[iy*g.w+ix]
						}
					}
					out[j] = v
				}
			}
			if kx++; kx == g.kw {
				kx = 0
				if ky++; ky == g.kh {
					ky = 0
					ic++
				}
			}
		}
	}
}
