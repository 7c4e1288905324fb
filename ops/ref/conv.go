package ref

import (
	"math"

	"github.com/fluxpulid/fluxpulid/backend"
)

// Conv2D is torch's conv2d: x [N, C, H, W], w [O, C/groups, kh, kw],
// bias [O] or nil, out [N, O, OH, OW].
func Conv2D(out, x, w, bias []float32, n, c, h, wd, o, kh, kw int, opt backend.ConvOptions) {
	opt = opt.Normalized()
	oh := backend.ConvOutSize(h, kh, opt.Stride[0], opt.Pad[0], opt.Pad[2], opt.Dilation[0], false)
	ow := backend.ConvOutSize(wd, kw, opt.Stride[1], opt.Pad[1], opt.Pad[3], opt.Dilation[1], false)
	cg, og := c/opt.Groups, o/opt.Groups
	for ni := range n {
		for oc := range o {
			g := oc / og
			for y := range oh {
				for xo := range ow {
					var s float64
					if bias != nil {
						s = float64(bias[oc])
					}
					for ic := range cg {
						for ky := range kh {
							iy := y*opt.Stride[0] - opt.Pad[0] + ky*opt.Dilation[0]
							if iy < 0 || iy >= h {
								continue
							}
							for kx := range kw {
								ix := xo*opt.Stride[1] - opt.Pad[1] + kx*opt.Dilation[1]
								if ix < 0 || ix >= wd {
									continue
								}
								s += float64(x[((ni*c+g*cg+ic)*h+iy)*wd+ix]) * float64(w[((oc*cg+ic)*kh+ky)*kw+kx])
							}
						}
					}
					out[((ni*o+oc)*oh+y)*ow+xo] = float32(s)
				}
			}
		}
	}
}

// Pool2D is max or average pooling of x [N·C, H, W] planes.
func Pool2D(out, x []float32, planes, h, w int, opt backend.PoolOptions) {
	opt = opt.Normalized()
	oh := backend.ConvOutSize(h, opt.Kernel[0], opt.Stride[0], opt.Pad[0], opt.Pad[2], 1, opt.CeilMode)
	ow := backend.ConvOutSize(w, opt.Kernel[1], opt.Stride[1], opt.Pad[1], opt.Pad[3], 1, opt.CeilMode)
	for p := range planes {
		for y := range oh {
			for xo := range ow {
				y0 := y*opt.Stride[0] - opt.Pad[0]
				x0 := xo*opt.Stride[1] - opt.Pad[1]
				m := math.Inf(-1)
				var s float64
				cnt := 0
				for ky := range opt.Kernel[0] {
					for kx := range opt.Kernel[1] {
						iy, ix := y0+ky, x0+kx
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						v := float64(x[(p*h+iy)*w+ix])
						m = math.Max(m, v)
						s += v
						cnt++
					}
				}
				var r float64
				if opt.Kind == backend.MaxPool {
					r = m
				} else {
					div := cnt
					if opt.CountPad {
						// torch counts the window clipped to the padded input
						hEnd := min(y0+opt.Kernel[0], h+opt.Pad[2])
						wEnd := min(x0+opt.Kernel[1], w+opt.Pad[3])
						div = (hEnd - y0) * (wEnd - x0)
					}
					r = s / float64(div)
				}
				out[(p*oh+y)*ow+xo] = float32(r)
			}
		}
	}
}

// Resize2D resamples planes of [H, W] to [oh, ow] as torch's interpolate
// (no antialiasing).
func Resize2D(out, x []float32, planes, h, w, oh, ow int, mode backend.ResizeMode, alignCorners bool) {
	for p := range planes {
		src := x[p*h*w : (p+1)*h*w]
		dst := out[p*oh*ow : (p+1)*oh*ow]
		for y := range oh {
			for xo := range ow {
				dst[y*ow+xo] = sample(src, h, w, y, xo, oh, ow, mode, alignCorners)
			}
		}
	}
}

func srcCoord(o, in, out int, alignCorners, clampNeg bool) float64 {
	if alignCorners {
		if out <= 1 {
			return 0
		}
		return float64(o) * float64(in-1) / float64(out-1)
	}
	s := (float64(o)+0.5)*float64(in)/float64(out) - 0.5
	if clampNeg && s < 0 {
		s = 0
	}
	return s
}

func cubic(t float64) [4]float64 {
	const a = -0.75
	c1 := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }
	c2 := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a }
	return [4]float64{c2(t + 1), c1(t), c1(1 - t), c2(2 - t)}
}

func sample(src []float32, h, w, y, x, oh, ow int, mode backend.ResizeMode, ac bool) float32 {
	at := func(r, c int) float64 {
		r = min(max(r, 0), h-1)
		c = min(max(c, 0), w-1)
		return float64(src[r*w+c])
	}
	switch mode {
	case backend.Nearest:
		r := min(int(math.Floor(float64(y)*float64(h)/float64(oh))), h-1)
		c := min(int(math.Floor(float64(x)*float64(w)/float64(ow))), w-1)
		return float32(at(r, c))
	case backend.Bilinear:
		sy, sx := srcCoord(y, h, oh, ac, true), srcCoord(x, w, ow, ac, true)
		y0, x0 := int(sy), int(sx)
		ly, lx := sy-float64(y0), sx-float64(x0)
		y1, x1 := min(y0+1, h-1), min(x0+1, w-1)
		return float32((1-ly)*((1-lx)*at(y0, x0)+lx*at(y0, x1)) + ly*((1-lx)*at(y1, x0)+lx*at(y1, x1)))
	default:
		sy, sx := srcCoord(y, h, oh, ac, false), srcCoord(x, w, ow, ac, false)
		fy, fx := math.Floor(sy), math.Floor(sx)
		wy, wx := cubic(sy-fy), cubic(sx-fx)
		var s float64
		for i := range 4 {
			var row float64
			for j := range 4 {
				row += wx[j] * at(int(fy)-1+i, int(fx)-1+j)
			}
			s += wy[i] * row
		}
		return float32(s)
	}
}
