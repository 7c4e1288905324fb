package shaders

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbedded checks that every .comp source has its compiled module
// embedded and that each module loads as SPIR-V.
func TestEmbedded(t *testing.T) {
	srcs, err := filepath.Glob("*.comp")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no shader sources: %v", err)
	}
	have := map[string]bool{}
	for _, n := range Names() {
		have[n] = true
		if _, err := SPIRV(n); err != nil {
			t.Error(err)
		}
	}
	for _, s := range srcs {
		if n := strings.TrimSuffix(s, ".comp"); !have[n] {
			t.Errorf("%s has no embedded %s.spv (run make shaders)", s, n)
		}
	}
	if _, err := SPIRV("no-such-shader"); err == nil {
		t.Error("SPIRV of a missing shader succeeded")
	}
}

// TestUpToDate recompiles every shader with glslc, as `make shaders` does,
// and compares with the committed module, so that an edited .comp or
// .glsl without a rebuilt .spv fails. Without glslc it is skipped.
func TestUpToDate(t *testing.T) {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		t.Skip("glslc not installed")
	}
	srcs, _ := filepath.Glob("*.comp")
	dir := t.TempDir()
	for _, s := range srcs {
		name := strings.TrimSuffix(s, ".comp")
		out := filepath.Join(dir, name+".spv")
		if msg, err := exec.Command(glslc, "--target-env=vulkan1.1", "-O", "-o", out, s).CombinedOutput(); err != nil {
			t.Errorf("glslc %s: %v\n%s", s, err, msg)
			continue
		}
		fresh, _ := os.ReadFile(out)
		committed, err := files.ReadFile(name + ".spv")
		if err != nil || !bytes.Equal(fresh, committed) {
			t.Errorf("%s.spv is stale: run make shaders", name)
		}
	}
}
