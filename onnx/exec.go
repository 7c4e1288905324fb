package onnx

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	"github.com/fluxpulid/fluxpulid/dtype"
)

// Program is a model's graph bound to a backend, ready to run: every node
// was checked against the supported operators and their attributes at
// load time, and the initializers were converted (and uploaded where a
// device op consumes them). A Program is safe for concurrent Runs.
//
// Values flow either as backend tensors (the activations, always F32) or
// as small host tensors: the shape arithmetic exporters emit (Shape,
// Gather, Unsqueeze, Concat, Slice, Cast feeding a Reshape or a Resize) is
// computed on the host, so a backend sees only real tensor work.
type Program struct {
	b       backend.Backend
	opset   int64
	consts  map[string]*value
	steps   []step
	inputs  []*ValueInfo // graph inputs that are not initializers
	outputs []string
	// lastUse is the index of the last step that reads each value, so a
	// run can drop intermediates as soon as they are dead.
	lastUse map[string]int
}

type step struct {
	node  *Node
	op    *opDef
	state any // what the op's prepare computed at load
}

// opDef implements one operator. prepare (optional) validates the node's
// attributes and precomputes what it can from constant inputs; run
// computes the outputs.
type opDef struct {
	prepare func(p *Program, n *Node) (any, error)
	run     func(p *Program, n *Node, state any, in []*value) ([]*value, error)
}

// value is a tensor in flight: on the device, on the host, or both (a
// small float constant).
type value struct {
	dev  backend.Tensor
	host *hostTensor
}

func (v *value) shape() []int {
	if v.host != nil {
		return v.host.shape
	}
	return v.dev.Shape()
}

// hostMaxElements is the largest float initializer of rank >= 2 also kept
// on the host (shape-like constants); larger ones live on the device only.
// Vectors (norm parameters) are always kept.
const hostMaxElements = 1024

// Load binds a model's graph to a backend. Unsupported operators are all
// reported at once, by type and node name.
func Load(m *Model, b backend.Backend) (p *Program, err error) {
	defer backend.Catch(&err)
	g := m.Graph
	p = &Program{b: b, opset: m.OpsetVersion(), consts: map[string]*value{}, lastUse: map[string]int{}}
	if p.opset == 0 {
		return nil, errors.New("onnx: the model imports no ai.onnx operator set")
	}
	for _, t := range g.Initializers {
		v, err := constValue(b, t)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer %q: %w", t.Name, err)
		}
		p.consts[t.Name] = v
	}
	if len(g.SparseInitializers) > 0 {
		return nil, fmt.Errorf("onnx: sparse initializers (%q, ...) are not supported", g.SparseInitializers[0].Values.Name)
	}
	defined := map[string]bool{}
	for name := range p.consts {
		defined[name] = true
	}
	for _, in := range g.Inputs {
		if _, isConst := p.consts[in.Name]; isConst {
			continue // an initializer listed as an input (IR < 4 style): its stored value is used
		}
		p.inputs = append(p.inputs, in)
		defined[in.Name] = true
	}

	unsupported := map[string][]string{}
	var problems []string
	for i, n := range g.Nodes {
		label := fmt.Sprintf("node %d %s %q", i, n.OpType, n.Name)
		def, ok := registry[n.OpType]
		if !ok || (n.Domain != "" && n.Domain != "ai.onnx") {
			key := n.OpType
			if n.Domain != "" && n.Domain != "ai.onnx" {
				key = n.Domain + "." + n.OpType
			}
			unsupported[key] = append(unsupported[key], n.Name)
			continue
		}
		for _, in := range n.Inputs {
			if in != "" && !defined[in] {
				problems = append(problems, fmt.Sprintf("%s reads %q before anything defines it", label, in))
			}
			if in != "" {
				p.lastUse[in] = i
			}
		}
		for _, out := range n.Outputs {
			if out != "" {
				defined[out] = true
			}
		}
		var state any
		if def.prepare != nil {
			var err error
			if state, err = def.prepare(p, n); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", label, err))
				continue
			}
		}
		if n.OpType == "Constant" {
			// folded at load, so that shape operands are constants
			// when the nodes reading them are prepared
			if len(n.Outputs) == 1 && n.Outputs[0] != "" {
				p.consts[n.Outputs[0]] = state.(*value)
			}
			continue
		}
		p.steps = append(p.steps, step{node: n, op: def, state: state})
	}
	if len(unsupported) > 0 {
		var parts []string
		for op, nodes := range unsupported {
			parts = append(parts, fmt.Sprintf("%s (%d nodes, e.g. %q)", op, len(nodes), nodes[0]))
		}
		sort.Strings(parts)
		return nil, fmt.Errorf("onnx: unsupported operators: %s", strings.Join(parts, ", "))
	}
	for _, o := range g.Outputs {
		if !defined[o.Name] {
			problems = append(problems, fmt.Sprintf("graph output %q is never computed", o.Name))
		}
		p.outputs = append(p.outputs, o.Name)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("onnx: %s", strings.Join(problems, "; "))
	}
	return p, nil
}

