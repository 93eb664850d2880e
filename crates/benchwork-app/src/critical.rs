//! Critical-result communication (issue 6 items 2-6): a task opens when a
//! critically flagged result is technically verified (in the verification
//! transaction), people record their calls on it, it closes with a
//! successful read-back or a senior decision, and durable jobs escalate it
//! up the department's chain when it is not closed in time.
//!
//! Permissions: reading tasks needs `ViewPatients` (patient data; every
//! read audited); recording a call or taking a task needs `EnterResults`
//! (everyone at the bench, never gated by competence or QC); a senior
//! decision needs the clinical scientist or consultant role
//! ([`benchwork_domain::critical::may_decide`]).

use benchwork_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use benchwork_domain::critical::{
    EscalationStep, check_attempt, check_decision_reason, deadline, default_chain, may_decide,
    parse_roles,
};
use benchwork_domain::ids::{DepartmentId, IncidentId, NotificationId};
use benchwork_domain::incident::{IncidentCategory, IncidentKind, Severity};
use benchwork_domain::reference::Flag;
use benchwork_domain::result::ResultId;
use benchwork_domain::result_state::VerifiedResult;
use benchwork_domain::staff::{Permission, Role};
use benchwork_domain::time::display_london;
use benchwork_store::{
    CriticalAttemptRecord, CriticalTaskRecord, EscalationWrite, JobRecord, NewCriticalAttempt,
    NewCriticalTask, NewIncidentRecord, NewJob, NewNotification, ResultReviewRecord, StoreError,
    TaskClosure,
};
use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// The job kind of one escalation step (payload: task id and level).
pub const ESCALATE: &str = "critical.escalate";

/// How far back the list of closed tasks goes.
const RECENT_DAYS: i64 = 7;

fn task_event(
    actor: &Actor,
    at: Timestamp,
    action: AuditAction,
    event_type: &str,
    task: Uuid,
    department: DepartmentId,
    patient: benchwork_domain::ids::PatientId,
) -> AuditEvent {
    let mut event = audit_event(actor, at, action, event_type);
    event.entity_type = Some("CriticalTask".into());
    event.entity_id = Some(task.to_string());
    event.department_id = Some(department);
    event.patient_id = Some(patient);
    event
}

fn event_of(
    actor: &Actor,
    at: Timestamp,
    event_type: &str,
    task: &CriticalTaskRecord,
) -> AuditEvent {
    let action = if event_type.ends_with(".read") {
        AuditAction::Read
    } else {
        AuditAction::Update
    };
    task_event(
        actor,
        at,
        action,
        event_type,
        task.id,
        task.department_id,
        task.patient_id,
    )
}

/// The system identity that escalation jobs act as.
fn system() -> Actor {
    crate::staff::operator("job")
}

/// A department's escalation chain: the stored steps, or the default
/// chain when none are stored (a department created after migration 0016).
pub async fn chain(ctx: &Ctx, department: DepartmentId) -> AppResult<Vec<EscalationStep>> {
    let rows = ctx.store.list_critical_escalation_steps(department).await?;
    if rows.is_empty() {
        return Ok(default_chain());
    }
    Ok(rows
        .into_iter()
        .map(
            |(level, after_minutes, roles, raises_incident)| EscalationStep {
                level,
                after_minutes,
                roles: parse_roles(&roles),
                raises_incident,
            },
        )
        .collect())
}

fn escalation_job(task: Uuid, step: &EscalationStep, deadline_at: Timestamp) -> NewJob {
    NewJob {
        kind: ESCALATE.into(),
        payload: json!({ "task": task.to_string(), "level": step.level }).to_string(),
        run_at: step.due(deadline_at),
        interval_secs: None,
        dedupe_key: Some(format!("{ESCALATE}:{task}:{}", step.level)),
    }
}

fn is_critical(flag: Option<&str>) -> bool {
    Flag::parse(flag).is_some_and(Flag::is_critical)
}

