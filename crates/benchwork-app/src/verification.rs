//! Verification, authorisation and amendment of results (issue 3 item 6;
//! DOMAIN.md 2.5): load the result within the actor's departments, decide
//! with the typed state machine in `benchwork_domain::result_state`, save
//! the transition with its audit event in one transaction. Self-authorisation
//! is refused and the refusal recorded; an amendment keeps the old version,
//! marks the report amended and notifies the department's practitioners.

use benchwork_domain::audit::{AuditAction, AuditOutcome};
use benchwork_domain::ids::NotificationId;
use benchwork_domain::reference::{AgeBand, ReferenceInterval, flag};
use benchwork_domain::result::{ResultId, parse_value};
use benchwork_domain::result_state::{
    AmendmentReason, ResultState, StoredState, TransitionError, amend as amend_result, authorise,
    verify,
};
use benchwork_domain::staff::{Permission, Role};
use benchwork_store::{
    AmendmentWrite, NewNotification, QueueRecord, RequestRecord, ResultReviewRecord,
    ResultReviewState, ResultVersionRecord, StoreError,
};
use jiff::Timestamp;
use serde_json::json;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// How many results each queue shows.
pub const QUEUE_LIMIT: i64 = 500;

async fn load(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<(ResultReviewRecord, ResultState)> {
    let id = ResultId::parse(id).map_err(|_| AppError::NotFound)?;
    let record = ctx.store.get_result_for_review(id, actor.id).await?;
    let state = ResultState::from_stored(&StoredState {
        id: record.id,
        status: record.status.clone(),
        version: record.version,
        produced_by: record.produced_by,
        verified: record.verified,
        authorised: record.authorised,
    })
    .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
    Ok((record, state))
}

fn refused(error: TransitionError) -> AppError {
    AppError::Conflict(error.to_string())
}

fn changed_meanwhile(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict { .. } => AppError::Conflict(
            "someone else changed this result meanwhile: reload the page and check".into(),
        ),
        other => other.into(),
    }
}

fn result_event(
    actor: &Actor,
    at: Timestamp,
    event_type: &str,
    record: &ResultReviewRecord,
) -> benchwork_domain::audit::AuditEvent {
    let mut event = audit_event(actor, at, AuditAction::Update, event_type);
    event.patient_id = Some(record.patient_id);
    event.department_id = Some(record.department_id);
    event.entity_type = Some("Result".into());
    event.entity_id = Some(record.id.to_string());
    event
}

