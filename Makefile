# mipdp: the two commands are `make demo` and `make test`; `make help` lists the rest.

SHELL := /bin/bash
CARGO ?= cargo

# rustup installs cargo in ~/.cargo/bin, which a non-login shell (CI, sudo) may not have on PATH.
ifneq ($(wildcard $(HOME)/.cargo/bin/cargo),)
export PATH := $(HOME)/.cargo/bin:$(PATH)
endif

.PHONY: help deps build demo test bench bench-mobility bench-all fmt clippy

help:
	@echo "mipdp make targets:"
	@echo "  make demo    install what is missing, build, run mipdp as a home agent on DPDK virtual NICs (root)"
	@echo "  make test    install what is missing, then fmt check, clippy, build, every test, bench build (root)"
	@echo "  make bench   install what is missing, then the forwarder benchmark against dpdk-testpmd (root)"
	@echo "  make bench-mobility  the mobility paths benchmark (home agent, MAP, TOS) against the forwarder and testpmd (root)"
	@echo "  make bench-all  the whole harness, perf/run.sh: every benchmark, the kernel beside mipdp, RESULTS.md and PNG plots (root)"
	@echo "  make build   install what is missing, then cargo build --release --workspace"
	@echo "  make deps    install missing system packages, scapy, rustfmt/clippy (scripts/install-deps.sh)"
	@echo "  make fmt     format the code (cargo fmt --all)"
	@echo "  make clippy  cargo clippy --workspace --all-targets -- -D warnings"

deps:
	@bash scripts/install-deps.sh

build: deps
	$(CARGO) build --release --workspace

demo: deps build
	bash scripts/demo.sh

test: deps
	bash scripts/test.sh

bench: deps
	bash perf/forwarder.sh

bench-mobility: deps
	bash perf/mobility.sh

bench-all: deps
	bash perf/run.sh

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
