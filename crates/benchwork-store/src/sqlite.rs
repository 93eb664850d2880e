//! What is particular to SQLite: connection settings checked at start-up and
//! online backup.

use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{StoreError, StoreResult};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens the database file with WAL, `synchronous=FULL` (a commit survives a
/// power cut, which an ACK to an analyser or a signed-off result relies on),
/// foreign keys on, and a busy timeout so that writers queue instead of
/// failing; then checks that SQLite really applied those settings.
pub(crate) async fn connect(url: &str) -> StoreResult<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|error| StoreError::Other(anyhow::anyhow!("invalid SQLite URL: {error}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    check_settings(&pool).await?;
    Ok(pool)
}

async fn check_settings(pool: &SqlitePool) -> StoreResult<()> {
    let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await?;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await?;
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await?;
    // PRAGMA synchronous: 2 = FULL, 3 = EXTRA.
    if !journal_mode.eq_ignore_ascii_case("wal") || synchronous < 2 || foreign_keys != 1 {
        return Err(StoreError::Other(anyhow::anyhow!(
            "SQLite refused the required settings (journal_mode={journal_mode}, synchronous={synchronous}, foreign_keys={foreign_keys}); \
             is the data directory on a file system that supports WAL?"
        )));
    }
    Ok(())
}

pub(crate) async fn describe_settings(pool: &SqlitePool) -> StoreResult<String> {
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(pool)
        .await?;
    let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await?;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await?;
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await?;
    Ok(format!(
        "SQLite {version}, journal_mode={journal_mode}, synchronous={}, foreign_keys={}",
        match synchronous {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            3 => "EXTRA",
            _ => "?",
        },
        if foreign_keys == 1 { "on" } else { "off" }
    ))
}

/// `VACUUM INTO` writes a transactionally consistent copy while the server
/// keeps running (readers and writers continue under WAL).
pub(crate) async fn backup(pool: &SqlitePool, target: &std::path::Path) -> StoreResult<()> {
    if target.exists() {
        return Err(StoreError::Other(anyhow::anyhow!(
            "{} already exists; choose a new file name",
            target.display()
        )));
    }
    let target = target
        .to_str()
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("backup path is not valid UTF-8")))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await?;
    Ok(())
}

/// Claims the next due job. SQLite has one writer at a time, so a plain
/// `UPDATE ... WHERE id = (SELECT ...)` cannot hand one job to two runners.
pub(crate) const CLAIM_JOB: &str = "UPDATE job SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
    lease_token = $2, lease_until = $3, updated_at = $4 \
    WHERE id = (SELECT id FROM job WHERE (status = 'queued' AND run_at <= $4) \
                OR (status = 'running' AND lease_until < $4) ORDER BY run_at LIMIT 1) \
    RETURNING id, kind, payload, status, run_at, attempts, interval_secs, last_error";
