//! Levey–Jennings chart data and QC statistics in the JSON API: the same
//! figures as the pages.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::qc_charts::{self, ChartInput, QcChart, QcStatistics, StatisticsInput};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError};
use crate::forms::FormState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/qc/charts", get(get_qc_chart))
        .route("/qc/statistics", get(get_qc_statistics))
}

/// One QC value of the chart, in run order.
#[derive(Serialize, ToSchema)]
pub struct QcChartPointOut {
    run_id: String,
    /// When the run was, RFC 3339 UTC.
    run_at: String,
    /// accepted, warning or rejected.
    decision: String,
    lot: String,
    value: f64,
    /// SDs from the target; null while the lot's target was being established.
    z: Option<f64>,
    target_mean: Option<f64>,
    target_sd: Option<f64>,
    /// Codes of the rules whose points include this value.
    rules: Vec<String>,
}

/// A stretch of consecutive values with one lot and one target.
#[derive(Serialize, ToSchema)]
pub struct QcChartSegmentOut {
    /// Index of its first value in `points`.
    first: usize,
    /// Index of its last value.
    last: usize,
    lot: String,
    target_mean: Option<f64>,
    target_sd: Option<f64>,
    /// Set while the lot's target is being established: the target above is
    /// then the running mean and SD of this many values so far.
    establishing_from: Option<usize>,
}

/// A rule that fired on a run of the chart.
#[derive(Serialize, ToSchema)]
pub struct QcChartViolationOut {
    run_at: String,
    rule: String,
    scope: String,
    /// Points of the violation on this chart's level.
    points_here: usize,
    /// All its points.
    points: usize,
}

/// A Levey–Jennings chart's data.
#[derive(Serialize, ToSchema)]
pub struct QcChartOut {
    instrument_id: String,
    instrument_name: String,
    investigation: String,
    investigation_name: String,
    level: i64,
    /// YYYY-MM-DD.
    from: String,
    /// YYYY-MM-DD, included.
    to: String,
    /// The chart's text summary.
    summary: String,
    points: Vec<QcChartPointOut>,
    /// Values of a parallel lot in the same runs (not plotted).
    parallel: Vec<QcChartPointOut>,
    segments: Vec<QcChartSegmentOut>,
    violations: Vec<QcChartViolationOut>,
    /// (when, kind, what was done).
    corrective_actions: Vec<(String, String, String)>,
}

fn point_out(point: &qc_charts::ChartPoint) -> QcChartPointOut {
    QcChartPointOut {
        run_id: point.run_id.to_string(),
        run_at: point.at.to_string(),
        decision: point.decision.clone(),
        lot: point.lot.clone(),
        value: point.value,
        z: point.z,
        target_mean: point.target.map(|(mean, _)| mean),
        target_sd: point.target.map(|(_, sd)| sd),
        rules: point.rules.clone(),
    }
}

impl From<&QcChart> for QcChartOut {
    fn from(chart: &QcChart) -> Self {
        QcChartOut {
            instrument_id: chart.instrument.id.to_string(),
            instrument_name: chart.instrument.name.clone(),
            investigation: chart.investigation_code.clone(),
            investigation_name: chart.investigation_name.clone(),
            level: chart.level,
            from: chart.from.to_string(),
            to: chart.to.to_string(),
            summary: crate::lj_chart::summary(chart),
            points: chart.points.iter().map(point_out).collect(),
            parallel: chart.parallel.iter().map(point_out).collect(),
            segments: chart
                .segments
                .iter()
                .map(|segment| QcChartSegmentOut {
                    first: segment.first,
                    last: segment.last,
                    lot: segment.lot.clone(),
                    target_mean: segment.target.map(|(mean, _)| mean),
                    target_sd: segment.target.map(|(_, sd)| sd),
                    establishing_from: segment.establishing,
                })
                .collect(),
            violations: chart
                .violations
                .iter()
                .map(|violation| QcChartViolationOut {
                    run_at: violation.at.to_string(),
                    rule: violation.rule.clone(),
                    scope: violation.scope.clone(),
                    points_here: violation.points_here,
                    points: violation.points,
                })
                .collect(),
            corrective_actions: chart
                .corrective
                .iter()
                .map(|action| {
                    (
                        action.at.to_string(),
                        action.kind.clone(),
                        action.action.clone(),
                    )
                })
                .collect(),
        }
    }
}

