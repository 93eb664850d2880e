//! Recording reads, sealing the chain, verifying it, and searching it.
//!
//! Changes write their events in the same transaction as the change (see
//! `benchwork-store`). Reads of patient-identifiable data are far more
//! frequent, so they go through [`ReadEventWriter`]: every request hands its
//! event to one writer task and waits; the writer commits all events that
//! arrived while the previous commit was in flight in one transaction, then
//! answers each request. A page is only answered once its read event is
//! durable (nothing is lost on a crash), yet a hundred concurrent page views
//! cost one commit, not a hundred. If the write fails, the request fails:
//! the trail fails closed. See docs/design/2026-11-25-audit-chain.md.

use std::path::Path;

use benchwork_domain::audit::{AuditAction, AuditEvent, ChainFault, ChainHead, join_segments};
use benchwork_store::{AuditFilter, AuditPage, Store};
use tokio::sync::{mpsc, oneshot};

use crate::{Actor, AppError, AppResult, Ctx, audit_event};

/// The most events committed in one read-event transaction.
const MAX_READ_BATCH: usize = 512;

/// Events sealed per transaction by [`seal_audit`].
const SEAL_BATCH: i64 = 5_000;

type ReadRequest = (AuditEvent, oneshot::Sender<Result<(), String>>);

/// Hands read events to a single writer task that group-commits them.
#[derive(Debug, Clone)]
pub struct ReadEventWriter {
    sender: mpsc::Sender<ReadRequest>,
}

impl ReadEventWriter {
    /// Starts the writer task on the current runtime. It stops when every
    /// handle has been dropped.
    pub fn spawn(store: Store) -> ReadEventWriter {
        let (sender, mut receiver) = mpsc::channel::<ReadRequest>(4 * MAX_READ_BATCH);
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_READ_BATCH {
                    match receiver.try_recv() {
                        Ok(request) => batch.push(request),
                        Err(_) => break,
                    }
                }
                let (events, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let outcome = store
                    .append_audit_events(&events)
                    .await
                    .map_err(|error| format!("{error:#}"));
                if let Err(error) = &outcome {
                    tracing::error!(%error, n_events = events.len(), "could not write read audit events");
                }
                for reply in replies {
                    let _ = reply.send(outcome.clone());
                }
            }
        });
        ReadEventWriter { sender }
    }

    /// Writes `event` durably, sharing the commit with concurrent callers.
    pub async fn write(&self, event: AuditEvent) -> AppResult<()> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((event, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the audit writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the audit writer stopped before answering"))?
            .map_err(|error| {
                AppError::Internal(anyhow::anyhow!(
                    "could not record the read in the audit trail: {error}"
                ))
            })
    }
}

impl ReadEventWriter {
    /// Writes several events durably; they share commits with each other
    /// and with concurrent callers.
    pub async fn write_all(&self, events: Vec<AuditEvent>) -> AppResult<()> {
        let results =
            futures::future::join_all(events.into_iter().map(|event| self.write(event))).await;
        results.into_iter().collect()
    }
}

/// Records that `actor` read a record. Call before the data is shown: if
/// this fails, do not show it.
pub async fn record_read(
    ctx: &Ctx,
    actor: &Actor,
    event_type: &str,
    entity_type: &str,
    entity_id: &str,
    detail: Option<String>,
) -> AppResult<()> {
    let mut event = audit_event(actor, ctx.now(), AuditAction::Read, event_type);
    event.entity_type = Some(entity_type.to_owned());
    event.entity_id = Some(entity_id.to_owned());
    event.detail = detail;
    ctx.audit_reads.write(event).await
}

/// Seals every committed, unsealed event into the chain, then writes the
/// new head to the head file and the log. Safe to run on every app server
/// at once. Returns the number of events sealed.
pub async fn seal_audit(ctx: &Ctx) -> anyhow::Result<usize> {
    let mut n_total = 0;
    let mut head = None;
    loop {
        let (new_head, n_sealed) = ctx.store.seal_audit_events(SEAL_BATCH, ctx.now()).await?;
        n_total += n_sealed;
        if n_sealed > 0 {
            head = new_head;
        }
        if (n_sealed as i64) < SEAL_BATCH {
            break;
        }
    }
    if let Some(head) = head {
        tracing::info!(audit_head = %head, n_sealed = n_total, "audit chain extended");
        if let Some(path) = &ctx.settings.audit_head_file {
            check_recorded_head(ctx, path).await?;
            write_head_file(path, &head)?;
        }
    }
    Ok(n_total)
}

