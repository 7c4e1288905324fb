package torchpickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/fluxpulid/fluxpulid/dtype"
)

// This file is a restricted pickle virtual machine. Python's pickle format
// is a program: GLOBAL names any importable callable and REDUCE calls it, so
// loading an untrusted .pth with a general unpickler runs arbitrary code.
// A library (e.g. nlpodyssey/gopickle) would still need its class resolver
// restricted and brings a general object model we do not want; the subset
// torch.save emits (protocol 2, a few opcodes more from 3-5) is small, so it
// is implemented here with an allow-list: plain containers and primitive
// values are built directly, and only collections.OrderedDict, the torch
// tensor-rebuild functions and the typed storage classes may be named.
// Everything else is refused by name when the GLOBAL is read.

// Python values. Integers are int64, or *big.Int when they do not fit;
// floats float64; str string; bytes []byte; bool bool.
type (
	pyNone  struct{}
	pyTuple []any
	pyList  struct{ items []any }
	// pyDict is a dict or OrderedDict: insertion-ordered, keys restricted to
	// hashable primitives (and tuples of them).
	pyDict struct {
		keys, vals []any
		index      map[any]int
	}
	// pyGlobal is an allow-listed GLOBAL.
	pyGlobal struct {
		name string // "module.qualname"
		kind globalKind
		dt   dtype.DType // for storage classes
	}
)

type globalKind int

const (
	globalOrderedDict globalKind = iota + 1
	globalRebuildTensor
	globalRebuildTensorV2
	globalRebuildParameter
	globalRebuildParameterWithState
	globalStorageType
)

// allowedGlobals is the complete list of names a checkpoint may reference.
var allowedGlobals = map[string]pyGlobal{
	"collections.OrderedDict":                    {kind: globalOrderedDict},
	"torch._utils._rebuild_tensor":               {kind: globalRebuildTensor},
	"torch._utils._rebuild_tensor_v2":            {kind: globalRebuildTensorV2},
	"torch._utils._rebuild_parameter":            {kind: globalRebuildParameter},
	"torch._utils._rebuild_parameter_with_state": {kind: globalRebuildParameterWithState},
	"torch.FloatStorage":                         {kind: globalStorageType, dt: dtype.F32},
	"torch.DoubleStorage":                        {kind: globalStorageType, dt: dtype.F64},
	"torch.HalfStorage":                          {kind: globalStorageType, dt: dtype.F16},
	"torch.BFloat16Storage":                      {kind: globalStorageType, dt: dtype.BF16},
	"torch.LongStorage":                          {kind: globalStorageType, dt: dtype.I64},
	"torch.IntStorage":                           {kind: globalStorageType, dt: dtype.I32},
	"torch.ShortStorage":                         {kind: globalStorageType, dt: dtype.I16},
	"torch.CharStorage":                          {kind: globalStorageType, dt: dtype.I8},
	"torch.ByteStorage":                          {kind: globalStorageType, dt: dtype.U8},
	"torch.BoolStorage":                          {kind: globalStorageType, dt: dtype.Bool},
}

// ErrForbidden is wrapped by the error for a pickle that names a global
// outside the allow-list or calls one that may not be called.
var ErrForbidden = errors.New("forbidden by the restricted unpickler")

// maxKeyDepth bounds the nesting of tuple dict keys.
const maxKeyDepth = 16

// unpickler runs one pickle program from data[pos:].
type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	memo  map[int64]any
	// persistentLoad resolves BINPERSID ids (torch storages).
	persistentLoad func(pid any) (any, error)
}

func newUnpickler(data []byte, persistentLoad func(any) (any, error)) *unpickler {
	return &unpickler{data: data, memo: map[int64]any{}, persistentLoad: persistentLoad}
}

// load runs until STOP and returns the value on top of the stack; u.pos is
// then just past the STOP opcode.
// readMemoKey reads the decimal memo index of the text opcodes GET and PUT.
func (u *unpickler) readMemoKey() (int64, error) {
	s, err := u.readLine()
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid memo key %q", s)
	}
	return i, nil
}

func (u *unpickler) load() (any, error) {
	u.stack, u.marks = u.stack[:0], u.marks[:0]
	for {
		if u.pos >= len(u.data) {
			return nil, fmt.Errorf("pickle ends at byte %d without STOP", u.pos)
		}
		at := u.pos
		op := u.data[u.pos]
		u.pos++
		done, err := u.step(op)
		if err != nil {
			return nil, fmt.Errorf("pickle byte %d, opcode %s: %w", at, opName(op), err)
		}
		if done {
			if len(u.stack) != 1 || len(u.marks) != 0 {
				return nil, fmt.Errorf("pickle byte %d: STOP with %d values and %d marks on the stack", at, len(u.stack), len(u.marks))
			}
			return u.stack[0], nil
		}
	}
}

