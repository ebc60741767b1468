//! The backup journal: the control thread hands binding changes to a writer thread that
//! commits them to the [`Backup`] by group commit, and learns through an atomic which
//! ones are durable. Issue 6: "every accepted binding change is committed durably before
//! the reply or ack that reports it leaves the node".
//!
//! The control thread never waits for the disk. [`Journal::submit`] numbers each batch
//! of changes with a ticket and passes it down a bounded channel; when the channel is
//! full the batch waits in a local backlog (in order, never dropped) that
//! [`Journal::flush`] hands over on the next tick. The writer takes everything queued,
//! commits it in ONE durable transaction, and publishes the highest ticket it holds
//! ([`Journal::committed`]); while one commit is on the disk the next changes pile up
//! and go in the next transaction. A reply waits for the ticket of the last change
//! submitted before it ([`Journal::submitted`]).
//!
//! A failed commit is logged with its cause, counted and retried with the same changes
//! (plus whatever came since); its tickets are not published meanwhile, so the replies
//! that wait for them are dropped at their deadline (counted) rather than sent.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Backup, Change};

/// Batches the channel to the writer holds; beyond that they wait in the backlog.
pub const CHANNEL_BATCHES: usize = 4096;

/// Changes one transaction takes at most, so one commit stays short however long the
/// disk was away.
pub const MAX_TRANSACTION: usize = 1 << 16;

/// The first pause before a failed commit is tried again; it doubles up to
/// [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_millis(10);
/// The longest pause between attempts of a failed commit.
pub const RETRY_MAX: Duration = Duration::from_secs(1);
/// Attempts of a failed commit once the journal is closed, before the writer gives up.
const ATTEMPTS_AT_CLOSE: u32 = 3;

/// One submission: its ticket and its changes.
#[derive(Debug)]
struct Batch {
    ticket: u64,
    changes: Vec<Change>,
}

/// What the writer publishes for the control thread.
#[derive(Debug, Default)]
struct Published {
    /// The highest ticket committed durably.
    committed: AtomicU64,
    /// Transactions committed.
    commits: AtomicU64,
    /// Changes committed.
    changes: AtomicU64,
    /// Commit attempts that failed.
    failures: AtomicU64,
}

/// The control thread's side: ticket numbering, the channel and the backlog.
#[derive(Debug)]
struct Submitter {
    /// None once closed.
    channel: Option<SyncSender<Batch>>,
    backlog: VecDeque<Batch>,
    /// The last ticket handed out (0: none).
    last: u64,
    /// Batches that had to wait in the backlog.
    backlogged: u64,
}

#[derive(Debug)]
struct Shared {
    submitter: Mutex<Submitter>,
    published: Arc<Published>,
}

/// The journal's counters, for `mipdp ctl show stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// The last ticket handed out.
    pub submitted: u64,
    /// The highest ticket committed.
    pub committed: u64,
    /// Durable transactions.
    pub commits: u64,
    /// Changes committed.
    pub changes: u64,
    /// Failed commit attempts (each retried).
    pub failures: u64,
    /// Batches that waited in the backlog because the channel was full.
    pub backlogged: u64,
    /// Batches in the backlog now.
    pub backlog: u64,
}

impl JournalStats {
    /// The counters as `key=value` words.
    pub fn text(&self) -> String {
        format!(
            "backup_submitted={} backup_committed={} backup_commits={} backup_changes={} \
             backup_failures={} backup_backlogged={} backup_backlog={}",
            self.submitted,
            self.committed,
            self.commits,
            self.changes,
            self.failures,
            self.backlogged,
            self.backlog
        )
    }
}

/// A handle on the journal; clones share it (every registrar of the control thread
/// holds one). [`Journal::disabled`] is the journal of a node without a backup: it
/// stores nothing and every ticket counts as committed.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    shared: Option<Arc<Shared>>,
}

/// The writer thread; [`JournalWriter::close`] stores what is queued and stops it.
#[derive(Debug)]
pub struct JournalWriter {
    journal: Journal,
    thread: Option<JoinHandle<()>>,
}

impl Journal {
    /// A journal that stores nothing (no `[backup]`): every reply may leave at once.
    pub fn disabled() -> Journal {
        Journal { shared: None }
    }

    /// Starts the writer thread over `backup`; returns the handle for the control thread
    /// and the writer to close at shutdown.
    pub fn start(backup: Backup) -> std::io::Result<(Journal, JournalWriter)> {
        Journal::start_with(backup, CHANNEL_BATCHES)
    }

    /// [`start`](Self::start) with a channel of `capacity` batches (tests fill it).
    pub fn start_with(
        backup: Backup,
        capacity: usize,
    ) -> std::io::Result<(Journal, JournalWriter)> {
        let (journal, idle) = Journal::create(backup, capacity);
        Ok((journal, idle.start()?))
    }

