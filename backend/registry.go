package backend

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Opener creates a backend on a device ("" for the default; otherwise an
// index or a substring of the device name).
type Opener func(device string) (Backend, error)

var (
	regMu   sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes a backend available to Open under name. Backend packages
// call it from init, so a program selects backends by importing them.
func Register(name string, open Opener) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := openers[name]; dup {
		panic("backend: " + name + " registered twice")
	}
	openers[name] = open
}

// Registered lists the registered backend names.
func Registered() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(openers))
	for n := range openers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Open opens a backend by spec: "cpu", "vulkan", "vulkan:1",
// "vulkan:llvmpipe".
func Open(spec string) (Backend, error) {
	name, device, _ := strings.Cut(spec, ":")
	regMu.RLock()
	open, ok := openers[name]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown backend %q (have %s)", name, strings.Join(Registered(), ", "))
	}
	b, err := open(device)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", spec, err)
	}
	return b, nil
}
