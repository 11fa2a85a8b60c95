//! The tables and indexes, created when missing.
//!
//! Ids (batch and mailbox) are 16-byte BLOBs, enums their `name()` strings, the steps list,
//! options and item errors JSON text, and times INTEGER milliseconds since the Unix epoch.

use sqlx::SqliteConnection;

/// Run in order by [`create`]; each statement is idempotent.
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
        updated_at INTEGER NOT NULL
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
        PRIMARY KEY (batch, idx)
    ) WITHOUT ROWID",
    // All three also hold the primary key (batch, idx) at their end, so `due_items` reads
    // waiting items in (due_at, idx) order and pending ones in (updated_at, idx) order, and
    // `items` with a state reads in idx order, without sorting.
    "CREATE INDEX IF NOT EXISTS items_by_due ON items (batch, state, due_at)",
    "CREATE INDEX IF NOT EXISTS items_by_state ON items (batch, state, idx)",
    "CREATE INDEX IF NOT EXISTS items_by_update ON items (batch, state, updated_at)",
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
    "CREATE TABLE IF NOT EXISTS leases (
        batch BLOB PRIMARY KEY NOT NULL,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID",
];

/// Creates the tables and indexes that are missing, in one transaction.
pub(super) async fn create(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?;
    for statement in STATEMENTS {
        sqlx::query(*statement).execute(&mut *tx).await?;
    }
    tx.commit().await
}
