//! Shared helpers of the end-to-end tests: running `mipdp` as a child process and reading
//! its counters, a two-namespace topology around two DPDK tap ports that always cleans up,
//! and a small pcap reader/writer.
//!
//! Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The `mipdp` binary cargo built for these tests.
pub const MIPDP: &str = env!("CARGO_BIN_EXE_mipdp");

/// How long a child gets to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// A name part unique to this process and call: `<pid>x<n>`, short enough for interface
/// names (at most 15 characters with a 2-character prefix and a 1-character suffix).
pub fn unique_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Fails the test unless it runs as root: namespaces and DPDK tap devices need it.
pub fn require_root(test: &str) {
    let out = Command::new("id").arg("-u").output();
    let uid = out
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string());
    assert_eq!(
        uid.as_deref(),
        Some("0"),
        "{test}: this end-to-end test creates network namespaces and DPDK tap devices and \
         must run as root (e.g. `sudo make test`); it does not skip itself"
    );
}

/// Fails the test unless `program args` runs and exits 0; `what` says what it is needed for.
pub fn require_tool(program: &str, args: &[&str], what: &str) {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{program} {}` failed: {what} (scripts/install-deps.sh installs it)",
        args.join(" ")
    );
}

/// Fails the test unless the DPDK tap driver can work here.
pub fn require_tun_device() {
    assert!(
        Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing: DPDK's net_tap needs the tun module (modprobe tun)"
    );
}

/// EAL arguments for a test process without hugepages or PCI, with its own file prefix.
pub fn eal_args(file_prefix: &str, vdevs: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(file_prefix.to_string());
    for v in vdevs {
        args.push("--vdev".to_string());
        args.push(v.clone());
    }
    args
}

/// Removes what DPDK leaves in its runtime directory for `file_prefix`.
pub fn remove_dpdk_runtime_dir(file_prefix: &str) {
    if file_prefix.is_empty() || file_prefix.contains('/') {
        return;
    }
    let _ = std::fs::remove_dir_all(Path::new("/var/run/dpdk").join(file_prefix));
}

/// Sends `signal` (a `kill` name such as `TERM`) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops `child`: SIGTERM, then SIGKILL if it has not exited within `grace`. Never panics
/// (it runs from `Drop`).
pub fn terminate(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    signal(child.id(), "TERM");
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    eprintln!(
        "process {} did not stop within {grace:?} of SIGTERM: killing it",
        child.id()
    );
    let _ = child.kill();
    child.wait().ok()
}

/// Lines a child writes to one of its streams, collected by a reader thread.
#[derive(Clone, Default)]
pub struct Lines {
    inner: Arc<(Mutex<LinesState>, Condvar)>,
}

#[derive(Default)]
struct LinesState {
    lines: Vec<String>,
    closed: bool,
}

impl Lines {
    /// Starts a thread that collects the lines of `stream` until it closes.
    pub fn collect(stream: impl Read + Send + 'static) -> (Lines, JoinHandle<()>) {
        let lines = Lines::default();
        let writer = lines.clone();
        let handle = std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                        let (state, cv) = &*writer.inner;
                        state.lock().unwrap().lines.push(line);
                        cv.notify_all();
                    }
                }
            }
            let (state, cv) = &*writer.inner;
            state.lock().unwrap().closed = true;
            cv.notify_all();
        });
        (lines, handle)
    }

    /// All lines so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.inner.0.lock().unwrap().lines.clone()
    }

    /// Waits up to `timeout` for a line that `matches`; `None` on timeout or end of stream.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (state, cv) = &*self.inner;
        let mut guard = state.lock().unwrap();
        let mut checked = 0;
        loop {
            if let Some(line) = guard.lines[checked..].iter().find(|l| matches(l)) {
                return Some(line.clone());
            }
            checked = guard.lines.len();
            let now = Instant::now();
            if guard.closed || now >= deadline {
                return None;
            }
            guard = cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }
}

/// The `key=value` words of a counters line (`stats ...`, `final ...`).
pub fn key_values(line: &str) -> HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A counter of a `key_values` map as a number; panics naming the line when absent.
pub fn counter(line: &str, key: &str) -> u64 {
    key_values(line)
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key}= in counters line {line:?}"))
}

/// Whether `line` is a periodic stats line of `port` whose `key` counter is at least `min`.
pub fn stats_line_reaches(line: &str, port: &str, key: &str, min: u64) -> bool {
    if !line.starts_with("stats ") {
        return false;
    }
    let kv = key_values(line);
    kv.get("port").map(String::as_str) == Some(port)
        && kv
            .get(key)
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|v| v >= min)
}

/// A running `mipdp run` child with its output collected.
pub struct Mipdp {
    child: Child,
    /// What it printed on stdout (counters).
    pub stdout: Lines,
    /// What it printed on stderr (DPDK and log messages).
    pub stderr: Lines,
    readers: Vec<JoinHandle<()>>,
    file_prefix: String,
}

/// What a stopped `mipdp` left: exit status and output.
pub struct Finished {
    /// Exit status (`None` if it could not be collected).
    pub status: Option<ExitStatus>,
    /// Every stdout line.
    pub stdout: Vec<String>,
    /// Every stderr line.
    pub stderr: Vec<String>,
}

impl Mipdp {
    /// Starts `mipdp run --config <config> [extra] -- <eal>`; `file_prefix` must be the one
    /// in `eal` (its runtime directory is removed when the process is gone).
    pub fn start(config: &Path, extra: &[&str], eal: &[String], file_prefix: &str) -> Mipdp {
        let mut child = Command::new(MIPDP)
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(extra)
            .arg("--")
            .args(eal)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {MIPDP}: {e}"));
        let (stdout, r1) = Lines::collect(child.stdout.take().expect("piped stdout"));
        let (stderr, r2) = Lines::collect(child.stderr.take().expect("piped stderr"));
        Mipdp {
            child,
            stdout,
            stderr,
            readers: vec![r1, r2],
            file_prefix: file_prefix.to_string(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stdout line that `matches`; panics with everything mipdp printed when
    /// none comes within `timeout` or mipdp exits first.
    pub fn expect_stdout(
        &mut self,
        what: &str,
        timeout: Duration,
        matches: impl FnMut(&str) -> bool,
    ) -> String {
        if let Some(line) = self.stdout.wait_for(timeout, matches) {
            return line;
        }
        // Stdout closes a moment before the process can be reaped.
        let deadline = Instant::now() + Duration::from_secs(2);
        let exited = loop {
            match self.child.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(status) => break status,
                Err(_) => break None,
            }
        };
        let headline = match exited {
            Some(status) => format!("mipdp exited ({status}) before {what}"),
            None => format!("mipdp: no {what} within {timeout:?}"),
        };
        panic!(
            "{headline}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout.snapshot().join("\n"),
            self.stderr.snapshot().join("\n"),
        )
    }

    /// The MAC that mipdp logged for `device` at start-up (`port N (dev): id N, mac ...`).
    pub fn logged_mac(&self, device: &str) -> Option<[u8; 6]> {
        let needle = format!("({device}): id ");
        self.stderr.snapshot().iter().find_map(|l| {
            let rest = &l[l.find(&needle)?..];
            let mac = rest.split(", mac ").nth(1)?.get(..17)?;
            parse_mac(mac)
        })
    }

    /// Kills mipdp with SIGKILL at once (a crash: nothing of it runs any more) and
    /// returns what it printed.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Finished {
            status,
            stdout: self.stdout.snapshot(),
            stderr: self.stderr.snapshot(),
        }
    }

    /// Stops mipdp with SIGTERM (SIGKILL after `STOP_GRACE`) and returns what it printed.
    pub fn stop(mut self) -> Finished {
        let status = terminate(&mut self.child, STOP_GRACE);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Finished {
            status,
            stdout: self.stdout.snapshot(),
            stderr: self.stderr.snapshot(),
        }
    }
}

impl Drop for Mipdp {
    fn drop(&mut self) {
        terminate(&mut self.child, STOP_GRACE);
        remove_dpdk_runtime_dir(&self.file_prefix);
    }
}

impl Finished {
    /// Stdout and stderr as one text, for failure messages.
    pub fn transcript(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout.join("\n"),
            self.stderr.join("\n")
        )
    }

    /// Fails unless mipdp exited 0.
    pub fn assert_success(&self) {
        assert!(
            self.status.is_some_and(|s| s.success()),
            "mipdp exited with {:?}\n{}",
            self.status,
            self.transcript()
        );
    }

    /// The `final port=<device> ...` line.
    pub fn final_port(&self, device: &str) -> &str {
        let prefix = format!("final port={device} ");
        self.stdout
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no `{prefix}...` line\n{}", self.transcript()))
    }

    /// The `final drops ...` line.
    pub fn final_drops(&self) -> &str {
        self.final_line("final drops ")
    }

    /// The `final engine ...` line (mobility mode).
    pub fn final_engine(&self) -> &str {
        self.final_line("final engine ")
    }

    fn final_line(&self, prefix: &str) -> &str {
        self.stdout
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}...` line\n{}", self.transcript()))
    }
}

