//! The control thread's side of the verification of restored bindings (issue 6,
//! recovery steps 2 to 4): [`crate::recovery::Recovery`] decides, this carries it out
//! with the roles' registrars — a Binding Refresh Request per binding through the role
//! that owns it, removal from the state, every worker (and, through the registrar's own
//! change path, the backup) when nothing answered — and feeds it every accepted binding
//! update. Progress goes to the log, to `mipdp ctl show recovery` and, on a terminal, to
//! a progress bar on stderr.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use mipdp_dpdk::{Mempool, TxQueue};

use super::{send_frame, toward, Control};
use crate::backup::{RestoredBinding, Role};
use crate::recovery::{progress_bar, Action, Key, Progress, Recovery};
use crate::registration::mip6::{RefreshError, Registrar6};
use crate::signalling::mip6::Role6;

/// How often progress goes to the log while recovery runs.
const LOG_INTERVAL: Duration = Duration::from_secs(1);
/// How often the terminal's progress bar is redrawn.
const BAR_INTERVAL: Duration = Duration::from_millis(100);
/// Characters of the progress bar.
const BAR_WIDTH: usize = 30;

/// A recovery in progress (or finished: kept for `mipdp ctl show recovery`).
#[derive(Debug)]
pub(super) struct Verifier {
    recovery: Recovery,
    started: Instant,
    logged: Instant,
    drawn: Option<Instant>,
    /// Whether stderr is a terminal: the progress bar is drawn only there.
    bar: bool,
    finished: bool,
    /// Requests that could not be sent (no route or neighbour toward the care-of or home
    /// address, no buffer); the timeout retries them.
    unsent: u64,
    /// Requests for bindings no role holds (not configured, or gone).
    unowned: u64,
    actions: Vec<Action>,
}

/// The role a Mobile IPv6 registrar's bindings have in the backup.
pub(super) fn backup_role(role: &Role6) -> Role {
    match role {
        Role6::HomeAgent => Role::HomeAgent,
        Role6::MobilityAnchorPoint => Role::MobilityAnchorPoint,
        Role6::MulticastAgent(_) => Role::MulticastAgent,
    }
}

/// A seed for the order inside each care-of group: not a secret, only different from
/// one start to the next.
fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

impl Control {
    /// Starts verifying `restored` (the bindings just restored from the backup, already
    /// on every worker) with the `[recovery]` settings. Nothing to verify: no recovery.
    pub fn start_recovery(&mut self, restored: &[RestoredBinding]) {
        if restored.is_empty() {
            return;
        }
        let settings = self.plan.recovery;
        let recovery = Recovery::new(restored, settings, seed());
        let now = Instant::now();
        log::info!(
            "recovery: verifying {} restored bindings ({} unverifiable Mobile IPv4 ones kept \
             until their lifetime) at {}/s, burst {}, timeout {} ms, {} retries",
            recovery.progress(now).total,
            recovery.progress(now).unverified,
            settings.rate,
            settings.burst,
            settings.timeout.as_millis(),
            settings.retries
        );
        self.recovery = Some(Verifier {
            recovery,
            started: now,
            logged: now,
            drawn: None,
            bar: std::io::stderr().is_terminal(),
            finished: false,
            unsent: 0,
            unowned: 0,
            actions: Vec::new(),
        });
    }

    /// The recovery's progress now, None when there was nothing to recover.
    pub fn recovery_progress(&self) -> Option<Progress> {
        self.recovery
            .as_ref()
            .map(|v| v.recovery.progress(Instant::now()))
    }

    /// The answer to `mipdp ctl show recovery`: one line.
    pub fn recovery_text(&self) -> String {
        match &self.recovery {
            None => "recovery none: no binding was restored from the backup at start\n".into(),
            Some(v) => format!(
                "{} unsent={} unowned={} elapsed={:.1}s\n",
                v.recovery.progress(Instant::now()),
                v.unsent,
                v.unowned,
                v.started.elapsed().as_secs_f64()
            ),
        }
    }