/// Saves a technical verification; when the result is critically flagged
/// the task opens in the same transaction (deadline from the category) and
/// its first escalation step is queued. Verification is never refused by
/// this module: it only adds the task.
pub async fn save_verification(
    ctx: &Ctx,
    actor: &Actor,
    record: &ResultReviewRecord,
    verified: &VerifiedResult,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    if !is_critical(record.flag.as_deref()) {
        return ctx.store.save_verification(verified, events).await;
    }
    let (task, job, event) = new_task(
        ctx,
        actor,
        record,
        record.value_text.clone(),
        record.flag.clone().unwrap_or_default(),
        verified.version,
        verified.verified_at,
    )
    .await
    .map_err(|error| StoreError::Other(anyhow::anyhow!("{error}")))?;
    let mut events = events.to_vec();
    events.push(event);
    ctx.store
        .save_verification_opening_task(verified, &events, &task, job.as_ref())
        .await
}

async fn new_task(
    ctx: &Ctx,
    actor: &Actor,
    record: &ResultReviewRecord,
    value_text: String,
    flag: String,
    version: i64,
    at: Timestamp,
) -> AppResult<(NewCriticalTask, Option<NewJob>, AuditEvent)> {
    // The category of the alert limit the value reached, copied into the
    // result at entry.
    let deadline_at = deadline(at, record.critical_category.as_deref());
    let id = new_uuid();
    let chain = chain(ctx, record.department_id).await?;
    let job = chain
        .first()
        .map(|step| escalation_job(id, step, deadline_at));
    let mut event = task_event(
        actor,
        at,
        AuditAction::Create,
        "critical.open",
        id,
        record.department_id,
        record.patient_id,
    );
    event.after = Some(
        json!({
            "result": record.id.to_string(), "accession": record.accession, "investigation": record.code,
            "value": value_text, "flag": flag, "deadline": deadline_at.to_string(),
        })
        .to_string(),
    );
    let task = NewCriticalTask {
        id,
        result_id: record.id,
        request_id: record.request_id,
        department_id: record.department_id,
        patient_id: record.patient_id,
        result_version: version,
        code: record.code.clone(),
        value_text,
        unit: record.unit.clone(),
        flag,
        category: record.critical_category.clone(),
        opened_at: at,
        deadline_at,
    };
    Ok((task, job, event))
}

/// After an amendment (its own transaction): a new critical value updates
/// the open task, or opens one when none is open; a non-critical value
/// cancels the open task and tells whoever handles it.
pub async fn after_amendment(
    ctx: &Ctx,
    actor: &Actor,
    record: &ResultReviewRecord,
    value_text: &str,
    flag: Option<&str>,
    version: i64,
) -> AppResult<()> {
    let open = ctx.store.open_critical_task_of_result(record.id).await?;
    let now = ctx.now();
    match (open, is_critical(flag)) {
        (Some(task), true) => {
            let mut event = event_of(actor, now, "critical.update", &task);
            event.before = Some(json!({ "value": task.value_text, "flag": task.flag }).to_string());
            event.after =
                Some(json!({ "value": value_text, "flag": flag, "version": version }).to_string());
            ctx.store
                .update_critical_task_value(
                    task.id,
                    value_text,
                    flag.unwrap_or_default(),
                    version,
                    now,
                    &[event],
                )
                .await?;
        }
        (Some(_), false) => {
            cancel_for_result(
                ctx,
                actor,
                record.id,
                &format!("result amended to a non-critical value ({value_text})"),
            )
            .await?;
        }
        (None, true) => {
            let (task, job, event) = new_task(
                ctx,
                actor,
                record,
                value_text.to_owned(),
                flag.unwrap_or_default().to_owned(),
                version,
                now,
            )
            .await?;
            ctx.store
                .open_critical_task(&task, job.as_ref(), &[event])
                .await?;
        }
        (None, false) => {}
    }
    Ok(())
}

/// Called after a QC hold review: a withdrawn or recalled result cancels
/// its open task (other outcomes do nothing).
pub async fn after_hold_review(
    ctx: &Ctx,
    actor: &Actor,
    result: ResultId,
    outcome: &str,
    reason: &str,
) -> AppResult<()> {
    if matches!(outcome, "withdrawn" | "recalled") {
        cancel_for_result(
            ctx,
            actor,
            result,
            &format!("result {outcome} after a QC hold: {reason}"),
        )
        .await?;
    }
    Ok(())
}

