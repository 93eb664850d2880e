//! The Levey–Jennings chart page, its SVG export and the QC statistics page
//! (issue 4 items 4 and 6). Forms are GET, so a chart is a link; an invalid
//! filter comes back as 422 with the error summary and the entry kept.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::AppError;
use benchwork_app::qc_charts::{
    self, ChartInput, QcChart, QcStatistics, StatisticsInput, StatisticsRow,
};
use benchwork_domain::time::display_london;
use benchwork_store::QcSeriesRecord;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::lj_chart::{levey_jennings_svg, summary};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/qc/charts", get(get_qc_chart))
        .route("/qc/charts.svg", get(get_qc_chart_svg))
        .route("/qc/statistics", get(get_qc_statistics))
}

/// (value, label) options of the selects, from the series with QC values.
struct Choices {
    instruments: Vec<(String, String)>,
    investigations: Vec<(String, String)>,
}

fn choices_of(series: &[QcSeriesRecord]) -> Choices {
    let mut instruments: Vec<(String, String)> = Vec::new();
    let mut investigations: Vec<(String, String)> = Vec::new();
    for record in series {
        let instrument = (
            record.instrument_id.to_string(),
            record.instrument_name.clone(),
        );
        if !instruments.contains(&instrument) {
            instruments.push(instrument);
        }
        let investigation = (
            record.investigation_code.clone(),
            format!(
                "{} ({})",
                record.investigation_name, record.investigation_code
            ),
        );
        if !investigations.contains(&investigation) {
            investigations.push(investigation);
        }
    }
    investigations.sort();
    Choices {
        instruments,
        investigations,
    }
}

/// Three decimals, or the text given for nothing.
fn fixed(value: Option<f64>, places: usize, none: &str) -> String {
    value.map_or_else(|| none.to_owned(), |value| format!("{value:.places$}"))
}

fn signed_z(z: f64) -> String {
    if z > 0.0 {
        format!("+{z:.2}")
    } else {
        format!("{z:.2}")
    }
}

/// One row of the chart's data table.
struct PointRow {
    at: String,
    lot: String,
    value: String,
    z: String,
    target: String,
    decision: String,
    rules: String,
}

struct ChartView {
    heading: String,
    svg: String,
    summary: String,
    export: String,
    /// Other lots of the chart's runs to draw instead: (link, lot number).
    lots: Vec<(String, String)>,
    rows: Vec<PointRow>,
    parallel: Vec<PointRow>,
    /// (when, rule, scope, points on this level of all points).
    violations: Vec<(String, String, String, String)>,
    /// (when, kind, action).
    corrective: Vec<(String, String, String)>,
}

fn point_row(point: &qc_charts::ChartPoint) -> PointRow {
    PointRow {
        at: display_london(point.at),
        lot: point.lot.clone(),
        value: format!("{:.3}", point.value),
        z: point.z.map(signed_z).unwrap_or_else(|| "no target".into()),
        target: point
            .target
            .map(|(mean, sd)| format!("{mean:.3} (SD {sd:.3})"))
            .unwrap_or_else(|| "being established".into()),
        decision: point.decision.clone(),
        rules: point.rules.join(", "),
    }
}

fn view_of(chart: &QcChart) -> ChartView {
    ChartView {
        heading: format!(
            "{} ({}), level {}, {}: {} to {}",
            chart.investigation_name,
            chart.investigation_code,
            chart.level,
            chart.instrument.name,
            chart.from.strftime("%-d %b %Y"),
            chart.to.strftime("%-d %b %Y")
        ),
        svg: levey_jennings_svg(chart),
        summary: summary(chart),
        export: format!(
            "/qc/charts.svg?instrument={}&investigation={}&level={}&from={}&to={}{}",
            chart.instrument.id,
            urlencoding(&chart.investigation_code),
            chart.level,
            chart.from,
            chart.to,
            chart
                .lot
                .map(|lot| format!("&lot={lot}"))
                .unwrap_or_default()
        ),
        lots: {
            let mut lots: Vec<(String, String)> = Vec::new();
            for point in chart.points.iter().chain(&chart.parallel) {
                if chart.lot != Some(point.lot_id)
                    && !lots.iter().any(|(_, number)| *number == point.lot)
                {
                    lots.push((
                        format!(
                            "/qc/charts?instrument={}&investigation={}&level={}&from={}&to={}&lot={}",
                            chart.instrument.id,
                            urlencoding(&chart.investigation_code),
                            chart.level,
                            chart.from,
                            chart.to,
                            point.lot_id
                        ),
                        point.lot.clone(),
                    ));
                }
            }
            if lots.len() < 2 && chart.lot.is_none() {
                lots.clear();
            }
            lots
        },
        rows: chart.points.iter().map(point_row).collect(),
        parallel: chart.parallel.iter().map(point_row).collect(),
        violations: chart
            .violations
            .iter()
            .map(|violation| {
                (
                    display_london(violation.at),
                    violation.rule.clone(),
                    violation.scope.clone(),
                    format!("{} of {}", violation.points_here, violation.points),
                )
            })
            .collect(),
        corrective: chart
            .corrective
            .iter()
            .map(|action| {
                (
                    display_london(action.at),
                    action.kind.clone(),
                    action.action.clone(),
                )
            })
            .collect(),
    }
}

