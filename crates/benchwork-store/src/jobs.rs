//! The job queue: durable jobs with leases, so that each job runs once
//! across several app servers and survives restarts.

use benchwork_domain::ids::JobId;
use jiff::Timestamp;
use uuid::Uuid;

use crate::row::RowExt;
use crate::{Db, Store, StoreError, StoreResult, micros, on_pool};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Which handler runs it.
    pub kind: String,
    /// Its input, as JSON text.
    pub payload: String,
    /// Not before.
    pub run_at: Timestamp,
    /// For recurring jobs: run again this many seconds after each success.
    pub interval_secs: Option<i64>,
    /// At most one job with this key exists; enqueueing another is a no-op.
    pub dedupe_key: Option<String>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Its id.
    pub id: JobId,
    /// Handler name.
    pub kind: String,
    /// Input as JSON text.
    pub payload: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// Not before.
    pub run_at: Timestamp,
    /// Attempts so far.
    pub attempts: i64,
    /// Recurrence interval.
    pub interval_secs: Option<i64>,
    /// Last failure message.
    pub last_error: Option<String>,
}

/// A job claimed by a runner, with the lease token that proves it still
/// holds the job when it reports the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The job.
    pub job: JobRecord,
    /// The lease token.
    pub lease_token: Uuid,
}

fn job_from_row(row: &impl RowExt) -> StoreResult<JobRecord> {
    Ok(JobRecord {
        id: JobId(row.uuid("id")?),
        kind: row.text("kind")?,
        payload: row.text("payload")?,
        status: row.text("status")?,
        run_at: row.at("run_at")?,
        attempts: row.int("attempts")?,
        interval_secs: row.opt_int("interval_secs")?,
        last_error: row.opt_text("last_error")?,
    })
}

impl Store {
    /// Enqueues a job. With a `dedupe_key` that already exists, nothing
    /// happens and `None` is returned.
    pub async fn enqueue_job(&self, job: &NewJob, at: Timestamp) -> StoreResult<Option<JobId>> {
        let id = JobId(Uuid::now_v7());
        let n_inserted = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO job (id, kind, payload, status, run_at, attempts, interval_secs, dedupe_key, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(id.0)
            .bind(job.kind.as_str())
            .bind(job.payload.as_str())
            .bind(micros(job.run_at))
            .bind(job.interval_secs)
            .bind(job.dedupe_key.as_deref())
            .bind(micros(at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok((n_inserted > 0).then_some(id))
    }

    /// Claims the next due job (or one whose lease expired) for `owner`
    /// until `lease_until`.
    pub async fn claim_job(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<ClaimedJob>> {
        let lease_token = Uuid::now_v7();
        let sql = match self.db {
            Db::Sqlite(_) => crate::sqlite::CLAIM_JOB,
            Db::Postgres(_) => crate::postgres::CLAIM_JOB,
        };
        let job = on_pool!(self, |pool| {
            match sqlx::query(sql)
                .bind(owner)
                .bind(lease_token)
                .bind(micros(lease_until))
                .bind(micros(now))
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Some(job_from_row(&row)?),
                None => None,
            }
        });
        Ok(job.map(|job| ClaimedJob { job, lease_token }))
    }

    /// Extends a held lease. Fails with `NotFound` when the lease was lost.
    pub async fn renew_job_lease(
        &self,
        claimed: &ClaimedJob,
        lease_until: Timestamp,
    ) -> StoreResult<()> {
        let n_updated = on_pool!(self, |pool| {
            sqlx::query("UPDATE job SET lease_until = $1 WHERE id = $2 AND lease_token = $3 AND status = 'running'")
                .bind(micros(lease_until))
                .bind(claimed.job.id.0)
                .bind(claimed.lease_token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n_updated == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Reports success: a one-off job becomes `succeeded`; a recurring job
    /// is queued again for `next_run_at`. Fails with `NotFound` when the
    /// lease was lost (another runner took the job over).
    pub async fn complete_job(
        &self,
        claimed: &ClaimedJob,
        next_run_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let n_updated = on_pool!(self, |pool| {
            match next_run_at {
                Some(next) => sqlx::query(
                    "UPDATE job SET status = 'queued', run_at = $1, attempts = 0, lease_owner = NULL, lease_token = NULL, \
                     lease_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $3 AND lease_token = $4",
                )
                .bind(micros(next))
                .bind(micros(now))
                .bind(claimed.job.id.0)
                .bind(claimed.lease_token)
                .execute(pool)
                .await?
                .rows_affected(),
                None => sqlx::query(
                    "UPDATE job SET status = 'succeeded', lease_owner = NULL, lease_token = NULL, lease_until = NULL, \
                     updated_at = $1 WHERE id = $2 AND lease_token = $3",
                )
                .bind(micros(now))
                .bind(claimed.job.id.0)
                .bind(claimed.lease_token)
                .execute(pool)
                .await?
                .rows_affected(),
            }
        });
        if n_updated == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Reports failure: retried at `retry_at`, or marked `failed` when there
    /// is none.
    pub async fn fail_job(
        &self,
        claimed: &ClaimedJob,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let (status, run_at) = match retry_at {
            Some(at) => ("queued", at),
            None => ("failed", claimed.job.run_at),
        };
        let n_updated = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE job SET status = $1, run_at = $2, last_error = $3, lease_owner = NULL, lease_token = NULL, \
                 lease_until = NULL, updated_at = $4 WHERE id = $5 AND lease_token = $6",
            )
            .bind(status)
            .bind(micros(run_at))
            .bind(error)
            .bind(micros(now))
            .bind(claimed.job.id.0)
            .bind(claimed.lease_token)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n_updated == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// A job by id.
    pub async fn get_job(&self, id: JobId) -> StoreResult<JobRecord> {
        on_pool!(self, |pool| {
            job_from_row(
                &sqlx::query(
                    "SELECT id, kind, payload, status, run_at, attempts, interval_secs, last_error FROM job WHERE id = $1",
                )
                .bind(id.0)
                .fetch_one(pool)
                .await?,
            )
        })
    }

    /// Jobs that failed for good, newest first (for the administrator).
    pub async fn list_failed_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT id, kind, payload, status, run_at, attempts, interval_secs, last_error FROM job \
                 WHERE status = 'failed' ORDER BY updated_at DESC",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(job_from_row)
            .collect()
        })
    }
}