/// Technical verification of a measured result of one of the actor's
/// departments. Verifying twice is refused.
pub async fn verify_result(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<ResultReviewRecord> {
    require(ctx, actor, Permission::VerifyResults).await?;
    let (record, state) = load(ctx, actor, id).await?;
    let measured = state.into_measured().map_err(refused)?;
    let now = ctx.now();
    let verified = verify(measured, actor.id, now);
    let mut event = result_event(actor, now, "result.verify", &record);
    event.before = Some(json!({ "status": record.status }).to_string());
    event.after = Some(
        json!({
            "status": "verified",
            "accession": record.accession,
            "investigation": record.code,
            "value": record.value_text,
            "version": record.version,
        })
        .to_string(),
    );
    ctx.store
        .save_verification(&verified, &[event])
        .await
        .map_err(changed_meanwhile)?;
    Ok(record)
}

/// Clinical authorisation, which releases a verified result. Refused for
/// an unverified or released result, and when the actor verified or
/// produced it (the refusal is audited).
pub async fn authorise_result(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<ResultReviewRecord> {
    require(ctx, actor, Permission::AuthoriseResults).await?;
    let (record, state) = load(ctx, actor, id).await?;
    let verified = state.into_verified().map_err(refused)?;
    let now = ctx.now();
    let authorised = match authorise(verified, actor.id, now) {
        Ok(authorised) => authorised,
        Err(error) => {
            let mut event = result_event(actor, now, "result.authorise", &record);
            event.outcome = AuditOutcome::MinorFailure;
            event.detail = Some(format!("refused: {error}"));
            ctx.audit_reads.write(event).await?;
            return Err(AppError::Forbidden(error.to_string()));
        }
    };
    let mut event = result_event(actor, now, "result.authorise", &record);
    event.before = Some(json!({ "status": record.status }).to_string());
    event.after = Some(
        json!({
            "status": "final",
            "accession": record.accession,
            "investigation": record.code,
            "value": record.value_text,
            "version": record.version,
            "verified_by": authorised.verified_by.to_string(),
        })
        .to_string(),
    );
    ctx.store
        .save_authorisation(&authorised, &[event])
        .await
        .map_err(changed_meanwhile)?;
    Ok(record)
}

/// An amendment as typed.
#[derive(Debug, Clone, Default)]
pub struct AmendmentInput {
    /// The new value.
    pub value: String,
    /// Why.
    pub reason: String,
}

/// Amends a released result: a new version with a mandatory reason. The old
/// version is kept, the request's report is marked amended, and the
/// practitioners of the request's department are notified, all in one
/// transaction with the audit event. Returns the new version number.
pub async fn amend_result_value(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    input: &AmendmentInput,
) -> AppResult<(ResultReviewRecord, i64)> {
    require(ctx, actor, Permission::AuthoriseResults).await?;
    let (record, state) = load(ctx, actor, id).await?;
    let released = state.into_released().map_err(refused)?;
    let version = ctx
        .store
        .get_investigation_version(record.investigation_id, record.investigation_version)
        .await?;
    let parts = version.definition.parts();
    let mut errors = Vec::new();
    let value = match parse_value(
        &input.value,
        &parts.result_type,
        parts.reportable_range.as_ref(),
    ) {
        Ok(value) => Some(value),
        Err(error) => {
            errors.push(FieldError::new("value", error));
            None
        }
    };
    let reason = match AmendmentReason::parse(&input.reason) {
        Ok(reason) => Some(reason),
        Err(error) => {
            errors.push(FieldError::new("reason", error));
            None
        }
    };
    let (Some(value), Some(reason), true) = (value, reason, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let new_flag = value.number().and_then(|number| {
        let interval = match (record.reference_low, record.reference_high) {
            (None, None) => None,
            (low, high) => AgeBand::new(0, None).ok().and_then(|band| {
                ReferenceInterval::new(
                    low,
                    high,
                    None,
                    band,
                    record.reference_source.as_deref().unwrap_or("as applied"),
                )
                .ok()
            }),
        };
        let critical = parts.critical_limits.as_ref().map(|limits| limits.limits);
        flag(number, interval.as_ref(), critical.as_ref())
            .code()
            .map(str::to_owned)
    });
    let now = ctx.now();
    let amended = amend_result(released, actor.id, now, reason);
    let new_version = amended.version;
    let mut event = result_event(actor, now, "result.amend", &record);
    event.before = Some(
        json!({ "value": record.value_text, "flag": record.flag, "version": record.version, "status": record.status })
            .to_string(),
    );
    event.after = Some(
        json!({
            "value": value.text(),
            "flag": new_flag,
            "version": new_version,
            "status": "amended",
            "reason": amended.reason.as_str(),
            "accession": record.accession,
            "investigation": record.code,
        })
        .to_string(),
    );
    let notification = NewNotification {
        id: NotificationId(new_uuid()),
        recipient_user_id: None,
        recipient_role: Some(Role::Practitioner.code().to_owned()),
        department_id: Some(record.department_id),
        title: format!(
            "Amended result: {} on request {}",
            record.code, record.accession
        ),
        body: format!(
            "{} changed from {} to {} (version {new_version}). Reason: {}",
            record.code,
            record.value_text,
            value.text(),
            amended.reason.as_str()
        ),
        link: Some(format!("/requests/{}", record.accession)),
        created_at: now,
    };
    let write = AmendmentWrite {
        amended,
        request_id: record.request_id,
        value_text: value.text().to_owned(),
        value_number: value.number(),
        flag: new_flag,
    };
    ctx.store
        .save_amendment(&write, &[notification], &[event])
        .await
        .map_err(changed_meanwhile)?;
    Ok((record, new_version))
}

/// The verification state, the replaced versions and when the report was
/// amended, for a request the actor has already been allowed to read.
pub async fn review_of(
    ctx: &Ctx,
    request: &RequestRecord,
) -> AppResult<(
    Vec<ResultReviewState>,
    Vec<ResultVersionRecord>,
    Option<Timestamp>,
)> {
    Ok((
        ctx.store.list_result_reviews(request.id).await?,
        ctx.store.list_result_versions(request.id).await?,
        ctx.store.report_amended_at(request.id).await?,
    ))
}

/// The actor's queues: results to verify and results they may authorise
/// (not those they produced or verified), urgent first. Each is empty
/// without its permission; with neither, refused.
pub async fn queues(ctx: &Ctx, actor: &Actor) -> AppResult<(Vec<QueueRecord>, Vec<QueueRecord>)> {
    if !actor.can(Permission::AuthoriseResults) {
        require(ctx, actor, Permission::VerifyResults).await?;
    }
    let to_verify = if actor.can(Permission::VerifyResults) {
        ctx.store
            .result_queue(actor.id, "measured", QUEUE_LIMIT)
            .await?
    } else {
        Vec::new()
    };
    let to_authorise = if actor.can(Permission::AuthoriseResults) {
        ctx.store
            .result_queue(actor.id, "verified", QUEUE_LIMIT)
            .await?
            .into_iter()
            .filter(|row| row.produced_by != actor.id && row.verified_by != Some(actor.id))
            .collect()
    } else {
        Vec::new()
    };
    let events = to_verify
        .iter()
        .chain(&to_authorise)
        .map(|row| {
            let mut event = audit_event(actor, ctx.now(), AuditAction::Read, "result_queue.read");
            event.patient_id = Some(row.patient_id);
            event.entity_type = Some("Result".into());
            event.entity_id = Some(row.id.to_string());
            event
        })
        .collect();
    ctx.audit_reads.write_all(events).await?;
    Ok((to_verify, to_authorise))
}
