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