/// Refuses to move the head file forward when the chain in the database no
/// longer contains the head it recorded last time (the tail was removed, or
/// the chain was rewritten): overwriting it would erase the evidence.
async fn check_recorded_head(ctx: &Ctx, path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let recorded = read_head_file(path)?;
    if recorded.seq == 0 {
        return Ok(());
    }
    match ctx.store.audit_hash_at(recorded.seq).await? {
        Some(hash) if hash == recorded.hash => Ok(()),
        found => {
            let problem = match found {
                None => format!(
                    "the audit trail no longer contains event {} recorded in {}: events were removed",
                    recorded.seq,
                    path.display()
                ),
                Some(_) => format!(
                    "audit event {} no longer has the hash recorded in {}: the trail was rewritten",
                    recorded.seq,
                    path.display()
                ),
            };
            tracing::error!(%problem, "audit trail tampering detected; the head file is left as it was");
            anyhow::bail!(
                "{problem}; run `benchwork audit verify --head-file {}`",
                path.display()
            )
        }
    }
}

/// Replaces the head file atomically (write a temporary file, then rename),
/// so that a crash never leaves half a head.
pub fn write_head_file(path: &Path, head: &ChainHead) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| {
            format!(
                "creating the folder of the audit head file {}",
                path.display()
            )
        })?;
    }
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, format!("{head}\n"))
        .with_context(|| format!("writing the audit head file {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("replacing the audit head file {}", path.display()))?;
    Ok(())
}

/// Reads a head file written by [`write_head_file`].
pub fn read_head_file(path: &Path) -> anyhow::Result<ChainHead> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the audit head file {}", path.display()))?;
    ChainHead::parse(&text)
        .with_context(|| format!("reading the audit head file {}", path.display()))
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Sealed events checked.
    pub n_events: u64,
    /// The head of the chain as found.
    pub head: Option<ChainHead>,
    /// Events committed but not yet sealed.
    pub n_unsealed: i64,
}

/// Events per stretch below which the chain is checked in one piece.
const MIN_EVENTS_PER_STRETCH: u64 = 50_000;

/// Checks every link of the chain, and the recorded head if one is given.
/// `Ok(Err(fault))` names the first bad event. The chain is cut into
/// stretches checked at once, one per core, then joined
/// (`SegmentVerifier`, `join_segments`); the verdict is the same as one walk
/// from the first event (a domain test proves it).
pub async fn verify_chain(
    store: &Store,
    expected_head: Option<ChainHead>,
) -> anyhow::Result<Result<VerifyReport, ChainFault>> {
    let (_, max_seq) = store.sealed_audit_extent().await?;
    let n_cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as u64;
    let n_stretches = (max_seq / MIN_EVENTS_PER_STRETCH).clamp(1, n_cores.clamp(1, 8));
    let stretch = max_seq.div_ceil(n_stretches).max(1);
    let expected_seq = expected_head.map(|head| head.seq);
    let checks = (0..n_stretches).map(|idx| {
        let from = 1 + idx * stretch;
        // The last stretch is open-ended, so rows beyond the maximum read
        // above (sealed meanwhile) are still linked and checked.
        let to = if idx + 1 == n_stretches {
            u64::MAX
        } else {
            from + stretch
        };
        store.verify_sealed_audit_range(from, to, expected_seq)
    });
    let segments = futures::future::try_join_all(checks).await?;
    let head = match join_segments(&segments, expected_head) {
        Ok(head) => head,
        Err(fault) => return Ok(Err(fault)),
    };
    let n_events = head.map(|head| head.seq).unwrap_or(0);
    let n_unsealed = store.count_unsealed_audit_events().await?;
    Ok(Ok(VerifyReport {
        n_events,
        head,
        n_unsealed,
    }))
}

/// Searches the audit trail. Only for those allowed to read it; the search
/// itself is audited, since the results name patients and staff.
pub async fn search(
    ctx: &Ctx,
    actor: &Actor,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> AppResult<AuditPage> {
    crate::require(
        ctx,
        actor,
        benchwork_domain::staff::Permission::ViewAuditTrail,
    )
    .await?;
    let page = ctx.store.search_audit_events(filter, limit, offset).await?;
    let mut event = audit_event(actor, ctx.now(), AuditAction::Read, "audit.search");
    event.entity_type = Some("AuditEvent".into());
    event.detail = Some(describe_filter(filter));
    ctx.audit_reads.write(event).await?;
    Ok(page)
}

fn describe_filter(filter: &AuditFilter) -> String {
    let mut parts = Vec::new();
    if let Some(id) = filter.actor_id {
        parts.push(format!("actor_id={id}"));
    }
    if let Some(name) = &filter.actor_name {
        parts.push(format!("actor={name}"));
    }
    if let Some(id) = filter.patient_id {
        parts.push(format!("patient={id}"));
    }
    if let Some(kind) = &filter.entity_type {
        parts.push(format!("entity_type={kind}"));
    }
    if let Some(id) = &filter.entity_id {
        parts.push(format!("entity_id={id}"));
    }
    if let Some(from) = filter.from {
        parts.push(format!("from={from}"));
    }
    if let Some(to) = filter.to {
        parts.push(format!("to={to}"));
    }
    if parts.is_empty() {
        "all events".into()
    } else {
        parts.join(" ")
    }
}
