#!/usr/bin/env bash
# The full test run, exactly what CI runs (through `make test`): formatting, lints, build
# (the fuzz targets included), every test (serially: end-to-end tests start DPDK processes
# and network namespaces, and the machines have 2 cores), and a compile check of the
# benchmarks.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: error: end-to-end tests create network namespaces and DPDK tap devices: run as root (e.g. 'sudo make test')" >&2
    exit 1
fi

# rustup installs cargo in ~/.cargo/bin, which a non-login shell may not have on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

if [ -n "${CI:-}" ]; then
    export CARGO_TERM_COLOR=never
fi

step() { printf '==> %s\n' "$*"; }

# Network namespaces left behind by an earlier run that crashed.
stale=$(ip netns list 2>/dev/null | awk '$1 ~ /^mipdp-(t|perf)-/ { print $1 }')
if [ -n "$stale" ]; then
    step "removing leftover test namespaces: $(echo $stale)"
    for ns in $stale; do
        ip netns delete "$ns" || echo "test.sh: warning: could not delete namespace $ns" >&2
    done
fi

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

# fuzz/ is a cargo-fuzz crate outside the workspace. A plain cargo build compiles every
# target and libFuzzer itself (C++, through the cc crate) on stable, without cargo-fuzz:
# enough to keep the targets building. Running them: fuzz/README.md.
step "cargo fmt --manifest-path fuzz/Cargo.toml -- --check"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy --manifest-path fuzz/Cargo.toml --bins -- -D warnings"
cargo clippy --manifest-path fuzz/Cargo.toml --bins -- -D warnings

step "cargo build --workspace --all-targets"
cargo build --workspace --all-targets

step "cargo build --manifest-path fuzz/Cargo.toml --bins (fuzz targets)"
cargo build --manifest-path fuzz/Cargo.toml --bins

step "cargo test --workspace -- --test-threads=1"
cargo test --workspace -- --test-threads=1

step "cargo bench --workspace --no-run"
cargo bench --workspace --no-run

# The performance harness in its quick mode (under two minutes): every contender must
# produce figures and the counter checks must hold; no timing is asserted. Its figures go
# to a scratch copy of RESULTS.md, not the committed one.
step "perf/run.sh --quick"
perf/run.sh --quick

step "all tests passed"
