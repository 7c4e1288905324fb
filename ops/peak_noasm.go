//go:build !amd64 || purego

package ops

func hasFMALoop() bool      { return false }
func fmaLoop(n int)         {}
func addChain(n int)        {}
func fmaFlopsPerCycle() int { return 0 }
