package sampling

import (
	"encoding/json"
	"fmt"
	"testing"
)

func fileTensor(t *testing.T, f interface {
	F32(string) ([]float32, []int, error)
}, name string) Tensor {
	t.Helper()
	v, shape, err := f.F32(name)
	if err != nil {
		t.Fatal(err)
	}
	return Tensor{Shape: shape, Data: v}
}

func requireEqual(t *testing.T, what string, got, want Tensor) {
	t.Helper()
	if !sameShape(got.Shape, want.Shape...) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	allClose(t, what, got.Data, want.Data, 0, 0)
}

func TestPrepareGolden(t *testing.T) {
	for _, f := range goldenCases(t, "sampling/prepare") {
		// The prompt is a single string here; a JSON list would set the batch.
		batch := 0
		if ps, ok := params(t, f)["prompt"].([]any); ok {
			batch = len(ps)
		}
		in, err := Prepare(fileTensor(t, f, "in.img"), fileTensor(t, f, "in.txt"), fileTensor(t, f, "in.vec"), batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			got  Tensor
		}{
			{"out.img", in.Img}, {"out.img_ids", in.ImgIDs}, {"out.txt", in.Txt},
			{"out.txt_ids", in.TxtIDs}, {"out.vec", in.Vec},
		} {
			requireEqual(t, c.name, c.got, fileTensor(t, f, c.name))
		}
	}
}

func TestUnpackGolden(t *testing.T) {
	for _, f := range goldenCases(t, "sampling/unpack") {
		p := params(t, f)
		h, err1 := p["height"].(json.Number).Int64()
		w, err2 := p["width"].(json.Number).Int64()
		if err1 != nil || err2 != nil {
			t.Fatalf("params: %v %v", err1, err2)
		}
		x := fileTensor(t, f, "in.x")
		got, err := Unpack(x, int(h), int(w))
		if err != nil {
			t.Fatal(err)
		}
		requireEqual(t, "out.x", got, fileTensor(t, f, "out.x"))
		// Packing the result gives the tokens back.
		back, err := Pack(got)
		if err != nil {
			t.Fatal(err)
		}
		requireEqual(t, "pack(unpack(x))", back, x)
	}
}

// TestPackLayout checks the index mapping on values that encode their own
// position: latent value = ch*10000 + row*100 + col.
func TestPackLayout(t *testing.T) {
	const b, c, h, w = 2, 3, 4, 6
	img := NewTensor(b, c, h, w)
	for n := 0; n < b; n++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					img.Data[((n*c+ch)*h+y)*w+x] = float32(n*1000000 + ch*10000 + y*100 + x)
				}
			}
		}
	}
	p, err := Pack(img)
	if err != nil {
		t.Fatal(err)
	}
	if !sameShape(p.Shape, b, h/2*w/2, 4*c) {
		t.Fatalf("shape %v", p.Shape)
	}
	for n := 0; n < b; n++ {
		for r := 0; r < h/2; r++ {
			for col := 0; col < w/2; col++ {
				tok := r*(w/2) + col
				for ch := 0; ch < c; ch++ {
					for ph := 0; ph < 2; ph++ {
						for pw := 0; pw < 2; pw++ {
							got := p.Data[(n*(h/2*w/2)+tok)*4*c+ch*4+ph*2+pw]
							want := float32(n*1000000 + ch*10000 + (2*r+ph)*100 + 2*col + pw)
							if got != want {
								t.Fatalf("token %d feature %d = %v, want %v", tok, ch*4+ph*2+pw, got, want)
							}
						}
					}
				}
			}
		}
	}
	// Unpack takes pixel sizes: 2 patch rows are heights 17..32 px, 3 patch
	// columns widths 33..48 px; each gives the latent back.
	for _, px := range [][2]int{{32, 48}, {17, 33}, {25, 47}} {
		u, err := Unpack(p, px[0], px[1])
		if err != nil {
			t.Fatalf("unpack %v: %v", px, err)
		}
		requireEqual(t, fmt.Sprintf("unpack %v", px), u, img)
	}
}

func TestImageIDs(t *testing.T) {
	ids, err := ImageIDs(1, 4, 6) // 2 x 3 patches
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 0, 1, 2}
	requireEqual(t, "ids", ids, Tensor{Shape: []int{1, 6, 3}, Data: want})

	// The app's default image, 896 px wide and 1152 px high: a 144x112
	// latent, 72 x 56 patches = 4032 tokens.
	h, w, err := LatentSize(1152, 896)
	if err != nil || h != 144 || w != 112 {
		t.Fatalf("LatentSize(1152, 896) = %d, %d, %v", h, w, err)
	}
	ids, err = ImageIDs(2, h, w)
	if err != nil {
		t.Fatal(err)
	}
	if !sameShape(ids.Shape, 2, 4032, 3) {
		t.Fatalf("shape %v", ids.Shape)
	}
	last := ids.Data[len(ids.Data)-3:]
	if last[0] != 0 || last[1] != 71 || last[2] != 55 {
		t.Errorf("last id %v, want [0 71 55]", last)
	}
}

func TestPrepareBatch(t *testing.T) {
	img := NewTensor(1, 16, 4, 4)
	for i := range img.Data {
		img.Data[i] = float32(i)
	}
	txt := Tensor{Shape: []int{1, 2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	vec := Tensor{Shape: []int{1, 2}, Data: []float32{7, 8}}
	in, err := Prepare(img, txt, vec, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  Tensor
		rest []int
	}{
		{"img", in.Img, []int{4, 64}}, {"img_ids", in.ImgIDs, []int{4, 3}},
		{"txt", in.Txt, []int{2, 3}}, {"txt_ids", in.TxtIDs, []int{2, 3}}, {"vec", in.Vec, []int{2}},
	} {
		if !sameShape(c.got.Shape, append([]int{3}, c.rest...)...) {
			t.Errorf("%s: shape %v, want batch 3 of %v", c.name, c.got.Shape, c.rest)
			continue
		}
		n := len(c.got.Data) / 3
		for i := 1; i < 3; i++ {
			allClose(t, fmt.Sprintf("%s[%d]", c.name, i), c.got.Data[i*n:(i+1)*n], c.got.Data[:n], 0, 0)
		}
	}
}

func TestPackErrors(t *testing.T) {
	odd := NewTensor(1, 16, 3, 4)
	if _, err := Pack(odd); err == nil {
		t.Error("odd latent height accepted")
	}
	if _, err := Pack(Tensor{Shape: []int{1, 16, 4, 4}, Data: make([]float32, 10)}); err == nil {
		t.Error("short data accepted")
	}
	tok := NewTensor(1, 24, 64)
	if _, err := Unpack(tok, 64, 64); err == nil {
		t.Error("unpack with the wrong token count accepted")
	}
	if _, err := Unpack(NewTensor(1, 16, 63), 64, 64); err == nil {
		t.Error("unpack with features not divisible by 4 accepted")
	}
	if _, err := Unpack(tok, 0, 96); err == nil {
		t.Error("zero height accepted")
	}
	if _, err := Prepare(NewTensor(2, 16, 4, 4), NewTensor(3, 2, 8), NewTensor(1, 4), 0); err == nil {
		t.Error("txt batch 3 with latent batch 2 accepted")
	}
	if _, err := ImageIDs(1, 3, 4); err == nil {
		t.Error("odd latent size accepted by ImageIDs")
	}
	if _, err := TextIDs(1, 0); err == nil {
		t.Error("zero text tokens accepted")
	}
}
