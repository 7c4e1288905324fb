// Package sentencepiece is a SentencePiece unigram tokenizer: it reads a
// `spiece.model` file (a serialized sentencepiece.ModelProto) and segments
// text exactly as the reference C++ library does (normalizer.cc and
// unigram_model.cc's EncodeOptimized), and, in t5.go, wraps it with the
// behaviour of transformers' slow T5Tokenizer that FLUX uses.
package sentencepiece

import (
	"errors"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// PieceType is ModelProto.SentencePiece.Type.
type PieceType int

// Piece types, numbered as in sentencepiece_model.proto.
const (
	Normal      PieceType = 1
	Unknown     PieceType = 2
	Control     PieceType = 3
	UserDefined PieceType = 4
	Unused      PieceType = 5
	Byte        PieceType = 6
)

// modelType values of TrainerSpec.model_type.
const (
	modelUnigram = 1
	modelBPE     = 2
	modelWord    = 3
	modelChar    = 4
)

// Piece is one vocabulary entry.
type Piece struct {
	Text  string
	Score float32
	Type  PieceType
}

// Model is a loaded unigram SentencePiece model.
type Model struct {
	pieces []Piece
	// vocab maps the text of pieces that take part in segmentation (normal,
	// user-defined and unused, as ModelInterface::InitializePieces does) to
	// their id.
	vocab map[string]int
	// reserved maps control/unknown/byte pieces to their id (PieceToId).
	reserved map[string]int
	trie     pieceTrie

	unkID                 int
	minScore, maxScore    float32
	treatWhitespaceSuffix bool
	norm                  normalizer
}

// Load reads a spiece.model file.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece: load %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a serialized ModelProto. Only the fields that change
// encoding are read; the rest are skipped.
func Parse(data []byte) (*Model, error) {
	m := &Model{
		vocab:    map[string]int{},
		reserved: map[string]int{},
		unkID:    -1,
	}
	modelType := int64(modelUnigram)
	byteFallback := false
	spec := normalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true}

	err := eachField(data, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			p, err := parsePiece(v)
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(m.pieces), err)
			}
			m.pieces = append(m.pieces, p)
		case num == 2 && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case 3:
					modelType = int64(x)
				case 24:
					m.treatWhitespaceSuffix = x != 0
				case 35:
					byteFallback = x != 0
				}
				return nil
			})
		case num == 3 && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					spec.name = string(v)
				case num == 2 && typ == protowire.BytesType:
					spec.charsmap = v
				case num == 3 && typ == protowire.VarintType:
					spec.addDummyPrefix = x != 0
				case num == 4 && typ == protowire.VarintType:
					spec.removeExtraWhitespaces = x != 0
				case num == 5 && typ == protowire.VarintType:
					spec.escapeWhitespaces = x != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("model proto: %w", err)
	}
	if modelType != modelUnigram {
		return nil, fmt.Errorf("model type %d is not supported (only unigram, 1)", modelType)
	}
	if byteFallback {
		return nil, errors.New("byte_fallback models are not supported")
	}
	if len(m.pieces) == 0 {
		return nil, errors.New("model has no pieces")
	}

	m.minScore, m.maxScore = math.MaxFloat32, 0x1p-126 // FLT_MAX, FLT_MIN as in unigram::Model
	for id, p := range m.pieces {
		if p.Text == "" {
			return nil, fmt.Errorf("piece %d is empty", id)
		}
		switch p.Type {
		case Normal, UserDefined, Unused:
			if _, dup := m.vocab[p.Text]; dup {
				return nil, fmt.Errorf("piece %d %q is already defined", id, p.Text)
			}
			m.vocab[p.Text] = id
		case Unknown, Control, Byte:
			if _, dup := m.reserved[p.Text]; dup {
				return nil, fmt.Errorf("piece %d %q is already defined", id, p.Text)
			}
			m.reserved[p.Text] = id
		default:
			return nil, fmt.Errorf("piece %d %q has unknown type %d", id, p.Text, p.Type)
		}
		if p.Type == Unknown {
			if m.unkID >= 0 {
				return nil, fmt.Errorf("pieces %d and %d are both unknown pieces", m.unkID, id)
			}
			m.unkID = id
		}
		if p.Type == Normal {
			m.minScore = min(m.minScore, p.Score)
			m.maxScore = max(m.maxScore, p.Score)
		}
	}
	if m.unkID < 0 {
		return nil, errors.New("model has no unknown piece")
	}
	m.trie = buildTrie(m.vocab)
	if m.norm, err = newNormalizer(spec, m.treatWhitespaceSuffix); err != nil {
		return nil, fmt.Errorf("normalizer %q: %w", spec.name, err)
	}
	return m, nil
}

func parsePiece(b []byte) (Piece, error) {
	p := Piece{Type: Normal}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			p.Text = string(v)
		case num == 2 && typ == protowire.Fixed32Type:
			p.Score = math.Float32frombits(uint32(x))
		case num == 3 && typ == protowire.VarintType:
			p.Type = PieceType(int32(x))
		}
		return nil
	})
	return p, err
}

// eachField walks the fields of one message. Length-delimited values come in
// v, scalars in x; groups are skipped.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// Size is the number of pieces (ids 0..Size-1).
func (m *Model) Size() int { return len(m.pieces) }

// Piece returns piece id's entry.
func (m *Model) Piece(id int) (Piece, bool) {
	if id < 0 || id >= len(m.pieces) {
		return Piece{}, false
	}
	return m.pieces[id], true
}

// UnkID is the id of the unknown piece.
func (m *Model) UnkID() int { return m.unkID }

// PieceToID returns the id of a piece text, or the unknown id, as
// SentencePieceProcessor::PieceToId.
func (m *Model) PieceToID(s string) int {
	if id, ok := m.reserved[s]; ok {
		return id
	}
	if id, ok := m.vocab[s]; ok {
		return id
	}
	return m.unkID
}
