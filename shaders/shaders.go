// Package shaders holds the GLSL compute shaders of the Vulkan backend
// (*.comp, with shared *.glsl includes) and their SPIR-V binaries (*.spv),
// which are committed and embedded so that a plain `go build` needs no
// shader compiler. `make shaders` recompiles them with glslc.
package shaders

import (
	"embed"
	"encoding/binary"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.spv
var files embed.FS

// spirvMagic is the first word of every SPIR-V module.
const spirvMagic = 0x07230203

// SPIRV returns the compiled module name (without the .spv suffix) as
// 32-bit words, the form vkCreateShaderModule takes.
func SPIRV(name string) ([]uint32, error) {
	b, err := files.ReadFile(name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("shader %q: %w", name, err)
	}
	if len(b) < 20 || len(b)%4 != 0 {
		return nil, fmt.Errorf("shader %q: %d bytes is not a SPIR-V module", name, len(b))
	}
	words := make([]uint32, len(b)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	if words[0] != spirvMagic {
		return nil, fmt.Errorf("shader %q: bad SPIR-V magic %#x", name, words[0])
	}
	return words, nil
}

// Names lists the embedded modules, sorted.
func Names() []string {
	ents, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".spv"))
	}
	sort.Strings(out)
	return out
}
