package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/fluxpulid/fluxpulid/conformance"
)

func runConformance(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	dir := fs.String("golden", conformance.DefaultDir(), "golden directory (FORMAT.md layout)")
	spec := fs.String("backend", "cpu", "backend: cpu, cpu-reference, vulkan[:device], all, or a comma-separated list")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bs, err := openBackends(*spec)
	if err != nil {
		return err
	}
	t := conformance.NewTable(w)
	if err := conformance.RunDir(*dir, bs, t.Add); err != nil {
		return err
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if n := t.Counts[conformance.Fail] + t.Counts[conformance.Error]; n > 0 {
		return fmt.Errorf("%d case runs failed", n)
	}
	return nil
}
