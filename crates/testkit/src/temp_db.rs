//! A database file in the temp folder for one test, removed with its WAL files when dropped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug)]
pub struct TempDb(pub PathBuf);

impl TempDb {
    /// A path no other test of this process uses, with nothing at it yet; `name` makes it
    /// recognisable.
    pub fn new(name: &str) -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("activator-{}-{seq}-{name}.db", std::process::id()));
        let db = TempDb(path);
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}
