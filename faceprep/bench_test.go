package faceprep

import "testing"

func BenchmarkAlignWarpFace512(b *testing.B) {
	img := ramp(1024, 1024)
	lmk := Landmarks{{400, 480}, {620, 470}, {510, 600}, {420, 700}, {610, 695}}
	for b.Loop() {
		if _, _, _, err := AlignWarpFace(img, lmk, 512); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResizeLanczos1236To1024(b *testing.B) {
	img := ramp(1236, 1232)
	for b.Loop() {
		if _, err := ResizeNumpyImageLong(img, 1024); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSCRFDLetterbox640(b *testing.B) {
	img := ramp(1024, 768)
	for b.Loop() {
		if _, _, err := SCRFDLetterbox(img, 640, 640); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEVAInput336(b *testing.B) {
	face := ramp(512, 512)
	labels := make([]uint8, 512*512)
	feat, _, _ := FaceFeatures(face, labels)
	for b.Loop() {
		if _, err := EVAInput(feat, 512, 512, 336, false); err != nil {
			b.Fatal(err)
		}
	}
}
