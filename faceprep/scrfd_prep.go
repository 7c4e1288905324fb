package faceprep

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/imageio"
)

// SCRFD input normalisation: insightface's det_10g uses mean 127.5 and
// std 128 (not 127.5).
const (
	SCRFDMean = 127.5
	SCRFDStd  = 128.0
)

// SCRFDLetterbox is the first half of insightface SCRFD.detect(img,
// input_size=(detW, detH)): the image is resized (cv2.resize, INTER_LINEAR)
// to fit the detector input keeping its aspect ratio — new sizes truncated
// — and pasted at the top-left of a black detW×detH canvas. It returns the
// canvas and det_scale = new_h / h, the factor that maps detections back.
func SCRFDLetterbox(imgBGR *imageio.Image, detW, detH int) (*imageio.Image, float64, error) {
	if detW <= 0 || detH <= 0 {
		return nil, 0, fmt.Errorf("scrfd letterbox: detector size %dx%d is not positive", detW, detH)
	}
	imRatio := float64(imgBGR.H) / float64(imgBGR.W)
	modelRatio := float64(detH) / float64(detW)
	var nw, nh int
	if imRatio > modelRatio {
		nh = detH
		nw = int(float64(nh) / imRatio)
	} else {
		nw = detW
		nh = int(float64(nw) * imRatio)
	}
	if nw < 1 || nh < 1 {
		return nil, 0, fmt.Errorf("scrfd letterbox: a %dx%d image leaves no pixels at %dx%d", imgBGR.W, imgBGR.H, detW, detH)
	}
	scale := float64(nh) / float64(imgBGR.H)
	small, err := Resize(imgBGR, nw, nh, InterLinear)
	if err != nil {
		return nil, 0, fmt.Errorf("scrfd letterbox: %w", err)
	}
	det := imageio.New(detW, detH)
	for y := 0; y < nh; y++ {
		copy(det.Pix[3*y*detW:3*(y*detW+nw)], small.Pix[3*y*nw:3*(y+1)*nw])
	}
	return det, scale, nil
}

// SCRFDBlob is the detector input for a letterboxed BGR canvas:
// cv2.dnn.blobFromImage(det_img, 1/128, size, (127.5,)*3, swapRB=True),
// i.e. (x − 127.5)/128 in RGB order, (1, 3, H, W).
func SCRFDBlob(detBGR *imageio.Image) []float32 {
	return BlobFromImage(detBGR, 1/SCRFDStd, SCRFDMean, true)
}
