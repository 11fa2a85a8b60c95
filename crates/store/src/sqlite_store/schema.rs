//! The tables and indexes, created when missing.
//!
//! Ids (batch and mailbox) are 16-byte BLOBs, enums their `name()` strings, the steps list,
//! options and item errors JSON text, and times INTEGER milliseconds since the Unix epoch.

use sqlx::SqliteConnection;

/// Run by [`create`] (tables first, otherwise in order); each statement is idempotent.
const STATEMENTS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS batches (
        id BLOB PRIMARY KEY NOT NULL,
        idempotency_key TEXT,
        environment TEXT NOT NULL,
        steps TEXT NOT NULL,
        options TEXT NOT NULL,
        state TEXT NOT NULL,
        total INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        paused_reason TEXT,
        canary_done INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID",
    // NULL keys do not collide: only batches created with a key are deduplicated.
    "CREATE UNIQUE INDEX IF NOT EXISTS batches_idempotency_key ON batches (idempotency_key)",
    "CREATE INDEX IF NOT EXISTS batches_newest ON batches (created_at, id)",
    "CREATE TABLE IF NOT EXISTS items (
        batch BLOB NOT NULL,
        idx INTEGER NOT NULL,
        mailbox TEXT NOT NULL,
        mailbox_id BLOB,
        state TEXT NOT NULL,
        step TEXT,
        attempts INTEGER NOT NULL,
        due_at INTEGER,
        error TEXT,
        updated_at INTEGER NOT NULL,
        started INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (batch, idx)
    ) WITHOUT ROWID",
    // All of them also hold the primary key (batch, idx) at their end, so `due_items` reads
    // waiting items in (due_at, idx) order and started pending ones in (updated_at, idx)
    // order, `items` with a state reads in idx order, and `fresh_items` reads the items not
    // started in idx order, without sorting.
    "CREATE INDEX IF NOT EXISTS items_by_due ON items (batch, state, due_at)",
    "CREATE INDEX IF NOT EXISTS items_by_state ON items (batch, state, idx)",
    "DROP INDEX IF EXISTS items_by_update",
    "CREATE INDEX IF NOT EXISTS items_started_by_update ON items (batch, state, started, updated_at)",
    "CREATE INDEX IF NOT EXISTS items_not_started ON items (batch, idx) WHERE started = 0",
    // Exact counts of a batch's items by (step, state), changed in the same transaction as the
    // items; `step` is '' for items without a step.
    "CREATE TABLE IF NOT EXISTS counts (
        batch BLOB NOT NULL,
        step TEXT NOT NULL,
        state TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (batch, step, state)
    ) WITHOUT ROWID",
    // Any change of an item's state or step moves its count, within the statement that changes
    // it: a transition is one UPDATE, atomic with its counters. (Creation adds its items'
    // count in bulk, in its own transaction.)
    "CREATE TRIGGER IF NOT EXISTS items_move_count AFTER UPDATE OF state, step ON items
     WHEN OLD.state IS NOT NEW.state OR OLD.step IS NOT NEW.step
     BEGIN
        INSERT INTO counts (batch, step, state, n)
        VALUES (OLD.batch, COALESCE(OLD.step, ''), OLD.state, -1),
               (NEW.batch, COALESCE(NEW.step, ''), NEW.state, 1)
        ON CONFLICT (batch, step, state) DO UPDATE SET n = n + excluded.n;
     END",
    // The pseudo-state `not_started` (step '') counts the items that have not started: set at
    // creation, lowered as each one starts.
    "CREATE TRIGGER IF NOT EXISTS items_start_count AFTER UPDATE OF started ON items
     WHEN OLD.started = 0 AND NEW.started <> 0
     BEGIN
        UPDATE counts SET n = n - 1 WHERE batch = OLD.batch AND step = '' AND state = 'not_started';
     END",
    // The latest step outcomes of each batch and step (`failure` is an error code, NULL for a
    // success), numbered by `seq`; a transition that records one trims the oldest.
    "CREATE TABLE IF NOT EXISTS outcomes (
        batch BLOB NOT NULL,
        step TEXT NOT NULL,
        seq INTEGER NOT NULL,
        failure TEXT,
        PRIMARY KEY (batch, step, seq)
    ) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS leases (
        batch BLOB PRIMARY KEY NOT NULL,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID",
];

/// Columns added after the first release of the file format: a file made before them gets
/// them when it is opened (items made before count as started).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("batches", "paused_reason", "TEXT"),
    ("batches", "canary_done", "INTEGER NOT NULL DEFAULT 0"),
    ("items", "started", "INTEGER NOT NULL DEFAULT 1"),
];

/// Creates the tables, columns and indexes that are missing, in one transaction.
pub(super) async fn create(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?;
    // Tables first, then the columns they lack, then the indexes and triggers over them.
    let is_table = |s: &&&str| s.starts_with("CREATE TABLE");
    for statement in STATEMENTS.iter().filter(is_table) {
        sqlx::query(*statement).execute(&mut *tx).await?;
    }
    add_missing_columns(&mut tx).await?;
    for statement in STATEMENTS.iter().filter(|s| !is_table(s)) {
        sqlx::query(*statement).execute(&mut *tx).await?;
    }
    tx.commit().await
}

async fn add_missing_columns(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    for (table, column, definition) in ADDED_COLUMNS {
        let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?")
            .bind(table)
            .bind(column)
            .fetch_one(&mut *conn)
            .await?;
        if present == 0 {
            let sql = format!("ALTER TABLE {table} ADD COLUMN {column} {definition}");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
        }
    }
    Ok(())
}
