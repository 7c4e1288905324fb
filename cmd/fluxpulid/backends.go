package main

import (
	"fmt"
	"strings"

	"github.com/fluxpulid/fluxpulid/backend"
	_ "github.com/fluxpulid/fluxpulid/backend/cpu"
)

// openBackends resolves a --backend flag: a spec ("cpu", "vulkan:1") or
// "all" for every registered backend that opens (the slow reference
// backend only when named).
func openBackends(spec string) ([]backend.Backend, error) {
	if spec != "all" {
		var bs []backend.Backend
		for _, s := range strings.Split(spec, ",") {
			b, err := backend.Open(strings.TrimSpace(s))
			if err != nil {
				return nil, err
			}
			bs = append(bs, b)
		}
		return bs, nil
	}
	var bs []backend.Backend
	var errs []string
	for _, name := range backend.Registered() {
		if name == "cpu-reference" {
			continue
		}
		b, err := backend.Open(name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		bs = append(bs, b)
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("no backend opened: %s", strings.Join(errs, "; "))
	}
	return bs, nil
}
