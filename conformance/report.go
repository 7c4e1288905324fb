package conformance

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Table prints results as an aligned table: one line per case and
// backend, then one indented line per output tensor.
type Table struct {
	w      *tabwriter.Writer
	Counts map[Status]int
}

// NewTable writes to w; call Flush at the end.
func NewTable(w io.Writer) *Table {
	t := &Table{w: tabwriter.NewWriter(w, 2, 8, 2, ' ', 0), Counts: map[Status]int{}}
	fmt.Fprintln(t.w, "case\tbackend\tstatus\ttensor\tmax abs err\tmax rel err\tatol\trtol\ttime")
	return t
}

// Add prints one result.
func (t *Table) Add(r Result) {
	t.Counts[r.Status]++
	msg := ""
	if r.Err != nil {
		msg = r.Err.Error()
	}
	fmt.Fprintf(t.w, "%s\t%s\t%s\t%s\t\t\t\t\t%s\n", r.Case, r.Backend, r.Status, msg, r.Elapsed.Round(1e6))
	for _, tr := range r.Tensors {
		status := "ok"
		if !tr.Pass {
			status = fmt.Sprintf("FAIL (%d bad)", tr.Bad)
		}
		note := tr.Name
		if tr.Note != "" {
			note += " [" + tr.Note + "]"
		}
		fmt.Fprintf(t.w, "\t\t%s\t%s\t%.3g\t%.3g\t%g\t%g\t\n", status, note, tr.MaxAbs, tr.MaxRel, tr.Atol, tr.Rtol)
	}
}

// Flush writes the table and a summary line.
func (t *Table) Flush() error {
	if err := t.w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(t.w, "\n%d passed, %d failed, %d errors, %d not implemented, %d unsupported on their backend\n",
		t.Counts[Pass], t.Counts[Fail], t.Counts[Error], t.Counts[NotImplemented], t.Counts[Unsupported])
	t.w.Flush()
	return err
}
