//! SQLite storage of received items: opening (with the schema migration), inserting one batch
//! per transaction, and reading everything back in receive order.
//!
//! Durability is the contract behind the collector's 200: the database runs in WAL mode with
//! `synchronous=FULL`, so a committed transaction survives a crash or power loss, and one batch
//! is one transaction, so a batch is stored whole or not at all.
//!
//! Must not touch: HTTP, JSON parsing or wire validation (the server hands over finished rows).

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

/// `PRAGMA user_version` of the schema below; a database with a newer one is refused rather
/// than written with assumptions that may no longer hold.
pub const SCHEMA_VERSION: i64 = 1;

/// `seq` is AUTOINCREMENT so that it never goes back, even if rows are deleted by hand: it is
/// the receive order `export` promises. `write_key` is `''` for keyless batches, never NULL,
/// because SQLite treats NULLs as distinct in a UNIQUE constraint and keyless duplicates
/// would then all be stored.
const SCHEMA_V1: &str = "
CREATE TABLE items (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    write_key   TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    type        TEXT NOT NULL,
    event       TEXT,
    received_at TEXT NOT NULL,
    json        TEXT NOT NULL,
    UNIQUE (write_key, message_id)
);
";

/// How long a writer waits for a lock held by another connection (an `export` running
/// against a live database, say) before giving up; see [`Store::set_busy_timeout`].
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A failure of the database, with the path and what was being done.
#[derive(Debug)]
pub struct StoreError {
    message: String,
    busy: bool,
}

impl StoreError {
    fn new(path: &Path, doing: &str, problem: impl fmt::Display) -> StoreError {
        StoreError {
            message: format!("database {}: {doing}: {problem}", path.display()),
            busy: false,
        }
    }

    fn from_sqlite(path: &Path, doing: &str, error: rusqlite::Error) -> StoreError {
        // BUSY: another connection holds the write lock past the busy timeout; LOCKED: a
        // conflict inside this connection's shared cache. Both pass; nothing is wrong with
        // the data or the disk.
        let busy = matches!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        StoreError {
            busy,
            ..StoreError::new(path, doing, error)
        }
    }

    /// Whether the database was only busy (locked by another connection): the same request
    /// can succeed a moment later, so the server answers 503 with `Retry-After`.
    pub fn is_busy(&self) -> bool {
        self.busy
    }

