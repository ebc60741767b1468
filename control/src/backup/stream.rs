//! Recovery step 1 of issue 6 at start-up: the backup is checked and read on a thread of
//! its own, and its records reach the control thread in chunks while it puts the earlier
//! ones back into the roles and the workers. A million records never sit in memory at
//! once, and reading overlaps restoring.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;
use std::time::Instant;

use redb::Database;

use super::{storage, verify_each, Backup, BackupError, BackupStart, Corruption, Item, Record};

/// Chunks read ahead of the restore at most.
const AHEAD: usize = 4;

/// What the reader thread sends.
enum Piece {
    Count(usize),
    Records(Vec<Record>),
}

/// A backup being opened for start-up: its records arrive in chunks
/// ([`next_chunk`](Self::next_chunk)), in key order, while the reader thread checks the
/// file; [`finish`](Self::finish) then says whether all of it was intact and opens it
/// for writing. Nothing is written to the file before `finish` succeeds.
#[derive(Debug)]
pub struct StreamedBackup {
    path: PathBuf,
    /// Already open: there was no file (created empty) or it was discarded on purpose.
    ready: Option<Backup>,
    pieces: Option<Receiver<Piece>>,
    reader: Option<JoinHandle<Result<(), BackupError>>>,
    expected: usize,
    opened: Instant,
}

impl std::fmt::Debug for Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Piece::Count(n) => write!(f, "Count({n})"),
            Piece::Records(r) => write!(f, "Records({})", r.len()),
        }
    }
}

impl Backup {
    /// The backup to start with at `path`, as `start` says: restored, its records read
    /// and checked on a thread of their own in chunks of `chunk`; or discarded on purpose
    /// (moved aside, started empty). A missing file is created empty. Errors found before
    /// any record is read (unreadable, empty file, moving aside) come at once; the rest
    /// from [`StreamedBackup::finish`].
    pub fn streamed(
        path: impl AsRef<Path>,
        start: BackupStart,
        chunk: usize,
    ) -> Result<StreamedBackup, BackupError> {
        let opened = Instant::now();
        let path = path.as_ref().to_path_buf();
        let ready = |backup| StreamedBackup {
            path: path.clone(),
            ready: Some(backup),
            pieces: None,
            reader: None,
            expected: 0,
            opened,
        };
        if start == BackupStart::Discard {
            return Backup::create_empty(&path).map(ready);
        }
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Backup::create_new(path.clone()).map(ready)
            }
            Err(source) => return Err(BackupError::Unreadable { path, source }),
        };
        let unreadable = |source| BackupError::Unreadable {
            path: path.clone(),
            source,
        };
        if file.metadata().map_err(unreadable)?.len() == 0 {
            return Err(BackupError::Corrupt {
                path,
                corruption: Corruption::Empty,
            });
        }
        let chunk = chunk.max(1);
        let (tx, rx) = sync_channel(AHEAD);
        let at = path.clone();
        let reader = std::thread::Builder::new()
            .name("mipdp-backup-read".into())
            .spawn(move || {
                let mut buffer = Vec::new();
                verify_each(&at, file, &mut |item| match item {
                    Item::Count(n) => {
                        buffer.reserve_exact(n.min(chunk));
                        tx.send(Piece::Count(n)).is_ok()
                    }
                    Item::Record(r) => {
                        buffer.push(r);
                        buffer.len() < chunk
                            || tx
                                .send(Piece::Records(std::mem::replace(
                                    &mut buffer,
                                    Vec::with_capacity(chunk),
                                )))
                                .is_ok()
                    }
                })?;
                if !buffer.is_empty() {
                    // The control thread may have gone (start-up failed): nothing to do.
                    let _ = tx.send(Piece::Records(buffer));
                }
                Ok(())
            })
            .map_err(unreadable)?;
        Ok(StreamedBackup {
            path,
            ready: None,
            pieces: Some(rx),
            reader: Some(reader),
            expected: 0,
            opened,
        })
    }
}

impl StreamedBackup {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next records in key order; None once all were handed over (or reading stopped
    /// at damage: [`finish`](Self::finish) says which).
    pub fn next_chunk(&mut self) -> Option<Vec<Record>> {
        loop {
            match self.pieces.as_ref()?.recv() {
                Ok(Piece::Count(n)) => self.expected = n,
                Ok(Piece::Records(r)) => return Some(r),
                Err(_) => {
                    self.pieces = None;
                    return None;
                }
            }
        }
    }

    /// When [`Backup::streamed`] opened it: reading began then.
    pub fn opened(&self) -> Instant {
        self.opened
    }

    /// How many records the file holds, once the first chunk arrived (0 before).
    pub fn expected(&self) -> usize {
        self.expected
    }

    /// After [`next_chunk`](Self::next_chunk) returned None: the backup open for
    /// writing if every record was intact, else why not (the file unchanged).
    pub fn finish(mut self) -> Result<Backup, BackupError> {
        if let Some(backup) = self.ready.take() {
            return Ok(backup);
        }
        // Whatever was not taken is read to the end and dropped, so the check is whole.
        while self.next_chunk().is_some() {}
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap_or_else(|_| {
                Err(BackupError::Corrupt {
                    path: self.path.clone(),
                    corruption: Corruption::Panicked("the backup reader thread failed".into()),
                })
            })?;
        }
        let db = Database::builder()
            .open(&self.path)
            .map_err(|e| storage(&self.path, e.into()))?;
        Ok(Backup {
            path: self.path.clone(),
            db,
        })
    }
}
