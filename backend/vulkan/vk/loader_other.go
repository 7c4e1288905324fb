//go:build !((linux || freebsd || netbsd || darwin) && (amd64 || arm64 || riscv64 || loong64 || ppc64le || s390x))

package vk

import (
	"fmt"
	"runtime"
)

func openLoader() (func(name string) uintptr, error) {
	return nil, fmt.Errorf("%w: no run-time loader binding for %s/%s", ErrNoLoader, runtime.GOOS, runtime.GOARCH)
}

func call(fn uintptr, args ...uintptr) uintptr {
	panic("vk: call without a loader")
}