/// Cancels the open task of a result, with the reason, and notifies
/// whoever is handling it (or the department's practitioners when nobody
/// has taken it). Returns whether a task was cancelled.
pub async fn cancel_for_result(
    ctx: &Ctx,
    actor: &Actor,
    result: ResultId,
    reason: &str,
) -> AppResult<bool> {
    let Some(task) = ctx.store.open_critical_task_of_result(result).await? else {
        return Ok(false);
    };
    let now = ctx.now();
    let notification = NewNotification {
        id: NotificationId(new_uuid()),
        recipient_user_id: task.handler_id,
        recipient_role: task
            .handler_id
            .is_none()
            .then(|| Role::Practitioner.code().to_owned()),
        department_id: task.handler_id.is_none().then_some(task.department_id),
        title: format!(
            "Critical result cancelled: {} {} on {}",
            task.code, task.value_text, task.accession
        ),
        body: format!("Do not phone this result: {reason}."),
        link: Some(format!("/critical/{}", task.id)),
        created_at: now,
    };
    let mut event = event_of(actor, now, "critical.cancel", &task);
    event.after = Some(json!({ "status": "cancelled", "reason": reason }).to_string());
    Ok(ctx
        .store
        .cancel_critical_task(task.id, actor.id, now, reason, &[notification], &[event])
        .await?)
}

async fn load(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<CriticalTaskRecord> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    Ok(ctx.store.get_critical_task(id, actor.id).await?)
}

/// One task with its attempts and the department's chain. The read is
/// audited.
pub async fn get(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
) -> AppResult<(
    CriticalTaskRecord,
    Vec<CriticalAttemptRecord>,
    Vec<EscalationStep>,
)> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let task = load(ctx, actor, id).await?;
    let attempts = ctx.store.list_critical_attempts(task.id).await?;
    let chain = chain(ctx, task.department_id).await?;
    ctx.audit_reads
        .write(event_of(actor, ctx.now(), "critical.read", &task))
        .await?;
    Ok((task, attempts, chain))
}

/// Open tasks (`open`) or those closed in the last week, of the actor's
/// departments. Each task shown is recorded as read.
pub async fn list(ctx: &Ctx, actor: &Actor, open: bool) -> AppResult<Vec<CriticalTaskRecord>> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let now = ctx.now();
    let since = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * RECENT_DAYS))
        .unwrap_or(now);
    let tasks = ctx
        .store
        .list_critical_tasks(actor.id, open, since, 200)
        .await?;
    for task in &tasks {
        ctx.audit_reads
            .write(event_of(actor, now, "critical.read", task))
            .await?;
    }
    Ok(tasks)
}

/// The board on the home page: the open tasks of the actor's departments,
/// or nothing for people who may not read patient data.
pub async fn board(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<CriticalTaskRecord>> {
    if !actor.can(Permission::ViewPatients) {
        return Ok(Vec::new());
    }
    list(ctx, actor, true).await
}

/// The tasks of a patient, newest first (for the patient's results). The
/// caller has already checked that the actor may read the patient, and
/// only tasks of the actor's departments are returned.
pub async fn of_patient(
    ctx: &Ctx,
    actor: &Actor,
    patient: benchwork_domain::ids::PatientId,
) -> AppResult<Vec<CriticalTaskRecord>> {
    Ok(ctx
        .store
        .list_critical_tasks_of(None, Some(patient))
        .await?
        .into_iter()
        .filter(|task| actor.in_department(task.department_id))
        .collect())
}

/// A communication attempt as typed.
#[derive(Debug, Clone, Default)]
pub struct AttemptInput {
    /// When: `YYYY-MM-DDTHH:MM` London time, or RFC 3339.
    pub at: String,
    /// Who was called.
    pub recipient_name: String,
    /// Their role.
    pub recipient_role: String,
    /// Where.
    pub recipient_location: String,
    /// Phone number or "in person".
    pub contact: String,
    /// Outcome code.
    pub outcome: String,
    /// `yes` or `no`.
    pub read_back: String,
    /// Free text.
    pub note: String,
}

/// Parses a time as typed: RFC 3339, or a London wall-clock time
/// `YYYY-MM-DDTHH:MM` (as an HTML date-time field sends it).
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter the time of the call".into());
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(benchwork_domain::time::truncate_to_micros(at));
    }
    let civil = text
        .replace(' ', "T")
        .parse::<jiff::civil::DateTime>()
        .map_err(|_| "enter the time as date and time, for example 2026-12-06T14:05".to_owned())?;
    let zone = jiff::tz::TimeZone::get("Europe/London").map_err(|error| error.to_string())?;
    civil
        .to_zoned(zone)
        .map(|zoned| zoned.timestamp())
        .map_err(|error| error.to_string())
}

