//! Durable binding backup: a redb file holding one [`Record`] per binding, written by
//! group commit before any reply that reports a change leaves the node.
//!
//! Binding-cache backup design; issue 6. This module is the store only: wiring it into
//! the control thread is [`journal`] and [`restore`]; the recovery pacer comes next.
//!
//! [`Backup::open`] checks the whole file before it writes to it (through
//! [`overlay::ReadOnlyOverlay`], which keeps redb's own writes in memory), so a backup it
//! refuses is left byte for byte as it was.

pub mod journal;
mod overlay;
pub mod record;
pub mod restore;
mod stream;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::fmt;
use std::fs::{self, File};
use std::io;
use std::net::IpAddr;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};

pub use journal::{IdleWriter, Journal, JournalStats, JournalWriter};
pub use record::{
    DecodeError, EncodeError, MulticastState, Record, ReplayState, Role, RoleData, VisitorState,
    RECORD_FORMAT_VERSION,
};
pub use restore::{split_lapsed, RestoredBinding};
pub use stream::StreamedBackup;

/// The store format version this build writes, and the newest it opens.
pub const STORE_FORMAT_VERSION: u8 = 1;

/// Binding records: key [`record::key`], value [`Record::encode`].
const BINDINGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bindings");
/// Store metadata: `format` → the store format version (one byte).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const FORMAT_KEY: &str = "format";

/// The start option that starts with an empty backup on purpose.
pub const DISCARD_OPTION: &str = "--discard-backup";

/// How start-up treats the backup file named by `[backup] path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupStart {
    /// Open it (create it when missing) and restore its bindings; refuse a damaged one.
    Restore,
    /// Move an existing file aside and start with no bindings ([`DISCARD_OPTION`]).
    Discard,
}

/// One change to the backup.
// Most changes are `Put`s: boxing the record would cost an allocation per change
// to save bytes only in the rare `Delete`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Create or replace the record for (role, home address).
    Put(Record),
    /// Remove the record for (role, home address), if there is one.
    Delete(Role, IpAddr),
}

/// What is wrong with a backup file that [`Backup::open`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corruption {
    /// A zero-length file.
    Empty,
    /// redb cannot open it as a database.
    NotADatabase(String),
    /// A redb database without mipdp's format marker.
    NoFormatMarker,
    /// A format marker that is not one byte.
    BadFormatMarker,
    /// A record that does not decode.
    Record {
        /// The record's key, in hex.
        key: String,
        /// Why.
        reason: DecodeError,
    },
    /// A record stored under another binding's key.
    KeyMismatch {
        /// The key, in hex.
        key: String,
    },
    /// redb failed while reading it back.
    Unreadable(String),
    /// redb panicked while reading it: the file's structure is damaged.
    Panicked(String),
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::Empty => write!(f, "the file is empty"),
            Corruption::NotADatabase(e) => write!(f, "it is not a readable redb database ({e})"),
            Corruption::NoFormatMarker => write!(f, "it has no mipdp backup format marker"),
            Corruption::BadFormatMarker => write!(f, "its format marker is malformed"),
            Corruption::Record { key, reason } => write!(f, "the record under key {key}: {reason}"),
            Corruption::KeyMismatch { key } => {
                write!(f, "the record under key {key} belongs to another binding")
            }
            Corruption::Unreadable(e) => write!(f, "reading it failed ({e})"),
            Corruption::Panicked(e) => {
                write!(f, "its structure is damaged (redb gave up reading it: {e})")
            }
        }
    }
}

