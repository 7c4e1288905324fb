# fluxpulid — common tasks. `make test` is what CI runs (.ci/run).
GO      ?= go
GOLDEN  ?= ../shared/golden
GLSLC   ?= glslc
SHADERS := $(wildcard shaders/*.comp)
SPIRV   := $(SHADERS:.comp=.spv)

.PHONY: all build test conformance bench shaders lint fuzz clean

all: build

build:
	$(GO) build -o fluxpulid ./cmd/fluxpulid

# Unit tests, the op suite on every backend that opens, the golden
# conformance suite (FLUXPULID_GOLDEN or ../shared/golden), and the
# Vulkan struct-layout check against the C headers (needs cgo and
# libvulkan-dev).
test: lint
	$(GO) test ./...
	CGO_ENABLED=1 $(GO) test -tags vkcheck ./backend/vulkan/vk/

conformance: build
	./fluxpulid conformance --golden $(GOLDEN) --backend all

bench: build
	./fluxpulid bench
	$(GO) test -run '^$$' -bench 'MatMulFLUX|AttentionFLUX|ConvAE|MatMulVec' -benchtime 3x ./ops/

# GLSL compute shaders → SPIR-V (committed, embedded with go:embed).
shaders: $(SPIRV)

shaders/%.spv: shaders/%.comp $(wildcard shaders/*.glsl)
	$(GLSLC) --target-env=vulkan1.1 -O -o $@ $<

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every fuzz target of every package for FUZZTIME each (new corpus
# entries go to the Go cache; copy them to testdata/fuzz to keep them).
FUZZTIME ?= 2m
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -f fluxpulid
