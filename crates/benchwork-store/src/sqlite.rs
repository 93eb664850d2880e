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
pub(crate) async fn connect(url: &str) -> StoreResult<(SqlitePool, std::path::PathBuf)> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|error| StoreError::Other(anyhow::anyhow!("invalid SQLite URL: {error}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(30));
    let file = options.get_filename().to_path_buf();
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    check_settings(&pool).await?;
    Ok((pool, file))
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

/// Checks the sealed events with `from <= seq < to` by reading the file
/// directly with rusqlite on a blocking thread. sqlx's SQLite driver hands
/// every row from a worker thread to the async side and copies each value,
/// which made verification read-bound at about 230,000 rows a second;
/// reading borrowed values in place and hashing them without allocating is
/// several times faster (docs/benchmarks.md). The connection is read-only.
pub(crate) fn verify_sealed_range(
    file: &std::path::Path,
    from: u64,
    to: u64,
    expected_seq: Option<u64>,
) -> StoreResult<benchwork_domain::audit::Segment> {
    use benchwork_domain::audit::{EventFields, SegmentVerifier};
    use rusqlite::OpenFlags;
    use rusqlite::types::ValueRef;

    let other = |error: rusqlite::Error| {
        StoreError::Other(anyhow::anyhow!("reading the audit trail: {error}"))
    };
    let connection = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(other)?;
    connection
        .busy_timeout(std::time::Duration::from_secs(30))
        .map_err(other)?;
    let mut statement = connection
        .prepare(
            "SELECT seq, prev_hash, hash, id, recorded, action, event_type, outcome, actor_id, actor_name, actor_roles, \
             source_address, entity_type, entity_id, patient_id, department_id, detail, before_json, after_json \
             FROM audit_event WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
        )
        .map_err(other)?;
    let from_i = i64::try_from(from).unwrap_or(i64::MAX);
    let to_i = i64::try_from(to).unwrap_or(i64::MAX);
    let mut rows = statement.query([from_i, to_i]).map_err(other)?;
    let mut verifier = SegmentVerifier::new(from, expected_seq);

    // A value of the wrong type (text where a blob belongs, say) can only
    // come from tampering: it becomes bytes no genuine event has, and the
    // hash check then names the event.
    fn bytes<'a>(value: ValueRef<'a>) -> &'a [u8] {
        match value {
            ValueRef::Blob(bytes) | ValueRef::Text(bytes) => bytes,
            _ => b"\xff",
        }
    }
    fn text<'a>(value: ValueRef<'a>) -> &'a str {
        match value {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                std::str::from_utf8(bytes).unwrap_or("\u{fffd}")
            }
            _ => "\u{fffd}",
        }
    }
    fn optional_bytes(value: ValueRef<'_>) -> Option<&[u8]> {
        match value {
            ValueRef::Null => None,
            other => Some(bytes(other)),
        }
    }
    fn optional_text(value: ValueRef<'_>) -> Option<&str> {
        match value {
            ValueRef::Null => None,
            other => Some(text(other)),
        }
    }
    fn integer(value: ValueRef<'_>) -> i64 {
        match value {
            ValueRef::Integer(n) => n,
            _ => i64::MIN,
        }
    }

    while let Some(row) = rows.next().map_err(other)? {
        let value = |idx: usize| row.get_ref(idx).map_err(other);
        let seq = u64::try_from(integer(value(0)?)).unwrap_or(0);
        let outcome = integer(value(7)?);
        let fields = EventFields {
            id: bytes(value(3)?),
            recorded_micros: integer(value(4)?),
            action: text(value(5)?),
            event_type: text(value(6)?),
            // An outcome outside i16 was not written by Benchwork.
            outcome: i16::try_from(outcome).unwrap_or(i16::MIN),
            actor_id: optional_bytes(value(8)?),
            actor_name: text(value(9)?),
            actor_roles: text(value(10)?),
            source_address: optional_text(value(11)?),
            entity_type: optional_text(value(12)?),
            entity_id: optional_text(value(13)?),
            patient_id: optional_bytes(value(14)?),
            department_id: optional_bytes(value(15)?),
            detail: optional_text(value(16)?),
            before: optional_text(value(17)?),
            after: optional_text(value(18)?),
        };
        let hash_ok = i16::try_from(outcome).is_ok();
        let (prev, hash) = (bytes(value(1)?), bytes(value(2)?));
        let hash = if hash_ok { hash } else { b"" };
        if !verifier.check(seq, prev, hash, &fields) {
            break;
        }
    }
    Ok(verifier.finish())
}
