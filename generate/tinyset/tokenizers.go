package tinyset

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// SentencePiece piece types (sentencepiece_model.proto).
const (
	pieceNormal  = 1
	pieceUnknown = 2
	pieceControl = 3
)

// t5Words are whole-word pieces of the tiny T5 vocabulary, so that common
// prompt words become single tokens as in the real one.
var t5Words = []string{"a", "the", "of", "portrait", "color", "cinematic", "photo", "person", "man", "woman", "on", "in"}

// WriteT5Tokenizer writes a tiny unigram spiece.model in T5's layout: ids
// 0, 1, 2 are <pad>, </s>, <unk>; then "▁", whole words and every printable
// ASCII character (so any ASCII prompt tokenizes without <unk>). It has no
// normalisation rules (an empty precompiled charsmap).
func WriteT5Tokenizer(path string) error {
	type piece struct {
		text  string
		score float32
		typ   int
	}
	pieces := []piece{{"<pad>", 0, pieceControl}, {"</s>", 0, pieceControl}, {"<unk>", 0, pieceUnknown}, {"▁", -2, pieceNormal}}
	for _, w := range t5Words {
		pieces = append(pieces, piece{"▁" + w, -3, pieceNormal})
	}
	for c := '!'; c <= '~'; c++ {
		pieces = append(pieces, piece{string(c), -6, pieceNormal})
	}
	var model []byte
	for _, p := range pieces {
		var msg []byte
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, p.text)
		msg = protowire.AppendTag(msg, 2, protowire.Fixed32Type)
		msg = protowire.AppendFixed32(msg, math.Float32bits(p.score))
		msg = protowire.AppendTag(msg, 3, protowire.VarintType)
		msg = protowire.AppendVarint(msg, uint64(p.typ))
		model = protowire.AppendTag(model, 1, protowire.BytesType)
		model = protowire.AppendBytes(model, msg)
	}
	// trainer_spec: model_type UNIGRAM (1).
	var trainer []byte
	trainer = protowire.AppendTag(trainer, 3, protowire.VarintType)
	trainer = protowire.AppendVarint(trainer, 1)
	model = protowire.AppendTag(model, 2, protowire.BytesType)
	model = protowire.AppendBytes(model, trainer)
	// normalizer_spec: name "identity", add_dummy_prefix, remove extra
	// whitespace, escape whitespace (T5's flags).
	var norm []byte
	norm = protowire.AppendTag(norm, 1, protowire.BytesType)
	norm = protowire.AppendString(norm, "identity")
	for _, f := range []protowire.Number{3, 4, 5} {
		norm = protowire.AppendTag(norm, f, protowire.VarintType)
		norm = protowire.AppendVarint(norm, 1)
	}
	model = protowire.AppendTag(model, 3, protowire.BytesType)
	model = protowire.AppendBytes(model, norm)
	return writeBytes(path, model)
}

// clipMerges are the tiny CLIP vocabulary's merges, highest priority first.
var clipMerges = [][2]string{{"p", "o"}, {"r", "t</w>"}, {"po", "rt</w>"}, {"a", "n</w>"}, {"m", "an</w>"}}

// WriteCLIPTokenizer writes a tiny byte-level BPE tokenizer folder
// (vocab.json and merges.txt) in CLIP's layout: every byte as a symbol,
// alone and word-final ("</w>"), a few merges and their results, then
// <|startoftext|> and <|endoftext|>.
func WriteCLIPTokenizer(dir string) error {
	vocab := map[string]int{}
	add := func(tok string) {
		if _, ok := vocab[tok]; !ok {
			vocab[tok] = len(vocab)
		}
	}
	syms := byteSymbols()
	for _, s := range syms {
		add(s)
	}
	for _, s := range syms {
		add(s + "</w>")
	}
	merges := []string{"#version: 0.2"}
	for _, m := range clipMerges {
		merges = append(merges, m[0]+" "+m[1])
		add(m[0] + m[1])
	}
	add("<|startoftext|>")
	add("<|endoftext|>")
	v, err := json.Marshal(vocab)
	if err != nil {
		return err
	}
	if err := writeBytes(filepath.Join(dir, "vocab.json"), v); err != nil {
		return err
	}
	return writeBytes(filepath.Join(dir, "merges.txt"), []byte(strings.Join(merges, "\n")+"\n"))
}

// byteSymbols is GPT-2's bytes_to_unicode in byte order: printable Latin-1
// bytes stand for themselves, the rest map to U+0100 onwards.
func byteSymbols() []string {
	out := make([]string, 256)
	n := 0
	for b := range 256 {
		if '!' <= b && b <= '~' || 0xA1 <= b && b <= 0xAC || 0xAE <= b && b <= 0xFF {
			out[b] = string(rune(b))
		} else {
			out[b] = string(rune(256 + n))
			n++
		}
	}
	return out
}

func writeBytes(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("tinyset: %w", err)
	}
	return nil
}
