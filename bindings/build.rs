//! Generates the DPDK bindings with bindgen against the system DPDK (pkg-config libdpdk)
//! and builds the C shim for DPDK's static inline functions.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=shim/shim.c");
    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-changed=shim/wrapper.h");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let dpdk = match pkg_config::Config::new()
        .atleast_version("22.11")
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!(
                "error: DPDK development files not found ({e}).\n\
                 Install them with `apt-get install dpdk libdpdk-dev pkg-config` \
                 (or run `make deps`), or set PKG_CONFIG_PATH to the directory of libdpdk.pc."
            );
            std::process::exit(1);
        }
    };

    // Compiler flags from libdpdk.pc other than include paths (-include rte_config.h, -march=...).
    let cflags = pkg_config_cflags();

    let mut build = cc::Build::new();
    build
        .file("shim/shim.c")
        .include("shim")
        .opt_level(3)
        .warnings(false);
    for inc in &dpdk.include_paths {
        build.include(inc);
    }
    for flag in &cflags {
        build.flag(flag);
    }
    build.flag_if_supported("-mssse3");
    build.compile("mipdp_shim");

    let mut builder = bindgen::Builder::default()
        .header("shim/wrapper.h")
        .clang_arg("-Ishim")
        .clang_arg("-mssse3")
        .derive_debug(false)
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .prepend_enum_name(false)
        .allowlist_function("rte_eal_.*")
        .allowlist_function("rte_eth_.*")
        .allowlist_function("rte_pktmbuf_pool_create")
        .allowlist_function("rte_mempool_free")
        .allowlist_function("rte_mempool_lookup")
        .allowlist_function("rte_strerror")
        .allowlist_function("rte_socket_id")
        .allowlist_function("rte_lcore_count")
        .allowlist_function("mipdp_.*")
        .allowlist_type("rte_eth_.*")
        .allowlist_var("RTE_ETH_.*")
        .allowlist_var("RTE_MBUF_DEFAULT_.*")
        .allowlist_var("RTE_PKTMBUF_HEADROOM")
        .allowlist_var("RTE_MAX_ETHPORTS")
        .allowlist_var("RTE_MAX_LCORE")
        .allowlist_var("SOCKET_ID_ANY")
        .allowlist_var("LCORE_ID_ANY")
        .opaque_type("rte_gtp_.*")
        .opaque_type("rte_l2tpv2_.*")
        .opaque_type("rte_arp_.*")
        .opaque_type("rte_mempool")
        .blocklist_function("rte_eth_rx_burst")
        .blocklist_function("rte_eth_tx_burst");
    for inc in &dpdk.include_paths {
        builder = builder.clang_arg(format!("-I{}", inc.display()));
    }
    for flag in &cflags {
        builder = builder.clang_arg(flag.clone());
    }
    let bindings = match builder.generate() {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "error: bindgen could not generate the DPDK bindings ({e}).\n\
                 Install libclang with `apt-get install libclang-dev clang` (or run `make deps`)."
            );
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("dpdk.rs"))
        .expect("bindings can be written to OUT_DIR");
}

/// The non-include compiler flags libdpdk.pc asks for, e.g. `-include rte_config.h -march=corei7`.
fn pkg_config_cflags() -> Vec<String> {
    let out = std::process::Command::new("pkg-config")
        .args(["--cflags-only-other", "libdpdk"])
        .output()
        .expect("pkg-config runs (it found libdpdk a moment ago)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut flags = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-include" {
            if let Some(file) = words.next() {
                flags.push("-include".to_string());
                flags.push(file.to_string());
            }
        } else {
            flags.push(w.to_string());
        }
    }
    flags
}
