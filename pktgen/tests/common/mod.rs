//! Runs the built `mipdp-pktgen` on DPDK virtual devices: no hugepages, no PCI, its own
//! file prefix per run, a time limit, and the JSON summary read back.

#![allow(dead_code)] // each test file uses its own part of this helper

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// What one run of the binary left behind.
pub struct Run {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
    /// The `--json` summary, when it was written.
    pub json: Option<serde_json::Value>,
}

impl Run {
    /// The JSON summary; fails the test with the run's output when there is none.
    pub fn summary(&self) -> &serde_json::Value {
        match &self.json {
            Some(j) => j,
            None => panic!("no JSON summary; {self}"),
        }
    }

    /// A counter of the JSON summary as u64.
    pub fn count(&self, key: &str) -> u64 {
        self.summary()[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} is not a count in {}", self.summary()))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A scratch directory for one test, removed afterwards.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mipdp-pktgen-test")
        .tempdir()
        .expect("temporary directory")
}

/// A running generator and the DPDK file prefix it was given.
pub struct Running {
    /// The process.
    pub child: Child,
    prefix: String,
}

/// A file prefix nobody else uses.
fn unique_prefix() -> String {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    format!(
        "pktgen-test-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

/// EAL arguments for a run with the given `--vdev`s and file prefix. `--no-shconf` keeps
/// DPDK's runtime directory empty, so that [`finish`] can remove it.
pub fn eal_args(prefix: &str, vdevs: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--no-huge",
        "-m",
        "512",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--log-level=lib.eal:error",
        "--file-prefix",
        prefix,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for v in vdevs {
        args.push("--vdev".into());
        args.push(v.clone());
    }
    args
}

/// Starts the binary with `args`, then `--` and the EAL arguments for `vdevs`; the JSON
/// summary goes to `dir/summary.json`.
pub fn spawn(dir: &Path, args: &[&str], vdevs: &[String]) -> Running {
    let prefix = unique_prefix();
    let child = Command::new(env!("CARGO_BIN_EXE_mipdp-pktgen"))
        .args(args)
        .arg("--json")
        .arg(json_path(dir))
        .arg("--")
        .args(eal_args(&prefix, vdevs))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mipdp-pktgen starts");
    Running { child, prefix }
}

/// Waits up to `limit` for the generator, kills it past that (failing the test), and
/// collects its output and JSON summary.
pub fn finish(running: Running, dir: &Path, limit: Duration) -> Run {
    let deadline = Instant::now() + limit;
    let Running { mut child, prefix } = running;
    // DPDK's runtime directory, empty with --no-shconf; gone whatever the outcome.
    let _cleanup = RuntimeDir(Path::new("/var/run/dpdk").join(prefix));
    loop {
        match child.try_wait().expect("wait for mipdp-pktgen") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("output");
                panic!(
                    "mipdp-pktgen still running after {limit:?}; stdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child.wait_with_output().expect("output");
    let json = std::fs::read_to_string(json_path(dir))
        .ok()
        .map(|s| serde_json::from_str(&s).expect("the JSON summary parses"));
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
    }
}

/// Runs the binary to completion (at most a minute).
pub fn run(dir: &Path, args: &[&str], vdevs: &[String]) -> Run {
    finish(spawn(dir, args, vdevs), dir, Duration::from_secs(60))
}

/// Removes DPDK's runtime directory of a run when dropped.
struct RuntimeDir(PathBuf);

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn json_path(dir: &Path) -> PathBuf {
    dir.join("summary.json")
}

/// Runs `program` with `args` to the end and returns what it printed; a failure to start
/// or a failed exit fails the test with both outputs.
pub fn run_tool(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON summary a finished mipdp-pktgen run `name` wrote to `json`; its output goes to
/// the test's log, and a failed exit fails the test with it.
pub fn summary(name: &str, out: &Output, json: &Path) -> serde_json::Value {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("--- mipdp-pktgen {name} ---\n{text}");
    assert!(out.status.success(), "mipdp-pktgen {name} failed:\n{text}");
    serde_json::from_str(&std::fs::read_to_string(json).expect("the JSON summary")).expect("JSON")
}

/// The `mipdp` binary next to this crate's binary (cargo builds it for the workspace's
/// tests; otherwise `cargo build -p mipdp-control --bin mipdp`).
pub fn mipdp_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_mipdp-pktgen")).with_file_name("mipdp");
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo build -p mipdp-control --bin mipdp` (cargo \
         test --workspace does)",
        path.display()
    );
    path
}
