package sampling

import "fmt"

// Tensor is a dense row-major float32 array on the host, shaped as in
// PyTorch (batch first).
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor allocates a zero tensor of the given shape.
func NewTensor(shape ...int) Tensor {
	return Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// check reports a tensor whose data does not fill its shape.
func (t Tensor) check(name string, rank int) error {
	if len(t.Shape) != rank {
		return fmt.Errorf("%s: shape %v, want %d dimensions", name, t.Shape, rank)
	}
	for _, d := range t.Shape {
		if d < 1 {
			return fmt.Errorf("%s: shape %v has an empty dimension", name, t.Shape)
		}
	}
	if n := numel(t.Shape); n != len(t.Data) {
		return fmt.Errorf("%s: shape %v needs %d values, have %d", name, t.Shape, n, len(t.Data))
	}
	return nil
}

// Pack is prepare()'s rearrange "b c (h ph) (w pw) -> b (h w) (c ph pw)"
// with ph = pw = 2: a latent (B, C, H, W) becomes (B, H/2*W/2, 4C) tokens.
// Token r*(W/2) + c is the 2x2 patch at patch row r, column c (row-major);
// its feature ch*4 + ph*2 + pw is pixel (2r+ph, 2c+pw) of channel ch.
func Pack(img Tensor) (Tensor, error) {
	if err := img.check("pack: latent", 4); err != nil {
		return Tensor{}, err
	}
	b, c, h, w := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	if h%2 != 0 || w%2 != 0 {
		return Tensor{}, fmt.Errorf("pack: latent %dx%d is not a whole number of 2x2 patches", h, w)
	}
	hp, wp := h/2, w/2
	out := NewTensor(b, hp*wp, 4*c)
	i := 0
	for n := 0; n < b; n++ {
		for r := 0; r < hp; r++ {
			for col := 0; col < wp; col++ {
				for ch := 0; ch < c; ch++ {
					plane := img.Data[(n*c+ch)*h*w:]
					for ph := 0; ph < 2; ph++ {
						row := plane[(2*r+ph)*w+2*col:]
						out.Data[i] = row[0]
						out.Data[i+1] = row[1]
						i += 2
					}
				}
			}
		}
	}
	return out, nil
}

// LatentSize is the latent height and width for an image of the given
// PIXEL size, 2*ceil(height/16) by 2*ceil(width/16) (the AE downsamples by
// 8, packing by another 2), as get_noise and unpack compute it.
func LatentSize(height, width int) (h, w int, err error) {
	if height < 1 || width < 1 {
		return 0, 0, fmt.Errorf("image size %dx%d: width and height must be positive", width, height)
	}
	return 2 * ceilDiv(height, 16), 2 * ceilDiv(width, 16), nil
}

// Unpack is flux.sampling.unpack(x, height, width): the inverse of Pack,
// "b (h w) (c ph pw) -> b c (h ph) (w pw)" with h = ceil(height/16),
// w = ceil(width/16) and height, width in PIXELS. x is (B, h*w, 4C).
func Unpack(x Tensor, height, width int) (Tensor, error) {
	if err := x.check("unpack: tokens", 3); err != nil {
		return Tensor{}, err
	}
	lh, lw, err := LatentSize(height, width)
	if err != nil {
		return Tensor{}, fmt.Errorf("unpack: %w", err)
	}
	b, tokens, feat := x.Shape[0], x.Shape[1], x.Shape[2]
	hp, wp := lh/2, lw/2
	if tokens != hp*wp {
		return Tensor{}, fmt.Errorf("unpack: %d tokens, but a %dx%d px image has %dx%d = %d patches",
			tokens, width, height, hp, wp, hp*wp)
	}
	if feat%4 != 0 {
		return Tensor{}, fmt.Errorf("unpack: %d features per token is not channels x 2 x 2", feat)
	}
	c := feat / 4
	out := NewTensor(b, c, lh, lw)
	i := 0
	for n := 0; n < b; n++ {
		for r := 0; r < hp; r++ {
			for col := 0; col < wp; col++ {
				for ch := 0; ch < c; ch++ {
					plane := out.Data[(n*c+ch)*lh*lw:]
					for ph := 0; ph < 2; ph++ {
						row := plane[(2*r+ph)*lw+2*col:]
						row[0] = x.Data[i]
						row[1] = x.Data[i+1]
						i += 2
					}
				}
			}
		}
	}
	return out, nil
}

// ImageIDs are prepare()'s img_ids for a latent of h x w (latent pixels):
// (b, h/2*w/2, 3) float32 with token (r, c) -> (0, r, c), row-major.
func ImageIDs(b, h, w int) (Tensor, error) {
	if b < 1 || h < 2 || w < 2 || h%2 != 0 || w%2 != 0 {
		return Tensor{}, fmt.Errorf("image ids: batch %d, latent %dx%d: need a positive batch and an even latent size", b, h, w)
	}
	hp, wp := h/2, w/2
	out := NewTensor(b, hp*wp, 3)
	for n := 0; n < b; n++ {
		for r := 0; r < hp; r++ {
			for c := 0; c < wp; c++ {
				id := out.Data[((n*hp+r)*wp+c)*3:]
				id[1], id[2] = float32(r), float32(c)
			}
		}
	}
	return out, nil
}

// TextIDs are prepare()'s txt_ids: zeros of shape (b, n, 3).
func TextIDs(b, n int) (Tensor, error) {
	if b < 1 || n < 1 {
		return Tensor{}, fmt.Errorf("text ids: batch %d, %d tokens: both must be positive", b, n)
	}
	return NewTensor(b, n, 3), nil
}

// Inputs are the model inputs prepare() returns.
type Inputs struct {
	Img    Tensor // (B, L_img, 4C) packed latent
	ImgIDs Tensor // (B, L_img, 3)
	Txt    Tensor // (B, L_txt, D_txt) text encoder output
	TxtIDs Tensor // (B, L_txt, 3) zeros
	Vec    Tensor // (B, D_vec) pooled text embedding
}

// Prepare is flux.sampling.prepare with the text encoders already run: img
// is the latent (B, C, H, W), txt the T5 output (B', L, D), vec the CLIP
// pooled output (B', D'). batch is the number of prompts (0 means one
// prompt string): when the latent has batch 1 and there are several
// prompts, the latent is repeated; a txt or vec of batch 1 is repeated to
// the batch, as the reference does.
func Prepare(img, txt, vec Tensor, batch int) (Inputs, error) {
	if err := img.check("prepare: latent", 4); err != nil {
		return Inputs{}, err
	}
	if err := txt.check("prepare: txt", 3); err != nil {
		return Inputs{}, err
	}
	if err := vec.check("prepare: vec", 2); err != nil {
		return Inputs{}, err
	}
	bs := img.Shape[0]
	if bs == 1 && batch > 0 {
		bs = batch
	}
	packed, err := Pack(img)
	if err != nil {
		return Inputs{}, fmt.Errorf("prepare: %w", err)
	}
	var in Inputs
	if in.Img, err = repeatBatch("prepare: img", packed, bs); err != nil {
		return Inputs{}, err
	}
	if in.ImgIDs, err = ImageIDs(bs, img.Shape[2], img.Shape[3]); err != nil {
		return Inputs{}, fmt.Errorf("prepare: %w", err)
	}
	if in.Txt, err = repeatBatch("prepare: txt", txt, bs); err != nil {
		return Inputs{}, err
	}
	if in.TxtIDs, err = TextIDs(bs, txt.Shape[1]); err != nil {
		return Inputs{}, fmt.Errorf("prepare: %w", err)
	}
	if in.Vec, err = repeatBatch("prepare: vec", vec, bs); err != nil {
		return Inputs{}, err
	}
	return in, nil
}

// repeatBatch returns t with batch bs: t itself when it already has it, a
// bs-fold copy when it has batch 1 (einops "1 ... -> bs ...").
func repeatBatch(name string, t Tensor, bs int) (Tensor, error) {
	switch {
	case t.Shape[0] == bs:
		return t, nil
	case t.Shape[0] == 1:
		out := Tensor{Shape: append([]int{bs}, t.Shape[1:]...), Data: make([]float32, 0, bs*len(t.Data))}
		for i := 0; i < bs; i++ {
			out.Data = append(out.Data, t.Data...)
		}
		return out, nil
	}
	return Tensor{}, fmt.Errorf("%s: batch %d does not match the batch of %d", name, t.Shape[0], bs)
}