func opName(op byte) string {
	if op >= 0x20 && op < 0x7f {
		return fmt.Sprintf("%q", rune(op))
	}
	return fmt.Sprintf("0x%02x", op)
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, fmt.Errorf("%d-byte argument runs past the end of the data", n)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) readLine() (string, error) {
	i := bytes.IndexByte(u.data[u.pos:], '\n')
	if i < 0 {
		return "", errors.New("unterminated text argument")
	}
	s := string(u.data[u.pos : u.pos+i])
	u.pos += i + 1
	return s, nil
}

func (u *unpickler) readUint(n int) (uint64, error) {
	b, err := u.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// readLen reads an n-byte little-endian length and checks it against the
// bytes left, so that no allocation exceeds the input.
func (u *unpickler) readLen(n int) (int, error) {
	v, err := u.readUint(n)
	if err != nil {
		return 0, err
	}
	if v > uint64(len(u.data)-u.pos) {
		return 0, fmt.Errorf("length %d runs past the end of the data", v)
	}
	return int(v), nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, errors.New("stack underflow")
	}
	v := u.stack[n-1]
	u.stack = u.stack[:n-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, errors.New("stack underflow")
	}
	return u.stack[n-1], nil
}

// popMark pops the values above the topmost mark, and the mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no mark on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) popN(n int) ([]any, error) {
	floor := 0
	if len(u.marks) > 0 {
		floor = u.marks[len(u.marks)-1]
	}
	if len(u.stack)-floor < n {
		return nil, errors.New("stack underflow")
	}
	items := append([]any(nil), u.stack[len(u.stack)-n:]...)
	u.stack = u.stack[:len(u.stack)-n]
	return items, nil
}

func (u *unpickler) memoGet(i int64) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d was never stored", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i int64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

