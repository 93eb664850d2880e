//! Critical-result tasks in the JSON API (issue 6 item 5): the same use
//! cases as the pages (`benchwork_app::critical`): list, read (audited),
//! take, record a call, record a senior decision. Bad input is 422, a
//! closure by someone without the authority 403, a task no longer open 409.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use benchwork_app::critical::{self, AttemptInput};
use benchwork_store::{CriticalAttemptRecord, CriticalTaskRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/critical-tasks", get(get_tasks))
        .route("/critical-tasks/{id}", get(get_task))
        .route("/critical-tasks/{id}/take", post(post_take))
        .route("/critical-tasks/{id}/attempts", post(post_attempt))
        .route("/critical-tasks/{id}/decision", post(post_decision))
}

/// A critical-result communication task.
#[derive(Serialize, ToSchema)]
pub struct CriticalTaskOut {
    id: String,
    result_id: String,
    accession: String,
    department: String,
    patient_id: String,
    patient_name: String,
    nhs_number: Option<String>,
    investigation: String,
    value: String,
    unit: Option<String>,
    /// LL or HH.
    flag: String,
    /// Category code; none means the default (urgent, 60 minutes).
    category: Option<String>,
    /// When the result was verified (RFC 3339).
    opened_at: String,
    /// Communicate by.
    deadline_at: String,
    /// open, closed or cancelled.
    status: String,
    /// Escalation steps fired so far.
    escalation_level: i64,
    handler: Option<String>,
    /// read-back, senior-decision or cancelled.
    closed_how: Option<String>,
    closed_reason: Option<String>,
    closed_at: Option<String>,
    communicated_at: Option<String>,
    /// The communication record (on the single-task read only).
    attempts: Vec<CriticalAttemptOut>,
}

/// One communication attempt.
#[derive(Serialize, ToSchema)]
pub struct CriticalAttemptOut {
    at: String,
    recipient_name: String,
    recipient_role: String,
    recipient_location: String,
    contact: String,
    /// successful, no-answer, engaged, wrong-number or left-message.
    outcome: String,
    read_back: bool,
    note: String,
    recorded_by: String,
}

fn task_out(task: &CriticalTaskRecord, attempts: &[CriticalAttemptRecord]) -> CriticalTaskOut {
    CriticalTaskOut {
        id: task.id.to_string(),
        result_id: task.result_id.to_string(),
        accession: task.accession.clone(),
        department: task.department_name.clone(),
        patient_id: task.patient_id.to_string(),
        patient_name: task.patient_name.clone(),
        nhs_number: task.nhs_number.clone(),
        investigation: task.code.clone(),
        value: task.value_text.clone(),
        unit: task.unit.clone(),
        flag: task.flag.clone(),
        category: task.category.clone(),
        opened_at: task.opened_at.to_string(),
        deadline_at: task.deadline_at.to_string(),
        status: task.status.clone(),
        escalation_level: task.escalation_level,
        handler: task.handler_name.clone(),
        closed_how: task.closed_how.clone(),
        closed_reason: task.closed_reason.clone(),
        closed_at: task.closed_at.map(|at| at.to_string()),
        communicated_at: task.communicated_at.map(|at| at.to_string()),
        attempts: attempts
            .iter()
            .map(|attempt| CriticalAttemptOut {
                at: attempt.attempted_at.to_string(),
                recipient_name: attempt.recipient_name.clone(),
                recipient_role: attempt.recipient_role.clone(),
                recipient_location: attempt.recipient_location.clone(),
                contact: attempt.contact.clone(),
                outcome: attempt.outcome.clone(),
                read_back: attempt.read_back,
                note: attempt.note.clone(),
                recorded_by: attempt.recorded_by_name.clone(),
            })
            .collect(),
    }
}

/// Which tasks to list.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TaskQuery {
    status: String,
}

