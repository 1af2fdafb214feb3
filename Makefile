# kubectl-ack — see README.md. Every target works on a fresh machine with Go and the module proxy.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
MODULE := github.com/kubectl-ack/kubectl-ack
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(MODULE)/pkg/version.Version=$(VERSION) -X $(MODULE)/pkg/version.Commit=$(COMMIT) -X $(MODULE)/pkg/version.Date=$(DATE)
BINS := kubectl-ack_login kubectl-ack_rrsa kubectl-ack_map ack-ram-authenticator ack-emulator
KUBE_BIN := $(CURDIR)/.cache/kube/bin
TOOLS := $(CURDIR)/.cache/tools
GORELEASER_VERSION := v2.15.1
FUZZTIME ?= 30s
IMAGE ?= kubectl-ack/ack-ram-authenticator:$(VERSION)

# Tests never reach Alibaba Cloud, the ECS metadata address or a proxy.
export ALIBABA_CLOUD_ECS_METADATA_DISABLED := true
unexport HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export KUBEBUILDER_ASSETS ?= $(KUBE_BIN)

.PHONY: all build kube-bins test test-unit fuzz test-e2e lint funclen generate verify-generated demo demo-up demo-down bench \
	release-snapshot check-release image check-image clean help

all: build

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: ## build all binaries into bin/, with the kubectl_complete-ack_* helpers kubectl uses for <TAB>
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...
	install -m 0755 krew/completion/kubectl_complete-ack_* bin/

kube-bins: ## build kube-apiserver, etcd and kubectl v1.36 from Go modules into .cache/kube/bin (cached)
	hack/build-kube-bins.sh $(KUBE_BIN)

test: build kube-bins lint verify-generated test-unit fuzz test-e2e check-release check-image ## everything CI runs

test-unit: ## unit and integration tests (emulator over HTTPS, real kube-apiserver) with the race detector
	$(GO) test -race -count=1 -timeout 20m ./...

fuzz: ## bounded fuzzing of the token parser
	$(GO) test ./pkg/token -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

test-e2e: build kube-bins ## kubectl → ack-login → kube-apiserver → ack-ram-authenticator → emulator STS
	cd test/e2e && $(GO) test -count=1 -timeout 30m ./...

lint: ## gofmt, go vet, staticcheck, the import rules and the 80-line function limit of ARCHITECTURE.md
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^pkg/generated/' ) ); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck $$($(GO) list ./... | grep -v '/pkg/generated/')
	$(GO) run ./hack/importcheck
	$(GO) run ./hack/funclen
	cd test/e2e && $(GO) vet ./...

funclen: ## no production function over 80 lines (ARCHITECTURE.md): lists each longer one, exits 1
	$(GO) run ./hack/funclen

generate: ## regenerate deepcopy, clientset, informers, listers and the CRD
	hack/update-codegen.sh

verify-generated: ## fail when generated code is stale
	hack/verify-codegen.sh

demo: ## build, then walk through login, mapping and RRSA on the local emulator and a real kube-apiserver
	hack/demo.sh

demo-up: ## build, start emulator, etcd, kube-apiserver and authenticator, print the export lines, stay up until Ctrl-C or demo-down
	hack/demo.sh up

demo-down: ## stop the stack demo-up started
	hack/demo-down.sh

bench: build kube-bins ## Go benchmarks plus whole-process timings (plugin start-up, kubectl through it)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/token ./pkg/mapper ./authenticator/... ./plugins/login/...
	hack/bench-login.sh
	hack/bench-kubectl.sh
	$(GO) run ./hack/loadtest

$(TOOLS)/goreleaser:
	GOBIN=$(TOOLS) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

release-snapshot: $(TOOLS)/goreleaser ## build release archives and krew manifests offline into dist/
	$(TOOLS)/goreleaser release --snapshot --clean --skip=publish

check-release: release-snapshot ## validate krew manifests and archives, install a plugin from an archive
	$(GO) run ./hack/krewcheck -dist dist -templates krew
	hack/check-archive-install.sh dist

image: ## authenticator OCI image tarball (no Docker engine needed) → dist/image/
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/image/ack-ram-authenticator ./cmd/ack-ram-authenticator
	cd hack/image && $(GO) run . build -binary ../../dist/image/ack-ram-authenticator -out ../../dist/image/ack-ram-authenticator.tar -name $(IMAGE) -version $(VERSION) -commit $(COMMIT)

check-image: image ## verify the image's entrypoint, user and labels
	cd hack/image && $(GO) test -count=1 ./... && $(GO) run . check -in ../../dist/image/ack-ram-authenticator.tar

clean:
	rm -rf bin dist
