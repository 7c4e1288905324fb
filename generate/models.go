package generate

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/idembed"
	"github.com/fluxpulid/fluxpulid/imageio"
	"github.com/fluxpulid/fluxpulid/model/ae"
	"github.com/fluxpulid/fluxpulid/model/flux"
	"github.com/fluxpulid/fluxpulid/model/pulid"
	"github.com/fluxpulid/fluxpulid/weights"
)

// TextEncoder turns a prompt into FLUX's conditioning on the host: the T5
// tokens txt [maxLen, context dim] and the pooled CLIP vector vec
// [vec dim]. Implementations cache by prompt; the slices are read-only.
type TextEncoder interface {
	EncodePrompt(b backend.Backend, prompt string, maxLen int) (txt, vec []float32, err error)
}

// FaceEncoder is PuLID's get_id_embedding: an RGB photo (name identifies it
// in errors) to its identity, with the uncond identity when true CFG needs
// it. *idembed.Encoder is one.
type FaceEncoder interface {
	Encode(name string, photoRGB *imageio.Image, uncond bool) (*idembed.Result, error)
}

// Models are the loaded networks of the job, on one backend.
type Models struct {
	Backend backend.Backend
	// Flux has PuLID's cross-attention attached.
	Flux *flux.Model
	AE   *ae.AutoEncoder
	// IDFormer computes the uncond identity when a saved embedding lacks it.
	IDFormer *pulid.IDFormer
	// EVATokens is the EVA token count the uncond identity is computed
	// with (577 for EVA02-CLIP-L-14-336 at 336 px).
	EVATokens int
	Text      TextEncoder
	// Face is nil when only saved ID embeddings can be used.
	Face FaceEncoder

	closers []io.Closer

	mu     sync.Mutex
	uncond []float32 // cached uncond identity tokens
}

// RealEVATokens is EVA02-CLIP-L-14-336's token count: 24x24 patches + class.
const RealEVATokens = 24*24 + 1

// Close releases the weight files the models map.
func (m *Models) Close() error {
	if m == nil {
		return nil
	}
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	m.closers = nil
	return errors.Join(errs...)
}

// LoadOptions choose what Load loads.
type LoadOptions struct {
	// Need selects the parts: NeedGenerate, NeedFace, or both.
	Need Need
	// FluxConfig names the FLUX configuration ("flux-dev", ...); "" reads
	// it from the weights.
	FluxConfig string
	// Log, if not nil, receives one line per model loaded.
	Log func(string)
}

// TextLoader loads the text encoders of p onto b. It is set by the file
// that wires in the conditioner; tests may replace it.
var TextLoader func(b backend.Backend, p Paths) (TextEncoder, io.Closer, error)

// FaceLoader loads the face models of p onto b, with the IDFormer of the
// PuLID checkpoint.
var FaceLoader func(b backend.Backend, p Paths, idf *pulid.IDFormer) (FaceEncoder, io.Closer, error)

// Load loads the models p names onto b (p must be complete for opt.Need;
// see Find).
func Load(b backend.Backend, p Paths, opt LoadOptions) (m *Models, err error) {
	if opt.Need == 0 {
		opt.Need = NeedGenerate | NeedFace
	}
	log := opt.Log
	if log == nil {
		log = func(string) {}
	}
	m = &Models{Backend: b, EVATokens: RealEVATokens}
	// Every error return sets m to nil, so release what was opened through
	// a copy of the pointer.
	loaded := m
	defer func() {
		if err != nil {
			loaded.Close()
			m = nil
		}
	}()
	open := func(c, path string) (*weights.Store, error) {
		st, err := weights.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", c, path, err)
		}
		m.closers = append(m.closers, st)
		return st, nil
	}

	// PuLID: the IDFormer (face) and the cross-attention (generation).
	pst, err := open("pulid", p.PuLID)
	if err != nil {
		return nil, err
	}
	pcfg, err := pulid.ConfigFromWeights(pst)
	if err != nil {
		return nil, fmt.Errorf("pulid %s: %w", p.PuLID, err)
	}
	pm, err := pulid.Load(b, pst, pcfg)
	if err != nil {
		return nil, fmt.Errorf("pulid %s: %w", p.PuLID, err)
	}
	m.IDFormer = pm.Encoder
	log(fmt.Sprintf("loaded %s: IDFormer %d tokens x %d, %d cross-attention modules", p.PuLID, pcfg.Encoder.NumQueries, pcfg.Encoder.OutputDim, pcfg.NumCA))

	if opt.Need&NeedGenerate != 0 {
		if pcfg.NumCA > 0 && pcfg.CA.KVDim != pcfg.Encoder.OutputDim {
			return nil, fmt.Errorf("pulid %s: cross-attention reads %d-wide identity tokens, the IDFormer writes %d", p.PuLID, pcfg.CA.KVDim, pcfg.Encoder.OutputDim)
		}
		fst, err := open("flux", p.Flux)
		if err != nil {
			return nil, err
		}
		if m.Flux, err = flux.LoadNamed(b, fst, opt.FluxConfig); err != nil {
			return nil, fmt.Errorf("flux %s: %w", p.Flux, err)
		}
		if pcfg.NumCA > 0 && pcfg.CA.Dim != m.Flux.Cfg.HiddenSize {
			return nil, fmt.Errorf("pulid %s: cross-attention is %d wide, the FLUX model %s is %d", p.PuLID, pcfg.CA.Dim, p.Flux, m.Flux.Cfg.HiddenSize)
		}
		if err := m.Flux.AttachID(flux.IDModules(pm.CA), flux.DefaultDoubleInterval, flux.DefaultSingleInterval); err != nil {
			return nil, fmt.Errorf("pulid %s on flux %s: %w", p.PuLID, p.Flux, err)
		}
		log(fmt.Sprintf("loaded %s: %d double + %d single blocks, hidden %d", p.Flux, m.Flux.Cfg.Depth, m.Flux.Cfg.DepthSingleBlocks, m.Flux.Cfg.HiddenSize))

		ast, err := open("ae", p.AE)
		if err != nil {
			return nil, err
		}
		if m.AE, err = ae.LoadInferred(b, ast); err != nil {
			return nil, fmt.Errorf("ae %s: %w", p.AE, err)
		}
		log(fmt.Sprintf("loaded %s", p.AE))

		if TextLoader == nil {
			return nil, errors.New("text encoders: this build has no prompt conditioner")
		}
		text, c, err := TextLoader(b, p)
		if err != nil {
			return nil, err
		}
		if c != nil {
			m.closers = append(m.closers, c)
		}
		m.Text = text
		log(fmt.Sprintf("loaded %s and %s", p.T5, p.CLIP))
	}

	if opt.Need&NeedFace != 0 {
		if FaceLoader == nil {
			return nil, errors.New("face models: this build cannot encode a face photo (use a saved ID embedding)")
		}
		face, c, err := FaceLoader(b, p, m.IDFormer)
		if err != nil {
			return nil, err
		}
		if c != nil {
			m.closers = append(m.closers, c)
		}
		m.Face = face
		if e, ok := face.(*idembed.Encoder); ok {
			if v, ok := e.Vision.(idembed.EVA); ok {
				m.EVATokens = v.Config.Tokens()
			}
		}
		log(fmt.Sprintf("loaded face models: %s, %s, %s, %s, %s", p.SCRFD, p.ArcFace, p.RetinaFace, p.BiSeNet, p.EVA))
	}
	return m, nil
}