/// The tasks of your departments: `status=open` (default, most urgent
/// first) or `status=closed` (closed or cancelled in the last 7 days).
#[utoipa::path(get, path = "/api/v1/critical-tasks",
    params(("status" = Option<String>, Query, description = "open (default) or closed")),
    responses((status = 200, body = [CriticalTaskOut]), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_tasks(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(query): Query<TaskQuery>,
) -> Result<Json<Vec<CriticalTaskOut>>, ApiError> {
    let open = match query.status.trim() {
        "" | "open" => true,
        "closed" => false,
        _ => {
            return Err(benchwork_app::AppError::invalid("status", "use open or closed").into());
        }
    };
    let tasks = critical::list(&state.ctx, &actor, open).await?;
    Ok(Json(tasks.iter().map(|task| task_out(task, &[])).collect()))
}

/// One task with its communication record (the read is audited).
#[utoipa::path(get, path = "/api/v1/critical-tasks/{id}", params(("id" = String, Path)),
    responses((status = 200, body = CriticalTaskOut), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_task(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CriticalTaskOut>, ApiError> {
    let (task, attempts, _) = critical::get(&state.ctx, &actor, &id).await?;
    Ok(Json(task_out(&task, &attempts)))
}

async fn reread(
    state: &AppState,
    actor: &benchwork_app::Actor,
    id: &str,
) -> Result<Json<CriticalTaskOut>, ApiError> {
    let (task, attempts, _) = critical::get(&state.ctx, actor, id).await?;
    Ok(Json(task_out(&task, &attempts)))
}

/// Takes the task: you are shown as handling it.
#[utoipa::path(post, path = "/api/v1/critical-tasks/{id}/take", params(("id" = String, Path)),
    responses((status = 200, body = CriticalTaskOut), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_take(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CriticalTaskOut>, ApiError> {
    critical::take(&state.ctx, &actor, &id).await?;
    reread(&state, &actor, &id).await
}

/// A communication attempt.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CriticalAttemptIn {
    /// When (RFC 3339, or London time `YYYY-MM-DDTHH:MM`); not in the
    /// future, not before the result was verified.
    at: String,
    recipient_name: String,
    recipient_role: String,
    recipient_location: String,
    /// Phone number, or "in person".
    contact: String,
    /// successful, no-answer, engaged, wrong-number or left-message.
    outcome: String,
    /// "yes" or "no".
    read_back: String,
    note: String,
}

/// Records a call. A successful call with read-back closes the task.
#[utoipa::path(post, path = "/api/v1/critical-tasks/{id}/attempts", params(("id" = String, Path)), request_body = CriticalAttemptIn,
    responses((status = 200, body = CriticalTaskOut), (status = 422, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_attempt(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CriticalAttemptIn>,
) -> Result<Json<CriticalTaskOut>, ApiError> {
    critical::record_attempt(
        &state.ctx,
        &actor,
        &id,
        &AttemptInput {
            at: input.at,
            recipient_name: input.recipient_name,
            recipient_role: input.recipient_role,
            recipient_location: input.recipient_location,
            contact: input.contact,
            outcome: input.outcome,
            read_back: input.read_back,
            note: input.note,
        },
    )
    .await?;
    reread(&state, &actor, &id).await
}

/// A senior decision that no call is needed.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CriticalDecisionIn {
    /// Why no call is needed (required).
    reason: String,
}

/// Closes the task with a senior decision: clinical scientists and
/// consultants only (403 otherwise).
#[utoipa::path(post, path = "/api/v1/critical-tasks/{id}/decision", params(("id" = String, Path)), request_body = CriticalDecisionIn,
    responses((status = 200, body = CriticalTaskOut), (status = 403, body = crate::api::Problem), (status = 422, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub(crate) async fn post_decision(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CriticalDecisionIn>,
) -> Result<Json<CriticalTaskOut>, ApiError> {
    critical::record_decision(&state.ctx, &actor, &id, &input.reason).await?;
    reread(&state, &actor, &id).await
}
