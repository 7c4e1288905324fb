package conformance

// Helpers the area runners share: reading a case's inputs onto a backend,
// collecting the outputs it holds, and turning op failures into errors.

import (
	"fmt"

	"github.com/fluxpulid/fluxpulid/backend"
)

// recorder collects tensors under out.<prefix><name> for the names the case holds.
type recorder struct {
	c    *Case
	b    backend.Backend
	outs Outputs
	err  error
}

func newRecorder(c *Case, b backend.Backend) *recorder {
	return &recorder{c: c, b: b, outs: Outputs{}}
}

func (r *recorder) add(name string, t backend.Tensor) {
	if r.err != nil || !r.c.Has(name) {
		return
	}
	o, err := Read(r.b, t)
	if err != nil {
		r.err = fmt.Errorf("read %s: %w", name, err)
		return
	}
	r.outs[name] = o
}

// hook returns a model recorder that stores name as out.<prefix><name>.
func (r *recorder) hook(prefix string) func(string, backend.Tensor) {
	return func(name string, t backend.Tensor) { r.add("out."+prefix+name, t) }
}

func (r *recorder) result() (Outputs, error) { return r.outs, r.err }

func tensors(c *Case, b backend.Backend, names ...string) ([]backend.Tensor, error) {
	out := make([]backend.Tensor, len(names))
	for i, n := range names {
		t, err := c.Tensor(b, n)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// catch runs f, turning an op failure into an error.
func catch(f func()) (err error) {
	defer backend.Catch(&err)
	f()
	return nil
}
