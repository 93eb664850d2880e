//! Verification, authorisation and amendment of results (issue 3 item 6;
//! DOMAIN.md 2.5): load the result within the actor's departments, decide
//! with the typed state machine in `benchwork_domain::result_state`, save
//! the transition with its audit event in one transaction. Self-authorisation
//! is refused and the refusal recorded; an amendment keeps the old version,
//! marks the report amended and notifies the department's practitioners.

use std::collections::HashMap;

use benchwork_domain::audit::{AuditAction, AuditOutcome};
use benchwork_domain::ids::NotificationId;
use benchwork_domain::patient::age_in_years;
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

use crate::calculated::{InputValue, derive};
use crate::comments::{comments_json, new_comments, parse_result_comments};
use crate::results::{age_and_sex, age_date};
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
    crate::qc_holds::check_not_held(ctx, actor, &record, "verify").await?;
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
    // A critical result's communication task opens in this transaction.
    crate::critical::save_verification(ctx, actor, &record, &verified, &[event])
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
    crate::qc_holds::check_not_held(ctx, actor, &record, "authorise").await?;
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
    /// Codes of the department's comment library to add to the new version.
    pub comment_codes: Vec<String>,
    /// Free-text comment to add to the new version.
    pub comment: String,
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
    let library = ctx.store.active_comment_codes(record.department_id).await?;
    let comments = parse_result_comments(
        &library,
        &input.comment_codes,
        &input.comment,
        "comment_codes",
        "comment",
        &mut errors,
    );
    let (Some(value), Some(reason), true) = (value, reason, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    // The critical limits copied into the result when it was produced (the
    // approved alert limits for this patient and request), never the
    // catalogue's: an amendment is flagged as the first value was.
    let critical = copied_critical_limits(&record);
    let new_flag = value.number().and_then(|number| {
        flag_as_applied(
            number,
            record.reference_low,
            record.reference_high,
            record.reference_source.as_deref(),
            critical,
        )
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
    let mut notification = notification;
    let mut writes = vec![write];
    let mut events = vec![event];
    if let Some(number) = value.number() {
        for (write, event, line) in
            recalculate(ctx, actor, &record, number, unit_of(parts), now).await?
        {
            notification.body.push_str(&format!(" {line}"));
            writes.push(write);
            events.push(event);
        }
    }
    if let Some(event) = events.first_mut()
        && !comments.is_empty()
    {
        let mut after: serde_json::Value =
            serde_json::from_str(event.after.as_deref().unwrap_or("{}"))
                .map_err(|error| AppError::Internal(error.into()))?;
        after["comments"] = comments_json(&comments);
        event.after = Some(after.to_string());
    }
    let result_comments = new_comments(record.id, new_version, &comments, actor.id, now);
    ctx.store
        .save_amendments(&writes, &result_comments, &[notification], &events)
        .await
        .map_err(changed_meanwhile)?;
    let new_value = writes[0].value_text.clone();
    crate::critical::after_amendment(
        ctx,
        actor,
        &record,
        &new_value,
        writes[0].flag.as_deref(),
        new_version,
    )
    .await?;
    Ok((record, new_version))
}

fn unit_of(parts: &benchwork_domain::catalogue::InvestigationParts) -> Option<String> {
    match &parts.result_type {
        benchwork_domain::catalogue::ResultType::Numeric { unit, .. } => Some(unit.clone()),
        _ => None,
    }
}

/// The critical limits copied into a result when it was produced.
fn copied_critical_limits(
    record: &ResultReviewRecord,
) -> Option<benchwork_domain::reference::CriticalLimits> {
    benchwork_domain::reference::CriticalLimits::new(
        record.critical_low,
        record.critical_high,
        true,
    )
    .ok()
}

/// The flag of a new value against the interval copied into the result
/// when it was produced and the critical limits copied with it.
fn flag_as_applied(
    number: f64,
    low: Option<f64>,
    high: Option<f64>,
    source: Option<&str>,
    critical: Option<benchwork_domain::reference::CriticalLimits>,
) -> Option<String> {
    let interval = match (low, high) {
        (None, None) => None,
        (low, high) => AgeBand::new(0, None).ok().and_then(|band| {
            ReferenceInterval::new(low, high, None, band, source.unwrap_or("as applied")).ok()
        }),
    };
    flag(number, interval.as_ref(), critical.as_ref())
        .code()
        .map(str::to_owned)
}

/// The amendments of the calculated results of the request that use the
/// amended input: each recalculated with the new input value, as an
/// amendment with the reason "input amended", by the same person, to be
/// written in the input's transaction. A calculated result not yet
/// released cannot be amended, so the input's amendment is refused until
/// it is; so is a new value the formula refuses.
async fn recalculate(
    ctx: &Ctx,
    actor: &Actor,
    input: &ResultReviewRecord,
    number: f64,
    unit: Option<String>,
    now: Timestamp,
) -> AppResult<Vec<(AmendmentWrite, benchwork_domain::audit::AuditEvent, String)>> {
    let request = ctx.store.get_request(&input.accession, actor.id).await?;
    let patient = ctx.store.get_patient(request.patient_id).await?;
    let results = ctx.store.list_results(request.id).await?;
    let mut inputs: HashMap<String, InputValue> = results
        .iter()
        .map(|result| {
            (
                result.code.clone(),
                Some((result.value_number, result.unit.clone())),
            )
        })
        .collect();
    inputs.insert(input.code.clone(), Some((Some(number), unit)));
    let (dob, sex) = age_and_sex(&patient);
    let slots = ctx.store.list_result_slots(request.id).await?;
    // Age at collection, as when the result was first calculated.
    let collected = slots.iter().filter_map(|slot| slot.collected_at).min();
    let age_years = dob.map(|dob| age_in_years(dob, age_date(collected, ctx.now())));
    let mut out = Vec::new();
    for slot in slots {
        let version = ctx
            .store
            .get_investigation_version(slot.investigation_id, slot.investigation_version)
            .await?;
        let parts = version.definition.parts();
        let Some(calculation) = &parts.calculation else {
            continue;
        };
        if !calculation
            .inputs
            .iter()
            .any(|code| code.as_str() == input.code)
        {
            continue;
        }
        let Some(existing) = results
            .iter()
            .find(|result| result.position == slot.position)
        else {
            continue;
        };
        let (calculated, state) = load(ctx, actor, &existing.id.to_string()).await?;
        let released = state.into_released().map_err(|_| {
            AppError::Conflict(format!(
                "{} is calculated from {} and has not been authorised yet: authorise {} first, so that its recalculation is recorded as an amendment",
                calculated.code, input.code, calculated.code
            ))
        })?;
        let (value, derivation) =
            derive(calculation, &inputs, age_years, sex).map_err(|reason| {
                AppError::invalid(
                    "value",
                    format!(
                        "{} cannot be recalculated from this value: {reason}",
                        calculated.code
                    ),
                )
            })?;
        let places = match &parts.result_type {
            benchwork_domain::catalogue::ResultType::Numeric { decimal_places, .. } => {
                *decimal_places
            }
            _ => 0,
        };
        let value_text = calculation.formula.display(value, places);
        let new_flag = flag_as_applied(
            value,
            calculated.reference_low,
            calculated.reference_high,
            calculated.reference_source.as_deref(),
            copied_critical_limits(&calculated),
        );
        let reason = AmendmentReason::parse(INPUT_AMENDED)
            .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
        let amended = amend_result(released, actor.id, now, reason);
        let mut event = result_event(actor, now, "result.amend", &calculated);
        event.detail = Some(format!("recalculated because {} was amended", input.code));
        event.before = Some(
            json!({ "value": calculated.value_text, "flag": calculated.flag, "version": calculated.version, "status": calculated.status })
                .to_string(),
        );
        event.after = Some(
            json!({
                "value": value_text,
                "value_number": value,
                "flag": new_flag,
                "version": amended.version,
                "status": "amended",
                "reason": INPUT_AMENDED,
                "calculation": derivation,
                "accession": calculated.accession,
                "investigation": calculated.code,
            })
            .to_string(),
        );
        let line = format!(
            "{} recalculated from {} to {} ({INPUT_AMENDED}).",
            calculated.code, calculated.value_text, value_text
        );
        out.push((
            AmendmentWrite {
                amended,
                request_id: calculated.request_id,
                value_text,
                value_number: Some(value),
                flag: new_flag,
            },
            event,
            line,
        ));
    }
    Ok(out)
}

/// The reason recorded on a calculated result recalculated because an
/// input was amended.
pub const INPUT_AMENDED: &str = "input amended";

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
        verify_queue_unread(ctx, actor).await?
    } else {
        Vec::new()
    };
    let to_authorise = if actor.can(Permission::AuthoriseResults) {
        authorise_queue_unread(ctx, actor).await?
    } else {
        Vec::new()
    };
    record_queue_reads(ctx, actor, to_verify.iter().chain(&to_authorise)).await?;
    Ok((to_verify, to_authorise))
}

