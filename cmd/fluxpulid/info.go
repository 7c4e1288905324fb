package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/fluxpulid/fluxpulid/backend"
)

// describer is implemented by backends that can say more than their name.
type describer interface{ Describe() string }

func runInfo(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(w, "fluxpulid on %s/%s, %d CPUs, %s\n\nbackends:\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	for _, name := range backend.Registered() {
		b, err := backend.Open(name)
		if err != nil {
			fmt.Fprintf(w, "  %-14s unavailable: %v\n", name, err)
			continue
		}
		desc := ""
		if d, ok := b.(describer); ok {
			desc = d.Describe()
		}
		fmt.Fprintf(w, "  %-14s %s\n", b.Name(), desc)
	}
	for _, list := range deviceListers {
		if err := list(w); err != nil {
			return err
		}
	}
	return nil
}

// deviceListers print the devices of device backends (registered by the
// files that import them).
var deviceListers []func(io.Writer) error
