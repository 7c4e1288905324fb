// Command fluxpulid runs FLUX.1 + PuLID identity-customised image
// generation on the CPU or a Vulkan GPU, and checks its numbers against
// golden tensors from the original PyTorch code.
//
//	fluxpulid info                      backends, devices, CPU features
//	fluxpulid conformance [--golden DIR] [--backend cpu|vulkan|all]
//	fluxpulid bench [--backend cpu]     matmul GFLOPS on FLUX shapes
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"info":        {"list backends, devices and CPU features", runInfo},
	"conformance": {"check every golden case on the chosen backends", runConformance},
	"bench":       {"measure matmul GFLOPS on FLUX shapes", runBench},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fluxpulid <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'fluxpulid <command> -h' for a command's flags.")
}

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") || os.Args[1] == "help" {
		usage(os.Stderr)
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "fluxpulid: unknown command %q\n\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "fluxpulid %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
