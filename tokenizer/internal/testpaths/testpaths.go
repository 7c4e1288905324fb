// Package testpaths keeps the tokenizer tests' original names for the test
// data lookup, which lives in internal/testenv (environment variables,
// ../shared beside the repository root, skip or fail under CI=true).
package testpaths

import (
	"testing"

	"github.com/fluxpulid/fluxpulid/internal/testenv"
)

// Tokenizers returns the directory holding the t5/ and clip/ vocabularies.
func Tokenizers(t testing.TB) string {
	t.Helper()
	return testenv.Tokenizers(t)
}

// Golden returns the golden directory of one area (t5, clip, ...).
func Golden(t testing.TB, area string) string {
	t.Helper()
	return testenv.Golden(t, area)
}