/// The Levey–Jennings chart data of one instrument (of the caller's
/// departments; another's is 404), investigation (code) and level over a
/// range of days (default: the last three months). Invalid filters are 422.
#[utoipa::path(get, path = "/api/v1/qc/charts", params(
    ("instrument" = String, Query, description = "instrument id"),
    ("investigation" = String, Query, description = "investigation code, for example K"),
    ("level" = i64, Query, description = "QC level, 1 to 3"),
    ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (Europe/London)"),
    ("to" = Option<String>, Query, description = "last day included, YYYY-MM-DD"),
    ("lot" = Option<String>, Query, description = "a lot id to draw (for example a parallel lot); default: the lot in use")),
    responses((status = 200, body = QcChartOut), (status = 422, body = crate::api::Problem),
        (status = 404, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_qc_chart(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<QcChartOut>, ApiError> {
    let form = FormState::from_fields(&fields);
    let chart = qc_charts::chart(
        &state.ctx,
        &actor,
        &ChartInput {
            instrument: form.value("instrument").into(),
            investigation: form.value("investigation").into(),
            level: form.value("level").into(),
            from: form.value("from").into(),
            to: form.value("to").into(),
            lot: form.value("lot").into(),
        },
    )
    .await?;
    Ok(Json(QcChartOut::from(&chart)))
}

/// Statistics of one group of QC values.
#[derive(Serialize, ToSchema)]
pub struct QcStatisticsRowOut {
    /// First day of the month (Europe/London), YYYY-MM-DD; null in the comparison.
    month: Option<String>,
    instrument: String,
    level: u8,
    lot: String,
    n: usize,
    mean: f64,
    /// Sample SD (n − 1); null below two values (see `sd_refused`).
    sd: Option<f64>,
    /// Why there is no SD.
    sd_refused: Option<String>,
    cv_percent: Option<f64>,
    /// The mean of the targets the values were judged against.
    target_mean: Option<f64>,
    bias_percent: Option<f64>,
    /// (TEa − |bias|) / CV; null without a TEa.
    sigma: Option<f64>,
}

/// QC statistics per month and lot, and across lots and instruments.
#[derive(Serialize, ToSchema)]
pub struct QcStatisticsOut {
    instrument_id: String,
    instrument_name: String,
    investigation: String,
    investigation_name: String,
    from: String,
    to: String,
    tea_percent: Option<f64>,
    by_month: Vec<QcStatisticsRowOut>,
    comparison: Vec<QcStatisticsRowOut>,
}

fn row_out(row: &qc_charts::StatisticsRow) -> QcStatisticsRowOut {
    let stats = &row.stats;
    QcStatisticsRowOut {
        month: row.month.map(|month| month.to_string()),
        instrument: row.instrument.clone(),
        level: row.level,
        lot: row.lot.clone(),
        n: stats.n,
        mean: stats.mean,
        sd: stats.sd.as_ref().ok().copied(),
        sd_refused: stats.sd.as_ref().err().map(|error| error.to_string()),
        cv_percent: stats.cv_percent,
        target_mean: stats.target_mean,
        bias_percent: stats.bias_percent,
        sigma: stats.sigma,
    }
}

impl From<&QcStatistics> for QcStatisticsOut {
    fn from(statistics: &QcStatistics) -> Self {
        QcStatisticsOut {
            instrument_id: statistics.instrument.id.to_string(),
            instrument_name: statistics.instrument.name.clone(),
            investigation: statistics.investigation_code.clone(),
            investigation_name: statistics.investigation_name.clone(),
            from: statistics.from.to_string(),
            to: statistics.to.to_string(),
            tea_percent: statistics.tea_percent,
            by_month: statistics.by_month.iter().map(row_out).collect(),
            comparison: statistics.comparison.iter().map(row_out).collect(),
        }
    }
}

/// QC statistics of one instrument (of the caller's departments; another's
/// is 404) and investigation per month and lot, with the comparison across
/// lots and instruments. Invalid filters are 422.
#[utoipa::path(get, path = "/api/v1/qc/statistics", params(
    ("instrument" = String, Query, description = "instrument id"),
    ("investigation" = String, Query, description = "investigation code"),
    ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (Europe/London)"),
    ("to" = Option<String>, Query, description = "last day included, YYYY-MM-DD"),
    ("tea" = Option<String>, Query, description = "allowable total error, percent, for the sigma metric")),
    responses((status = 200, body = QcStatisticsOut), (status = 422, body = crate::api::Problem),
        (status = 404, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_qc_statistics(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<QcStatisticsOut>, ApiError> {
    let form = FormState::from_fields(&fields);
    let statistics = qc_charts::statistics(
        &state.ctx,
        &actor,
        &StatisticsInput {
            instrument: form.value("instrument").into(),
            investigation: form.value("investigation").into(),
            from: form.value("from").into(),
            to: form.value("to").into(),
            tea: form.value("tea").into(),
        },
    )
    .await?;
    Ok(Json(QcStatisticsOut::from(&statistics)))
}