/// Why the backup failed. Every message names the file, the cause and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file exists but cannot be read.
    #[error(
        "cannot read the binding backup {path}: {source}. Fix its permissions or the disk and \
         start again, or start with {DISCARD_OPTION} to move it aside and start with no bindings"
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not an intact backup.
    #[error(
        "the binding backup {path} is corrupt: {corruption}. It was not changed. Restore it from \
         a copy, or start with {DISCARD_OPTION} to move it aside and start with no bindings"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        corruption: Corruption,
    },
    /// The file was written by a newer mipdp.
    #[error(
        "the binding backup {path} has format version {found}, newer than this build reads \
         ({supported}). It was not changed. Start the newer mipdp that wrote it, or start with \
         {DISCARD_OPTION} to move it aside and start with no bindings"
    )]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u8,
        /// The newest version this build reads.
        supported: u8,
    },
    /// A record cannot be stored; nothing of its change set was written.
    #[error("cannot write to the binding backup {path}: {source}; nothing of this change set was stored")]
    Encode {
        /// The file.
        path: PathBuf,
        /// Why.
        source: EncodeError,
    },
    /// redb failed while writing or reading an open backup.
    #[error(
        "the binding backup {path} failed: {source}. Check the disk (space, errors) and restart; \
         changes not acknowledged were not stored"
    )]
    Storage {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<redb::Error>,
    },
    /// The old file could not be moved aside.
    #[error(
        "cannot move the binding backup {path} aside to {to}: {source}. Move or remove it by hand"
    )]
    MoveAside {
        /// The file.
        path: PathBuf,
        /// Where it was to go.
        to: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The durable binding backup: an open redb file.
#[derive(Debug)]
pub struct Backup {
    path: PathBuf,
    db: Database,
}

impl Backup {
    /// Opens the backup at `path`, creating an empty one if there is no file. Refuses a
    /// file that is unreadable, corrupt or of a newer format, leaving it unchanged: every
    /// record is read and checked before the file is opened for writing.
    pub fn open(path: impl AsRef<Path>) -> Result<Backup, BackupError> {
        Backup::open_loaded(path).map(|(backup, _)| backup)
    }

    /// [`open`](Self::open), and every record it read while checking the file, in key
    /// order: what [`load`](Self::load) would return, without reading the file twice
    /// (start-up restores from it).
    pub fn open_loaded(path: impl AsRef<Path>) -> Result<(Backup, Vec<Record>), BackupError> {
        let path = path.as_ref().to_path_buf();
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Backup::create_new(path).map(|b| (b, Vec::new()))
            }
            Err(source) => return Err(BackupError::Unreadable { path, source }),
        };
        let records = verify(&path, file)?;
        let db = Database::builder()
            .open(&path)
            .map_err(|e| storage(&path, e.into()))?;
        Ok((Backup { path, db }, records))
    }

    /// Starts with an empty backup at `path` on purpose: an existing file is moved aside
    /// to `<path>.discarded-<unix time>`, never deleted.
    pub fn create_empty(path: impl AsRef<Path>) -> Result<Backup, BackupError> {
        let path = path.as_ref().to_path_buf();
        if fs::symlink_metadata(&path).is_ok() {
            let to = discarded_name(&path);
            fs::rename(&path, &to).map_err(|source| BackupError::MoveAside {
                path: path.clone(),
                to: to.clone(),
                source,
            })?;
            sync_parent(&path).map_err(|source| BackupError::MoveAside {
                path: path.clone(),
                to,
                source,
            })?;
        }
        Backup::create_new(path)
    }

    fn create_new(path: PathBuf) -> Result<Backup, BackupError> {
        let db = Database::create(&path).map_err(|e| storage(&path, e.into()))?;
        let backup = Backup { path, db };
        backup.write_format_marker(STORE_FORMAT_VERSION)?;
        Ok(backup)
    }

    fn write_format_marker(&self, version: u8) -> Result<(), BackupError> {
        let fail = |e: redb::Error| storage(&self.path, e);
        let mut txn = self.db.begin_write().map_err(|e| fail(e.into()))?;
        txn.set_durability(Durability::Immediate);
        {
            let mut meta = txn.open_table(META).map_err(|e| fail(e.into()))?;
            meta.insert(FORMAT_KEY, [version].as_slice())
                .map_err(|e| fail(e.into()))?;
            txn.open_table(BINDINGS).map_err(|e| fail(e.into()))?;
        }
        txn.commit().map_err(|e| fail(e.into()))
    }

    /// The file this backup lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `changes` in one durable transaction and returns once it is committed
    /// (fsync'd): all of them are stored, or, on an error, none.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), BackupError> {
        let mut txn = self
            .db
            .begin_write()
            .map_err(|e| storage(&self.path, e.into()))?;
        txn.set_durability(Durability::Immediate);
        {
            let mut table = txn
                .open_table(BINDINGS)
                .map_err(|e| storage(&self.path, e.into()))?;
            for change in changes {
                match change {
                    Change::Put(r) => {
                        let value = r.encode().map_err(|source| BackupError::Encode {
                            path: self.path.clone(),
                            source,
                        })?;
                        table
                            .insert(r.key().as_slice(), value.as_slice())
                            .map_err(|e| storage(&self.path, e.into()))?;
                    }
                    Change::Delete(role, home) => {
                        table
                            .remove(record::key(*role, *home).as_slice())
                            .map_err(|e| storage(&self.path, e.into()))?;
                    }
                }
            }
        }
        // An early return above drops `txn` uncommitted, which aborts it.
        txn.commit().map_err(|e| storage(&self.path, e.into()))
    }

    /// Every record in the backup, in key order.
    pub fn load(&self) -> Result<Vec<Record>, BackupError> {
        read_records(&self.db).map_err(|e| match e {
            ReadError::Storage(source) => BackupError::Storage {
                path: self.path.clone(),
                source,
            },
            ReadError::Corrupt(corruption) => BackupError::Corrupt {
                path: self.path.clone(),
                corruption,
            },
            ReadError::Newer(found) => BackupError::NewerFormat {
                path: self.path.clone(),
                found,
                supported: STORE_FORMAT_VERSION,
            },
        })
    }
}

fn storage(path: &Path, e: redb::Error) -> BackupError {
    BackupError::Storage {
        path: path.to_path_buf(),
        source: Box::new(e),
    }
}

