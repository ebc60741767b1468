//! A redb storage backend that reads a file and keeps every write in memory, so that a
//! backup can be opened, repaired if it has to be, and read end to end without one
//! byte of the file changing. `Backup::open` checks a file this way before it opens it
//! for writing, so a file it refuses is left exactly as it was found.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use redb::StorageBackend;

/// Reads from a file, writes to memory.
#[derive(Debug)]
pub struct ReadOnlyOverlay {
    file: File,
    state: Mutex<OverlayState>,
}

#[derive(Debug)]
struct OverlayState {
    /// The length redb sees.
    len: u64,
    /// How much of the file is still visible: a shrink hides the rest for good.
    file_visible: u64,
    /// Writes, oldest first; a later one wins where they overlap.
    writes: Vec<(u64, Vec<u8>)>,
}

impl ReadOnlyOverlay {
    /// An overlay over `file`, which is only ever read.
    pub fn new(file: File) -> io::Result<ReadOnlyOverlay> {
        let len = file.metadata()?.len();
        Ok(ReadOnlyOverlay {
            file,
            state: Mutex::new(OverlayState {
                len,
                file_visible: len,
                writes: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, OverlayState>> {
        self.state
            .lock()
            .map_err(|_| io::Error::other("backup overlay lock poisoned"))
    }
}

impl StorageBackend for ReadOnlyOverlay {
    fn len(&self) -> io::Result<u64> {
        Ok(self.lock()?.len)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let state = self.lock()?;
        let end = offset
            .checked_add(len as u64)
            .filter(|end| *end <= state.len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;
        let mut out = vec![0; len];
        if offset < state.file_visible {
            let from_file = (state.file_visible.min(end) - offset) as usize;
            self.file.read_exact_at(&mut out[..from_file], offset)?;
        }
        for (at, data) in &state.writes {
            let w_end = at + data.len() as u64;
            let lo = offset.max(*at);
            let hi = end.min(w_end);
            if lo < hi {
                out[(lo - offset) as usize..(hi - offset) as usize]
                    .copy_from_slice(&data[(lo - at) as usize..(hi - at) as usize]);
            }
        }
        Ok(out)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.lock()?;
        state.len = len;
        state.file_visible = state.file_visible.min(len);
        // Writes past a shrink are gone; clip rather than keep stale bytes.
        state.writes.retain_mut(|(at, data)| {
            if *at >= len {
                return false;
            }
            data.truncate((len - *at).min(data.len() as u64) as usize);
            true
        });
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.lock()?;
        if let Some((_, old)) = state
            .writes
            .iter_mut()
            .find(|(at, old)| *at == offset && old.len() == data.len())
        {
            old.copy_from_slice(data);
        } else {
            state.writes.push((offset, data.to_vec()));
        }
        Ok(())
    }
}
