//! The organisation's data on disk: meetings, their schedules, facilitator key hashes, admin
//! credentials and admin sessions, in one SQLite file (`{store.data_dir}/haven.sqlite3`,
//! WAL mode). Nothing about members is ever written here. Imports `schedule` only.
//!
//! rusqlite (SQLite compiled in, `bundled`) rather than sqlx: the queries are few and small,
//! a synchronous connection on a blocking thread is all a handful of admins need, and sqlx
//! would bring its own async runtime glue and compile-time query checking for no gain.
//! Another database can replace this module: callers see only [`Store`] and its records.
//!
//! Every call runs on tokio's blocking pool ([`Store::run`]), never on the async runtime.

mod records;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

pub use records::*;

/// The database file inside `store.data_dir`.
pub const DB_FILE: &str = "haven.sqlite3";

/// Applied in order; `PRAGMA user_version` is how many have been.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_organisation.sql"),
    include_str!("../../migrations/0002_meeting_types.sql"),
    include_str!("../../migrations/0003_meeting_readings.sql"),
    include_str!("../../migrations/0004_meeting_location.sql"),
    include_str!("../../migrations/0005_meeting_e2ee_key_id.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the data directory {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("the database was made by a newer Haven (schema version {found}, this one knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("there is no meeting with that id")]
    UnknownMeeting,
    #[error("there is no facilitator link with that id in this meeting")]
    UnknownKey,
    #[error("that id is taken")]
    SlugTaken,
    #[error("an admin with that name exists")]
    AdminExists,
    #[error("the store's worker stopped")]
    Stopped,
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::UnknownMeeting => "unknown_meeting",
            StoreError::UnknownKey => "unknown_key",
            StoreError::SlugTaken => "slug_taken",
            StoreError::AdminExists => "admin_exists",
            StoreError::TooNew { .. } => "schema_too_new",
            StoreError::Dir { .. } | StoreError::Sqlite(_) | StoreError::Corrupt(_) | StoreError::Stopped => {
                "store_failed"
            }
        }
    }
}

/// A handle on the database; cheap to clone. One connection behind a mutex: SQLite writes
/// one at a time anyway, and admin traffic is light.
#[derive(Clone)]
pub struct Store {
    db: Arc<Mutex<Db>>,
    path: PathBuf,
}

impl Store {
    /// Opens (or makes) `{dir}/haven.sqlite3` and brings its schema up to date. Blocking: call
    /// it at start-up or from a blocking thread.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir { path: dir.to_owned(), source })?;
        let path = dir.join(DB_FILE);
        let db = Db::open(&path)?;
        Ok(Store { db: Arc::new(Mutex::new(db)), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the blocking pool with the database.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut db)
        })
        .await
        .map_err(|_| StoreError::Stopped)?
    }

    /// Runs `f` on this thread (start-up, the `haven admin` command, tests).
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut db = self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut db)
    }
}

/// The connection and every query. Synchronous: reached through [`Store::run`].
pub struct Db {
    conn: Connection,
}

impl Db {
    fn open(path: &Path) -> Result<Db, StoreError> {
        let conn = Connection::open(path)?;
        // WAL: readers never wait for the writer; `haven admin create` may write while the
        // server runs.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut db = Db { conn };
        db.migrate()?;
        Ok(db)
    }

    /// An in-memory database with the schema, for tests.
    #[cfg(test)]
    pub fn open_in_memory() -> Db {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        let mut db = Db { conn };
        db.migrate().unwrap();
        db
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        let found = self.schema_version()?;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "store schema migrated");
        }
        Ok(())
    }
}