/// Results awaiting technical verification in the actor's departments.
/// The caller checks the permission and records the reads.
pub(crate) async fn verify_queue_unread(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<QueueRecord>> {
    Ok(ctx
        .store
        .result_queue(actor.id, "measured", QUEUE_LIMIT)
        .await?)
}

/// Verified results the actor may authorise: not ones they produced or
/// verified (separation of duties). The caller checks the permission and
/// records the reads.
pub(crate) async fn authorise_queue_unread(
    ctx: &Ctx,
    actor: &Actor,
) -> AppResult<Vec<QueueRecord>> {
    Ok(ctx
        .store
        .result_queue(actor.id, "verified", QUEUE_LIMIT)
        .await?
        .into_iter()
        .filter(|row| row.produced_by != actor.id && row.verified_by != Some(actor.id))
        .collect())
}

/// Records one read of patient data per queue row shown.
pub(crate) async fn record_queue_reads<'a>(
    ctx: &Ctx,
    actor: &Actor,
    rows: impl Iterator<Item = &'a QueueRecord>,
) -> AppResult<()> {
    let events = rows
        .map(|row| {
            let mut event = audit_event(actor, ctx.now(), AuditAction::Read, "result_queue.read");
            event.patient_id = Some(row.patient_id);
            event.entity_type = Some("Result".into());
            event.entity_id = Some(row.id.to_string());
            event
        })
        .collect();
    ctx.audit_reads.write_all(events).await?;
    Ok(())
}