/// Records a communication attempt. A successful call with the read-back
/// confirmed closes the task, in the same transaction. Returns the task as
/// it was before and whether this attempt closed it.
pub async fn record_attempt(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    input: &AttemptInput,
) -> AppResult<(CriticalTaskRecord, bool)> {
    require(ctx, actor, Permission::EnterResults).await?;
    let task = load(ctx, actor, id).await?;
    if task.status != "open" {
        return Err(AppError::Conflict(
            "this task is no longer open: the call was not recorded".into(),
        ));
    }
    let now = ctx.now();
    let attempt = check_attempt(
        parse_time(&input.at),
        now,
        task.opened_at,
        &input.recipient_name,
        &input.recipient_role,
        &input.recipient_location,
        &input.contact,
        &input.outcome,
        &input.read_back,
        &input.note,
    )
    .map_err(|errors| {
        AppError::Invalid(
            errors
                .into_iter()
                .map(|error| FieldError::new(error.field, error.message))
                .collect(),
        )
    })?;
    let closes = attempt.closes();
    let write = NewCriticalAttempt {
        id: new_uuid(),
        task_id: task.id,
        attempted_at: attempt.at,
        recipient_name: attempt.recipient_name.clone(),
        recipient_role: attempt.recipient_role.clone(),
        recipient_location: attempt.recipient_location.clone(),
        contact: attempt.contact.clone(),
        outcome: attempt.outcome.code().to_owned(),
        read_back: attempt.read_back,
        note: attempt.note.clone(),
        recorded_by: actor.id,
        recorded_at: now,
    };
    let mut event = event_of(actor, now, "critical.attempt", &task);
    event.after = Some(
        json!({
            "at": attempt.at.to_string(), "recipient": attempt.recipient_name, "role": attempt.recipient_role,
            "location": attempt.recipient_location, "contact": attempt.contact,
            "outcome": attempt.outcome.code(), "read_back": attempt.read_back,
            "status": if closes { "closed" } else { "open" },
        })
        .to_string(),
    );
    let closure = closes.then(|| TaskClosure {
        how: "read-back".into(),
        reason: None,
        by: actor.id,
        at: now,
        communicated_at: attempt.at,
    });
    ctx.store
        .save_critical_attempt(&write, closure.as_ref(), &[event])
        .await
        .map_err(closed_meanwhile)?;
    Ok((task, closes))
}

fn closed_meanwhile(error: StoreError) -> AppError {
    match error {
        StoreError::Conflict { .. } => AppError::Conflict(
            "this task was closed or cancelled meanwhile: reload the page and check".into(),
        ),
        other => other.into(),
    }
}

