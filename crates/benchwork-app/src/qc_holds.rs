//! Holds a rejected QC run puts on patient results (issue 4 item 5): the
//! check verification and authorisation call, the hold pages' data (with the
//! reads of patient data audited), the corrective action and the review of
//! each result the hold covers. The hold opens and releases with the runs
//! recorded in [`crate::qc`].

use benchwork_domain::audit::{AuditAction, AuditOutcome};
use benchwork_domain::qc_hold::{CorrectiveKind, QcHoldId, ReviewOutcome, check_review};
use benchwork_domain::result::ResultId;
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::{
    HoldResultRecord, NewHoldReview, QcHoldRecord, ResultReviewRecord, StoreError,
};
use serde_json::json;

use crate::qc::{qc_event, require_view};
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, require};

/// Refuses to verify or authorise (`action`) a result a QC hold covers,
/// naming the rejected run and what is needed, and records the refusal in
/// the audit trail. Called by `verification` before every verification and
/// authorisation, so pages and the API alike are held.
pub async fn check_not_held(
    ctx: &Ctx,
    actor: &Actor,
    record: &ResultReviewRecord,
    action: &str,
) -> AppResult<()> {
    let Some(block) = ctx.store.qc_hold_blocking(record.id).await? else {
        return Ok(());
    };
    let run = format!(
        "the QC run of {} for {} was rejected",
        display_london(block.rejected_run_at),
        record.code
    );
    let link = format!("/qc/holds/{}", block.hold_id);
    let reason = match (block.status.as_str(), block.outcome.as_deref()) {
        (_, Some("withdrawn")) => format!(
            "this result was withdrawn after a failed QC run ({run}) and is not reported: see {link}"
        ),
        ("open", _) => format!(
            "held by QC: {run}; the hold ends when a corrective action is recorded and a QC run is accepted, then this result must be released with a reason on {link}"
        ),
        _ => format!(
            "held by QC: {run}; the hold is released, but this result must be released with a reason on {link} first"
        ),
    };
    let mut event = audit_event(
        actor,
        ctx.now(),
        AuditAction::Update,
        &format!("result.{action}"),
    );
    event.outcome = AuditOutcome::MinorFailure;
    event.patient_id = Some(record.patient_id);
    event.department_id = Some(record.department_id);
    event.entity_type = Some("Result".into());
    event.entity_id = Some(record.id.to_string());
    event.detail = Some(format!("refused: {reason} (hold {})", block.hold_id));
    ctx.audit_reads.write(event).await?;
    Err(AppError::Conflict(reason))
}

/// Holds of the actor's departments, open first.
pub async fn list_holds(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<QcHoldRecord>> {
    require_view(ctx, actor).await?;
    Ok(ctx.store.list_qc_holds(actor.id, 500).await?)
}

/// A hold with the patient results it covers. The patients shown are
/// recorded as read.
pub async fn get_hold(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
) -> AppResult<(QcHoldRecord, Vec<HoldResultRecord>)> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let id = QcHoldId::parse(id).map_err(|_| AppError::NotFound)?;
    let hold = ctx.store.get_qc_hold(id, actor.id).await?;
    let results = ctx.store.list_qc_hold_results(hold.id).await?;
    let now = ctx.now();
    let reads = results
        .iter()
        .map(|result| {
            let mut event = audit_event(actor, now, AuditAction::Read, "qc.hold.read");
            event.entity_type = Some("QcHold".into());
            event.entity_id = Some(hold.id.to_string());
            event.patient_id = Some(result.patient_id);
            event.department_id = Some(hold.department_id);
            event.detail = Some(format!(
                "result {} ({})",
                result.result_id, result.accession
            ));
            event
        })
        .collect();
    ctx.audit_reads.write_all(reads).await?;
    Ok((hold, results))
}

/// A corrective action as typed.
#[derive(Debug, Clone, Default)]
pub struct CorrectiveInput {
    /// recalibration, new-reagent, maintenance, new-qc-material or other.
    pub kind: String,
    /// What was done.
    pub description: String,
}

