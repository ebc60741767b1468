#!/usr/bin/env bash
# Installs what mipdp needs to build, run, test and benchmark on Debian 12, and only what
# is missing: fast and quiet when everything is already there. Safe to run repeatedly.
#
#   bash scripts/install-deps.sh        (as root, or with sudo, when something is missing)
set -euo pipefail

# System packages. dpdk-dev provides /usr/bin/dpdk-testpmd (the perf comparison baseline),
# libdpdk-dev + pkg-config + libclang-dev + clang are what bindings/build.rs (bindgen and
# the C shim) needs; iproute2/tcpdump/tshark/libpcap-dev are used by the end-to-end tests;
# g++ compiles libFuzzer (C++) when libfuzzer-sys builds the fuzz targets (fuzz/);
# gnuplot-nox draws perf/'s PNG plots (perf/plot.sh) and jq reads mipdp-pktgen's JSON
# results in perf/kernel-ha.sh; libbpf-dev (bpf_helpers.h) and linux-libc-dev (linux/bpf.h)
# let clang compile the kernel's IPv4 home agent, a BPF lightweight tunnel (perf/bpf/ha4.c),
# and bpftool loads its bindings map (perf/kernel-ha4.sh, pktgen/tests/e2e_kernel_ha4.rs).
APT_PACKAGES=(
    dpdk
    dpdk-dev
    libdpdk-dev
    libclang-dev
    clang
    pkg-config
    iproute2
    tcpdump
    iputils-ping
    tshark
    libpcap-dev
    make
    gcc
    g++
    procps
    gnuplot-nox
    jq
    libbpf-dev
    linux-libc-dev
    bpftool
)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

# Rust may be installed with rustup for root without ~/.cargo/bin on PATH (e.g. under CI).
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

is_root() { [ "$(id -u)" -eq 0 ]; }

# --- 1. apt packages -------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    say "system packages: all present"
else
    command -v apt-get >/dev/null 2>&1 \
        || die "missing packages (${missing[*]}) and no apt-get: this script supports Debian 12"
    if ! is_root; then
        die "missing system packages: ${missing[*]}; installing them needs root: run this as root or with sudo (e.g. 'sudo make deps')"
    fi
    say "installing system packages: ${missing[*]}"
    # tshark asks whether non-root users may capture; answer no, non-interactively.
    echo 'wireshark-common wireshark-common/install-setuid boolean false' \
        | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >/dev/null
    say "system packages: installed ${missing[*]}"
fi

# --- 2. Python: scapy for the test traffic scripts ----------------------------------------
if ! command -v python3 >/dev/null 2>&1; then
    die "python3 not found on PATH (needed for the end-to-end tests' scapy scripts)"
fi
if python3 -c 'import scapy.all' >/dev/null 2>&1; then
    say "scapy: present ($(command -v python3))"
else
    say "installing scapy for $(command -v python3)"
    pip_flags=(-q --disable-pip-version-check)
    # Debian's own interpreter refuses system-wide pip installs (PEP 668) unless told.
    if python3 -c 'import sys; sys.exit(0 if sys.prefix == sys.base_prefix and sys.prefix == "/usr" else 1)' 2>/dev/null; then
        pip_flags+=(--break-system-packages)
    fi
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install "${pip_flags[@]}" scapy >/dev/null \
        || die "could not install scapy with 'python3 -m pip install scapy'"
    python3 -c 'import scapy.all' >/dev/null 2>&1 \
        || die "scapy installed but 'import scapy.all' still fails for $(command -v python3)"
    say "scapy: installed"
fi

# --- 3. Rust toolchain ----------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1 || ! command -v rustc >/dev/null 2>&1; then
    die "Rust (cargo, rustc) not found. Install it with rustup (https://rustup.rs):
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --component rustfmt,clippy
    . \"\$HOME/.cargo/env\"
and run this again."
fi
say "rust: $(rustc --version)"

need_components=()
cargo fmt --version >/dev/null 2>&1 || need_components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || need_components+=(clippy)
if [ "${#need_components[@]}" -eq 0 ]; then
    say "rustfmt, clippy: present"
elif command -v rustup >/dev/null 2>&1; then
    say "adding rust components: ${need_components[*]}"
    rustup component add "${need_components[@]}"
else
    die "rust components missing (${need_components[*]}) and no rustup to add them: install them with your Rust distribution (e.g. apt-get install rustfmt rust-clippy)"
fi

say "done"
