module github.com/fluxpulid/fluxpulid

go 1.26.0

require (
	github.com/ebitengine/purego v0.10.0
	github.com/klauspost/cpuid/v2 v2.4.2
)

require golang.org/x/sys v0.41.0 // indirect
