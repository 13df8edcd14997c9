# SAM builds each function with `make build-<LogicalId>` (BuildMethod: makefile).
# `make build` builds them all into .build/<function>/bootstrap for a size check.
GOFLAGS_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w'
FUNCTIONS = $(notdir $(patsubst %/,%,$(wildcard functions/*/)))

build-%Function:
	$(GOFLAGS_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo $* | tr A-Z a-z)

build:
	@for f in $(FUNCTIONS); do $(GOFLAGS_BUILD) -o .build/$$f/bootstrap ./functions/$$f || exit 1; done
	@ls -l .build/*/bootstrap

.PHONY: build