    /// One pass: the accepted binding updates confirm their bindings, then the requests
    /// and removals that are due are carried out, then progress is shown.
    pub(super) fn recover(&mut self, pool: &Mempool, control_tx: &mut [Option<TxQueue>]) {
        // Drained on every pass, recovery or not, so the lists never grow.
        let mut accepted: Vec<Key> = Vec::new();
        for r in self.registrar6.iter_mut().chain(self.anchors.iter_mut()) {
            let role = backup_role(&r.home_agent().config().role);
            accepted.extend(r.take_accepted().into_iter().map(|h| (role, IpAddr::V6(h))));
        }
        if let Some(r) = &mut self.correspondent {
            accepted.extend(
                r.take_accepted()
                    .into_iter()
                    .map(|h| (Role::Correspondent, IpAddr::V6(h))),
            );
        }
        let Some(mut v) = self.recovery.take() else {
            return;
        };
        for key in accepted {
            if v.recovery.confirm(key) {
                log::debug!("recovery: binding of {} verified", key.1);
            }
        }
        if !v.finished {
            let at = Instant::now();
            let mut actions = std::mem::take(&mut v.actions);
            v.recovery.poll(at, &mut actions);
            for action in actions.drain(..) {
                match action {
                    Action::Request { key, attempt } => {
                        self.request(&mut v, key, attempt, pool, control_tx)
                    }
                    Action::Remove(key) => self.remove_unverified(key),
                }
            }
            v.actions = actions;
            v.show(at);
        }
        self.recovery = Some(v);
    }

    /// Sends the verification request for `key` through the role that owns it.
    fn request(
        &mut self,
        v: &mut Verifier,
        key: Key,
        attempt: u32,
        pool: &Mempool,
        control_tx: &mut [Option<TxQueue>],
    ) {
        let (role, IpAddr::V6(home)) = key else {
            // Mobile IPv4 bindings are never asked (recovery::verification).
            return;
        };
        let (known, routes, inject) = (&self.known, &self.routes, &self.inject);
        let toward = |dst| toward(routes, known, dst);
        let mut send = |port: u16, bytes: &[u8]| {
            send_frame(pool, control_tx, inject, port, bytes.len(), |f| {
                f.copy_from_slice(bytes)
            })
        };
        let result = match role {
            Role::Correspondent => match &mut self.correspondent {
                Some(r) => r.refresh(home, &toward, &mut send),
                None => Err(RefreshError::NotBound),
            },
            _ => match registrar_of(&mut self.registrar6, &mut self.anchors, role) {
                Some(r) => r.refresh(home, &toward, &mut send),
                None => Err(RefreshError::NotBound),
            },
        };
        match result {
            Ok(()) => log::debug!("recovery: binding refresh request {attempt} for {home}"),
            Err(RefreshError::Unsent) => {
                v.unsent += 1;
                log::debug!(
                    "recovery: binding refresh request {attempt} for {home} not sent (no route \
                     or neighbour, or no buffer); retried at its timeout"
                );
            }
            Err(RefreshError::NotBound) => {
                // Gone since it was restored (deregistered, lapsed) or no role takes it.
                v.unowned += 1;
                v.recovery.end(key);
            }
        }
    }

    /// Removes the binding of `key` from its role's state and every worker: its mobile
    /// node answered none of the requests.
    fn remove_unverified(&mut self, key: Key) {
        let (role, IpAddr::V6(home)) = key else {
            return;
        };
        let (now, at) = (SystemTime::now(), Instant::now());
        let (known, routes) = (&self.known, &self.routes);
        let removed = match role {
            Role::Correspondent => self
                .correspondent
                .as_mut()
                .is_some_and(|r| r.remove(home, &mut self.updates)),
            _ => registrar_of(&mut self.registrar6, &mut self.anchors, role).is_some_and(|r| {
                r.remove(
                    home,
                    &mut self.updates,
                    &|dst| toward(routes, known, dst),
                    &|port, ip| known.get(&(port, IpAddr::V6(ip))).copied(),
                    (now, at),
                )
            }),
        };
        if removed {
            log::info!("recovery: binding of {home} removed: its mobile node did not answer");
        }
    }
}

/// The Mobile IPv6 registrar that holds the bindings of `role`.
fn registrar_of<'a>(
    home_agent: &'a mut Option<Registrar6>,
    anchors: &'a mut [Registrar6],
    role: Role,
) -> Option<&'a mut Registrar6> {
    home_agent
        .iter_mut()
        .chain(anchors.iter_mut())
        .find(|r| backup_role(&r.home_agent().config().role) == role)
}

impl Verifier {
    /// Progress to the log every [`LOG_INTERVAL`] and at the end; the bar on a terminal.
    fn show(&mut self, at: Instant) {
        let p = self.recovery.progress(at);
        if self.bar
            && self
                .drawn
                .is_none_or(|t| at.duration_since(t) >= BAR_INTERVAL)
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}", progress_bar(&p, BAR_WIDTH));
            if p.done() {
                let _ = writeln!(err);
            }
            let _ = err.flush();
            self.drawn = Some(at);
        }
        if p.done() {
            self.finished = true;
            self.recovery.release();
            log::info!(
                "{p} in {:.1}s unsent={}",
                at.duration_since(self.started).as_secs_f64(),
                self.unsent
            );
        } else if at.duration_since(self.logged) >= LOG_INTERVAL {
            self.logged = at;
            log::info!("{p}");
        }
    }
}