    fn newer_schema(path: &Path, doing: &str, newer: i64) -> StoreError {
        StoreError::new(
            path,
            doing,
            format!("schema version {newer} is newer than this collector's ({SCHEMA_VERSION})"),
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

/// Why an export stopped: the database, or the output it was written to.
#[derive(Debug)]
pub enum ExportError {
    Store(StoreError),
    Output(io::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Store(e) => e.fmt(f),
            ExportError::Output(e) => write!(f, "cannot write the export: {e}"),
        }
    }
}

impl std::error::Error for ExportError {}

/// One validated item, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewItem {
    pub message_id: String,
    /// The item's `type`.
    pub kind: String,
    /// The event name of a `track`; `None` for other types.
    pub event: Option<String>,
    /// The item as it will be exported: as received, plus `receivedAt` and the batch context.
    pub json: String,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the database at `path` for the server, creating it and its schema if missing.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut store = Store::connect(path, OpenFlags::SQLITE_OPEN_CREATE)?;
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens a database the server has created, for reading; a missing file or one without
    /// the collector's schema is an error rather than a silently created empty database.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(StoreError::new(path, "cannot open", "not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::new(path, "cannot open", "no such file"));
            }
            Err(e) => return Err(StoreError::new(path, "cannot open", e)),
        }
        // Read-write without CREATE: a read-only connection cannot open a WAL database whose
        // -shm file is gone (the server removes it on a clean stop).
        let store = Store::connect(path, OpenFlags::empty())?;
        match store.schema_version()? {
            SCHEMA_VERSION => Ok(store),
            0 => Err(store.error("cannot read", "not a cartsense-collector database (no schema)")),
            newer => Err(StoreError::newer_schema(path, "cannot read", newer)),
        }
    }

    /// Opens a read-write connection (plus `extra` flags) with the default busy timeout.
    fn connect(path: &Path, extra: OpenFlags) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | extra;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::from_sqlite(path, "cannot open", e))?;
        let store = Store {
            conn,
            path: path.to_owned(),
        };
        store.set_busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
        Ok(store)
    }

    /// How long a write waits for a lock held by another connection before it fails with an
    /// error for which [`StoreError::is_busy`] holds.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| self.sqlite_error("cannot configure", e))
    }

    fn error(&self, doing: &str, problem: impl fmt::Display) -> StoreError {
        StoreError::new(&self.path, doing, problem)
    }

    fn sqlite_error(&self, doing: &str, error: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, doing, error)
    }

    fn configure(&self) -> Result<(), StoreError> {
        let fail = |e: rusqlite::Error| self.sqlite_error("cannot configure", e);
        let mode: String = self
            .conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(self.error(
                "cannot configure",
                format!("journal_mode is {mode}, WAL is needed (is the file system local?)"),
            ));
        }
        // FULL rather than WAL's usual NORMAL: with NORMAL the last transactions before a
        // power loss can be lost, and the collector has already answered 200 for them.
        self.conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
        Ok(())
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.sqlite_error("cannot read the schema version", e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| StoreError::from_sqlite(&path, "cannot migrate the schema", e);
        // IMMEDIATE takes the write lock first, so two collectors starting on one new file
        // cannot both create the schema.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(fail)?;
        match version {
            SCHEMA_VERSION => return Ok(()),
            0 => {
                // Plain CREATE TABLE (no IF NOT EXISTS): an unrelated database that happens to
                // have an `items` table fails here instead of being written into.
                tx.execute_batch(SCHEMA_V1).map_err(fail)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(fail)?;
            }
            newer => {
                return Err(StoreError::newer_schema(&path, "cannot migrate the schema", newer));
            }
        }
        tx.commit().map_err(fail)
    }

    /// Stores one batch in one transaction. Items whose `(write_key, messageId)` is already
    /// stored, in an earlier batch or earlier in this one, are skipped: the first copy wins.
    /// Returns how many items were new.
    pub fn insert_batch(&mut self, write_key: &str, received_at: &str, items: &[NewItem]) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| StoreError::from_sqlite(&path, "cannot store a batch", e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        let mut inserted = 0;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO items (write_key, message_id, type, event, received_at, json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(fail)?;
            for item in items {
                inserted += insert
                    .execute(params![
                        write_key,
                        item.message_id,
                        item.kind,
                        item.event,
                        received_at,
                        item.json
                    ])
                    .map_err(fail)?;
            }
        }
        // Dropping `tx` on an error above rolls the whole batch back.
        tx.commit().map_err(fail)?;
        Ok(inserted)
    }

    /// Calls `each` with every stored item's JSON, in receive order.
    pub fn for_each_item(&self, each: impl FnMut(&str) -> io::Result<()>) -> Result<u64, ExportError> {
        self.for_each_item_of(None, each)
    }

    /// Like [`Store::for_each_item`], only the items sent with `write_key` when it is given
    /// (`""` is the keyless batches).
    pub fn for_each_item_of(
        &self,
        write_key: Option<&str>,
        mut each: impl FnMut(&str) -> io::Result<()>,
    ) -> Result<u64, ExportError> {
        let fail = |e: rusqlite::Error| ExportError::Store(self.sqlite_error("cannot read items", e));
        let mut select = self
            .conn
            .prepare("SELECT json FROM items WHERE ?1 IS NULL OR write_key = ?1 ORDER BY seq")
            .map_err(fail)?;
        let mut rows = select.query(params![write_key]).map_err(fail)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(fail)? {
            let json: String = row.get(0).map_err(fail)?;
            each(&json).map_err(ExportError::Output)?;
            count += 1;
        }
        Ok(count)
    }

    /// Writes every stored item as NDJSON, in receive order.
    pub fn export(&self, out: &mut dyn Write) -> Result<u64, ExportError> {
        let count = self.for_each_item(|json| {
            out.write_all(json.as_bytes())?;
            out.write_all(b"\n")
        })?;
        out.flush().map_err(ExportError::Output)?;
        Ok(count)
    }

    /// Every stored item's JSON, in receive order (for tests and small databases).
    pub fn items(&self) -> Result<Vec<String>, ExportError> {
        let mut items = Vec::new();
        self.for_each_item(|json| {
            items.push(json.to_owned());
            Ok(())
        })?;
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> NewItem {
        NewItem {
            message_id: id.into(),
            kind: "track".into(),
            event: Some("E".into()),
            json: format!(r#"{{"messageId":"{id}"}}"#),
        }
    }

    #[test]
    fn stores_in_order_and_skips_duplicates_per_write_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            store
                .insert_batch("k", "t", &[item("a"), item("b"), item("a")])
                .unwrap(),
            2
        );
        assert_eq!(store.insert_batch("k", "t", &[item("b"), item("c")]).unwrap(), 1);
        // Another key has its own id space.
        assert_eq!(store.insert_batch("", "t", &[item("a")]).unwrap(), 1);
        assert_eq!(store.insert_batch("", "t", &[item("a")]).unwrap(), 0);
        let ids: Vec<String> = store.items().unwrap();
        assert_eq!(ids, ["a", "b", "c", "a"].map(|id| format!(r#"{{"messageId":"{id}"}}"#)));
        drop(store);

        // Reopening keeps the data and does not migrate twice.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.items().unwrap().len(), 4);
        let mut out = Vec::new();
        assert_eq!(Store::open_existing(&path).unwrap().export(&mut out).unwrap(), 4);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 4);
    }

    #[test]
    fn a_batch_that_fails_midway_is_rolled_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path).unwrap();
        store.insert_batch("", "t", &[item("kept")]).unwrap();
        // A failure on the second row of a batch, after the first was written.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER fail_on_boom BEFORE INSERT ON items WHEN NEW.message_id = 'boom'
                 BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END;",
            )
            .unwrap();
        let err = store
            .insert_batch("", "t", &[item("first"), item("boom"), item("last")])
            .unwrap_err();
        assert!(err.to_string().contains("simulated storage failure"), "{err}");
        assert!(!err.is_busy());
        assert_eq!(store.items().unwrap(), [r#"{"messageId":"kept"}"#]);
        // The connection is usable afterwards: the failed transaction did not stay open.
        assert_eq!(store.insert_batch("", "t", &[item("next")]).unwrap(), 1);
    }

    #[test]
    fn a_write_lock_held_elsewhere_is_reported_as_busy_and_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path).unwrap();
        store.set_busy_timeout(Duration::from_millis(50)).unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let err = store.insert_batch("", "t", &[item("a"), item("b")]).unwrap_err();
        assert!(err.is_busy(), "{err}");
        other.execute_batch("ROLLBACK").unwrap();
        assert!(store.items().unwrap().is_empty());
        assert_eq!(store.insert_batch("", "t", &[item("a"), item("b")]).unwrap(), 2);
    }

    #[test]
    fn durability_settings_are_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let sync: i64 = store
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }

    #[test]
    fn open_existing_refuses_missing_foreign_and_newer_databases() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.db");
        let err = Store::open_existing(&missing).err().unwrap().to_string();
        assert!(err.contains("missing.db") && err.ends_with("no such file"), "{err}");
        assert!(!missing.exists(), "a missing database must not be created");

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE items (x)")
            .unwrap();
        let err = Store::open_existing(&foreign).err().unwrap().to_string();
        assert!(err.contains("not a cartsense-collector database"), "{err}");
        let err = Store::open(&foreign).err().unwrap().to_string();
        assert!(err.contains("cannot migrate the schema"), "{err}");

        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 7)
            .unwrap();
        assert!(
            Store::open(&newer)
                .err()
                .unwrap()
                .to_string()
                .contains("schema version 7 is newer")
        );

        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
        assert!(Store::open_existing(&garbage).is_err());
        assert!(Store::open(&garbage).is_err());
    }
}
