module github.com/fluxpulid/fluxpulid

go 1.26.0

require (
	github.com/HugoSmits86/nativewebp v0.9.3
	github.com/ebitengine/purego v0.10.0
	github.com/klauspost/cpuid/v2 v2.4.2
	golang.org/x/image v0.36.0
	golang.org/x/sync v0.24.0
	golang.org/x/text v0.34.0
	google.golang.org/protobuf v1.36.12
)

require golang.org/x/sys v0.41.0 // indirect
