//! What is particular to PostgreSQL: connection, version check, and the lock
//! that gives the audit sealer one writer across app servers.

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{StoreError, StoreResult};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The key of the transaction-scoped advisory lock held while sealing audit
/// events, so that two app servers never extend the chain at once.
pub(crate) const AUDIT_SEAL_LOCK: i64 = 0x6265_6e63_6877_6b31; // "benchwk1"

pub(crate) async fn connect(url: &str) -> StoreResult<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|error| StoreError::Other(anyhow::anyhow!("invalid PostgreSQL URL: {error}")))?
        .application_name("benchwork");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await?;
    let version_num: String = sqlx::query_scalar("SHOW server_version_num")
        .fetch_one(&pool)
        .await?;
    let version_num: i64 = version_num.trim().parse().unwrap_or(0);
    if version_num < 150_000 {
        return Err(StoreError::Other(anyhow::anyhow!(
            "PostgreSQL 15 or later is required (found server_version_num {version_num})"
        )));
    }
    Ok(pool)
}

pub(crate) async fn describe_settings(pool: &PgPool) -> StoreResult<String> {
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(pool)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?;
    let synchronous_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(pool)
        .await?;
    Ok(format!(
        "PostgreSQL {version}, fsync={fsync}, synchronous_commit={synchronous_commit}"
    ))
}

// SKIP LOCKED lets several app servers claim different jobs at once without
// waiting on each other; the lease lets a job held by a dead server be
// claimed again once it expires.
pub(crate) const CLAIM_JOB: &str = "UPDATE job SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
    lease_token = $2, lease_until = $3, updated_at = $4 \
    WHERE id = (SELECT id FROM job WHERE (status = 'queued' AND run_at <= $4) \
                OR (status = 'running' AND lease_until < $4) ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
    RETURNING id, kind, payload, status, run_at, attempts, interval_secs, last_error";

/// Checks the sealed events with `from <= seq < to` as one stretch of the
/// chain, decoding each column by position and borrowing text and bytes
/// from the row instead of building an owned event (half the cost of the
/// general decoder on this path, which reads every event).
pub(crate) async fn verify_sealed_range(
    pool: &PgPool,
    from: u64,
    to: u64,
    expected_seq: Option<u64>,
) -> StoreResult<benchwork_domain::audit::Segment> {
    use benchwork_domain::audit::{ChainFault, EventFields, SegmentVerifier};
    use benchwork_domain::ids::AuditEventId;
    use futures::TryStreamExt;
    use sqlx::Row;

    let sql = "SELECT id, seq, prev_hash, hash, recorded, action, event_type, outcome, actor_id, actor_name, \
               actor_roles, source_address, entity_type, entity_id, patient_id, department_id, detail, before_json, \
               after_json FROM audit_event WHERE seq >= $1 AND seq < $2 ORDER BY seq";
    let mut verifier = SegmentVerifier::new(from, expected_seq);
    let mut rows = sqlx::query(sql)
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .bind(i64::try_from(to).unwrap_or(i64::MAX))
        .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let decoded = (|| -> Result<bool, sqlx::Error> {
            let id: uuid::Uuid = row.try_get(0)?;
            let seq: i64 = row.try_get(1)?;
            let prev_hash: Option<&[u8]> = row.try_get(2)?;
            let hash: Option<&[u8]> = row.try_get(3)?;
            let outcome: i64 = row.try_get(7)?;
            let actor_id: Option<uuid::Uuid> = row.try_get(8)?;
            let patient_id: Option<uuid::Uuid> = row.try_get(14)?;
            let department_id: Option<uuid::Uuid> = row.try_get(15)?;
            let fields = EventFields {
                id: id.as_bytes(),
                recorded_micros: row.try_get(4)?,
                action: row.try_get(5)?,
                event_type: row.try_get(6)?,
                outcome: i16::try_from(outcome).unwrap_or(i16::MIN),
                actor_id: actor_id.as_ref().map(|id| id.as_bytes().as_slice()),
                actor_name: row.try_get(9)?,
                actor_roles: row.try_get(10)?,
                source_address: row.try_get(11)?,
                entity_type: row.try_get(12)?,
                entity_id: row.try_get(13)?,
                patient_id: patient_id.as_ref().map(|id| id.as_bytes().as_slice()),
                department_id: department_id.as_ref().map(|id| id.as_bytes().as_slice()),
                detail: row.try_get(16)?,
                before: row.try_get(17)?,
                after: row.try_get(18)?,
            };
            // An outcome outside i16 was not written by Benchwork: no hash
            // can match it.
            let hash = if i16::try_from(outcome).is_ok() {
                hash.unwrap_or(b"")
            } else {
                b""
            };
            Ok(verifier.check(
                u64::try_from(seq).unwrap_or(0),
                prev_hash.unwrap_or(b""),
                hash,
                &fields,
            ))
        })();
        match decoded {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                // A row that cannot be read back as an event was changed
                // behind the application's back.
                let seq: Option<i64> = row.try_get(1).unwrap_or(None);
                let id: Option<uuid::Uuid> = row.try_get(0).unwrap_or(None);
                verifier.fail(ChainFault::Altered {
                    seq: seq.and_then(|seq| u64::try_from(seq).ok()).unwrap_or(0),
                    id: AuditEventId(id.unwrap_or_default()),
                });
                break;
            }
        }
    }
    Ok(verifier.finish())
}
