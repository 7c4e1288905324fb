package generate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Paths locate the model files of a generation, each a file or a folder
// (sharded safetensors, tokenizer folders). Empty means "look for the
// usual file name in the models directory" (Find).
type Paths struct {
	Flux  string // flux1-dev.safetensors: the FLUX.1-dev transformer
	AE    string // ae.safetensors: the FLUX autoencoder
	PuLID string // pulid_flux_v0.9.1.safetensors: IDFormer + PuLID cross-attention

	T5            string // t5xxl_fp16.safetensors or the text_encoder_2/ folder
	T5Tokenizer   string // spiece.model (tokenizer_2/)
	CLIP          string // clip_l.safetensors or the text_encoder/ folder
	CLIPTokenizer string // folder with vocab.json and merges.txt (tokenizer/)

	SCRFD      string // antelopev2/scrfd_10g_bnkps.onnx: insightface face detector
	ArcFace    string // antelopev2/glintr100.onnx: insightface ArcFace iresnet100
	RetinaFace string // facexlib detection_Resnet50_Final.pth
	BiSeNet    string // facexlib parsing_bisenet.pth
	EVA        string // EVA02_CLIP_L_336_psz14_s6B.pt: EVA02-CLIP-L-14-336
}

// Component is one model file of a generation: where Find looks for it and
// how a user names it.
type Component struct {
	Key  string // the Paths field, lower case, and the CLI flag (--key)
	Name string // the file a user downloads
	What string // what it is, in words
	// Candidates are paths relative to the models directory, tried in
	// order (the layouts of the reference repo, ComfyUI and Hugging Face).
	Candidates []string
	// Dir says the component is a folder (holding File), not a file.
	Dir  bool
	File string // for Dir components: a file the folder must contain
	get  func(*Paths) *string
}

// Components lists every model file, in the order they are reported.
var Components = []Component{
	{Key: "flux", Name: "flux1-dev.safetensors", What: "the FLUX.1-dev transformer",
		Candidates: []string{"flux1-dev.safetensors", "unet/flux1-dev.safetensors", "diffusion_models/flux1-dev.safetensors", "flux1-krea-dev.safetensors"},
		get:        func(p *Paths) *string { return &p.Flux }},
	{Key: "ae", Name: "ae.safetensors", What: "the FLUX autoencoder",
		Candidates: []string{"ae.safetensors", "vae/ae.safetensors"},
		get:        func(p *Paths) *string { return &p.AE }},
	{Key: "pulid", Name: "pulid_flux_v0.9.1.safetensors", What: "PuLID for FLUX (IDFormer and cross-attention)",
		Candidates: []string{"pulid_flux_v0.9.1.safetensors", "pulid/pulid_flux_v0.9.1.safetensors", "pulid_flux_v0.9.0.safetensors", "pulid/pulid_flux_v0.9.0.safetensors"},
		get:        func(p *Paths) *string { return &p.PuLID }},
	{Key: "t5", Name: "t5xxl_fp16.safetensors", What: "the T5-XXL v1.1 text encoder (a file, or FLUX.1-dev's text_encoder_2 folder)",
		Candidates: []string{"t5xxl_fp16.safetensors", "text_encoder_2", "clip/t5xxl_fp16.safetensors", "text_encoders/t5xxl_fp16.safetensors", "xflux_text_encoders"},
		get:        func(p *Paths) *string { return &p.T5 }},
	{Key: "t5-tokenizer", Name: "spiece.model", What: "the T5 SentencePiece tokenizer (FLUX.1-dev's tokenizer_2/spiece.model)",
		Candidates: []string{"tokenizer_2/spiece.model", "spiece.model", "xflux_text_encoders/spiece.model"},
		get:        func(p *Paths) *string { return &p.T5Tokenizer }},
	{Key: "clip", Name: "clip_l.safetensors", What: "the CLIP ViT-L/14 text encoder (a file, or FLUX.1-dev's text_encoder folder)",
		Candidates: []string{"clip_l.safetensors", "text_encoder", "clip/clip_l.safetensors", "text_encoders/clip_l.safetensors", "clip-vit-large-patch14"},
		get:        func(p *Paths) *string { return &p.CLIP }},
	{Key: "clip-tokenizer", Name: "tokenizer/", What: "the CLIP BPE tokenizer folder (vocab.json and merges.txt)", Dir: true, File: "vocab.json",
		Candidates: []string{"tokenizer", "clip-vit-large-patch14"},
		get:        func(p *Paths) *string { return &p.CLIPTokenizer }},
	{Key: "scrfd", Name: "antelopev2/scrfd_10g_bnkps.onnx", What: "the insightface SCRFD face detector",
		Candidates: []string{"antelopev2/scrfd_10g_bnkps.onnx", "models/antelopev2/scrfd_10g_bnkps.onnx", "insightface/models/antelopev2/scrfd_10g_bnkps.onnx", "scrfd_10g_bnkps.onnx"},
		get:        func(p *Paths) *string { return &p.SCRFD }},
	{Key: "arcface", Name: "antelopev2/glintr100.onnx", What: "the insightface ArcFace face recogniser (iresnet100)",
		Candidates: []string{"antelopev2/glintr100.onnx", "models/antelopev2/glintr100.onnx", "insightface/models/antelopev2/glintr100.onnx", "glintr100.onnx"},
		get:        func(p *Paths) *string { return &p.ArcFace }},
	{Key: "retinaface", Name: "detection_Resnet50_Final.pth", What: "the facexlib RetinaFace detector (face alignment)",
		Candidates: []string{"detection_Resnet50_Final.pth", "facexlib/detection_Resnet50_Final.pth", "facexlib/weights/detection_Resnet50_Final.pth"},
		get:        func(p *Paths) *string { return &p.RetinaFace }},
	{Key: "bisenet", Name: "parsing_bisenet.pth", What: "the facexlib BiSeNet face parser",
		Candidates: []string{"parsing_bisenet.pth", "facexlib/parsing_bisenet.pth", "facexlib/weights/parsing_bisenet.pth"},
		get:        func(p *Paths) *string { return &p.BiSeNet }},
	{Key: "eva", Name: "EVA02_CLIP_L_336_psz14_s6B.pt", What: "the EVA02-CLIP-L-14-336 vision tower",
		Candidates: []string{"EVA02_CLIP_L_336_psz14_s6B.pt", "eva_clip/EVA02_CLIP_L_336_psz14_s6B.pt", "eva/EVA02_CLIP_L_336_psz14_s6B.pt"},
		get:        func(p *Paths) *string { return &p.EVA }},
}

