//! Filtered lists for API clients: requests by status and department, and
//! one stage's result queue. The pages show the same records unfiltered
//! (`requests::list`, `verification::queues`); here the filter is applied
//! in the query, so that only the patients actually returned are recorded
//! as read.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::ids::PatientId;
use benchwork_domain::staff::Permission;
use benchwork_store::{PatientRecord, QueueRecord, RequestFilter, RequestRecord};

use crate::{Actor, AppError, AppResult, Ctx, audit_event, require};

/// How many requests a filtered list returns at most.
pub const REQUEST_LIST_LIMIT: i64 = 200;

/// Whether `text` has the form of a status code (`registered`,
/// `in-progress`): lowercase letters and hyphens.
fn is_status_code(text: &str) -> bool {
    !text.is_empty() && text.len() <= 40 && text.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// The requests of the actor's departments, newest first, optionally only
/// those with a status code and of one department (its code or id, one of
/// the actor's), each with its patient. Every patient returned is
/// recorded as read.
pub async fn requests(
    ctx: &Ctx,
    actor: &Actor,
    status: &str,
    department: &str,
) -> AppResult<Vec<(RequestRecord, PatientRecord)>> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let mut filter = RequestFilter::default();
    let status = status.trim();
    if !status.is_empty() {
        if !is_status_code(status) {
            return Err(AppError::invalid(
                "status",
                "use a request status code, for example registered",
            ));
        }
        filter.status = Some(status.to_owned());
    }
    let department = department.trim();
    if !department.is_empty() {
        let found = ctx.store.list_departments().await?.into_iter().find(|d| {
            (d.code.eq_ignore_ascii_case(department) || d.id.to_string() == department)
                && actor.in_department(d.id)
        });
        let Some(found) = found else {
            return Err(AppError::invalid(
                "department",
                "use the code or id of one of your departments",
            ));
        };
        filter.department_id = Some(found.id);
    }
    let requests = ctx
        .store
        .list_requests_filtered(actor.id, &filter, REQUEST_LIST_LIMIT)
        .await?;
    let mut rows = Vec::with_capacity(requests.len());
    let mut events = Vec::with_capacity(requests.len());
    for request in requests {
        let patient = ctx.store.get_patient(request.patient_id).await?;
        let mut event = audit_event(actor, ctx.now(), AuditAction::Read, "request.list");
        event.patient_id = Some(patient.id);
        event.department_id = Some(request.department_id);
        event.entity_type = Some("Request".into());
        event.entity_id = Some(request.accession.clone());
        events.push(event);
        rows.push((request, patient));
    }
    ctx.audit_reads.write_all(events).await?;
    Ok(rows)
}

/// One stage of the actor's result queue, urgent first: `verify` (measured
/// results, needs `VerifyResults`) or `authorise` (verified results the
/// actor neither produced nor verified, needs `AuthoriseResults`). Each
/// result returned is recorded as read.
pub async fn result_queue(ctx: &Ctx, actor: &Actor, stage: &str) -> AppResult<Vec<QueueRecord>> {
    let rows = match stage.trim() {
        "verify" => {
            require(ctx, actor, Permission::VerifyResults).await?;
            crate::verification::verify_queue_unread(ctx, actor).await?
        }
        "authorise" => {
            require(ctx, actor, Permission::AuthoriseResults).await?;
            crate::verification::authorise_queue_unread(ctx, actor).await?
        }
        _ => {
            if !actor.can(Permission::AuthoriseResults) {
                require(ctx, actor, Permission::VerifyResults).await?;
            }
            return Err(AppError::invalid("stage", "use verify or authorise"));
        }
    };
    crate::verification::record_queue_reads(ctx, actor, rows.iter()).await?;
    Ok(rows)
}

/// A patient's consent decisions, newest first, and the investigations
/// that need consent; an unknown patient is not found (rather than a
/// patient with no decisions). The read is audited.
pub async fn patient_consents(
    ctx: &Ctx,
    actor: &Actor,
    patient: &str,
) -> AppResult<crate::requests::ConsentView> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let patient = PatientId::parse(patient.trim()).map_err(|_| AppError::NotFound)?;
    ctx.store.get_patient(patient).await?;
    crate::requests::consents(ctx, actor, patient).await
}

/// Records a consent decision (see `requests::record_consent`), then
/// returns the patient's decisions with the new one first.
pub async fn record_patient_consent(
    ctx: &Ctx,
    actor: &Actor,
    patient: &str,
    input: &crate::requests::ConsentInput,
) -> AppResult<crate::requests::ConsentView> {
    require(ctx, actor, Permission::BookRequests).await?;
    let patient = PatientId::parse(patient.trim()).map_err(|_| AppError::NotFound)?;
    crate::requests::record_consent(ctx, actor, patient, input).await?;
    crate::requests::consents(ctx, actor, patient).await
}
