//! Critical-result pages (issue 6): the list of tasks, one task with its
//! communication record and the forms to record a call, take the task or
//! record a senior decision, the escalation chain and monthly compliance.
//! The board on the home page uses [`board_views`].

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::critical::{self, AttemptInput};
use benchwork_app::{Actor, AppError};
use benchwork_domain::critical::{AttemptOutcome, time_left};
use benchwork_domain::patient::NhsNumber;
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::{CriticalAttemptRecord, CriticalTaskRecord};
use jiff::Timestamp;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/critical", get(get_list))
        .route("/critical/compliance", get(get_compliance))
        .route("/critical/escalation", get(get_escalation))
        .route("/critical/{id}", get(get_task))
        .route("/critical/{id}/attempts", post(post_attempt))
        .route("/critical/{id}/decision", post(post_decision))
        .route("/critical/{id}/take", post(post_take))
}

/// A task as the board, the list and the task page show it.
pub(crate) struct TaskView {
    pub id: String,
    pub patient: String,
    pub nhs_number: String,
    pub accession: String,
    pub department: String,
    pub investigation: String,
    pub value: String,
    pub flag: String,
    pub opened: String,
    pub deadline: String,
    pub time_left: String,
    pub overdue: bool,
    pub handler: String,
    pub level: i64,
    pub status: String,
    pub closed: String,
}

pub(crate) fn task_view(task: &CriticalTaskRecord, now: Timestamp) -> TaskView {
    let status = match (task.status.as_str(), task.closed_how.as_deref()) {
        ("open", _) => "Communication pending".to_owned(),
        (_, Some("read-back")) => "Communicated, read back".to_owned(),
        (_, Some("senior-decision")) => "Closed by senior decision".to_owned(),
        _ => "Cancelled".to_owned(),
    };
    let closed = match (&task.closed_at, &task.closed_by_name) {
        (Some(at), Some(by)) => {
            let reason = task
                .closed_reason
                .as_deref()
                .map(|reason| format!(": {reason}"))
                .unwrap_or_default();
            format!("{} by {by}{reason}", display_london(*at))
        }
        _ => String::new(),
    };
    TaskView {
        id: task.id.to_string(),
        patient: task.patient_name.clone(),
        nhs_number: task
            .nhs_number
            .as_deref()
            .and_then(|number| NhsNumber::parse(number).ok())
            .map(|number| number.to_string())
            .unwrap_or_else(|| "not recorded".into()),
        accession: task.accession.clone(),
        department: task.department_name.clone(),
        investigation: task.code.clone(),
        value: format!("{} {}", task.value_text, task.unit.as_deref().unwrap_or("")),
        flag: task.flag.clone(),
        opened: display_london(task.opened_at),
        deadline: display_london(task.deadline_at),
        time_left: time_left(task.deadline_at, now),
        overdue: now > task.deadline_at,
        handler: task
            .handler_name
            .clone()
            .unwrap_or_else(|| "Nobody yet".into()),
        level: task.escalation_level,
        status,
        closed,
    }
}

/// One attempt as shown (also on the report).
pub(crate) struct AttemptView {
    pub at: String,
    pub recipient: String,
    pub contact: String,
    pub outcome: String,
    pub read_back: bool,
    pub note: String,
    pub recorded_by: String,
}

pub(crate) fn attempt_view(attempt: &CriticalAttemptRecord) -> AttemptView {
    AttemptView {
        at: display_london(attempt.attempted_at),
        recipient: format!(
            "{} ({}, {})",
            attempt.recipient_name, attempt.recipient_role, attempt.recipient_location
        ),
        contact: attempt.contact.clone(),
        outcome: AttemptOutcome::parse(&attempt.outcome)
            .map(|outcome| outcome.label())
            .unwrap_or("Unknown")
            .to_owned(),
        read_back: attempt.read_back,
        note: attempt.note.clone(),
        recorded_by: attempt.recorded_by_name.clone(),
    }
}