// step executes one opcode; it reports true at STOP.
func (u *unpickler) step(op byte) (bool, error) {
	switch op {
	case 0x80: // PROTO
		v, err := u.readUint(1)
		if err != nil {
			return false, err
		}
		if v > 5 {
			return false, fmt.Errorf("unsupported pickle protocol %d", v)
		}
	case 0x95: // FRAME: a length hint for buffered readers
		if _, err := u.readLen(8); err != nil {
			return false, err
		}
	case '.': // STOP
		return true, nil
	case '(': // MARK
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		if _, err := u.pop(); err != nil {
			return false, err
		}
	case '1': // POP_MARK
		if _, err := u.popMark(); err != nil {
			return false, err
		}
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return false, err
		}
		u.push(v)

	case 'N': // NONE
		u.push(pyNone{})
	case 0x88: // NEWTRUE
		u.push(true)
	case 0x89: // NEWFALSE
		u.push(false)
	case 'J': // BININT
		v, err := u.readUint(4)
		if err != nil {
			return false, err
		}
		u.push(int64(int32(uint32(v))))
	case 'K': // BININT1
		v, err := u.readUint(1)
		if err != nil {
			return false, err
		}
		u.push(int64(v))
	case 'M': // BININT2
		v, err := u.readUint(2)
		if err != nil {
			return false, err
		}
		u.push(int64(v))
	case 0x8a, 0x8b: // LONG1, LONG4: little-endian two's complement
		size := 1
		if op == 0x8b {
			size = 4
		}
		n, err := u.readLen(size)
		if err != nil {
			return false, err
		}
		b, _ := u.read(n)
		u.push(decodeLong(b))
	case 'I', 'L': // INT, LONG (text; "I00"/"I01" are False/True in protocol 0)
		s, err := u.readLine()
		if err != nil {
			return false, err
		}
		if op == 'I' && (s == "00" || s == "01") {
			u.push(s == "01")
			break
		}
		s = strings.TrimSuffix(s, "L")
		b, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return false, fmt.Errorf("invalid integer literal %q", s)
		}
		u.push(normInt(b))
	case 'G': // BINFLOAT (big-endian)
		b, err := u.read(8)
		if err != nil {
			return false, err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case 'F': // FLOAT (text)
		s, err := u.readLine()
		if err != nil {
			return false, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false, fmt.Errorf("invalid float literal %q", s)
		}
		u.push(f)

	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		n, err := u.readLen(lengthSize(op))
		if err != nil {
			return false, err
		}
		b, _ := u.read(n)
		u.push(string(b))
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING: Python 2 str, read as text like torch.load does
		size := 4
		if op == 'U' {
			size = 1
		}
		n, err := u.readLen(size)
		if err != nil {
			return false, err
		}
		b, _ := u.read(n)
		u.push(string(b))
	case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		n, err := u.readLen(lengthSize(op))
		if err != nil {
			return false, err
		}
		b, _ := u.read(n)
		u.push(append([]byte(nil), b...))

	case ')': // EMPTY_TUPLE
		u.push(pyTuple{})
	case 't': // TUPLE
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(pyTuple(items))
	case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
		items, err := u.popN(int(op - 0x84))
		if err != nil {
			return false, err
		}
		u.push(pyTuple(items))
	case ']': // EMPTY_LIST
		u.push(&pyList{})
	case 'l': // LIST
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(&pyList{items: items})
	case 'a': // APPEND
		v, err := u.pop()
		if err != nil {
			return false, err
		}
		if err := u.appendTo(v); err != nil {
			return false, err
		}
	case 'e': // APPENDS
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		if err := u.appendTo(items...); err != nil {
			return false, err
		}
	case '}': // EMPTY_DICT
		u.push(newDict())
	case 'd': // DICT
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		d := newDict()
		if err := d.setPairs(items); err != nil {
			return false, err
		}
		u.push(d)
	case 's': // SETITEM
		items, err := u.popN(2)
		if err != nil {
			return false, err
		}
		if err := u.setItems(items); err != nil {
			return false, err
		}
	case 'u': // SETITEMS
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		if err := u.setItems(items); err != nil {
			return false, err
		}

	case 'g': // GET
		i, err := u.readMemoKey()
		if err != nil {
			return false, err
		}
		return false, u.memoGet(i)
	case 'h', 'j': // BINGET, LONG_BINGET
		size := 1
		if op == 'j' {
			size = 4
		}
		i, err := u.readUint(size)
		if err != nil {
			return false, err
		}
		return false, u.memoGet(int64(i))
	case 'p': // PUT
		i, err := u.readMemoKey()
		if err != nil {
			return false, err
		}
		return false, u.memoPut(i)
	case 'q', 'r': // BINPUT, LONG_BINPUT
		size := 1
		if op == 'r' {
			size = 4
		}
		i, err := u.readUint(size)
		if err != nil {
			return false, err
		}
		return false, u.memoPut(int64(i))
	case 0x94: // MEMOIZE
		return false, u.memoPut(int64(len(u.memo)))

	case 'c': // GLOBAL "module\nname\n"
		module, err := u.readLine()
		if err != nil {
			return false, err
		}
		name, err := u.readLine()
		if err != nil {
			return false, err
		}
		g, err := resolveGlobal(module, name)
		if err != nil {
			return false, err
		}
		u.push(g)
	case 0x93: // STACK_GLOBAL
		items, err := u.popN(2)
		if err != nil {
			return false, err
		}
		module, ok1 := items[0].(string)
		name, ok2 := items[1].(string)
		if !ok1 || !ok2 {
			return false, errors.New("STACK_GLOBAL needs two strings")
		}
		g, err := resolveGlobal(module, name)
		if err != nil {
			return false, err
		}
		u.push(g)
	case 'R': // REDUCE: callable(*args)
		items, err := u.popN(2)
		if err != nil {
			return false, err
		}
		args, ok := items[1].(pyTuple)
		if !ok {
			return false, fmt.Errorf("REDUCE arguments are a %s, not a tuple", typeName(items[1]))
		}
		v, err := call(items[0], args)
		if err != nil {
			return false, err
		}
		u.push(v)
	case 0x81: // NEWOBJ: cls.__new__(cls, *args)
		items, err := u.popN(2)
		if err != nil {
			return false, err
		}
		v, err := newObject(items[0], items[1])
		if err != nil {
			return false, err
		}
		u.push(v)
	case 0x92: // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
		items, err := u.popN(3)
		if err != nil {
			return false, err
		}
		if kw, ok := items[2].(*pyDict); !ok || len(kw.keys) != 0 {
			return false, errors.New("NEWOBJ_EX with keyword arguments")
		}
		v, err := newObject(items[0], items[1])
		if err != nil {
			return false, err
		}
		u.push(v)
	case 'b': // BUILD: obj.__setstate__(state)
		items, err := u.popN(2)
		if err != nil {
			return false, err
		}
		// torch's state dicts carry their _metadata attribute (module path ->
		// version) as BUILD state of the OrderedDict; it only matters to
		// torch's own load_state_dict hooks, so it is dropped. BUILD on
		// anything but a dict would set attributes on an object we never
		// create.
		if _, ok := items[0].(*pyDict); !ok {
			return false, fmt.Errorf("BUILD on a %s", typeName(items[0]))
		}
		u.push(items[0])
	case 'Q': // BINPERSID
		pid, err := u.pop()
		if err != nil {
			return false, err
		}
		if u.persistentLoad == nil {
			return false, errors.New("persistent id in a pickle that may not have any")
		}
		v, err := u.persistentLoad(pid)
		if err != nil {
			return false, err
		}
		u.push(v)

	case 'P':
		return false, errors.New("text persistent ids (PERSID) are not used by torch and are refused")
	case 'i', 'o':
		return false, fmt.Errorf("%w: class instantiation (INST/OBJ)", ErrForbidden)
	case 0x82, 0x83, 0x84:
		return false, fmt.Errorf("%w: extension registry globals (EXT1/2/4)", ErrForbidden)
	case 0x97, 0x98:
		return false, errors.New("out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported")
	case 'S', 'V':
		return false, errors.New("protocol-0 quoted strings are not supported (torch.save uses protocol 2)")
	case 0x8f, 0x90, 0x91:
		return false, errors.New("sets are not part of a state dict")
	default:
		return false, fmt.Errorf("unknown opcode 0x%02x", op)
	}
	return false, nil
}

