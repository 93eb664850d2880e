//! Turnaround in the JSON API: the same report as the turnaround page.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::turnaround::{self, TurnaroundInput, TurnaroundReport};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError};
use crate::forms::FormState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/turnaround", get(get_turnaround))
}

/// One investigation × priority × target in one month.
#[derive(Serialize, ToSchema)]
pub struct TurnaroundGroupOut {
    /// First day of the month (Europe/London), YYYY-MM-DD.
    month: String,
    investigation: String,
    name: String,
    /// routine or urgent.
    priority: String,
    target_minutes: i64,
    /// Lines received in the month, released or not.
    n_started: usize,
    /// Lines released (the figures below are over these).
    n: usize,
    /// Nearest-rank median, seconds; null when none is released.
    median_seconds: Option<i64>,
    /// Nearest-rank 90th percentile, seconds; null when none is released.
    p90_seconds: Option<i64>,
    n_within_target: usize,
    percent_within_target: Option<f64>,
    /// Whether the 90th percentile is over the target.
    breach: bool,
}

/// A line open past its target now.
#[derive(Serialize, ToSchema)]
pub struct OverdueLineOut {
    accession: String,
    investigation: String,
    priority: String,
    /// When its clock started (receipt, or booking without specimen).
    started_at: String,
    target_minutes: i64,
    elapsed_seconds: i64,
}

/// The turnaround report.
#[derive(Serialize, ToSchema)]
pub struct TurnaroundOut {
    department_id: String,
    department_name: String,
    /// YYYY-MM-DD.
    from: String,
    /// YYYY-MM-DD, included.
    to: String,
    groups: Vec<TurnaroundGroupOut>,
    overdue: Vec<OverdueLineOut>,
}

impl From<&TurnaroundReport> for TurnaroundOut {
    fn from(report: &TurnaroundReport) -> Self {
        TurnaroundOut {
            department_id: report.department_id.to_string(),
            department_name: report.department_name.clone(),
            from: report.from.to_string(),
            to: report.to.to_string(),
            groups: report
                .months
                .iter()
                .flat_map(|month| {
                    month.groups.iter().map(move |group| {
                        let summary = group.summary.as_ref();
                        TurnaroundGroupOut {
                            month: month.month.to_string(),
                            investigation: group.code.clone(),
                            name: group.name.clone(),
                            priority: group.priority.code().to_owned(),
                            target_minutes: group.target_minutes,
                            n_started: group.n_started,
                            n: summary.map(|s| s.n).unwrap_or(0),
                            median_seconds: summary.map(|s| s.median_seconds),
                            p90_seconds: summary.map(|s| s.p90_seconds),
                            n_within_target: summary.map(|s| s.n_within_target).unwrap_or(0),
                            percent_within_target: summary.map(|s| s.percent_within_target()),
                            breach: summary.is_some_and(|s| s.breaches(group.target_minutes)),
                        }
                    })
                })
                .collect(),
            overdue: report
                .overdue
                .iter()
                .map(|line| OverdueLineOut {
                    accession: line.accession.clone(),
                    investigation: line.code.clone(),
                    priority: line.priority.code().to_owned(),
                    started_at: line.started_at.to_string(),
                    target_minutes: line.target_minutes,
                    elapsed_seconds: line.elapsed_seconds,
                })
                .collect(),
        }
    }
}

/// Turnaround by month, investigation and priority for one of the caller's
/// departments (default: the first) over a range of days (default: the
/// last three months), and the lines open past target now. Invalid dates
/// or another department are 422.
#[utoipa::path(get, path = "/api/v1/turnaround", params(
    ("department" = Option<String>, Query, description = "department id"),
    ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (Europe/London)"),
    ("to" = Option<String>, Query, description = "last day included, YYYY-MM-DD")),
    responses((status = 200, body = TurnaroundOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_turnaround(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<TurnaroundOut>, ApiError> {
    let form = FormState::from_fields(&fields);
    let report = turnaround::report(
        &state.ctx,
        &actor,
        &TurnaroundInput {
            department: form.value("department").into(),
            from: form.value("from").into(),
            to: form.value("to").into(),
        },
    )
    .await?;
    Ok(Json(TurnaroundOut::from(&report)))
}
