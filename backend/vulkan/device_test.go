package vulkan

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fluxpulid/fluxpulid/backend"
)

// requireDevices lists the devices or skips (fails under CI=true).
func requireDevices(t *testing.T) []DeviceInfo {
	t.Helper()
	devs, err := Devices()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("vulkan unavailable under CI=true: %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	return devs
}

func TestDevices(t *testing.T) {
	devs := requireDevices(t)
	for i, d := range devs {
		if d.Index != i || d.Name == "" || d.APIVersion == "" || len(d.Heaps) == 0 {
			t.Errorf("device %d: incomplete %+v", i, d)
		}
		if d.Usable && (d.MaxStorageBufferRange < 1<<27 || d.MaxWorkGroupInvocations < 256 || d.SubgroupSize == 0) {
			t.Errorf("device %d: limits %+v", i, d)
		}
		t.Log(d)
	}
}

// TestSelect opens devices by index and by name, and checks the errors
// for specs that match nothing.
func TestSelect(t *testing.T) {
	devs := requireDevices(t)
	d := devs[0]
	for _, spec := range []string{"0", strings.ToUpper(d.Name[:3])} {
		b, err := backend.Open("vulkan:" + spec)
		if err != nil {
			t.Fatalf("open vulkan:%s: %v", spec, err)
		}
		if want := fmt.Sprintf("vulkan:%d %s", d.Index, d.Name); b.Name() != want {
			t.Errorf("vulkan:%s opened %q, want %q", spec, b.Name(), want)
		}
		b.(*Backend).Close()
	}
	for _, spec := range []string{"99", "no-such-device"} {
		if _, err := backend.Open("vulkan:" + spec); err == nil || !strings.Contains(err.Error(), "no device") {
			t.Errorf("open vulkan:%s: err = %v, want a 'no device' error", spec, err)
		}
	}
	t.Setenv(DeviceEnv, "no-such-device")
	if _, err := New(""); err == nil {
		t.Errorf("%s=no-such-device: opened a device", DeviceEnv)
	}
}

// TestClosed checks that a closed backend reports errors instead of
// calling into a destroyed device.
func TestClosed(t *testing.T) {
	requireDevices(t)
	b, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	x := b.Zeros([]int{4})
	b.Close()
	if _, err := b.ReadF32(x); err == nil {
		t.Error("ReadF32 after Close succeeded")
	}
	var opErr error
	func() {
		defer backend.Catch(&opErr)
		b.Softmax(x)
	}()
	var be *backend.Error
	if !errors.As(opErr, &be) {
		t.Errorf("op after Close: err = %v, want a backend.Error", opErr)
	}
	b.Free(x) // harmless
}
