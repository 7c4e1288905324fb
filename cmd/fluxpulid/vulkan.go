package main

import (
	"fmt"
	"io"

	"github.com/fluxpulid/fluxpulid/backend/vulkan"
)

// Importing backend/vulkan registers the "vulkan" backend; info also lists
// every Vulkan device, usable or not.
func init() { deviceListers = append(deviceListers, listVulkan) }

func listVulkan(w io.Writer) error {
	fmt.Fprintln(w, "\nvulkan devices:")
	devs, err := vulkan.Devices()
	if err != nil {
		fmt.Fprintf(w, "  none: %v\n", err)
		return nil
	}
	for _, d := range devs {
		fmt.Fprintf(w, "  %v\n", d)
	}
	return nil
}
