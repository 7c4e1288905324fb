package sentencepiece

// unkPenalty is kUnkPenalty in unigram_model.cc: an unknown character costs
// the lowest piece score minus 10.
const unkPenalty float32 = 10

// Token is one piece of a segmentation: its id and the normalized text it
// covers ("▁" for spaces). A run of unknown characters is one token.
type Token struct {
	ID   int
	Text string
}

// Normalize returns the normalized text the model segments.
func (m *Model) Normalize(text string) string { return m.norm.normalize(text) }

// Encode segments text into pieces (SentencePieceProcessor::Encode for a
// unigram model): normalize, best-scoring segmentation, then consecutive
// unknown pieces merged into one. No BOS/EOS is added.
func (m *Model) Encode(text string) []Token {
	s := m.norm.normalize(text)
	ends := m.viterbi(s)
	var out []Token
	start := 0
	for i, e := range ends {
		unk := e.id == m.unkID
		// A known piece never consists of unknown characters, so merged
		// unknowns stay unknown.
		if !(unk && i+1 < len(ends) && ends[i+1].id == m.unkID) {
			out = append(out, Token{ID: e.id, Text: s[start:e.end]})
			start = e.end
		}
	}
	return out
}

// EncodeIDs is Encode returning only the ids.
func (m *Model) EncodeIDs(text string) []int {
	toks := m.Encode(text)
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = t.ID
	}
	return ids
}

// oneCharLen is string_util::OneCharLen: the UTF-8 sequence length implied by
// a lead byte's high nibble (continuation bytes count as 1).
func oneCharLen(b byte) int {
	switch b >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// viterbi is Model::EncodeOptimized: for every byte position the best path
// ending there, built from the pieces starting at each character boundary,
// then backtracking from the end.
//
// Arithmetic mirrors the C++ types so that near-ties resolve identically: a
// piece score is widened to double and added to the float best score, the
// double sum is compared against the stored float, then stored as float; the
// unknown candidate is summed in float. An equal score never replaces an
// earlier candidate, so the earliest start wins ties.
// pieceEnd is one piece of the best path: its id and end offset in s.
type pieceEnd struct{ id, end int }

func (m *Model) viterbi(s string) []pieceEnd {
	if s == "" {
		return nil
	}
	type node struct {
		id       int
		score    float32
		startsAt int
	}
	size := len(s)
	best := make([]node, size+1)
	for i := range best {
		best[i].startsAt = -1
	}
	unkScore := m.minScore - unkPenalty
	for start := 0; start < size; {
		here := best[start].score
		mblen := min(oneCharLen(s[start]), size-start)
		hasSingle := false
		cur := int32(0)
		for end := start + 1; end <= size; end++ {
			if cur = m.trie.child(cur, s[end-1]); cur < 0 {
				break
			}
			id := int(m.trie.nodes[cur].id)
			if id < 0 {
				continue
			}
			p := m.pieces[id]
			if p.Type == Unused {
				continue
			}
			length := end - start
			var score float64
			if p.Type == UserDefined {
				// User-defined symbols get a bonus so they are always chosen.
				score = float64(float32(length)*m.maxScore) - 0.1
			} else {
				score = float64(p.Score)
			}
			cand := score + float64(here)
			if t := &best[end]; t.startsAt == -1 || cand > float64(t.score) {
				*t = node{id: id, score: float32(cand), startsAt: start}
			}
			if length == mblen {
				hasSingle = true
			}
		}
		if !hasSingle {
			cand := unkScore + here
			if t := &best[start+mblen]; t.startsAt == -1 || cand > t.score {
				*t = node{id: m.unkID, score: cand, startsAt: start}
			}
		}
		start += mblen
	}
	var rev []pieceEnd
	for end := size; end > 0; {
		rev = append(rev, pieceEnd{best[end].id, end})
		end = best[end].startsAt
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}
