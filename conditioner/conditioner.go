// Package conditioner turns prompts into FLUX's text conditioning, as the
// reference's HFEmbedder pair does (flux/modules/conditioner.py, called from
// flux/sampling.py prepare):
//
//	txt = T5EncoderModel(T5Tokenizer(prompt, max_length=L)).last_hidden_state   [B, L, 4096]
//	vec = CLIPTextModel(CLIPTokenizer(prompt, max_length=77)).pooler_output     [B, 768]
//
// both without attention mask. Results are cached by (prompt, max length,
// backend), so a prompt repeated across requests, and the negative prompt of
// every true-CFG request, is encoded once.
package conditioner

import (
	"container/list"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/model/clip"
	"github.com/fluxpulid/fluxpulid/model/t5"
	"github.com/fluxpulid/fluxpulid/tokenizer/clipbpe"
	"github.com/fluxpulid/fluxpulid/tokenizer/sentencepiece"
	"github.com/fluxpulid/fluxpulid/weights"
)

// DefaultCacheSize is how many encoded prompts a Conditioner keeps.
const DefaultCacheSize = 32

// MinSeqLen and MaxSeqLen bound max_sequence_length (the hosted APIs' range).
const (
	MinSeqLen = 128
	MaxSeqLen = 512
)

// Conditioner holds the two text encoders and their tokenizers.
type Conditioner struct {
	T5      *t5.Model
	T5Tok   *sentencepiece.T5
	CLIP    *clip.Model
	CLIPTok *clipbpe.Tokenizer

	// encoded counts prompts actually run through the encoders (cache misses).
	encoded int

	cache *lru
	group singleflight.Group

	closers []interface{ Close() error } // weight files opened by Load
}

// New assembles a conditioner from loaded parts; cacheSize ≤ 0 disables the
// cache.
func New(t5m *t5.Model, t5tok *sentencepiece.T5, clipm *clip.Model, cliptok *clipbpe.Tokenizer, cacheSize int) (*Conditioner, error) {
	if t5m == nil || t5tok == nil || clipm == nil || cliptok == nil {
		return nil, errors.New("conditioner: both encoders and both tokenizers are required")
	}
	if err := checkVocab(t5m, t5tok, clipm, cliptok); err != nil {
		return nil, fmt.Errorf("conditioner: %w", err)
	}
	return &Conditioner{T5: t5m, T5Tok: t5tok, CLIP: clipm, CLIPTok: cliptok, cache: newLRU(cacheSize)}, nil
}

// checkVocab refuses a tokenizer whose ids run past its encoder's embedding
// table (a tokenizer of another model, or a corrupt vocabulary): caught
// here, at load, rather than by the first prompt that happens to use such a
// token, and before an id too large for int32 wraps around.
func checkVocab(t5m *t5.Model, t5tok *sentencepiece.T5, clipm *clip.Model, cliptok *clipbpe.Tokenizer) error {
	if n, rows := t5tok.VocabSize(), t5m.Cfg.VocabSize; n > rows {
		return fmt.Errorf("the T5 tokenizer has %d token ids but the T5 encoder's embedding only %d rows (tokenizer and weights of different models?)", n, rows)
	}
	if n, rows := cliptok.VocabSize(), clipm.Cfg.VocabSize; n > rows {
		return fmt.Errorf("the CLIP tokenizer has %d token ids but the CLIP encoder's embedding only %d rows (tokenizer and weights of different models?)", n, rows)
	}
	return nil
}

// Paths name the files of a FLUX text-encoder set.
type Paths struct {
	T5Weights     string // t5xxl_fp16.safetensors, or a sharded text_encoder_2/ folder
	T5Tokenizer   string // spiece.model
	CLIPWeights   string // clip_l.safetensors, text_encoder/ or a full CLIP checkpoint
	CLIPTokenizer string // folder with vocab.json and merges.txt

	// T5Config and CLIPConfig override FLUX.1's T5-XXL and CLIP-L
	// configurations (nil: the real ones).
	T5Config   *t5.Config
	CLIPConfig *clip.Config
}

// Load opens FLUX.1's encoders (T5-XXL v1.1 and CLIP ViT-L/14 text, unless
// p names other configurations) from paths onto b. Close releases the files.
func Load(b backend.Backend, p Paths) (*Conditioner, error) {
	t5tok, err := sentencepiece.LoadT5(p.T5Tokenizer)
	if err != nil {
		return nil, fmt.Errorf("conditioner: %w", err)
	}
	cliptok, err := clipbpe.Load(p.CLIPTokenizer)
	if err != nil {
		return nil, fmt.Errorf("conditioner: %w", err)
	}
	// The weight stores stay open: tensors may be views into their mappings.
	t5src, err := weights.Open(p.T5Weights)
	if err != nil {
		return nil, fmt.Errorf("conditioner: t5 weights: %w", err)
	}
	t5cfg, clipcfg := t5.XXL(), clip.ViTL14()
	if p.T5Config != nil {
		t5cfg = *p.T5Config
	}
	if p.CLIPConfig != nil {
		clipcfg = *p.CLIPConfig
	}
	t5m, err := t5.Load(b, t5src, t5cfg)
	if err != nil {
		t5src.Close()
		return nil, fmt.Errorf("conditioner: %s: %w", p.T5Weights, err)
	}
	clipsrc, err := weights.Open(p.CLIPWeights)
	if err != nil {
		t5src.Close()
		return nil, fmt.Errorf("conditioner: clip weights: %w", err)
	}
	clipm, err := clip.Load(b, clipsrc, clipcfg)
	if err != nil {
		t5src.Close()
		clipsrc.Close()
		return nil, fmt.Errorf("conditioner: %s: %w", p.CLIPWeights, err)
	}
	c, err := New(t5m, t5tok, clipm, cliptok, DefaultCacheSize)
	if err != nil {
		t5src.Close()
		clipsrc.Close()
		return nil, fmt.Errorf("%w (tokenizers %s and %s, weights %s and %s)", err, p.T5Tokenizer, p.CLIPTokenizer, p.T5Weights, p.CLIPWeights)
	}
	c.closers = []interface{ Close() error }{t5src, clipsrc}
	return c, nil
}

