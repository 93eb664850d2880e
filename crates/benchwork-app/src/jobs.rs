//! The job runner: durable jobs with leases.
//!
//! A job is a row in the database and a plain async function registered
//! under its kind. [`run_due_jobs`] claims due jobs one at a time (a lease
//! with a token; PostgreSQL's `SKIP LOCKED` lets several app servers claim
//! different jobs at once), runs each, and reports the outcome with the
//! lease token: if the lease was lost (the server stalled past its lease
//! and another took the job over), the late outcome is refused, so a job's
//! completion is recorded exactly once. A server that dies mid-job leaves
//! an expired lease that another server claims, so jobs survive restarts.
//! Jobs should make their effects idempotent or commit them together with
//! their own progress, since a job interrupted by a crash runs again.
//!
//! Tests call [`run_due_jobs`] directly with a manual clock; `benchwork
//! serve` calls it in a loop.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use benchwork_store::{ClaimedJob, JobRecord, NewJob};
use jiff::{SignedDuration, Timestamp};

use crate::Ctx;

/// A job handler: a plain async function of the context and the job.
pub type JobFn = for<'a> fn(
    &'a Ctx,
    &'a JobRecord,
) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, JobFn>,
}

impl std::fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl JobRegistry {
    /// The registry with every built-in job.
    pub fn standard() -> JobRegistry {
        let mut registry = JobRegistry::default();
        registry.register(PURGE_SESSIONS, |ctx, _job| Box::pin(purge_sessions(ctx)));
        registry.register(crate::critical::ESCALATE, |ctx, job| {
            Box::pin(crate::critical::escalate(ctx, job))
        });
        registry
    }

    /// Adds a handler.
    pub fn register(&mut self, kind: &'static str, handler: JobFn) {
        self.handlers.insert(kind, handler);
    }
}

/// Removes expired sessions from the database.
pub const PURGE_SESSIONS: &str = "sessions.purge";

async fn purge_sessions(ctx: &Ctx) -> anyhow::Result<()> {
    let now = ctx.now();
    let policy = ctx.settings.session;
    let n_purged = ctx
        .store
        .purge_sessions(
            now.checked_sub(policy.idle_timeout)?,
            now.checked_sub(policy.absolute_timeout)?,
        )
        .await?;
    tracing::debug!(n_purged, "expired sessions purged");
    Ok(())
}

/// Makes sure each recurring built-in job is queued (once, whatever the
/// number of app servers: the dedupe key is the job kind).
pub async fn schedule_recurring(ctx: &Ctx) -> anyhow::Result<()> {
    let now = ctx.now();
    ctx.store
        .enqueue_job(
            &NewJob {
                kind: PURGE_SESSIONS.into(),
                payload: "{}".into(),
                run_at: now,
                interval_secs: Some(3600),
                dedupe_key: Some(PURGE_SESSIONS.into()),
            },
            now,
        )
        .await?;
    Ok(())
}

/// Queues a one-off job.
pub async fn enqueue(
    ctx: &Ctx,
    kind: &str,
    payload: serde_json::Value,
    run_at: Timestamp,
) -> anyhow::Result<()> {
    ctx.store
        .enqueue_job(
            &NewJob {
                kind: kind.to_owned(),
                payload: payload.to_string(),
                run_at,
                interval_secs: None,
                dedupe_key: None,
            },
            ctx.now(),
        )
        .await?;
    Ok(())
}

/// How long a claimed job is held before another server may take it over.
const LEASE: SignedDuration = SignedDuration::from_secs(300);

/// Runs every job that is due now, one after another. Returns how many ran.
pub async fn run_due_jobs(ctx: &Ctx, registry: &JobRegistry) -> anyhow::Result<usize> {
    let mut n_run = 0;
    loop {
        let now = ctx.now();
        let Some(claimed) = ctx
            .store
            .claim_job(&ctx.settings.node_id, now, now.checked_add(LEASE)?)
            .await?
        else {
            return Ok(n_run);
        };
        n_run += 1;
        run_claimed(ctx, registry, &claimed).await?;
    }
}

async fn run_claimed(
    ctx: &Ctx,
    registry: &JobRegistry,
    claimed: &ClaimedJob,
) -> anyhow::Result<()> {
    let job = &claimed.job;
    let span = tracing::info_span!("job", kind = %job.kind, id = %job.id, attempt = job.attempts);
    let _entered = span.enter();
    let outcome = match registry.handlers.get(job.kind.as_str()) {
        Some(handler) => {
            let work = handler(ctx, job);
            tokio::pin!(work);
            // Renew the lease while the job runs, so that a long job is not
            // taken over by another server.
            let mut renew = tokio::time::interval(std::time::Duration::from_secs(60));
            renew.tick().await;
            loop {
                tokio::select! {
                    outcome = &mut work => break outcome,
                    _ = renew.tick() => {
                        let until = ctx.now().checked_add(LEASE)?;
                        if let Err(error) = ctx.store.renew_job_lease(claimed, until).await {
                            tracing::warn!(%error, "could not renew a job lease");
                        }
                    }
                }
            }
        }
        None => Err(anyhow::anyhow!("no handler for job kind {:?}", job.kind)),
    };
    let now = ctx.now();
    let reported = match outcome {
        Ok(()) => {
            let next = job
                .interval_secs
                .map(|secs| now.checked_add(SignedDuration::from_secs(secs)))
                .transpose()?;
            ctx.store.complete_job(claimed, next, now).await
        }
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "job failed");
            let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
            let retry_at = benchwork_domain::job::RetryPolicy::default()
                .next_attempt_at(attempts, now)
                .or_else(|| {
                    // A recurring job never gives up: it tries again at its
                    // next interval.
                    job.interval_secs
                        .and_then(|secs| now.checked_add(SignedDuration::from_secs(secs)).ok())
                });
            ctx.store
                .fail_job(claimed, &format!("{error:#}"), retry_at, now)
                .await
        }
    };
    if let Err(error) = reported {
        tracing::warn!(%error, "the job's lease was lost before its outcome was recorded");
    }
    Ok(())
}