// Need selects the components a job needs.
type Need int

const (
	// NeedGenerate: denoising, decoding and prompts (a saved ID embedding
	// stands in for the face).
	NeedGenerate Need = 1 << iota
	// NeedFace: the face models that turn a photo into an ID embedding.
	NeedFace
)

// needs reports whether component key is needed for n.
func (n Need) needs(key string) bool {
	switch key {
	case "flux", "ae", "t5", "t5-tokenizer", "clip", "clip-tokenizer":
		return n&NeedGenerate != 0
	case "pulid":
		return n&(NeedGenerate|NeedFace) != 0
	}
	return n&NeedFace != 0
}

// Get returns the path of the component named key ("" if unset).
func (p *Paths) Get(key string) string {
	for _, c := range Components {
		if c.Key == key {
			return *c.get(p)
		}
	}
	return ""
}

// Set sets the path of the component named key.
func (p *Paths) Set(key, path string) error {
	for _, c := range Components {
		if c.Key == key {
			*c.get(p) = path
			return nil
		}
	}
	return fmt.Errorf("no model component %q", key)
}

// SetAntelopeDir points SCRFD and ArcFace at an antelopev2 folder (unless
// they are set already).
func (p *Paths) SetAntelopeDir(dir string) {
	if p.SCRFD == "" {
		p.SCRFD = filepath.Join(dir, "scrfd_10g_bnkps.onnx")
	}
	if p.ArcFace == "" {
		p.ArcFace = filepath.Join(dir, "glintr100.onnx")
	}
}

// MissingError lists the model files a job needs and does not have.
type MissingError struct {
	Dir     string
	Missing []string // one line per file: name, what it is, where it was looked for
}

func (e *MissingError) Error() string {
	where := "no models directory given"
	if e.Dir != "" {
		where = "models directory " + e.Dir
	}
	return fmt.Sprintf("%d model file(s) missing (%s):\n  %s", len(e.Missing), where, strings.Join(e.Missing, "\n  "))
}

// Find completes p: every component n needs that is not set is looked for
// under dir (its Candidates, in order); a set one must exist. Every missing
// file is reported, by name and what it is, in one *MissingError.
func Find(dir string, p Paths, n Need) (Paths, error) {
	var missing []string
	for _, c := range Components {
		if !n.needs(c.Key) {
			continue
		}
		dst := c.get(&p)
		if *dst != "" {
			if err := c.check(*dst); err != nil {
				missing = append(missing, fmt.Sprintf("%s (%s): --%s %v", c.Name, c.What, c.Key, err))
			}
			continue
		}
		found := ""
		if dir != "" {
			for _, rel := range c.Candidates {
				if path := filepath.Join(dir, rel); c.check(path) == nil {
					found = path
					break
				}
			}
		}
		if found == "" {
			missing = append(missing, fmt.Sprintf("%s (%s): not found; looked for %s; set --%s", c.Name, c.What, strings.Join(c.Candidates, ", "), c.Key))
			continue
		}
		*dst = found
	}
	if len(missing) > 0 {
		return p, &MissingError{Dir: dir, Missing: missing}
	}
	return p, nil
}

// check reports whether path is usable as the component: an existing file,
// or a folder (weights shards, or for Dir components one holding File).
func (c Component) check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no such file or folder", path)
		}
		return err
	}
	if c.Dir {
		if !st.IsDir() {
			return fmt.Errorf("%s: not a folder", path)
		}
		if _, err := os.Stat(filepath.Join(path, c.File)); err != nil {
			return fmt.Errorf("%s: folder has no %s", path, c.File)
		}
	}
	return nil
}