/// Percent-encodes a query value (investigation codes are short and mostly
/// letters, but a code is the catalogue's to choose).
fn urlencoding(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_chart.html")]
struct QcChartPage {
    page: Page,
    form: FormState,
    choices: Choices,
    chart: Option<ChartView>,
}

fn chart_input(form: &FormState) -> ChartInput {
    ChartInput {
        instrument: form.value("instrument").into(),
        investigation: form.value("investigation").into(),
        level: form.value("level").into(),
        from: form.value("from").into(),
        to: form.value("to").into(),
        lot: form.value("lot").into(),
    }
}

async fn get_qc_chart(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let mut form = FormState::from_fields(&fields);
    let series = qc_charts::series(&state.ctx, actor).await?;
    let asked = ["instrument", "investigation", "level", "from", "to"]
        .iter()
        .any(|field| !form.value(field).trim().is_empty());
    let (status, chart) = if !asked {
        (StatusCode::OK, None)
    } else {
        match qc_charts::chart(&state.ctx, actor, &chart_input(&form)).await {
            Ok(chart) => {
                form.set("from", chart.from.to_string());
                form.set("to", chart.to.to_string());
                (StatusCode::OK, Some(view_of(&chart)))
            }
            Err(AppError::Invalid(errors)) => {
                form = form.with_errors(errors);
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
            Err(error) => return Err(error.into()),
        }
    };
    let page = QcChartPage {
        page: Page::new("QC charts", &signed_in, "qc", None).with_errors(form.has_errors()),
        form,
        choices: choices_of(&series),
        chart,
    };
    Ok((status, page).into_response())
}

async fn get_qc_chart_svg(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let chart = qc_charts::chart(&state.ctx, signed_in.actor(), &chart_input(&form)).await?;
    let filename: String = format!(
        "levey-jennings-{}-level-{}-{}-to-{}.svg",
        chart.investigation_code, chart.level, chart.from, chart.to
    )
    .chars()
    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
    .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "image/svg+xml; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        levey_jennings_svg(&chart),
    )
        .into_response())
}

/// One row of a statistics table.
struct StatsRow {
    month: String,
    instrument: String,
    level: u8,
    lot: String,
    n: usize,
    mean: String,
    sd: String,
    cv: String,
    target: String,
    bias: String,
    sigma: String,
}

fn stats_row(row: &StatisticsRow) -> StatsRow {
    let stats = &row.stats;
    StatsRow {
        month: row
            .month
            .map(|month| month.strftime("%B %Y").to_string())
            .unwrap_or_default(),
        instrument: row.instrument.clone(),
        level: row.level,
        lot: row.lot.clone(),
        n: stats.n,
        mean: format!("{:.3}", stats.mean),
        sd: match &stats.sd {
            Ok(sd) => format!("{sd:.3}"),
            Err(error) => error.to_string(),
        },
        cv: fixed(stats.cv_percent, 2, "—"),
        target: fixed(stats.target_mean, 3, "no target"),
        bias: fixed(stats.bias_percent, 2, "—"),
        sigma: fixed(stats.sigma, 2, "—"),
    }
}

struct StatisticsView {
    heading: String,
    by_month: Vec<StatsRow>,
    comparison: Vec<StatsRow>,
    tea: String,
}

fn statistics_view(statistics: &QcStatistics) -> StatisticsView {
    StatisticsView {
        heading: format!(
            "{} ({}), {}: {} to {}",
            statistics.investigation_name,
            statistics.investigation_code,
            statistics.instrument.name,
            statistics.from.strftime("%-d %b %Y"),
            statistics.to.strftime("%-d %b %Y")
        ),
        by_month: statistics.by_month.iter().map(stats_row).collect(),
        comparison: statistics.comparison.iter().map(stats_row).collect(),
        tea: statistics
            .tea_percent
            .map(|tea| format!("{tea} %"))
            .unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_statistics.html")]
struct QcStatisticsPage {
    page: Page,
    form: FormState,
    choices: Choices,
    statistics: Option<StatisticsView>,
}

async fn get_qc_statistics(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let mut form = FormState::from_fields(&fields);
    let series = qc_charts::series(&state.ctx, actor).await?;
    let asked = ["instrument", "investigation", "from", "to", "tea"]
        .iter()
        .any(|field| !form.value(field).trim().is_empty());
    let input = StatisticsInput {
        instrument: form.value("instrument").into(),
        investigation: form.value("investigation").into(),
        from: form.value("from").into(),
        to: form.value("to").into(),
        tea: form.value("tea").into(),
    };
    let (status, statistics) = if !asked {
        (StatusCode::OK, None)
    } else {
        match qc_charts::statistics(&state.ctx, actor, &input).await {
            Ok(statistics) => {
                form.set("from", statistics.from.to_string());
                form.set("to", statistics.to.to_string());
                (StatusCode::OK, Some(statistics_view(&statistics)))
            }
            Err(AppError::Invalid(errors)) => {
                form = form.with_errors(errors);
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
            Err(error) => return Err(error.into()),
        }
    };
    let page = QcStatisticsPage {
        page: Page::new("QC statistics", &signed_in, "qc", None).with_errors(form.has_errors()),
        form,
        choices: choices_of(&series),
        statistics,
    };
    Ok((status, page).into_response())
}
