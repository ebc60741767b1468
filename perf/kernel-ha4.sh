#!/usr/bin/env bash
# The IPv4 home agent of mipdp beside the Linux kernel's: perf/kernel-ha.sh --family 4
# (its header says what the kernel does; --help for the options).
PROG=kernel-ha4.sh exec "$(dirname "${BASH_SOURCE[0]}")/kernel-ha.sh" --family 4 "$@"
