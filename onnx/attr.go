package onnx

import "fmt"

// Attribute accessors with the operator's default when absent and an
// error when present with the wrong type.

func attrInt(n *Node, name string, def int64) (int64, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != AttrInt {
		return 0, fmt.Errorf("attribute %s is %v, want INT", name, a.Type)
	}
	return a.I, nil
}

func attrFloat(n *Node, name string, def float32) (float32, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != AttrFloat {
		return 0, fmt.Errorf("attribute %s is %v, want FLOAT", name, a.Type)
	}
	return a.F, nil
}

func attrString(n *Node, name, def string) (string, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if a.Type != AttrString {
		return "", fmt.Errorf("attribute %s is %v, want STRING", name, a.Type)
	}
	return string(a.S), nil
}

// attrInts returns nil when the attribute is absent.
func attrInts(n *Node, name string) ([]int64, error) {
	a := n.Attr(name)
	if a == nil {
		return nil, nil
	}
	if a.Type != AttrInts {
		return nil, fmt.Errorf("attribute %s is %v, want INTS", name, a.Type)
	}
	return a.Ints, nil
}

func attrFloats(n *Node, name string) ([]float32, error) {
	a := n.Attr(name)
	if a == nil {
		return nil, nil
	}
	if a.Type != AttrFloats {
		return nil, fmt.Errorf("attribute %s is %v, want FLOATS", name, a.Type)
	}
	return a.Floats, nil
}

// attrs collects the first error of a series of accessor calls, so an op's
// prepare reads like a list of its attributes.
type attrs struct {
	n   *Node
	err error
}

func (a *attrs) int(name string, def int64) int64 {
	v, err := attrInt(a.n, name, def)
	a.keep(err)
	return v
}

func (a *attrs) float(name string, def float32) float32 {
	v, err := attrFloat(a.n, name, def)
	a.keep(err)
	return v
}

func (a *attrs) string(name, def string) string {
	v, err := attrString(a.n, name, def)
	a.keep(err)
	return v
}

func (a *attrs) ints(name string) []int64 {
	v, err := attrInts(a.n, name)
	a.keep(err)
	return v
}

func (a *attrs) keep(err error) {
	if a.err == nil {
		a.err = err
	}
}

// toInts converts int64 attribute values to int, bounding them so that
// corrupt values cannot overflow later arithmetic.
func toInts(name string, vs []int64) ([]int, error) {
	out := make([]int, len(vs))
	for i, v := range vs {
		if v < -1<<40 || v > 1<<40 {
			return nil, fmt.Errorf("%s[%d] = %d is out of range", name, i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}