    /// The journal with its writer not started yet: changes submitted meanwhile wait
    /// (tests hold replies back this way, deterministically).
    pub fn create(backup: Backup, capacity: usize) -> (Journal, IdleWriter) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let published = Arc::new(Published::default());
        let journal = Journal {
            shared: Some(Arc::new(Shared {
                submitter: Mutex::new(Submitter {
                    channel: Some(tx),
                    backlog: VecDeque::new(),
                    last: 0,
                    backlogged: 0,
                }),
                published: published.clone(),
            })),
        };
        let idle = IdleWriter {
            journal: journal.clone(),
            backup,
            rx,
            published,
        };
        (journal, idle)
    }

    /// Whether changes are stored at all.
    pub fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }

    /// Hands `changes` to the writer (or to the backlog when the channel is full) and
    /// returns their ticket; never blocks on the disk. No changes: the last ticket.
    pub fn submit(&self, changes: Vec<Change>) -> u64 {
        let Some(shared) = &self.shared else {
            return 0;
        };
        let mut s = lock(&shared.submitter);
        if changes.is_empty() {
            return s.last;
        }
        s.last += 1;
        let batch = Batch {
            ticket: s.last,
            changes,
        };
        s.backlog.push_back(batch);
        s.hand_over();
        // Handed over in order: anything left includes this batch, the last one.
        if !s.backlog.is_empty() {
            s.backlogged += 1;
        }
        s.last
    }

    /// Hands the backlog over as far as the channel takes it (every control tick).
    pub fn flush(&self) {
        if let Some(shared) = &self.shared {
            lock(&shared.submitter).hand_over();
        }
    }

    /// The ticket of the last change submitted: a reply held now waits for it.
    pub fn submitted(&self) -> u64 {
        self.shared.as_ref().map_or(0, |s| lock(&s.submitter).last)
    }

    /// The highest ticket committed durably.
    pub fn committed(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(u64::MAX, |s| s.published.committed.load(Ordering::Acquire))
    }

    /// Whether every change up to `ticket` is durable.
    pub fn is_committed(&self, ticket: u64) -> bool {
        ticket == 0 || self.committed() >= ticket
    }

    /// The counters.
    pub fn stats(&self) -> JournalStats {
        let Some(shared) = &self.shared else {
            return JournalStats::default();
        };
        let s = lock(&shared.submitter);
        let p = &shared.published;
        JournalStats {
            submitted: s.last,
            committed: p.committed.load(Ordering::Acquire),
            commits: p.commits.load(Ordering::Relaxed),
            changes: p.changes.load(Ordering::Relaxed),
            failures: p.failures.load(Ordering::Relaxed),
            backlogged: s.backlogged,
            backlog: s.backlog.len() as u64,
        }
    }
}

impl Submitter {
    fn hand_over(&mut self) {
        let Some(channel) = &self.channel else {
            return;
        };
        while let Some(batch) = self.backlog.pop_front() {
            match channel.try_send(batch) {
                Ok(()) => {}
                Err(TrySendError::Full(batch)) => {
                    self.backlog.push_front(batch);
                    return;
                }
                Err(TrySendError::Disconnected(batch)) => {
                    log::error!(
                        "binding backup writer is gone: ticket {} and later are not stored",
                        batch.ticket
                    );
                    self.backlog.push_front(batch);
                    return;
                }
            }
        }
    }
}

/// A writer not started yet ([`Journal::create`]).
#[derive(Debug)]
pub struct IdleWriter {
    journal: Journal,
    backup: Backup,
    rx: Receiver<Batch>,
    published: Arc<Published>,
}

impl IdleWriter {
    /// Starts the writer thread.
    pub fn start(self) -> std::io::Result<JournalWriter> {
        let IdleWriter {
            journal,
            backup,
            rx,
            published,
        } = self;
        let thread = std::thread::Builder::new()
            .name("mipdp-backup".into())
            .spawn(move || write_loop(backup, rx, &published))?;
        Ok(JournalWriter {
            journal,
            thread: Some(thread),
        })
    }
}

impl JournalWriter {
    /// Hands the backlog over (waiting for room), closes the channel and waits until
    /// the writer committed everything queued (or gave up after failed attempts).
    pub fn close(mut self) {
        self.close_now();
    }

    fn close_now(&mut self) {
        if let Some(shared) = &self.journal.shared {
            let mut s = lock(&shared.submitter);
            if let Some(channel) = s.channel.take() {
                while let Some(batch) = s.backlog.pop_front() {
                    if channel.send(batch).is_err() {
                        break;
                    }
                }
            }
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the binding backup writer panicked");
            }
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        self.close_now();
    }
}

/// The submitter is only ever locked by the control thread (the writer has the channel
/// and the atomics), so the lock never waits; a panic while it was held leaves nothing
/// half-done that matters more than carrying on.
fn lock(m: &Mutex<Submitter>) -> MutexGuard<'_, Submitter> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer: takes everything queued, commits it in one transaction, publishes the
/// highest ticket; on failure logs, counts, waits and tries again with the same changes.
fn write_loop(mut backup: Backup, rx: Receiver<Batch>, published: &Published) {
    let mut pending: Vec<Change> = Vec::new();
    let mut last = 0u64;
    let mut closed = false;
    let mut pause = RETRY_FIRST;
    let mut attempts_at_close = 0;
    loop {
        if pending.is_empty() {
            if closed {
                return;
            }
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(batch) => {
                    last = batch.ticket;
                    pending.extend(batch.changes);
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        while pending.len() < MAX_TRANSACTION {
            match rx.try_recv() {
                Ok(batch) => {
                    last = batch.ticket;
                    pending.extend(batch.changes);
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        match backup.apply(&pending) {
            Ok(()) => {
                published.commits.fetch_add(1, Ordering::Relaxed);
                published
                    .changes
                    .fetch_add(pending.len() as u64, Ordering::Relaxed);
                published.committed.store(last, Ordering::Release);
                pending.clear();
                pause = RETRY_FIRST;
            }
            Err(e) => {
                published.failures.fetch_add(1, Ordering::Relaxed);
                if closed {
                    attempts_at_close += 1;
                    if attempts_at_close >= ATTEMPTS_AT_CLOSE {
                        log::error!(
                            "binding backup: giving up at shutdown: {} change(s) up to ticket \
                             {last} were NOT stored (their replies were never sent): {e}",
                            pending.len()
                        );
                        return;
                    }
                }
                log::error!(
                    "binding backup commit of {} change(s) up to ticket {last} FAILED, \
                     retrying in {pause:?}; replies waiting for it are held back: {e}",
                    pending.len()
                );
                std::thread::sleep(pause);
                pause = (pause * 2).min(RETRY_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests;