// Close releases the weight files Load opened (the encoders' weights may be
// views into them, so the conditioner must not be used afterwards).
func (c *Conditioner) Close() error {
	var errs []error
	for _, cl := range c.closers {
		errs = append(errs, cl.Close())
	}
	c.closers = nil
	return errors.Join(errs...)
}

// Encoded is the conditioning of one prompt, on the host.
type Encoded struct {
	Txt []float32 // [L, d_model] T5 last hidden state
	Vec []float32 // [hidden] CLIP pooled output
}

// Encode returns txt [B, maxLen, d_model] and vec [B, hidden] for the
// prompts, in order. maxLen is FLUX's max_sequence_length (128..512).
func (c *Conditioner) Encode(b backend.Backend, prompts []string, maxLen int) (txt, vec backend.Tensor, err error) {
	if len(prompts) == 0 {
		return nil, nil, errors.New("conditioner: no prompts")
	}
	if maxLen < MinSeqLen || maxLen > MaxSeqLen {
		return nil, nil, fmt.Errorf("conditioner: max_sequence_length %d outside [%d, %d]", maxLen, MinSeqLen, MaxSeqLen)
	}
	var txtAll, vecAll []float32
	for _, p := range prompts {
		e, err := c.EncodeOne(b, p, maxLen)
		if err != nil {
			return nil, nil, err
		}
		txtAll = append(txtAll, e.Txt...)
		vecAll = append(vecAll, e.Vec...)
	}
	n := len(prompts)
	return b.FromF32([]int{n, maxLen, c.T5.Cfg.DModel}, txtAll), b.FromF32([]int{n, c.CLIP.Cfg.HiddenSize}, vecAll), nil
}

// EncodeOne returns the conditioning of one prompt, from the cache when the
// same (prompt, maxLen) was encoded on this backend before. Concurrent calls
// for the same prompt share one encoding. The returned slices must not be
// modified.
func (c *Conditioner) EncodeOne(b backend.Backend, prompt string, maxLen int) (Encoded, error) {
	key := cacheKey{prompt: prompt, maxLen: maxLen, backend: b.Name()}
	if e, ok := c.cache.get(key); ok {
		return e, nil
	}
	v, err, _ := c.group.Do(fmt.Sprintf("%d\x00%s\x00%s", maxLen, key.backend, prompt), func() (any, error) {
		if e, ok := c.cache.get(key); ok {
			return e, nil
		}
		e, err := c.encode(b, prompt, maxLen)
		if err != nil {
			return nil, err
		}
		c.cache.put(key, e)
		return e, nil
	})
	if err != nil {
		return Encoded{}, err
	}
	return v.(Encoded), nil
}

// Misses is the number of prompts run through the encoders so far.
func (c *Conditioner) Misses() int {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return c.encoded
}

func (c *Conditioner) encode(b backend.Backend, prompt string, maxLen int) (Encoded, error) {
	c.cache.mu.Lock()
	c.encoded++
	c.cache.mu.Unlock()

	t5ids, err := c.T5Tok.Encode(prompt, maxLen)
	if err != nil {
		return Encoded{}, fmt.Errorf("conditioner: %w", err)
	}
	txt, err := c.T5.Forward(b, toInt32(t5ids), 1, nil)
	if err != nil {
		return Encoded{}, fmt.Errorf("conditioner: t5: %w", err)
	}
	clipids, err := c.CLIPTok.Encode(prompt, c.CLIP.Cfg.MaxPositionEmbeddings)
	if err != nil {
		return Encoded{}, fmt.Errorf("conditioner: %w", err)
	}
	out, err := c.CLIP.Forward(b, toInt32(clipids), 1, nil)
	if err != nil {
		return Encoded{}, fmt.Errorf("conditioner: clip: %w", err)
	}
	var e Encoded
	if e.Txt, err = b.ReadF32(txt); err != nil {
		return Encoded{}, fmt.Errorf("conditioner: read t5 output: %w", err)
	}
	if e.Vec, err = b.ReadF32(out.Pooled); err != nil {
		return Encoded{}, fmt.Errorf("conditioner: read clip output: %w", err)
	}
	b.Free(txt)
	b.Free(out.LastHidden)
	b.Free(out.Pooled)
	return e, nil
}

func toInt32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

type cacheKey struct {
	prompt  string
	maxLen  int
	backend string
}

// lru is a small least-recently-used map.
type lru struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recent; values are *entry
	items map[cacheKey]*list.Element
}

type entry struct {
	key cacheKey
	val Encoded
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), items: map[cacheKey]*list.Element{}}
}

func (l *lru) get(k cacheKey) (Encoded, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.items[k]
	if !ok {
		return Encoded{}, false
	}
	l.order.MoveToFront(el)
	return el.Value.(*entry).val, true
}

func (l *lru) put(k cacheKey, v Encoded) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size <= 0 {
		return
	}
	if el, ok := l.items[k]; ok {
		el.Value.(*entry).val = v
		l.order.MoveToFront(el)
		return
	}
	l.items[k] = l.order.PushFront(&entry{k, v})
	for l.order.Len() > l.size {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.items, last.Value.(*entry).key)
	}
}
