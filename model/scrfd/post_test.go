package scrfd

import (
	"testing"
)

func TestFit(t *testing.T) {
	cases := []struct {
		h, w, dw, dh int
		newW, newH   int
		scale        float64
		wantErr      bool
	}{
		{550, 485, 640, 640, 564, 640, 640.0 / 550, false}, // tall: full height, int(640/ratio) wide
		{480, 640, 640, 640, 640, 480, 1, false},           // landscape: full width
		{1, 5000, 640, 640, 0, 0, 0, true},                 // shrinks to zero rows
		{0, 10, 640, 640, 0, 0, 0, true},
	}
	for _, c := range cases {
		lb, err := Fit(c.h, c.w, c.dw, c.dh)
		if (err != nil) != c.wantErr {
			t.Errorf("Fit(%d, %d): error %v", c.h, c.w, err)
			continue
		}
		if !c.wantErr && (lb.NewW != c.newW || lb.NewH != c.newH || lb.Scale != c.scale) {
			t.Errorf("Fit(%d, %d) = %+v, want %d×%d scale %v", c.h, c.w, lb, c.newW, c.newH, c.scale)
		}
	}
}

func TestAnchorCenters(t *testing.T) {
	ac := AnchorCenters(32, 48, 16) // 2×3 grid, 2 anchors
	want := [][2]float32{{0, 0}, {0, 0}, {16, 0}, {16, 0}, {32, 0}, {32, 0}, {0, 16}, {0, 16}, {16, 16}, {16, 16}, {32, 16}, {32, 16}}
	if len(ac) != len(want) {
		t.Fatalf("%d centres", len(ac))
	}
	for i := range want {
		if ac[i] != want[i] {
			t.Fatalf("centre %d = %v, want %v", i, ac[i], want[i])
		}
	}
}

func TestNMSPlusOne(t *testing.T) {
	f := func(x1, x2, s float32) Face { return Face{Box: [4]float32{x1, 0, x2, 9}, Score: s} }
	// +1 convention: boxes 0..9 and 4..13 are 10 px wide, overlap 6 px:
	// IoU = 60/140 = 0.43 → dropped. 0..9 and 5..14: 50/150 = 0.33 → kept.
	got := NMS([]Face{f(0, 9, .9), f(4, 13, .8), f(5, 14, .7)}, 0.4)
	if len(got) != 2 || got[1].Score != .7 {
		t.Fatalf("kept %+v", got)
	}
}

func TestLargest(t *testing.T) {
	faces := []Face{{Box: [4]float32{0, 0, 10, 10}}, {Box: [4]float32{0, 0, 20, 5}}, {Box: [4]float32{5, 5, 10, 10}}}
	// Areas 100, 100, 25: a stable sort puts the second 100 last.
	if i := Largest(faces); i != 1 {
		t.Errorf("Largest = %d, want 1", i)
	}
	if i := Largest(nil); i != -1 {
		t.Errorf("Largest(nil) = %d", i)
	}
}

func TestDetectShapeError(t *testing.T) {
	var lv [3]Level
	if _, err := Detect(lv, 64, 64, Letterbox{NewW: 64, NewH: 64, Scale: 1}, .5, .4); err == nil {
		t.Error("empty outputs accepted")
	}
}

// TestDetectDecode plants one anchor above the threshold and checks the
// distance decoding and the division by the letterbox scale by hand.
func TestDetectDecode(t *testing.T) {
	var lv [3]Level
	for k, s := range Strides {
		n := (64 / s) * (64 / s) * NumAnchors
		lv[k] = Level{Scores: make([]float32, n), BBox: make([]float32, 4*n), Kps: make([]float32, 10*n)}
	}
	// stride 16, cell (1, 2) → centre (32, 16), second anchor: index 2·(1·4+2)+1.
	i := 2*(1*4+2) + 1
	lv[1].Scores[i] = 0.9
	copy(lv[1].BBox[4*i:], []float32{1, 0.5, 2, 1})
	lv[1].Kps[10*i] = 1
	faces, err := Detect(lv, 64, 64, Letterbox{NewW: 64, NewH: 64, Scale: 2}, .5, .4)
	if err != nil || len(faces) != 1 {
		t.Fatalf("%v, %v", faces, err)
	}
	want := [4]float32{(32 - 16) / 2, (16 - 8) / 2, (32 + 32) / 2, (16 + 16) / 2}
	if faces[0].Box != want || faces[0].Kps[0] != [2]float32{24, 8} || faces[0].Kps[1] != [2]float32{16, 8} {
		t.Errorf("face %+v, want box %v", faces[0], want)
	}
}