/// A senior decision that no call is needed, with the reason: closes the
/// task. Refused (and the refusal audited) for anyone but clinical
/// scientists and consultants.
pub async fn record_decision(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> AppResult<CriticalTaskRecord> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let task = load(ctx, actor, id).await?;
    let now = ctx.now();
    if !may_decide(&actor.roles) {
        let mut event = event_of(actor, now, "critical.decide", &task);
        event.outcome = AuditOutcome::MinorFailure;
        event.detail =
            Some("refused: a senior decision needs a clinical scientist or consultant".into());
        ctx.audit_reads.write(event).await?;
        return Err(AppError::Forbidden(
            "only a clinical scientist or consultant may close a critical result without a call"
                .into(),
        ));
    }
    if task.status != "open" {
        return Err(AppError::Conflict("this task is no longer open".into()));
    }
    let reason = check_decision_reason(reason)
        .map_err(|error| AppError::invalid(error.field, error.message))?;
    let mut event = event_of(actor, now, "critical.decide", &task);
    event.after =
        Some(json!({ "status": "closed", "how": "senior-decision", "reason": reason }).to_string());
    let closure = TaskClosure {
        how: "senior-decision".into(),
        reason: Some(reason),
        by: actor.id,
        at: now,
        communicated_at: now,
    };
    ctx.store
        .close_critical_task(task.id, &closure, &[event])
        .await
        .map_err(closed_meanwhile)?;
    Ok(task)
}

/// Takes a task: the actor is shown as handling it.
pub async fn take(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<CriticalTaskRecord> {
    require(ctx, actor, Permission::EnterResults).await?;
    let task = load(ctx, actor, id).await?;
    let now = ctx.now();
    let mut event = event_of(actor, now, "critical.take", &task);
    event.before = Some(json!({ "handler": task.handler_id.map(|id| id.to_string()) }).to_string());
    event.after = Some(json!({ "handler": actor.id.to_string() }).to_string());
    ctx.store
        .take_critical_task(task.id, actor.id, now, &[event])
        .await
        .map_err(closed_meanwhile)?;
    Ok(task)
}

/// Runs one escalation step (the job [`ESCALATE`]). Does nothing when the
/// task has closed or the step has already fired; otherwise moves the task
/// to the step's level, notifies its roles, queues the next step and, at a
/// final step, raises an incident, all in one transaction that only one
/// server can win.
pub async fn escalate(ctx: &Ctx, job: &JobRecord) -> anyhow::Result<()> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload)?;
    let task_id = Uuid::parse_str(payload["task"].as_str().unwrap_or_default())?;
    let level = payload["level"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("escalation job without a level"))?;
    let task = ctx.store.get_critical_task_unscoped(task_id).await?;
    if task.status != "open" || task.escalation_level != level - 1 {
        return Ok(());
    }
    let chain = chain(ctx, task.department_id)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let Some(step) = chain.iter().find(|step| step.level == level) else {
        return Ok(());
    };
    let now = ctx.now();
    let actor = system();
    let summary = format!(
        "{} {} {} {} for {} (NHS {}), request {}",
        task.code,
        task.value_text,
        task.unit.as_deref().unwrap_or(""),
        task.flag,
        task.patient_name,
        task.nhs_number.as_deref().unwrap_or("not recorded"),
        task.accession
    );
    let link = Some(format!("/critical/{}", task.id));
    let mut notifications: Vec<NewNotification> = step
        .roles
        .iter()
        .map(|role| NewNotification {
            id: NotificationId(new_uuid()),
            recipient_user_id: None,
            recipient_role: Some(role.code().to_owned()),
            department_id: Some(task.department_id),
            title: format!("Critical result not yet communicated (escalation {level})"),
            body: format!(
                "{summary}: communication was due {}. Phone it now or record a senior decision.",
                display_london(task.deadline_at)
            ),
            link: link.clone(),
            created_at: now,
        })
        .collect();
    let incident = step.raises_incident.then(|| NewIncidentRecord {
        id: IncidentId(new_uuid()),
        department_id: task.department_id,
        kind: IncidentKind::Incident.code().to_owned(),
        category: IncidentCategory::PatientSafety.code().to_owned(),
        severity: Severity::NoHarm.code().to_owned(),
        title: format!(
            "Critical result not communicated: {} on {}",
            task.code, task.accession
        ),
        description: format!(
            "{summary} was verified {} and not communicated by its final escalation deadline ({}).",
            display_london(task.opened_at),
            display_london(step.due(task.deadline_at))
        ),
        raised_by: actor.id,
        links: vec![(
            "CriticalTask".into(),
            task.id.to_string(),
            format!("Critical result {} {}", task.code, task.accession),
        )],
        created_at: now,
    });
    let mut events = Vec::new();
    let mut event = event_of(&actor, now, "critical.escalate", &task);
    event.before = Some(json!({ "level": level - 1 }).to_string());
    event.after = Some(
        json!({
            "level": level,
            "roles": step.roles.iter().map(|role| role.code()).collect::<Vec<_>>(),
            "incident": incident.as_ref().map(|incident| incident.id.to_string()),
        })
        .to_string(),
    );
    events.push(event);
    if let Some(incident) = &incident {
        notifications.push(NewNotification {
            id: NotificationId(new_uuid()),
            recipient_user_id: None,
            recipient_role: Some(Role::QualityManager.code().to_owned()),
            department_id: Some(task.department_id),
            title: format!("Incident raised: {}", incident.title),
            body: incident.description.clone(),
            link: Some(format!("/incidents/{}", incident.id)),
            created_at: now,
        });
        let mut raised = audit_event(&actor, now, AuditAction::Create, "incident.raise");
        raised.entity_type = Some("Incident".into());
        raised.entity_id = Some(incident.id.to_string());
        raised.department_id = Some(task.department_id);
        raised.after = Some(
            json!({
                "kind": incident.kind, "category": incident.category, "severity": incident.severity,
                "title": incident.title, "description": incident.description, "status": "open",
            })
            .to_string(),
        );
        events.push(raised);
    }
    let next_job = chain
        .iter()
        .find(|next| next.level == level + 1)
        .map(|next| escalation_job(task.id, next, task.deadline_at));
    let write = EscalationWrite {
        task_id: task.id,
        from_level: level - 1,
        to_level: level,
        at: now,
        notifications,
        next_job,
        incident,
    };
    let won = ctx.store.escalate_critical_task(&write, &events).await?;
    tracing::info!(task = %task.id, level, won, "critical-result escalation");
    Ok(())
}

