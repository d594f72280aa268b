# fleetc: the tool and the reference platform it compiles.
#
#   make install   install fleetc into $(go env GOBIN), else $(go env GOPATH)/bin
#   make compile   compile the reference platform into deploy/
#   make test      everything CI checks
#   make bench     benchmarks, with figures

GO        ?= go
CUE_VERSION := v0.17.1
# The cue CLI of the pinned version is a tool of this repository's checks:
# it goes into GOPATH's bin whatever GOBIN says. (Not named GOBIN: make
# would export that name to every go command, install's included.)
TOOLBIN   := $(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin
CUE       := $(TOOLBIN)/cue
FLEETC    := bin/fleetc

.PHONY: all build install compile test unit crash vet fmt-check cue-check check-output bench fuzz update clean

all: build

build:
	$(GO) build -o $(FLEETC) ./cmd/fleetc

## install: put fleetc on PATH, where go install puts commands: GOBIN if
## set, else the bin directory of the first GOPATH entry. A build from a
## clone carries its commit, the commit's time and whether the tree was
## dirty (fleetc version), even where GOFLAGS says -buildvcs=false.
INSTALLFLAGS ?= -buildvcs=auto
install:
	$(GO) install $(INSTALLFLAGS) ./cmd/fleetc
	@dir="$$($(GO) env GOBIN)"; [ -n "$$dir" ] || dir="$$($(GO) env GOPATH | cut -d: -f1)/bin"; \
	echo "installed $$dir/fleetc"; \
	case ":$$PATH:" in *":$$dir:"*) ;; *) echo "$$dir is not on PATH: add it, e.g. export PATH=\"$$dir:\$$PATH\"";; esac

## compile: compile the reference platform (defs/, clusters/) into deploy/.
compile: build
	./$(FLEETC) compile

## test: formatting, vet, the Go tests with the race detector (unit tests,
## golden files, the CLI scripts), the crash test, and the CUE module
## checked by the real cue CLI. Fails if any golden file or the committed
## output is stale.
test: fmt-check vet unit crash cue-check check-output

unit:
	$(GO) test -race -count=1 ./...

## crash: kill compile with SIGKILL at 20 points while it rewrites a fleet
## of 200 clusters; after each kill every file is old or new and the next
## compile repairs the tree. A minute or two, so apart from unit, and
## without the race detector: the killed processes are what is tested.
crash:
	FLEETC_CRASH_TEST=1 $(GO) test -count=1 -run '^TestKillCompile$$' ./cmd/fleetc

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

$(CUE):
	GOBIN=$(TOOLBIN) $(GO) install cuelang.org/go/cmd/cue@$(CUE_VERSION)

## cue-check: the module is an ordinary CUE module for the official tools.
cue-check: $(CUE)
	$(CUE) vet -c ./...
	$(CUE) fmt --check ./...
	$(CUE) export ./clusters -e deploy >/dev/null

## check-output: the committed output of the reference platform is fresh.
check-output: build
	./$(FLEETC) compile --check

## bench: fleetc against the cue CLI on generated fleets (one table), then
## the Go benchmarks. Figures, never pass/fail.
BENCH_SIZES ?= 300,3000
bench: build $(CUE)
	$(GO) run ./cmd/fleetbench -fleetc $(FLEETC) -cue $(CUE) -sizes $(BENCH_SIZES)
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run each fuzz target for a while (FUZZTIME, default 30s).
## Go 1.26's fuzzing engine can fail a target with a bare "context deadline
## exceeded" when -fuzztime runs out while a worker is busy
## (go.dev/issue/75804, fixed in Go 1.27), so fuzzing runs under a Go 1.27
## toolchain, which the go command fetches from the module proxy once.
FUZZTIME ?= 30s
FUZZ_TOOLCHAIN ?= go1.27.3
fuzz:
	@GOTOOLCHAIN=$(FUZZ_TOOLCHAIN) $(GO) version; \
	for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    GOTOOLCHAIN=$(FUZZ_TOOLCHAIN) $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## update: rewrite golden files and the committed output from the code.
update:
	$(GO) test ./cmd/fleetc -update
	$(GO) test ./internal/cli -run 'TestReferenceOutput|TestPlatforms' -update
	$(GO) test ./internal/diff -run TestMask -update

clean:
	rm -rf bin
