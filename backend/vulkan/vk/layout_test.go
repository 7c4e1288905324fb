//go:build vkcheck

package vk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// cFieldName maps a Go mirror's field name to the C field name as cgo
// spells it: first letter lower-cased, and Go keywords (C's "type") with a
// leading underscore.
func cFieldName(goName string) string {
	r := []rune(goName)
	r[0] = unicode.ToLower(r[0])
	s := string(r)
	if token.IsKeyword(s) {
		return "_" + s
	}
	return s
}

// cFields returns the named fields of a cgo struct type (cgo adds unnamed
// "_" padding fields where C has implicit padding; those are skipped).
func cFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name != "_" {
			out[f.Name] = f
		}
	}
	return out
}

// TestStructLayout compares every mirrored struct with the C headers: total
// size, alignment, and for every field its offset and size; and it checks
// that the Go mirror has exactly the C struct's fields.
func TestStructLayout(t *testing.T) {
	for _, s := range cStructs() {
		t.Run(s.name, func(t *testing.T) {
			if got := s.goType.Size(); got != s.cSize || got != s.cType.Size() {
				t.Errorf("size: Go %d, C sizeof %d, cgo %d", got, s.cSize, s.cType.Size())
			}
			if got, want := s.goType.Align(), s.cType.Align(); got != want {
				t.Errorf("alignment: Go %d, C %d", got, want)
			}
			cf := cFields(s.cType)
			if s.goType.NumField() != len(cf) {
				t.Errorf("Go mirror has %d fields, C struct %d", s.goType.NumField(), len(cf))
			}
			for i := range s.goType.NumField() {
				g := s.goType.Field(i)
				c, ok := cf[cFieldName(g.Name)]
				if !ok {
					t.Errorf("field %s: no C field %q", g.Name, cFieldName(g.Name))
					continue
				}
				if g.Offset != c.Offset {
					t.Errorf("field %s: offset Go %d, C %d", g.Name, g.Offset, c.Offset)
				}
				if g.Type.Size() != c.Type.Size() {
					t.Errorf("field %s: size Go %d, C %d", g.Name, g.Type.Size(), c.Type.Size())
				}
				if gk, ck := kindClass(g.Type), kindClass(c.Type); gk != ck {
					t.Errorf("field %s: Go %s (%s) vs C %s (%s)", g.Name, g.Type, gk, c.Type, ck)
				}
			}
		})
	}
}

// handleTypes are the Go handle types; non-dispatchable handles are uint64
// in Go where 64-bit C has pointers to opaque structs, the same 8 bytes.
var handleTypes = map[reflect.Type]bool{}

func init() {
	for _, v := range []any{Instance(0), PhysicalDevice(0), Device(0), Queue(0), CommandBuffer(0),
		Buffer(0), BufferView(0), DeviceMemory(0), ShaderModule(0), DescriptorSetLayout(0), DescriptorPool(0),
		DescriptorSet(0), PipelineLayout(0), PipelineCache(0), Pipeline(0), CommandPool(0), Fence(0),
		Semaphore(0), QueryPool(0), Sampler(0)} {
		handleTypes[reflect.TypeOf(v)] = true
	}
}

// kindClass groups reflect kinds into what must agree between the mirror
// and C: pointers, floats, integers, arrays, structs.
func kindClass(t reflect.Type) string {
	if handleTypes[t] {
		return "handle"
	}
	// Handles are pointers to incomplete structs named Vk*_T in C.
	if t.Kind() == reflect.Pointer && strings.HasSuffix(t.Elem().Name(), "_T") {
		return "handle"
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.UnsafePointer:
		return "pointer"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Array:
		return "array of " + kindClass(t.Elem())
	case reflect.Struct:
		return "struct"
	case reflect.Uintptr:
		return "integer" // size_t; cgo translates it to a Go integer too
	}
	if t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 {
		return "integer"
	}
	return t.Kind().String()
}

// TestAllStructsChecked makes sure no struct of structs.go escapes
// TestStructLayout.
func TestAllStructsChecked(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "structs.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, s := range cStructs() {
		checked[strings.TrimPrefix(s.name, "Vk")] = true
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, sp := range g.Specs {
			ts := sp.(*ast.TypeSpec)
			if _, ok := ts.Type.(*ast.StructType); ok {
				n++
				if !checked[ts.Name.Name] {
					t.Errorf("struct %s is not in cStructs()", ts.Name.Name)
				}
			}
		}
	}
	if n != len(checked) {
		t.Errorf("structs.go has %d structs, cStructs() %d", n, len(checked))
	}
}

// TestConstants compares enumerants and macros with their C values.
func TestConstants(t *testing.T) {
	for _, c := range cConsts() {
		if c.goVal != c.cVal {
			t.Errorf("%s: Go %d (%#x), C %d (%#x)", c.name, c.goVal, c.goVal, c.cVal, c.cVal)
		}
	}
}