// lengthSize is the width of the length prefix of a string or bytes opcode.
func lengthSize(op byte) int {
	switch op {
	case 0x8c, 'C', 'U': // SHORT_BINUNICODE, SHORT_BINBYTES, SHORT_BINSTRING
		return 1
	case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8
		return 8
	}
	return 4
}

func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	// big-endian magnitude of the two's complement value
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return normInt(v)
}

func normInt(v *big.Int) any {
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

func resolveGlobal(module, name string) (pyGlobal, error) {
	full := module + "." + name
	g, ok := allowedGlobals[full]
	if !ok {
		return pyGlobal{}, fmt.Errorf("%w: global %s", ErrForbidden, full)
	}
	g.name = full
	return g, nil
}

func (u *unpickler) appendTo(items ...any) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	l, ok := v.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to a %s", typeName(v))
	}
	l.items = append(l.items, items...)
	return nil
}

func (u *unpickler) setItems(items []any) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on a %s", typeName(v))
	}
	return d.setPairs(items)
}

func newDict() *pyDict { return &pyDict{index: map[any]int{}} }

func (d *pyDict) setPairs(items []any) error {
	if len(items)%2 != 0 {
		return errors.New("odd number of dict items")
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (d *pyDict) set(k, v any) error {
	h, err := hashKey(k, 0)
	if err != nil {
		return err
	}
	if i, ok := d.index[h]; ok {
		d.vals[i] = v
		return nil
	}
	d.index[h] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

func (d *pyDict) get(k string) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// hashKey maps a dict key to a comparable Go value; unhashable or exotic
// keys are refused.
func hashKey(k any, depth int) (any, error) {
	switch k := k.(type) {
	case string, int64, float64, bool, pyNone:
		return k, nil
	case *big.Int:
		return "int:" + k.String(), nil
	case []byte:
		return "bytes:" + string(k), nil
	case pyTuple:
		if depth >= maxKeyDepth {
			return nil, errors.New("dict key nested too deeply")
		}
		var sb strings.Builder
		sb.WriteString("tuple:")
		for _, e := range k {
			h, err := hashKey(e, depth+1)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&sb, "%T:%v;", h, h)
		}
		return sb.String(), nil
	}
	return nil, fmt.Errorf("unsupported dict key type %s", typeName(k))
}

// typeName describes a value without printing it (values may be cyclic).
func typeName(v any) string {
	switch v := v.(type) {
	case pyNone:
		return "None"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return v.name
	case *storage:
		return "storage"
	case *tensorView:
		return "tensor"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// call applies an allow-listed callable.
func call(fn any, args pyTuple) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, fmt.Errorf("%w: calling a %s", ErrForbidden, typeName(fn))
	}
	switch g.kind {
	case globalOrderedDict:
		return newOrderedDict(args)
	case globalRebuildTensor, globalRebuildTensorV2:
		// _rebuild_tensor(storage, storage_offset, size, stride) and
		// _rebuild_tensor_v2(..., requires_grad, backward_hooks[, metadata])
		lo, hi := 4, 4
		if g.kind == globalRebuildTensorV2 {
			lo, hi = 6, 7
		}
		if len(args) < lo || len(args) > hi {
			return nil, fmt.Errorf("%s takes %d to %d arguments, got %d", g.name, lo, hi, len(args))
		}
		return rebuildTensor(args)
	case globalRebuildParameter, globalRebuildParameterWithState:
		// _rebuild_parameter(data, requires_grad, backward_hooks[, state]):
		// a Parameter is its data.
		if len(args) < 1 {
			return nil, fmt.Errorf("%s without arguments", g.name)
		}
		t, ok := args[0].(*tensorView)
		if !ok {
			return nil, fmt.Errorf("%s of a %s", g.name, typeName(args[0]))
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: calling %s", ErrForbidden, g.name)
}

func newOrderedDict(args pyTuple) (any, error) {
	d := newDict()
	switch len(args) {
	case 0:
		return d, nil
	case 1:
		// OrderedDict(iterable of pairs)
		var pairs []any
		switch a := args[0].(type) {
		case *pyList:
			pairs = a.items
		case pyTuple:
			pairs = a
		default:
			return nil, fmt.Errorf("OrderedDict of a %s", typeName(args[0]))
		}
		for _, p := range pairs {
			kv, ok := p.(pyTuple)
			if !ok || len(kv) != 2 {
				return nil, errors.New("OrderedDict item is not a pair")
			}
			if err := d.set(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("OrderedDict with %d arguments", len(args))
}

func newObject(cls, args any) (any, error) {
	g, ok := cls.(pyGlobal)
	if !ok || g.kind != globalOrderedDict {
		return nil, fmt.Errorf("%w: instantiating %s", ErrForbidden, typeName(cls))
	}
	a, ok := args.(pyTuple)
	if !ok {
		return nil, errors.New("NEWOBJ arguments are not a tuple")
	}
	return newOrderedDict(a)
}

func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func intTuple(v any, what string) ([]int64, error) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("%s is a %s, not a tuple", what, typeName(v))
	}
	out := make([]int64, len(t))
	for i, e := range t {
		n, ok := asInt(e)
		if !ok || n < 0 {
			return nil, fmt.Errorf("%s[%d] is not a non-negative integer", what, i)
		}
		out[i] = n
	}
	return out, nil
}

// rebuildTensor validates the view a tensor takes of its storage; the
// bytes are gathered once the storages are read.
func rebuildTensor(args pyTuple) (any, error) {
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("tensor storage is a %s", typeName(args[0]))
	}
	off, ok := asInt(args[1])
	if !ok || off < 0 {
		return nil, errors.New("tensor storage offset is not a non-negative integer")
	}
	size, err := intTuple(args[2], "tensor size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "tensor stride")
	if err != nil {
		return nil, err
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("tensor size %v and stride %v differ in rank", size, stride)
	}
	if len(args) > 4 {
		if _, ok := args[4].(bool); !ok {
			return nil, errors.New("tensor requires_grad is not a bool")
		}
		if _, ok := args[5].(*pyDict); !ok {
			return nil, errors.New("tensor backward_hooks is not an OrderedDict")
		}
	}
	// Elements reached: offset + sum((size_i - 1) * stride_i) must lie in
	// the storage (unless the tensor is empty).
	numel, last := int64(1), off
	for i := range size {
		if size[i] != 0 && numel > maxElements/size[i] {
			return nil, fmt.Errorf("tensor size %v has too many elements", size)
		}
		numel *= size[i]
	}
	if numel > 0 {
		if off >= st.numel {
			return nil, fmt.Errorf("tensor storage offset %d is past the end of a %d-element storage", off, st.numel)
		}
		for i := range size {
			if stride[i] > maxElements || (size[i]-1) > maxElements/max(stride[i], 1) {
				return nil, fmt.Errorf("tensor stride %v is out of range", stride)
			}
			last += (size[i] - 1) * stride[i]
			if last >= st.numel {
				return nil, fmt.Errorf("tensor (offset %d, size %v, stride %v) reaches past the end of a %d-element storage",
					off, size, stride, st.numel)
			}
		}
	}
	return &tensorView{st: st, offset: off, size: size, stride: stride, numel: numel}, nil
}