/// Parses `02:aa:00:00:00:01`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in mac.iter_mut() {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Formats a MAC as `02:aa:00:00:00:01`.
pub fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Runs a command to completion; panics with its output unless it exits 0.
pub fn run(program: &str, args: &[&str]) -> Output {
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

/// Two network namespaces, `a` and `b`, each to receive one of mipdp's two tap ports, and
/// the processes running in them. Dropping it (also when the test panics) stops mipdp and
/// the helpers and deletes the namespaces.
pub struct Topology {
    /// Namespace behind DPDK port 0 (`mipdp-t-<id>-a`).
    pub ns_a: String,
    /// Namespace behind DPDK port 1 (`mipdp-t-<id>-b`).
    pub ns_b: String,
    /// Kernel name of port 0's tap interface.
    pub tap_a: String,
    /// Kernel name of port 1's tap interface.
    pub tap_b: String,
    /// The DPDK file prefix of this topology's mipdp.
    pub file_prefix: String,
    mipdp: Option<Mipdp>,
    helpers: Vec<Child>,
}

impl Topology {
    /// Creates the two namespaces (replacing same-named leftovers). `test` names the test
    /// in the DPDK file prefix.
    pub fn new(test: &str) -> Topology {
        let id = unique_id();
        let tap_a = format!("mt{id}a");
        assert!(tap_a.len() <= 15, "interface name {tap_a} is too long");
        let topo = Topology {
            ns_a: format!("mipdp-t-{id}-a"),
            ns_b: format!("mipdp-t-{id}-b"),
            tap_a,
            tap_b: format!("mt{id}b"),
            file_prefix: format!("mipdp-t-{id}-{test}"),
            mipdp: None,
            helpers: Vec::new(),
        };
        for ns in [&topo.ns_a, &topo.ns_b] {
            let _ = Command::new("ip")
                .args(["netns", "delete", ns])
                .stderr(Stdio::null())
                .status();
            run("ip", &["netns", "add", ns]);
        }
        topo
    }

    /// The `--vdev` arguments that create port 0 (`net_tap0`, kernel name `tap_a`) and
    /// port 1 (`net_tap1`, kernel name `tap_b`).
    pub fn tap_vdevs(&self) -> Vec<String> {
        vec![
            format!("net_tap0,iface={}", self.tap_a),
            format!("net_tap1,iface={}", self.tap_b),
        ]
    }

    /// Starts mipdp on the two taps with `config` and `extra` options.
    pub fn start_mipdp(&mut self, config: &Path, extra: &[&str]) -> &mut Mipdp {
        let eal = eal_args(&self.file_prefix, &self.tap_vdevs());
        self.mipdp = Some(Mipdp::start(config, extra, &eal, &self.file_prefix));
        self.mipdp.as_mut().expect("just started")
    }

    /// The running mipdp.
    pub fn mipdp(&mut self) -> &mut Mipdp {
        self.mipdp.as_mut().expect("mipdp was started")
    }

    /// Kills mipdp (SIGKILL, a crash) and returns what it printed.
    pub fn kill_mipdp(&mut self) -> Finished {
        self.mipdp.take().expect("mipdp was started").kill()
    }

    /// Stops mipdp (SIGTERM) and returns what it printed.
    pub fn stop_mipdp(&mut self) -> Finished {
        self.mipdp.take().expect("mipdp was started").stop()
    }

    /// Waits until mipdp has started its ports, then moves each tap interface into its
    /// namespace with the given MAC, IPv6 off (no router solicitations or MLD reports to
    /// filter out) and the link up.
    ///
    /// Not earlier: DPDK's net_tap attaches its queues to the interface by name while the
    /// port starts, and a name that has already moved away makes it create a second,
    /// unrelated interface in the root namespace.
    pub fn adopt_taps(&mut self, mac_a: [u8; 6], mac_b: [u8; 6], timeout: Duration) {
        let deadline = Instant::now() + timeout;
        self.mipdp()
            .expect_stdout("the line saying it runs", timeout, |l| {
                l.starts_with("mipdp: running") || l.starts_with("stats ")
            });
        for tap in [self.tap_a.clone(), self.tap_b.clone()] {
            loop {
                let exists = Command::new("ip")
                    .args(["link", "show", "dev", &tap])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if exists {
                    break;
                }
                if Instant::now() >= deadline {
                    let m = self.mipdp();
                    let running = m.child.try_wait().ok().flatten().is_none();
                    panic!(
                        "tap interface {tap} did not appear within {timeout:?} (mipdp {})\n\
                         --- mipdp stderr ---\n{}",
                        if running { "running" } else { "exited" },
                        m.stderr.snapshot().join("\n")
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        for (tap, ns, mac) in [
            (self.tap_a.clone(), self.ns_a.clone(), mac_a),
            (self.tap_b.clone(), self.ns_b.clone(), mac_b),
        ] {
            run("ip", &["link", "set", "dev", &tap, "netns", &ns]);
            let left_behind = Command::new("ip")
                .args(["link", "show", "dev", &tap])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                !left_behind,
                "after moving {tap} into {ns} an interface of that name is still in the root \
                 namespace: DPDK re-created it"
            );
            self.ns_run(
                &ns,
                &[
                    "sysctl",
                    "-q",
                    "-w",
                    &format!("net.ipv6.conf.{tap}.disable_ipv6=1"),
                ],
            );
            self.ns_run(
                &ns,
                &["ip", "link", "set", "dev", &tap, "address", &mac_text(mac)],
            );
            self.ns_run(&ns, &["ip", "link", "set", "dev", &tap, "up"]);
        }
    }

    /// Runs a command inside namespace `ns`; panics with its output unless it exits 0.
    pub fn ns_run(&self, ns: &str, command: &[&str]) -> Output {
        let mut args = vec!["netns", "exec", ns];
        args.extend_from_slice(command);
        run("ip", &args)
    }

    /// Runs a command inside namespace `ns` and returns its output, whatever its exit
    /// status (for commands whose failure the test reports itself).
    pub fn ns_output(&self, ns: &str, command: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", ns])
            .args(command)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?} in {ns}: {e}"))
    }

    /// Starts a helper process inside namespace `ns`, stopped (SIGTERM) when the topology
    /// is dropped. Returns its index for `stop_helper`.
    pub fn spawn_in(&mut self, ns: &str, command: &[&str]) -> (usize, Lines, Lines) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?} in {ns}: {e}"));
        let (out, _) = Lines::collect(child.stdout.take().expect("piped stdout"));
        let (err, _) = Lines::collect(child.stderr.take().expect("piped stderr"));
        self.helpers.push(child);
        (self.helpers.len() - 1, out, err)
    }

    /// Stops helper `index` with SIGTERM and returns its exit status.
    pub fn stop_helper(&mut self, index: usize) -> Option<ExitStatus> {
        terminate(&mut self.helpers[index], STOP_GRACE)
    }

    /// Turns IPv6 back on (adopt_taps turned it off) without a link-local address, so the
    /// kernel sends no router solicitations and, with no address on the link, no MLD reports.
    pub fn enable_ipv6_quietly(&self, ns: &str, dev: &str) {
        for setting in ["addr_gen_mode=1", "disable_ipv6=0"] {
            let key = format!("net.ipv6.conf.{dev}.{setting}");
            self.ns_run(ns, &["sysctl", "-q", "-w", &key]);
        }
    }

    /// Runs a command given as space-separated words inside `ns`; panics naming it (and
    /// what SRv6 needs, for a seg6 route) on failure.
    pub fn ns_words(&self, ns: &str, command: &str) {
        let words: Vec<&str> = command.split_whitespace().collect();
        let out = self.ns_output(ns, &words);
        assert!(
            out.status.success(),
            "`{command}` failed in {ns} ({}): {}{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            if command.contains("seg6") {
                "(SRv6 needs CONFIG_IPV6_SEG6_LWTUNNEL and iproute2 >= 6.1 for encap.red)"
            } else {
                ""
            }
        );
    }

    /// The output of each command (space-separated words) run in `ns`, whatever its exit
    /// status, for failure messages.
    pub fn ns_state(&self, ns: &str, commands: &[&str]) -> String {
        commands
            .iter()
            .map(|cmd| {
                let words: Vec<&str> = cmd.split_whitespace().collect();
                let out = self.ns_output(ns, &words);
                format!(
                    "$ {cmd}\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Pings `dst` from `ns` `count` times; every echo must be answered.
    ///
    /// With a deadline (`-w`) ping waits for every reply until then; without one it gives up
    /// on the last reply after twice the longest round trip so far, which on a loaded machine
    /// fails a slow but working path.
    pub fn ping(&self, ns: &str, dst: &str, count: u64) -> Result<(), String> {
        let family = if dst.contains(':') { "-6" } else { "-4" };
        let n = count.to_string();
        let out = self.ns_output(
            ns,
            &[
                "ping", family, "-n", "-c", &n, "-i", "0.2", "-W", "2", "-w", "10", dst,
            ],
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // At least `count` replies: on a loaded machine late replies make ping send one
        // or two more echoes before the first `count` come back, all of which may arrive.
        let received = text
            .split(" received")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if received >= count {
            Ok(())
        } else {
            Err(text)
        }
    }

    /// Starts tcpdump on `dev` in `ns`, writing every frame to `path`, and waits until it
    /// listens. It stays root (`-Z root`): the test's directory is not the tcpdump user's.
    /// Immediate mode and `-U` put each frame in the file as it comes: otherwise frames
    /// wait in the kernel's capture buffer, and those still there are lost on SIGTERM.
    pub fn capture(&mut self, ns: &str, dev: &str, path: &Path) -> Capture {
        let file = path.to_string_lossy().into_owned();
        let (helper, _, err) = self.spawn_in(
            ns,
            &[
                "tcpdump",
                "-n",
                "--immediate-mode",
                // 32 MiB of kernel buffer: a tcpdump the scheduler holds back on a busy
                // 2-core machine must not lose frames ("dropped by kernel").
                "-B",
                "32768",
                "-U",
                "-Z",
                "root",
                "-i",
                dev,
                "-w",
                &file,
            ],
        );
        assert!(
            err.wait_for(Duration::from_secs(10), |l| l.contains("listening on"))
                .is_some(),
            "tcpdump did not start on {dev} in {ns}:\n{}",
            err.snapshot().join("\n")
        );
        Capture {
            helper,
            path: path.to_path_buf(),
            stderr: err,
        }
    }

    /// Waits up to `timeout` for at least `frames` frames in a capture's file, then stops
    /// it and reads every frame. Fewer frames are the test's to report.
    pub fn finish_capture(
        &mut self,
        capture: &Capture,
        frames: usize,
        timeout: Duration,
    ) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        while pcap::count_so_far(&capture.path) < frames && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let status = self.stop_helper(capture.helper);
        assert!(
            status.is_some_and(|s| s.success()),
            "tcpdump writing {} exited with {status:?}:\n{}",
            capture.path.display(),
            capture.stderr.snapshot().join("\n")
        );
        pcap::read(&capture.path)
    }
}

/// A tcpdump running in a namespace of a [`Topology`].
pub struct Capture {
    helper: usize,
    path: std::path::PathBuf,
    stderr: Lines,
}

impl Capture {
    /// What tcpdump printed on stderr (once stopped: frames captured, received by the
    /// filter, dropped by the kernel), for failure messages.
    pub fn summary(&self) -> String {
        self.stderr.snapshot().join("\n")
    }

    /// The capture as tcpdump prints it, with timestamps and link-level headers, for
    /// failure messages.
    pub fn text(&self) -> String {
        let out = Command::new("tcpdump")
            .args(["-n", "-e", "-tt", "-v", "-r"])
            .arg(&self.path)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("cannot run tcpdump -r {}: {e}", self.path.display()),
        }
    }
}

/// The second `stats drops` line printed from now on: counters that include everything
/// the worker had done before this call (mipdp must run with a short `--stats-interval`).
pub fn settled_drops(mipdp: &mut Mipdp) -> String {
    let prefix = "stats drops ";
    let before = mipdp
        .stdout
        .snapshot()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .count();
    let mut seen = 0;
    mipdp.expect_stdout(
        "two more drop counter lines",
        Duration::from_secs(10),
        |l| {
            if l.starts_with(prefix) {
                seen += 1;
            }
            seen >= before + 2
        },
    )
}

/// Every drop reason whose counter differs between a `settled_drops` line and the
/// `final drops` line, as failure messages.
pub fn new_drops(before: &str, after: &str) -> Vec<String> {
    let after = key_values(after);
    key_values(before)
        .into_iter()
        .filter_map(|(reason, was)| {
            let now = after.get(&reason).map(String::as_str).unwrap_or("(absent)");
            (now != was)
                .then(|| format!("mipdp dropped packets during the test: {reason} {was} -> {now}"))
        })
        .collect()
}

/// The `packets` and `errors` counters of an SRv6 local route with `count`, from
/// `ip -s -6 route show <prefix>`.
pub fn seg6local_counts(route: &str) -> Option<(u64, u64)> {
    let word_after = |key: &str| -> Option<u64> {
        let mut words = route.split_whitespace();
        words.find(|w| *w == key)?;
        words.next()?.parse().ok()
    };
    Some((word_after("packets")?, word_after("errors")?))
}

impl Drop for Topology {
    fn drop(&mut self) {
        for child in &mut self.helpers {
            terminate(child, STOP_GRACE);
        }
        // mipdp first: its tap interfaces vanish with it, and the namespaces are then empty.
        drop(self.mipdp.take());
        for ns in [&self.ns_a, &self.ns_b] {
            let ok = Command::new("ip")
                .args(["netns", "delete", ns])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("warning: could not delete network namespace {ns}");
            }
        }
    }
}

/// Classic pcap (libpcap) files: what net_pcap reads and writes, and what tcpdump writes.
pub mod pcap {
    use std::path::{Path, PathBuf};

    /// Where mipdp's net_pcap port `port` writes what TX queue `queue` sends.
    pub fn out(dir: &Path, port: usize, queue: usize) -> PathBuf {
        dir.join(format!("out{port}q{queue}.pcap"))
    }

    /// The two net_pcap ports of a one-worker mipdp: port 0 reads `input`, and each port
    /// writes its two TX queues (the worker's and the control thread's) to [`out`] files.
    pub fn two_port_vdevs(dir: &Path, input: &Path) -> Vec<String> {
        let arg = |p: PathBuf| p.to_string_lossy().into_owned();
        vec![
            format!(
                "net_pcap0,rx_pcap={},tx_pcap={},tx_pcap={}",
                arg(input.to_path_buf()),
                arg(out(dir, 0, 0)),
                arg(out(dir, 0, 1))
            ),
            format!(
                "net_pcap1,tx_pcap={},tx_pcap={}",
                arg(out(dir, 1, 0)),
                arg(out(dir, 1, 1))
            ),
        ]
    }

    const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
    const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
    const LINKTYPE_ETHERNET: u32 = 1;
    const FILE_HEADER: usize = 24;
    const RECORD_HEADER: usize = 16;

    /// The byte order a file was written in, told by its magic number.
    #[derive(Clone, Copy)]
    enum Order {
        Little,
        Big,
    }

    impl Order {
        fn of(file: &[u8]) -> Option<Order> {
            let magic = file.get(..4)?;
            let little = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
            let big = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
            match (little, big) {
                (MAGIC_MICROS | MAGIC_NANOS, _) => Some(Order::Little),
                (_, MAGIC_MICROS | MAGIC_NANOS) => Some(Order::Big),
                _ => None,
            }
        }

        fn word(self, bytes: &[u8], at: usize) -> u32 {
            let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
            match self {
                Order::Little => u32::from_le_bytes(b),
                Order::Big => u32::from_be_bytes(b),
            }
        }
    }

    /// Writes `frames` as an Ethernet pcap file (microsecond timestamps, 1 ms apart).
    pub fn write(path: &Path, frames: &[Vec<u8>]) {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC_MICROS.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
        out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        for (i, frame) in frames.iter().enumerate() {
            let len = frame.len() as u32;
            out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            out.extend_from_slice(&((i as u32 % 1000) * 1000).to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes()); // captured length
            out.extend_from_slice(&len.to_le_bytes()); // original length
            out.extend_from_slice(frame);
        }
        std::fs::write(path, out)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Reads every frame of an Ethernet pcap file, either byte order, micro- or nanosecond
    /// timestamps. Panics on anything else, and on frames cut short by the snap length.
    pub fn read(path: &Path) -> Vec<Vec<u8>> {
        read_timed(path).into_iter().map(|(_, f)| f).collect()
    }

    /// [`read`] with each frame's capture time, in seconds since the Unix epoch.
    pub fn read_timed(path: &Path) -> Vec<(f64, Vec<u8>)> {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let name = path.display();
        let order = Order::of(&bytes).unwrap_or_else(|| panic!("{name}: not a pcap file"));
        assert!(
            bytes.len() >= FILE_HEADER,
            "{name}: shorter than a pcap header"
        );
        assert_eq!(
            order.word(&bytes, 20),
            LINKTYPE_ETHERNET,
            "{name}: not Ethernet"
        );
        let fraction = if order.word(&bytes, 0) == MAGIC_NANOS {
            1e-9
        } else {
            1e-6
        };
        let mut frames = Vec::new();
        let mut at = FILE_HEADER;
        while at < bytes.len() {
            assert!(
                at + RECORD_HEADER <= bytes.len(),
                "{name}: truncated record header"
            );
            let time = f64::from(order.word(&bytes, at))
                + f64::from(order.word(&bytes, at + 4)) * fraction;
            let caplen = order.word(&bytes, at + 8) as usize;
            let origlen = order.word(&bytes, at + 12) as usize;
            at += RECORD_HEADER;
            assert!(at + caplen <= bytes.len(), "{name}: truncated record");
            assert_eq!(
                caplen,
                origlen,
                "{name}: frame {} was cut by the snap length",
                frames.len()
            );
            frames.push((time, bytes[at..at + caplen].to_vec()));
            at += caplen;
        }
        frames
    }

    /// How many whole records a pcap file that may still be being written holds so far
    /// (0 while it does not exist or has no header yet).
    pub fn count_so_far(path: &Path) -> usize {
        let Ok(bytes) = std::fs::read(path) else {
            return 0;
        };
        let Some(order) = Order::of(&bytes) else {
            return 0;
        };
        let mut count = 0;
        let mut at = FILE_HEADER;
        while at + RECORD_HEADER <= bytes.len() {
            at += RECORD_HEADER + order.word(&bytes, at + 8) as usize;
            if at > bytes.len() {
                break;
            }
            count += 1;
        }
        count
    }

    /// Reads and concatenates several pcap files.
    pub fn read_all(paths: &[PathBuf]) -> Vec<Vec<u8>> {
        paths.iter().flat_map(|p| read(p)).collect()
    }
}

/// A small deterministic generator (xorshift64*) for test payloads.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// What `mipdp ctl --socket SOCKET WORDS...` printed on stdout, whether it succeeded or
/// not (a caller polling a node that is still starting).
pub fn ctl(socket: &Path, words: &[&str]) -> String {
    let out = Command::new(MIPDP)
        .args(["ctl", "--socket"])
        .arg(socket)
        .args(words)
        .output()
        .expect("run mipdp ctl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// As [`ctl`], failing the test when the command fails.
pub fn ctl_ok(socket: &Path, words: &[&str]) -> String {
    let out = Command::new(MIPDP)
        .args(["ctl", "--socket"])
        .arg(socket)
        .args(words)
        .output()
        .expect("run mipdp ctl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "mipdp ctl {words:?} failed: {text}");
    text
}

/// The `engine ...` line of `mipdp ctl show stats`.
pub fn engine_stats(socket: &Path) -> String {
    let text = ctl_ok(socket, &["show", "stats"]);
    text.lines()
        .find(|l| l.starts_with("engine "))
        .unwrap_or_else(|| panic!("no engine line in {text}"))
        .to_string()
}

/// The value of `key` in a peer's key=value words, or "(absent)".
pub fn field<'a>(words: &'a HashMap<String, String>, key: &str) -> &'a str {
    words.get(key).map(String::as_str).unwrap_or("(absent)")
}