fn discarded_name(path: &Path) -> PathBuf {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("{}.discarded-{now}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while fs::symlink_metadata(&candidate).is_ok() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    candidate
}

fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

enum ReadError {
    Storage(Box<redb::Error>),
    Corrupt(Corruption),
    Newer(u8),
}

impl<E: Into<redb::Error>> From<E> for ReadError {
    fn from(e: E) -> ReadError {
        ReadError::Storage(Box::new(e.into()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// redb's page cache while the start-up check reads the whole file once.
const VERIFY_CACHE_BYTES: usize = 16 << 20;

/// Reads and checks the format marker and every record.
fn read_records(db: &Database) -> Result<Vec<Record>, ReadError> {
    let mut out = Vec::new();
    read_each(db, &mut |item| collect(&mut out, item))?;
    Ok(out)
}

/// What [`read_each`] hands over: first the number of records, then each record.
// Handed over by value, one at a time: boxing would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Item {
    Count(usize),
    Record(Record),
}

/// Gathers what [`read_each`] hands over into `out`.
fn collect(out: &mut Vec<Record>, item: Item) -> bool {
    match item {
        Item::Count(n) => out.reserve_exact(n),
        Item::Record(r) => out.push(r),
    }
    true
}

/// Reads and checks the format marker and every record, in key order: tells `each` how
/// many records there are, then hands it each record until it returns false.
fn read_each(db: &Database, each: &mut dyn FnMut(Item) -> bool) -> Result<(), ReadError> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            return Err(ReadError::Corrupt(Corruption::NoFormatMarker))
        }
        Err(e) => return Err(e.into()),
    };
    let version = meta
        .get(FORMAT_KEY)?
        .ok_or(ReadError::Corrupt(Corruption::NoFormatMarker))?;
    match version.value() {
        [STORE_FORMAT_VERSION] => {}
        [v] if *v > STORE_FORMAT_VERSION => return Err(ReadError::Newer(*v)),
        _ => return Err(ReadError::Corrupt(Corruption::BadFormatMarker)),
    }
    let table = match txn.open_table(BINDINGS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            each(Item::Count(0));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if !each(Item::Count(usize::try_from(table.len()?).unwrap_or(0))) {
        return Ok(());
    }
    for entry in table.iter()? {
        let (key, value) = entry?;
        let record = match Record::decode(value.value()) {
            Ok(r) => r,
            Err(DecodeError::NewerVersion(v)) => return Err(ReadError::Newer(v)),
            Err(reason) => {
                return Err(ReadError::Corrupt(Corruption::Record {
                    key: hex(key.value()),
                    reason,
                }))
            }
        };
        if record.key() != key.value() {
            return Err(ReadError::Corrupt(Corruption::KeyMismatch {
                key: hex(key.value()),
            }));
        }
        if !each(Item::Record(record)) {
            break;
        }
    }
    Ok(())
}

/// Opens `file` through the read-only overlay and reads it end to end: its records.
fn verify(path: &Path, file: File) -> Result<Vec<Record>, BackupError> {
    let mut out = Vec::new();
    verify_each(path, file, &mut |item| collect(&mut out, item))?;
    Ok(out)
}

/// [`verify`], handing the records over as [`read_each`] does.
fn verify_each(
    path: &Path,
    file: File,
    each: &mut dyn FnMut(Item) -> bool,
) -> Result<(), BackupError> {
    let corrupt = |corruption| BackupError::Corrupt {
        path: path.to_path_buf(),
        corruption,
    };
    let unreadable = |source| BackupError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    if file.metadata().map_err(unreadable)?.len() == 0 {
        return Err(corrupt(Corruption::Empty));
    }
    let overlay = overlay::ReadOnlyOverlay::new(file).map_err(unreadable)?;
    // redb is not hardened against hostile files and may panic on a damaged one; a
    // panic here means "corrupt", not "crash the node".
    let outcome = quietly_caught(|| {
        // A small page cache: the check reads every page once, in order, so a cache the
        // size of the file (redb's default is 1 GiB) would only fault in fresh memory.
        let db = match Database::builder()
            .set_cache_size(VERIFY_CACHE_BYTES)
            .create_with_backend(overlay)
        {
            Ok(db) => db,
            // redb reports a bad header (magic, lengths) as invalid data: that is the
            // file's content, not the disk.
            Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))
                if !matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Err(unreadable(e))
            }
            Err(e) => return Err(corrupt(Corruption::NotADatabase(e.to_string()))),
        };
        match read_each(&db, each) {
            Ok(()) => Ok(()),
            Err(ReadError::Storage(e)) => Err(corrupt(Corruption::Unreadable(e.to_string()))),
            Err(ReadError::Corrupt(c)) => Err(corrupt(c)),
            Err(ReadError::Newer(found)) => Err(BackupError::NewerFormat {
                path: path.to_path_buf(),
                found,
                supported: STORE_FORMAT_VERSION,
            }),
        }
    });
    outcome.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(corrupt(Corruption::Panicked(what)))
    })
}

thread_local! {
    /// Set while [`quietly_caught`] runs on this thread.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic, without the panic hook's message and backtrace on
/// stderr: a damaged backup is reported once, as the [`BackupError`] it is. Panics on
/// other threads, or outside `f`, are printed as before.
fn quietly_caught<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    outcome
}