/// Records the corrective action of an open hold. It does not release the
/// hold: a QC run accepted after it does.
pub async fn record_corrective_action(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    input: &CorrectiveInput,
) -> AppResult<QcHoldRecord> {
    require(ctx, actor, Permission::ReleaseQcHold).await?;
    let id = QcHoldId::parse(id).map_err(|_| AppError::NotFound)?;
    let hold = ctx.store.get_qc_hold(id, actor.id).await?;
    let mut errors = Vec::new();
    let kind = CorrectiveKind::parse(&input.kind);
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "choose what was done: recalibration, new reagent lot, maintenance, new QC material or other",
        ));
    }
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        errors.push(FieldError::new(
            "description",
            "describe the corrective action (up to 2000 characters)",
        ));
    }
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    if hold.status != "open" {
        return Err(AppError::Conflict("this hold is already released".into()));
    }
    let now = ctx.now();
    let mut event = qc_event(
        actor,
        now,
        AuditAction::Update,
        "qc.hold.corrective-action",
        "QcHold",
        hold.id.to_string(),
        hold.department_id,
    );
    event.before = hold
        .corrective
        .as_ref()
        .map(|(kind, text, _, _)| json!({ "kind": kind, "description": text }).to_string());
    event.after = Some(json!({ "kind": kind.code(), "description": description }).to_string());
    ctx.store
        .record_qc_corrective_action(hold.id, (kind.code(), description, actor.id, now), &[event])
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => {
                AppError::Conflict("this hold is already released".into())
            }
            other => other.into(),
        })?;
    Ok(ctx.store.get_qc_hold(hold.id, actor.id).await?)
}

/// A review outcome as typed.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    /// The result id.
    pub result: String,
    /// released, withdrawn, confirmed or recalled.
    pub outcome: String,
    /// Why.
    pub reason: String,
}

/// Records what was decided for one result a hold covers: a held result is
/// released with a reason (once the hold is released) or withdrawn; a
/// result already released is confirmed, or recalled (its amendment is made
/// on the request page, the usual amendment path).
pub async fn review_result(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    input: &ReviewInput,
) -> AppResult<(QcHoldRecord, HoldResultRecord, ReviewOutcome)> {
    require(ctx, actor, Permission::ReleaseQcHold).await?;
    let id = QcHoldId::parse(id).map_err(|_| AppError::NotFound)?;
    let hold = ctx.store.get_qc_hold(id, actor.id).await?;
    let results = ctx.store.list_qc_hold_results(hold.id).await?;
    let mut errors = Vec::new();
    let result = ResultId::parse(&input.result)
        .ok()
        .and_then(|id| results.into_iter().find(|result| result.result_id == id));
    if result.is_none() {
        errors.push(FieldError::new(
            "result",
            "select a result this hold covers",
        ));
    }
    let outcome = ReviewOutcome::parse(&input.outcome);
    if outcome.is_none() {
        errors.push(FieldError::new(
            "outcome",
            "choose released, withdrawn, confirmed or recalled",
        ));
    }
    let (Some(result), Some(outcome), true) = (result, outcome, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    if result.review.is_some() {
        return Err(AppError::Conflict(
            "this result's review is already recorded".into(),
        ));
    }
    let released_result = matches!(result.status.as_str(), "final" | "amended");
    let reason = match check_review(
        outcome,
        released_result,
        hold.status == "open",
        &input.reason,
    ) {
        Ok(reason) => reason,
        Err(error @ benchwork_domain::qc_hold::HoldError::ReasonRequired) => {
            return Err(AppError::Invalid(vec![FieldError::new("reason", error)]));
        }
        Err(error) => return Err(AppError::Invalid(vec![FieldError::new("outcome", error)])),
    };
    let now = ctx.now();
    let mut event = qc_event(
        actor,
        now,
        AuditAction::Update,
        "qc.hold.review",
        "Result",
        result.result_id.to_string(),
        hold.department_id,
    );
    event.patient_id = Some(result.patient_id);
    event.after = Some(
        json!({
            "hold": hold.id.to_string(), "outcome": outcome.code(), "reason": reason,
            "accession": result.accession, "value": result.value_text, "status": result.status,
        })
        .to_string(),
    );
    let review = NewHoldReview {
        hold_id: hold.id,
        result_id: result.result_id,
        outcome: outcome.code().into(),
        reason,
        by: actor.id,
        at: now,
    };
    ctx.store
        .add_qc_hold_review(&review, &[event])
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => {
                AppError::Conflict("this result's review is already recorded".into())
            }
            other => other.into(),
        })?;
    crate::critical::after_hold_review(
        ctx,
        actor,
        result.result_id,
        outcome.code(),
        &review.reason,
    )
    .await?;
    Ok((hold, result, outcome))
}
