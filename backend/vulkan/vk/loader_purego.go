//go:build (linux || freebsd || netbsd || darwin) && (amd64 || arm64 || riscv64 || loong64 || ppc64le || s390x)

package vk

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/ebitengine/purego"
)

// loaderNames lists the Vulkan loader's file names by platform, tried in order.
func loaderNames() []string {
	if p := os.Getenv(LoaderEnv); p != "" {
		return []string{p}
	}
	if runtime.GOOS == "darwin" {
		return []string{"libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib"}
	}
	return []string{"libvulkan.so.1", "libvulkan.so"}
}

func openLoader() (func(name string) uintptr, error) {
	var errs []string
	for _, name := range loaderNames() {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		return func(sym string) uintptr {
			p, err := purego.Dlsym(h, sym)
			if err != nil {
				return 0
			}
			return p
		}, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoLoader, strings.Join(errs, "; "))
}

// call invokes a C function with integer/pointer arguments. The directive
// gives callers the unsafe.Pointer rule 4 guarantee of syscall.Syscall: an
// argument written as uintptr(unsafe.Pointer(p)) keeps p alive (and on the
// heap) until the call returns.
//
//go:uintptrescapes
func call(fn uintptr, args ...uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, args...)
	return r
}