/// The home page's board: the open tasks of the actor's departments.
pub(crate) async fn board_views(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<TaskView>, WebError> {
    let now = state.ctx.now();
    Ok(critical::board(&state.ctx, actor)
        .await?
        .iter()
        .map(|task| task_view(task, now))
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "critical_list.html")]
struct ListPage {
    page: Page,
    open: Vec<TaskView>,
    closed: Vec<TaskView>,
}

async fn get_list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let now = state.ctx.now();
    let open = critical::list(&state.ctx, actor, true).await?;
    let closed = critical::list(&state.ctx, actor, false).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = ListPage {
        page: Page::new("Critical results", &signed_in, "critical", flash),
        open: open.iter().map(|task| task_view(task, now)).collect(),
        closed: closed.iter().map(|task| task_view(task, now)).collect(),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

#[derive(Template, WebTemplate)]
#[template(path = "critical_show.html")]
struct TaskPage {
    page: Page,
    task: TaskView,
    open: bool,
    attempts: Vec<AttemptView>,
    chain: Vec<(i64, String, String, bool)>,
    form: FormState,
    decision: FormState,
    fields: Vec<(&'static str, &'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    can_record: bool,
    can_decide: bool,
}

async fn task_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    form: Option<FormState>,
    decision: Option<FormState>,
    flash: Option<String>,
) -> Result<TaskPage, WebError> {
    let actor = signed_in.actor();
    let (task, attempts, chain) = critical::get(&state.ctx, actor, id).await?;
    let now = state.ctx.now();
    let form = form.unwrap_or_else(|| {
        let mut form = FormState::default();
        if let Ok(zone) = jiff::tz::TimeZone::get("Europe/London") {
            form.set(
                "at",
                now.to_zoned(zone).strftime("%Y-%m-%dT%H:%M").to_string(),
            );
        }
        form
    });
    let decision = decision.unwrap_or_default();
    let has_errors = form.has_errors() || decision.has_errors();
    let view = task_view(&task, now);
    Ok(TaskPage {
        page: Page::new(
            format!("Critical result: {} {}", view.investigation, view.patient),
            signed_in,
            "critical",
            flash,
        )
        .with_errors(has_errors),
        open: task.status == "open",
        task: view,
        attempts: attempts.iter().map(attempt_view).collect(),
        chain: chain
            .iter()
            .map(|step| {
                (
                    step.level,
                    display_london(step.due(task.deadline_at)),
                    step.roles
                        .iter()
                        .map(|role| role.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                    step.raises_incident,
                )
            })
            .collect(),
        form,
        decision,
        fields: vec![
            ("recipient_name", "Name of the person told", ""),
            (
                "recipient_role",
                "Their role",
                "For example FY1 doctor, nurse in charge, GP",
            ),
            (
                "recipient_location",
                "Where they are",
                "Ward, department or practice",
            ),
            ("contact", "Phone number called", "Or \"in person\""),
        ],
        outcomes: AttemptOutcome::ALL
            .iter()
            .map(|outcome| (outcome.code(), outcome.label()))
            .collect(),
        can_record: actor.can(Permission::EnterResults),
        can_decide: benchwork_domain::critical::may_decide(&actor.roles),
    })
}

async fn get_task(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = task_page(&state, &signed_in, &id, None, None, flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn post_attempt(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = AttemptInput {
        at: form.value("at").into(),
        recipient_name: form.value("recipient_name").into(),
        recipient_role: form.value("recipient_role").into(),
        recipient_location: form.value("recipient_location").into(),
        contact: form.value("contact").into(),
        outcome: form.value("outcome").into(),
        read_back: form.value("read_back").into(),
        note: form.value("note").into(),
    };
    match critical::record_attempt(&state.ctx, signed_in.actor(), &id, &input).await {
        Ok((task, closed)) => Ok(redirect_with_flash(
            &state,
            &format!("/critical/{}", task.id),
            if closed {
                "Call recorded: the result was read back and the task is closed"
            } else {
                "Call recorded: the task stays open"
            },
        )),
        Err(AppError::Invalid(errors)) => {
            let page = task_page(
                &state,
                &signed_in,
                &id,
                Some(form.with_errors(errors)),
                None,
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_decision(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match critical::record_decision(&state.ctx, signed_in.actor(), &id, form.value("reason")).await
    {
        Ok(task) => Ok(redirect_with_flash(
            &state,
            &format!("/critical/{}", task.id),
            "Senior decision recorded: the task is closed",
        )),
        Err(AppError::Invalid(errors)) => {
            let page = task_page(
                &state,
                &signed_in,
                &id,
                None,
                Some(form.with_errors(errors)),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_take(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let task = critical::take(&state.ctx, signed_in.actor(), &id).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/critical/{}", task.id),
        "You are handling this critical result",
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "critical_compliance.html")]
struct CompliancePage {
    page: Page,
    rows: Vec<(String, String, String, String, usize, String, String)>,
}

async fn get_compliance(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    let rows = critical::compliance(&state.ctx, signed_in.actor()).await?;
    let page = CompliancePage {
        page: Page::new(
            "Critical results: monthly compliance",
            &signed_in,
            "critical",
            None,
        ),
        rows: rows
            .into_iter()
            .map(|row| {
                (
                    row.month,
                    row.category,
                    row.discipline,
                    row.shift,
                    row.n,
                    format!("{:.0}% ({} of {})", row.percent_within, row.n_within, row.n),
                    row.median_minutes
                        .map(|minutes| format!("{minutes:.0} min"))
                        .unwrap_or_else(|| "none communicated".into()),
                )
            })
            .collect(),
    };
    Ok(page.into_response())
}

/// One step as shown: level, minutes after the deadline, roles, incident.
type StepRow = (i64, i64, String, bool);

#[derive(Template, WebTemplate)]
#[template(path = "critical_escalation.html")]
struct EscalationPage {
    page: Page,
    departments: Vec<(String, Vec<StepRow>)>,
}

async fn get_escalation(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::ViewDepartmentRecords).await?;
    let all = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    let mut departments = Vec::new();
    for department in all.into_iter().filter(|d| actor.in_department(d.id)) {
        let chain = critical::chain(&state.ctx, department.id).await?;
        departments.push((
            department.name,
            chain
                .into_iter()
                .map(|step| {
                    (
                        step.level,
                        step.after_minutes,
                        step.roles
                            .iter()
                            .map(|role| role.label())
                            .collect::<Vec<_>>()
                            .join(", "),
                        step.raises_incident,
                    )
                })
                .collect(),
        ));
    }
    let page = EscalationPage {
        page: Page::new(
            "Critical results: escalation chain",
            &signed_in,
            "critical",
            None,
        ),
        departments,
    };
    Ok(page.into_response())
}

/// A task with its communication record, for the report and the
/// patient's results.
pub(crate) struct RecordView {
    pub task: TaskView,
    pub open: bool,
    pub attempts: Vec<AttemptView>,
}

pub(crate) fn record_views(
    tasks: &[(CriticalTaskRecord, Vec<CriticalAttemptRecord>)],
    now: Timestamp,
) -> Vec<RecordView> {
    tasks
        .iter()
        .map(|(task, attempts)| RecordView {
            task: task_view(task, now),
            open: task.status == "open",
            attempts: attempts.iter().map(attempt_view).collect(),
        })
        .collect()
}
