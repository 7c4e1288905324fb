// Package onnx reads ONNX model files (a protobuf ModelProto) and runs their
// graphs.
//
// The reader hand-maps the onnx.proto messages it needs onto protowire
// (google.golang.org/protobuf/encoding/protowire) instead of generated code:
// the schema is small and stable, and decoding by hand lets every length,
// shape and data size be validated as it is read, so a corrupt or hostile
// file yields an error, never a panic or an outsized allocation. Unknown
// fields are skipped, as protobuf requires.
package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
)

// Model is a ModelProto.
type Model struct {
	IRVersion       int64
	Opsets          []OpsetID
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           *Graph
	Metadata        map[string]string
}

// OpsetID is an OperatorSetIdProto: the operator set version a model's
// nodes of one domain bind to ("" and "ai.onnx" are the default domain).
type OpsetID struct {
	Domain  string
	Version int64
}

// Graph is a GraphProto.
type Graph struct {
	Name               string
	Nodes              []*Node // in topological order, as ONNX requires
	Initializers       []*Tensor
	SparseInitializers []*SparseTensor
	Inputs, Outputs    []*ValueInfo
	ValueInfo          []*ValueInfo
	DocString          string
}

// Node is a NodeProto. An empty input or output name marks an omitted
// optional argument.
type Node struct {
	Name       string
	OpType     string
	Domain     string
	Inputs     []string
	Outputs    []string
	Attributes []*Attribute
	DocString  string
}

// Attr returns the attribute with the given name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attributes {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensor  AttrType = 11
	AttrSparseTensors AttrType = 12
	AttrTypeProto     AttrType = 13
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = [...]string{
	"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
	"STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
	"TYPE_PROTO", "TYPE_PROTOS",
}

func (t AttrType) String() string {
	if t >= 0 && int(t) < len(attrTypeNames) {
		return attrTypeNames[t]
	}
	return fmt.Sprintf("AttrType(%d)", int32(t))
}

// Attribute is an AttributeProto; the field Type names is the one in use.
type Attribute struct {
	Name          string
	Type          AttrType
	RefAttrName   string // set inside function bodies only
	DocString     string
	F             float32
	I             int64
	S             []byte
	T             *Tensor
	G             *Graph
	SparseTensor  *SparseTensor
	TP            *Type
	Floats        []float32
	Ints          []int64
	Strings       [][]byte
	Tensors       []*Tensor
	Graphs        []*Graph
	SparseTensors []*SparseTensor
	TypeProtos    []*Type
}

// SparseTensor is a SparseTensorProto: Values (shape [NNZ]) at Indices
// (shape [NNZ, rank] or linearised [NNZ]) of a dense tensor of shape Dims.
type SparseTensor struct {
	Values, Indices *Tensor
	Dims            []int
}

// ValueInfo is a ValueInfoProto: a graph input, output or intermediate with
// its declared type.
type ValueInfo struct {
	Name      string
	Type      *Type // nil when not declared
	DocString string
}

// TypeKind says which member of the TypeProto oneof is set.
type TypeKind int

const (
	TypeUnset TypeKind = iota
	TypeTensor
	TypeSequence
	TypeMap
	TypeOptional
	TypeSparseTensor
)

// Type is a TypeProto. Only tensor and sparse-tensor types are described in
// detail; for sequences, maps and optionals only the kind is kept.
type Type struct {
	Kind       TypeKind
	ElemType   DataType
	Shape      []Dim // nil when HasShape is false (rank unknown)
	HasShape   bool
	Denotation string
}

// Dim is a TensorShapeProto.Dimension: a fixed size (Value >= 0 and Param
// empty), a symbolic one (Param set), or unknown (Value -1, Param empty).
type Dim struct {
	Value      int64
	Param      string
	Denotation string
}

// maxGraphDepth bounds the nesting of subgraphs (If/Loop bodies inside
// attributes) so that a crafted file cannot exhaust the stack.
const maxGraphDepth = 32

// ReadFile reads and parses the model file at path.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("onnx %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a serialized ModelProto. The model's tensors and strings
// may refer to b, which must not change while the model is in use.
func Parse(b []byte) (*Model, error) {
	m := &Model{}
	var graph []byte
	hasGraph := false
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = f.int64()
		case 2:
			m.ProducerName, err = f.str()
		case 3:
			m.ProducerVersion, err = f.str()
		case 4:
			m.Domain, err = f.str()
		case 5:
			m.ModelVersion, err = f.int64()
		case 6:
			m.DocString, err = f.str()
		case 7:
			graph, err = f.bytes()
			hasGraph = true
		case 8:
			var op OpsetID
			if op, err = decodeOpset(f); err == nil {
				m.Opsets = append(m.Opsets, op)
			}
		case 14:
			var kv [2]string
			if kv, err = decodeStringPair(f); err == nil {
				if m.Metadata == nil {
					m.Metadata = map[string]string{}
				}
				m.Metadata[kv[0]] = kv[1]
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ModelProto: %w", err)
	}
	if !hasGraph {
		return nil, errors.New("ModelProto has no graph")
	}
	if m.Graph, err = decodeGraph(graph, 0); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return m, nil
}

