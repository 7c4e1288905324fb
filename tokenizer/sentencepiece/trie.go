package sentencepiece

import "sort"

// pieceTrie is a byte trie over the segmentation vocabulary, so that all
// pieces starting at a position are found in one walk that stops at the first
// byte no piece continues with (the role of the Darts trie in the reference).
// Children of a node are a sorted run of edges.
type pieceTrie struct {
	nodes []trieNode
	edges []trieEdge
}

type trieNode struct {
	id          int32 // piece id ending here, or -1
	first, size int32 // edges[first : first+size]
}

type trieEdge struct {
	label byte
	child int32
}

func buildTrie(vocab map[string]int) pieceTrie {
	type tmpNode struct {
		id   int32
		kids map[byte]*tmpNode
	}
	root := &tmpNode{id: -1}
	for s, id := range vocab {
		n := root
		for i := 0; i < len(s); i++ {
			if n.kids == nil {
				n.kids = map[byte]*tmpNode{}
			}
			k := n.kids[s[i]]
			if k == nil {
				k = &tmpNode{id: -1}
				n.kids[s[i]] = k
			}
			n = k
		}
		n.id = int32(id)
	}
	// Flatten breadth-first; each node's edges are contiguous and sorted.
	var t pieceTrie
	queue := []*tmpNode{root}
	t.nodes = append(t.nodes, trieNode{id: root.id})
	for qi := 0; qi < len(queue); qi++ {
		n := queue[qi]
		labels := make([]int, 0, len(n.kids))
		for b := range n.kids {
			labels = append(labels, int(b))
		}
		sort.Ints(labels)
		t.nodes[qi].first, t.nodes[qi].size = int32(len(t.edges)), int32(len(labels))
		for _, b := range labels {
			k := n.kids[byte(b)]
			t.edges = append(t.edges, trieEdge{byte(b), int32(len(t.nodes))})
			t.nodes = append(t.nodes, trieNode{id: k.id})
			queue = append(queue, k)
		}
	}
	return t
}

// child follows the edge labelled b from node n, or returns -1.
func (t *pieceTrie) child(n int32, b byte) int32 {
	node := t.nodes[n]
	edges := t.edges[node.first : node.first+node.size]
	lo, hi := 0, len(edges)
	for lo < hi {
		mid := (lo + hi) / 2
		if edges[mid].label < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(edges) && edges[lo].label == b {
		return edges[lo].child
	}
	return -1
}