/// Monthly compliance of the actor's departments over the last 12 months.
pub async fn compliance(
    ctx: &Ctx,
    actor: &Actor,
) -> AppResult<Vec<benchwork_domain::critical::ComplianceRow>> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let now = ctx.now();
    let from = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 400))
        .unwrap_or(now);
    let tasks = ctx
        .store
        .list_critical_tasks_opened(
            actor.id,
            from,
            now.checked_add(jiff::SignedDuration::from_secs(1))
                .unwrap_or(now),
        )
        .await?;
    let inputs: Vec<_> = tasks
        .into_iter()
        .filter(|task| task.status != "cancelled")
        .map(|task| benchwork_domain::critical::ComplianceInput {
            opened_at: task.opened_at,
            category: task.category,
            discipline: task.department_name,
            communicated_at: task.communicated_at,
        })
        .collect();
    Ok(benchwork_domain::critical::compliance(&inputs))
}

/// The critical-result tasks of a request of the actor's departments with
/// their communication records, newest first (for the report, which has
/// already checked and audited the read of the request).
pub async fn for_request(
    ctx: &Ctx,
    actor: &Actor,
    accession: &str,
) -> AppResult<Vec<(CriticalTaskRecord, Vec<CriticalAttemptRecord>)>> {
    let request = ctx.store.get_request(accession.trim(), actor.id).await?;
    let mut tasks = Vec::new();
    for task in ctx
        .store
        .list_critical_tasks_of(Some(request.id), None)
        .await?
    {
        let attempts = ctx.store.list_critical_attempts(task.id).await?;
        tasks.push((task, attempts));
    }
    Ok(tasks)
}

/// The same for a patient's results page.
pub async fn for_patient(
    ctx: &Ctx,
    actor: &Actor,
    patient: benchwork_domain::ids::PatientId,
) -> AppResult<Vec<(CriticalTaskRecord, Vec<CriticalAttemptRecord>)>> {
    let mut tasks = Vec::new();
    for task in of_patient(ctx, actor, patient).await? {
        let attempts = ctx.store.list_critical_attempts(task.id).await?;
        tasks.push((task, attempts));
    }
    Ok(tasks)
}