// OpsetVersion returns the imported version of the default (ai.onnx)
// operator set, 0 if none is imported.
func (m *Model) OpsetVersion() int64 {
	for _, o := range m.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}

func decodeOpset(f field) (OpsetID, error) {
	var op OpsetID
	b, err := f.bytes()
	if err != nil {
		return op, err
	}
	err = eachField(b, func(g field) error {
		var err error
		switch g.num {
		case 1:
			op.Domain, err = g.str()
		case 2:
			op.Version, err = g.int64()
		}
		return err
	})
	if err == nil && op.Version < 0 {
		err = fmt.Errorf("opset %q has version %d", op.Domain, op.Version)
	}
	return op, err
}

func decodeGraph(b []byte, depth int) (*Graph, error) {
	if depth > maxGraphDepth {
		return nil, fmt.Errorf("subgraphs nested more than %d deep", maxGraphDepth)
	}
	g := &Graph{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			var n *Node
			if n, err = decodeNode(f, depth); err == nil {
				g.Nodes = append(g.Nodes, n)
			} else {
				err = fmt.Errorf("node %d: %w", len(g.Nodes), err)
			}
		case 2:
			g.Name, err = f.str()
		case 5:
			var t *Tensor
			var mb []byte
			if mb, err = f.bytes(); err == nil {
				if t, err = decodeTensor(mb); err == nil {
					g.Initializers = append(g.Initializers, t)
				}
			}
			if err != nil {
				err = fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
		case 15:
			var s *SparseTensor
			if s, err = decodeSparse(f); err == nil {
				g.SparseInitializers = append(g.SparseInitializers, s)
			} else {
				err = fmt.Errorf("sparse initializer %d: %w", len(g.SparseInitializers), err)
			}
		case 10:
			g.DocString, err = f.str()
		case 11, 12, 13:
			list, what := &g.Inputs, "input"
			if f.num == 12 {
				list, what = &g.Outputs, "output"
			} else if f.num == 13 {
				list, what = &g.ValueInfo, "value_info"
			}
			var v *ValueInfo
			if v, err = decodeValueInfo(f); err != nil {
				return fmt.Errorf("%s %d: %w", what, len(*list), err)
			}
			*list = append(*list, v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range g.Initializers {
		if t.Name == "" {
			return nil, errors.New("an initializer has no name")
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("initializer %q is defined twice", t.Name)
		}
		seen[t.Name] = true
	}
	for _, s := range g.SparseInitializers {
		if s.Values.Name == "" {
			return nil, errors.New("a sparse initializer has no name")
		}
		if seen[s.Values.Name] {
			return nil, fmt.Errorf("initializer %q is defined twice", s.Values.Name)
		}
		seen[s.Values.Name] = true
	}
	for i, n := range g.Nodes {
		if n.OpType == "" {
			return nil, fmt.Errorf("node %d (%q) has no op_type", i, n.Name)
		}
	}
	return g, nil
}

func decodeNode(f field, depth int) (*Node, error) {
	b, err := f.bytes()
	if err != nil {
		return nil, err
	}
	n := &Node{}
	err = eachField(b, func(g field) error {
		var err error
		switch g.num {
		case 1:
			var s string
			if s, err = g.str(); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case 2:
			var s string
			if s, err = g.str(); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			n.Name, err = g.str()
		case 4:
			n.OpType, err = g.str()
		case 5:
			var a *Attribute
			if a, err = decodeAttribute(g, depth); err == nil {
				n.Attributes = append(n.Attributes, a)
			} else {
				err = fmt.Errorf("attribute %d: %w", len(n.Attributes), err)
			}
		case 6:
			n.DocString, err = g.str()
		case 7:
			n.Domain, err = g.str()
		}
		return err
	})
	if err != nil {
		if n.OpType != "" || n.Name != "" {
			return nil, fmt.Errorf("%s %q: %w", n.OpType, n.Name, err)
		}
		return nil, err
	}
	seen := map[string]bool{}
	for _, a := range n.Attributes {
		if seen[a.Name] {
			return nil, fmt.Errorf("%s %q: attribute %q given twice", n.OpType, n.Name, a.Name)
		}
		seen[a.Name] = true
	}
	return n, nil
}

// decodeAttribute parses an AttributeProto and checks that the value fields
// present are those of its declared type.
func decodeAttribute(f field, depth int) (*Attribute, error) {
	b, err := f.bytes()
	if err != nil {
		return nil, err
	}
	a := &Attribute{}
	var present []AttrType // the type each value field belongs to, in order
	err = eachField(b, func(g field) error {
		var err error
		var mb []byte
		switch g.num {
		case 1:
			a.Name, err = g.str()
		case 21:
			a.RefAttrName, err = g.str()
		case 13:
			a.DocString, err = g.str()
		case 20:
			var t int32
			t, err = g.int32()
			a.Type = AttrType(t)
		case 2:
			a.F, err = g.float32()
			present = append(present, AttrFloat)
		case 3:
			a.I, err = g.int64()
			present = append(present, AttrInt)
		case 4:
			a.S, err = g.bytes()
			present = append(present, AttrString)
		case 5:
			if mb, err = g.bytes(); err == nil {
				a.T, err = decodeTensor(mb)
			}
			present = append(present, AttrTensor)
		case 6:
			if mb, err = g.bytes(); err == nil {
				a.G, err = decodeGraph(mb, depth+1)
			}
			present = append(present, AttrGraph)
		case 22:
			a.SparseTensor, err = decodeSparse(g)
			present = append(present, AttrSparseTensor)
		case 14:
			a.TP, err = decodeType(g)
			present = append(present, AttrTypeProto)
		case 7:
			var vs []uint32
			if vs, err = appendFixed32s(nil, g); err == nil {
				for _, v := range vs {
					a.Floats = append(a.Floats, math.Float32frombits(v))
				}
			}
			present = append(present, AttrFloats)
		case 8:
			var vs []uint64
			if vs, err = appendVarints(nil, g); err == nil {
				for _, v := range vs {
					a.Ints = append(a.Ints, int64(v))
				}
			}
			present = append(present, AttrInts)
		case 9:
			var s []byte
			if s, err = g.bytes(); err == nil {
				a.Strings = append(a.Strings, s)
			}
			present = append(present, AttrStrings)
		case 10:
			var t *Tensor
			if mb, err = g.bytes(); err == nil {
				if t, err = decodeTensor(mb); err == nil {
					a.Tensors = append(a.Tensors, t)
				}
			}
			present = append(present, AttrTensors)
		case 11:
			var sub *Graph
			if mb, err = g.bytes(); err == nil {
				if sub, err = decodeGraph(mb, depth+1); err == nil {
					a.Graphs = append(a.Graphs, sub)
				}
			}
			present = append(present, AttrGraphs)
		case 23:
			var s *SparseTensor
			if s, err = decodeSparse(g); err == nil {
				a.SparseTensors = append(a.SparseTensors, s)
			}
			present = append(present, AttrSparseTensors)
		case 15:
			var t *Type
			if t, err = decodeType(g); err == nil {
				a.TypeProtos = append(a.TypeProtos, t)
			}
			present = append(present, AttrTypeProtos)
		}
		return err
	})
	if err != nil {
		if a.Name != "" {
			return nil, fmt.Errorf("%q: %w", a.Name, err)
		}
		return nil, err
	}
	if a.Name == "" {
		return nil, errors.New("attribute without a name")
	}
	if a.Type == AttrUndefined {
		// IR version 1 had no type field: the value field tells.
		for _, p := range present {
			if a.Type != AttrUndefined && p != a.Type {
				return nil, fmt.Errorf("%q: untyped attribute holds both %v and %v values", a.Name, a.Type, p)
			}
			a.Type = p
		}
		if a.Type == AttrUndefined && a.RefAttrName == "" {
			return nil, fmt.Errorf("%q: attribute has neither a type nor a value", a.Name)
		}
	}
	if a.Type < 0 || int(a.Type) >= len(attrTypeNames) {
		return nil, fmt.Errorf("%q: unknown attribute type %d", a.Name, int32(a.Type))
	}
	for _, p := range present {
		if p != a.Type {
			return nil, fmt.Errorf("%q: %v attribute holds a %v value", a.Name, a.Type, p)
		}
	}
	if a.RefAttrName == "" {
		missing := false
		switch a.Type {
		case AttrTensor:
			missing = a.T == nil
		case AttrGraph:
			missing = a.G == nil
		case AttrSparseTensor:
			missing = a.SparseTensor == nil
		case AttrTypeProto:
			missing = a.TP == nil
		}
		if missing {
			return nil, fmt.Errorf("%q: %v attribute without its value", a.Name, a.Type)
		}
	}
	return a, nil
}

func decodeSparse(f field) (*SparseTensor, error) {
	b, err := f.bytes()
	if err != nil {
		return nil, err
	}
	s := &SparseTensor{}
	var dims []uint64
	err = eachField(b, func(g field) error {
		var err error
		var mb []byte
		switch g.num {
		case 1:
			if mb, err = g.bytes(); err == nil {
				s.Values, err = decodeTensor(mb)
			}
		case 2:
			if mb, err = g.bytes(); err == nil {
				s.Indices, err = decodeTensor(mb)
			}
		case 3:
			dims, err = appendVarints(dims, g)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sparse tensor: %w", err)
	}
	if s.Values == nil || s.Indices == nil {
		return nil, errors.New("sparse tensor without values or indices")
	}
	if len(s.Values.Dims) != 1 {
		return nil, fmt.Errorf("sparse tensor %q: values have shape %v, want [NNZ]", s.Values.Name, s.Values.Dims)
	}
	dense := int64(1)
	for i, d := range dims {
		if int64(d) < 0 || d > maxElements || (dense != 0 && d > maxElements/uint64(dense)) {
			return nil, fmt.Errorf("sparse tensor %q: dimension %d is %d", s.Values.Name, i, int64(d))
		}
		dense *= int64(d)
		s.Dims = append(s.Dims, int(d))
	}
	nnz := s.Values.Dims[0]
	if int64(nnz) > dense {
		return nil, fmt.Errorf("sparse tensor %q: %d values for %d dense elements", s.Values.Name, nnz, dense)
	}
	id := s.Indices.Dims
	okShape := (len(id) == 1 && id[0] == nnz) || (len(id) == 2 && id[0] == nnz && id[1] == len(s.Dims))
	if !okShape || s.Indices.DataType != Int64 {
		return nil, fmt.Errorf("sparse tensor %q: indices are %v %v, want INT64 [%d] or [%d, %d]",
			s.Values.Name, s.Indices.DataType, id, nnz, nnz, len(s.Dims))
	}
	return s, nil
}

func decodeValueInfo(f field) (*ValueInfo, error) {
	b, err := f.bytes()
	if err != nil {
		return nil, err
	}
	v := &ValueInfo{}
	err = eachField(b, func(g field) error {
		var err error
		switch g.num {
		case 1:
			v.Name, err = g.str()
		case 2:
			v.Type, err = decodeType(g)
		case 3:
			v.DocString, err = g.str()
		}
		return err
	})
	if err != nil {
		if v.Name != "" {
			return nil, fmt.Errorf("%q: %w", v.Name, err)
		}
		return nil, err
	}
	if v.Name == "" {
		return nil, errors.New("value without a name")
	}
	return v, nil
}

// decodeType parses a TypeProto (tensor_type 1, sequence_type 4, map_type
// 5, sparse_tensor_type 8, optional_type 9, denotation 6).
func decodeType(f field) (*Type, error) {
	b, err := f.bytes()
	if err != nil {
		return nil, err
	}
	t := &Type{}
	err = eachField(b, func(g field) error {
		var err error
		switch g.num {
		case 1, 8:
			if t.Kind != TypeUnset {
				return errors.New("type sets more than one kind")
			}
			t.Kind = TypeTensor
			if g.num == 8 {
				t.Kind = TypeSparseTensor
			}
			var mb []byte
			if mb, err = g.bytes(); err == nil {
				err = decodeTensorType(mb, t)
			}
		case 4, 5, 9:
			if t.Kind != TypeUnset {
				return errors.New("type sets more than one kind")
			}
			if _, err = g.bytes(); err == nil {
				switch g.num {
				case 4:
					t.Kind = TypeSequence
				case 5:
					t.Kind = TypeMap
				default:
					t.Kind = TypeOptional
				}
			}
		case 6:
			t.Denotation, err = g.str()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	return t, nil
}

func decodeTensorType(b []byte, t *Type) error {
	return eachField(b, func(g field) error {
		var err error
		switch g.num {
		case 1:
			var e int32
			e, err = g.int32()
			t.ElemType = DataType(e)
		case 2:
			var mb []byte
			if mb, err = g.bytes(); err != nil {
				return err
			}
			t.HasShape = true
			t.Shape = []Dim{}
			err = eachField(mb, func(h field) error {
				if h.num != 1 {
					return nil
				}
				db, err := h.bytes()
				if err != nil {
					return err
				}
				d := Dim{Value: -1}
				err = eachField(db, func(k field) error {
					var err error
					switch k.num {
					case 1:
						d.Value, err = k.int64()
						if err == nil && d.Value < 0 {
							err = fmt.Errorf("dimension %d is %d", len(t.Shape), d.Value)
						}
					case 2:
						d.Param, err = k.str()
					case 3:
						d.Denotation, err = k.str()
					}
					return err
				})
				t.Shape = append(t.Shape, d)
				return err
			})
		}
		return err
	})
}
