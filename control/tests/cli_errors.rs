//! What `mipdp` says when it cannot start: a non-zero exit and one clear error that names
//! the problem and what to do, never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{eal_args, remove_dpdk_runtime_dir, unique_id, MIPDP};

fn write_config(dir: &Path, workers: &str, devices: [&str; 2]) -> PathBuf {
    let text = format!(
        r#"[dataplane]
mode = "forwarder"
workers = {workers}
mbufs = 4095
mbuf_cache = 128
rx_descriptors = 512
tx_descriptors = 512
idle_sleep_max_us = 1000

[[port]]
device = "{}"

[[port]]
device = "{}"
"#,
        devices[0], devices[1]
    );
    let path = dir.join("mipdp.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// Runs `mipdp run --config <config> -- <EAL args with vdevs and a fresh file prefix>`
/// followed by `extra_eal`.
fn run(config: &Path, vdevs: &[&str], extra_eal: &[&str], test: &str) -> Output {
    let prefix = format!("mipdp-t-{}-{test}", unique_id());
    let vdevs: Vec<String> = vdevs.iter().map(|v| v.to_string()).collect();
    let out = Command::new(MIPDP)
        .arg("run")
        .arg("--config")
        .arg(config)
        .arg("--")
        .args(eal_args(&prefix, &vdevs))
        .args(extra_eal)
        .output()
        .expect("run mipdp");
    remove_dpdk_runtime_dir(&prefix);
    out
}

/// The stderr of a failed run, after checking it failed without a panic.
fn failure_text(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "mipdp should have failed\n--- stderr ---\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "mipdp panicked instead of reporting an error:\n{stderr}"
    );
    stderr
}

/// The `mipdp: error: ...` lines of stderr.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("mipdp: error:"))
        .collect()
}

#[test]
fn missing_config_file_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("no-such-config.toml");
    let out = run(&missing, &[], &[], "nocfg");
    let stderr = failure_text(&out);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(
        lines[0].contains(&missing.display().to_string()),
        "the error does not name {}:\n{stderr}",
        missing.display()
    );
}

#[test]
fn unknown_port_device_is_named_with_a_hint() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), "[1]", ["net_tap5", "net_null1"]);
    let out = run(&config, &["net_null0", "net_null1"], &[], "noport");
    let stderr = failure_text(&out);
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "expected one error line:\n{stderr}");
    assert!(
        errors[0].contains(r#"no DPDK port named "net_tap5""#),
        "the error does not name the device:\n{stderr}"
    );
    assert!(
        errors[0].contains("--vdev net_tap5"),
        "the error does not say how to create the device:\n{stderr}"
    );
}

#[test]
fn worker_on_missing_core_is_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), "[99]", ["net_null0", "net_null1"]);
    let out = run(&config, &["net_null0", "net_null1"], &[], "core99");
    let stderr = failure_text(&out);
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "expected one error line:\n{stderr}");
    assert!(
        errors[0].contains("core 99 does not exist"),
        "the error does not name core 99:\n{stderr}"
    );
}

#[test]
fn bad_eal_argument_fails_eal_initialisation() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), "[1]", ["net_null0", "net_null1"]);
    let out = run(
        &config,
        &["net_null0", "net_null1"],
        &["--bogus-eal-flag"],
        "badeal",
    );
    let stderr = failure_text(&out);
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "expected one error line:\n{stderr}");
    assert!(
        errors[0].contains("EAL initialisation failed"),
        "the error does not blame the EAL:\n{stderr}"
    );
}

#[test]
fn version_is_printed_and_run_help_names_the_config_option() {
    let version = Command::new(MIPDP)
        .arg("--version")
        .output()
        .expect("run mipdp --version");
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mipdp {}", env!("CARGO_PKG_VERSION"))
    );

    let help = Command::new(MIPDP)
        .args(["run", "--help"])
        .output()
        .expect("run mipdp run --help");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--config"), "run --help:\n{text}");
}
