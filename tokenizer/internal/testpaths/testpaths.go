// Package testpaths locates the data the tokenizer tests read from outside
// the repository: the real vocabularies (never committed, see
// shared/tokenizers/*/README.md) and the golden tensors.
//
// Lookup order: the environment variable (FLUXPULID_TOKENIZERS,
// FLUXPULID_GOLDEN, or FLUXPULID_SHARED for both), else ../shared beside the
// repository root (the directory holding go.mod).
package testpaths

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Tokenizers returns the directory holding the t5/ and clip/ vocabularies.
func Tokenizers(t testing.TB) string {
	t.Helper()
	return find(t, "FLUXPULID_TOKENIZERS", "tokenizers")
}

// Golden returns the golden directory of one area (t5, clip, ...).
func Golden(t testing.TB, area string) string {
	t.Helper()
	return filepath.Join(find(t, "FLUXPULID_GOLDEN", "golden"), area)
}

func find(t testing.TB, env, sub string) string {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		shared, err := sharedDir()
		if err != nil {
			missing(t, err.Error())
			return ""
		}
		dir = filepath.Join(shared, sub)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		missing(t, fmt.Sprintf("%s is not a directory (set %s)", dir, env))
		return ""
	}
	return dir
}

func sharedDir() (string, error) {
	if d := os.Getenv("FLUXPULID_SHARED"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// missing skips the test with a loud message, or fails it under CI=true where
// the data must be present.
func missing(t testing.TB, why string) {
	t.Helper()
	msg := "TEST DATA MISSING, TEST NOT RUN: " + why
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, "!!! "+msg)
	t.Skip(msg)
}