// constValue converts an initializer or Constant tensor.
func constValue(b backend.Backend, t *Tensor) (*value, error) {
	switch t.DataType {
	case Float, Float16, BFloat16, Double:
		v := &value{}
		host := t.NumElements() <= hostMaxElements || len(t.Dims) <= 1
		if t.DataType == Float && b != nil && !host {
			// a large F32 weight goes to the device straight from the file
			// bytes, without an intermediate []float32
			v.dev = b.FromBytes(dtype.F32, t.Dims, t.Raw)
			return v, nil
		}
		f, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		if host {
			v.host = &hostTensor{shape: slices.Clone(t.Dims), f: f, float: true}
		}
		if b != nil {
			v.dev = b.FromF32(t.Dims, f)
		}
		return v, nil
	case Int64, Int32, Int16, Int8, Uint8, Uint16, Uint32, Bool:
		ints, err := t.Int64s()
		if err != nil {
			return nil, err
		}
		return &value{host: &hostTensor{shape: slices.Clone(t.Dims), i: ints}}, nil
	}
	return nil, fmt.Errorf("%v tensors are not supported", t.DataType)
}

// Inputs lists the graph inputs a Run needs (initializers excluded).
func (p *Program) Inputs() []*ValueInfo { return p.inputs }

// Outputs lists the graph output names in declaration order.
func (p *Program) Outputs() []string { return p.outputs }

// Run executes the graph on F32 inputs keyed by input name and returns the
// graph outputs, plus any intermediate values named in extra (a layer's
// output, for tests), as F32 tensors of the backend.
func (p *Program) Run(inputs map[string]backend.Tensor, extra ...string) (map[string]backend.Tensor, error) {
	env := make(map[string]*value, len(p.consts)+len(inputs))
	for name, v := range p.consts {
		env[name] = v
	}
	for _, in := range p.inputs {
		t, ok := inputs[in.Name]
		if !ok {
			return nil, fmt.Errorf("onnx: input %q is not given", in.Name)
		}
		if err := checkDeclared(in, t.Shape()); err != nil {
			return nil, fmt.Errorf("onnx: input %q: %w", in.Name, err)
		}
		env[in.Name] = &value{dev: t}
	}
	for name := range inputs {
		if !slices.ContainsFunc(p.inputs, func(v *ValueInfo) bool { return v.Name == name }) {
			return nil, fmt.Errorf("onnx: the graph has no input %q", name)
		}
	}
	keep := map[string]bool{}
	for _, name := range append(slices.Clone(p.outputs), extra...) {
		keep[name] = true
	}
	for i, s := range p.steps {
		in := make([]*value, len(s.node.Inputs))
		for j, name := range s.node.Inputs {
			if name != "" {
				in[j] = env[name]
			}
		}
		out, err := p.runStep(s, in)
		if err != nil {
			return nil, fmt.Errorf("onnx: node %s %q: %w", s.node.OpType, s.node.Name, err)
		}
		for j, name := range s.node.Outputs {
			if name == "" {
				continue
			}
			if j >= len(out) || out[j] == nil {
				return nil, fmt.Errorf("onnx: node %s %q: output %d (%q) is not produced", s.node.OpType, s.node.Name, j, name)
			}
			env[name] = out[j]
		}
		// Drop values this step read for the last time; the backend
		// reclaims unreachable tensors.
		for _, name := range s.node.Inputs {
			if name != "" && p.lastUse[name] == i && !keep[name] {
				if _, isConst := p.consts[name]; !isConst {
					delete(env, name)
				}
			}
		}
	}
	res := map[string]backend.Tensor{}
	for name := range keep {
		v, ok := env[name]
		if !ok {
			return nil, fmt.Errorf("onnx: value %q is not computed by the graph", name)
		}
		t, err := p.toDevice(v)
		if err != nil {
			return nil, fmt.Errorf("onnx: output %q: %w", name, err)
		}
		res[name] = t
	}
	return res, nil
}

// runStep runs one node, turning a failed backend op into an error.
func (p *Program) runStep(s step, in []*value) (out []*value, err error) {
	defer backend.Catch(&err)
	return s.op.run(p, s.node, s.state, in)
}

// checkDeclared compares a given shape with a declared one: the rank and
// every fixed dimension must match (symbolic ones may be anything).
func checkDeclared(v *ValueInfo, shape []int) error {
	if v.Type == nil || !v.Type.HasShape {
		return nil
	}
	d := v.Type.Shape
	if len(d) != len(shape) {
		return fmt.Errorf("shape %v has rank %d, the graph declares %d", shape, len(shape), len(d))
	}
	for i, dim := range d {
		if dim.Param == "" && dim.Value >= 0 && int64(shape[i]) != dim.Value {
			return fmt.Errorf("shape %v: dimension %d must be %d", shape, i, dim.Value)
		}
	}
	return nil
}

// toDevice returns v as an F32 backend tensor, uploading host data.
func (p *Program) toDevice(v *value) (backend.Tensor, error) {
	if v == nil {
		return nil, errors.New("missing operand")
	}
	if v.dev != nil {
		return v.dev, nil
	}
	return p.b.FromF32(v.host.shape, v.host.floats()), nil
}

// toHost returns v's data on the host, reading a device tensor back.
func (p *Program) toHost(v *value) (*hostTensor, error) {
	if v == nil {
		return nil, errors.New("missing operand")
	}
	if v.host != nil {
		return v.host, nil
	}
	f, err := p.b.ReadF32(v.dev)
	if err != nil {
		return nil, err
	}
	return &hostTensor{shape: slices.Clone(v.dev.Shape()), f: f, float: true}, nil
}

// constInput returns input i of n if it is an initializer (or a Constant
// folded at load), else nil.
func (p *Program) constInput(n *Node, i int) *value {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil
	}
	return p.consts[n.Inputs[i]]
}
