package backend

import (
	"errors"
	"fmt"
)

// ErrNotImplemented marks an op a backend does not provide.
var ErrNotImplemented = errors.New("not implemented")

// Error is the panic value of a failed op.
type Error struct {
	Op  string // "matmul", "conv2d", ...
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Fail aborts the current op by panicking with an *Error.
func Fail(op, format string, args ...any) {
	panic(&Error{Op: op, Err: fmt.Errorf(format, args...)})
}

// NotImplemented aborts an op that backend name lacks.
func NotImplemented(op, name string) {
	panic(&Error{Op: op, Err: fmt.Errorf("%w on %s", ErrNotImplemented, name)})
}

// Catch turns an op failure back into an error. Use it deferred at the
// entry points of model code:
//
//	func (m *Model) Forward(...) (out backend.Tensor, err error) {
//		defer backend.Catch(&err)
//
// Panics that are not *Error propagate unchanged.
func Catch(err *error) {
	if r := recover(); r != nil {
		e, ok := r.(*Error)
		if !ok {
			panic(r)
		}
		*err = e
	}
}
