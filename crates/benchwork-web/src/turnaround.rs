//! The turnaround page: median and 90th-percentile times against target by
//! month, investigation and priority for one department and a range of
//! days, breaches marked in words; below, the lines open past target now.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::AppError;
use benchwork_app::turnaround::{self, TurnaroundGroup, TurnaroundInput, TurnaroundReport};
use benchwork_domain::time::display_london;
use benchwork_domain::turnaround::display_duration;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/turnaround", get(get_turnaround))
}

/// One row of a month's table.
struct GroupRow {
    investigation: String,
    priority: String,
    n_started: usize,
    n: String,
    median: String,
    p90: String,
    target: String,
    within: String,
    breach: bool,
}

fn group_row(group: &TurnaroundGroup) -> GroupRow {
    let summary = group.summary.as_ref();
    GroupRow {
        investigation: format!("{} ({})", group.name, group.code),
        priority: group.priority.label().to_owned(),
        n_started: group.n_started,
        n: summary
            .map(|s| s.n.to_string())
            .unwrap_or_else(|| "0".into()),
        median: summary
            .map(|s| display_duration(s.median_seconds))
            .unwrap_or_else(|| "None released".into()),
        p90: summary
            .map(|s| display_duration(s.p90_seconds))
            .unwrap_or_else(|| "None released".into()),
        target: display_duration(group.target_minutes * 60),
        within: summary
            .map(|s| {
                format!(
                    "{:.1}% ({} of {})",
                    s.percent_within_target(),
                    s.n_within_target,
                    s.n
                )
            })
            .unwrap_or_default(),
        breach: summary.is_some_and(|s| s.breaches(group.target_minutes)),
    }
}

struct OverdueRow {
    accession: String,
    investigation: String,
    priority: String,
    started: String,
    target: String,
    elapsed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "turnaround.html")]
struct TurnaroundPage {
    page: Page,
    form: FormState,
    /// (id, name).
    departments: Vec<(String, String)>,
    report: Option<ReportRows>,
}

/// The report as shown: heading, (month label, rows) per month, overdue.
type ReportRows = (String, Vec<(String, Vec<GroupRow>)>, Vec<OverdueRow>);

fn rows_of(report: &TurnaroundReport) -> ReportRows {
    (
        format!(
            "{}, {} to {}",
            report.department_name,
            report.from.strftime("%-d %b %Y"),
            report.to.strftime("%-d %b %Y")
        ),
        report
            .months
            .iter()
            .map(|month| {
                (
                    month.month.strftime("%B %Y").to_string(),
                    month.groups.iter().map(group_row).collect(),
                )
            })
            .collect(),
        report
            .overdue
            .iter()
            .map(|line| OverdueRow {
                accession: line.accession.clone(),
                investigation: format!("{} ({})", line.name, line.code),
                priority: line.priority.label().to_owned(),
                started: display_london(line.started_at),
                target: display_duration(line.target_minutes * 60),
                elapsed: display_duration(line.elapsed_seconds),
            })
            .collect(),
    )
}

async fn get_turnaround(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let mut form = FormState::from_fields(&fields);
    let input = TurnaroundInput {
        department: form.value("department").into(),
        from: form.value("from").into(),
        to: form.value("to").into(),
    };
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|department| actor.in_department(department.id))
        .map(|department| (department.id.to_string(), department.name))
        .collect();
    let (status, report) = match turnaround::report(&state.ctx, actor, &input).await {
        Ok(report) => {
            form.set("department", report.department_id.to_string());
            form.set("from", report.from.to_string());
            form.set("to", report.to.to_string());
            (StatusCode::OK, Some(rows_of(&report)))
        }
        Err(AppError::Invalid(errors)) => {
            form = form.with_errors(errors);
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        Err(error) => return Err(error.into()),
    };
    let page = TurnaroundPage {
        page: Page::new("Turnaround", &signed_in, "turnaround", None)
            .with_errors(form.has_errors()),
        form,
        departments,
        report,
    };
    Ok((status, page).into_response())
}
