//! A patient's cumulative results: the investigations they have results
//! for (`/patients/{id}/results`) and one investigation's results over
//! time with its trend chart (`/patients/{id}/results/{code}`). The table
//! is the chart's text alternative.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::AppError;
use benchwork_app::cumulative::{self, CUMULATIVE_LIMIT};
use benchwork_domain::ids::PatientId;
use benchwork_domain::patient::NhsNumber;
use benchwork_domain::reference::Flag;
use benchwork_domain::result::display_number;
use benchwork_domain::result_state::ResultStatus;
use benchwork_domain::time::display_london;
use benchwork_store::{CumulativeRecord, PatientRecord};

use crate::AppState;
use crate::chart::{Trend, TrendPoint, trend_svg};
use crate::error::WebError;
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/patients/{id}/results", get(get_investigations))
        .route("/patients/{id}/results/{code}", get(get_cumulative))
}

fn parse_patient_id(text: &str) -> Result<PatientId, WebError> {
    PatientId::parse(text).map_err(|_| WebError::App(AppError::NotFound))
}

/// The patient as the heading shows them.
pub(crate) struct PatientHeading {
    pub id: String,
    pub name: String,
    pub nhs_number: String,
    pub date_of_birth: String,
    /// The record this one was merged into, if it was.
    pub merged_into: Option<String>,
}

fn heading(patient: &PatientRecord) -> PatientHeading {
    PatientHeading {
        id: patient.id.to_string(),
        name: format!(
            "{}, {}",
            patient.family_name.to_uppercase(),
            patient.given_name
        ),
        nhs_number: patient
            .nhs_number
            .as_deref()
            .and_then(|digits| NhsNumber::parse(digits).ok())
            .map(|number| number.to_string())
            .unwrap_or_else(|| "Not known".into()),
        date_of_birth: patient
            .date_of_birth
            .parse::<jiff::civil::Date>()
            .map(|date| date.strftime("%d/%m/%Y").to_string())
            .unwrap_or_else(|_| patient.date_of_birth.clone()),
        merged_into: patient.merged_into.map(|id| id.to_string()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "patient_results.html")]
struct InvestigationsPage {
    page: Page,
    patient: PatientHeading,
    /// (code, name, number of results, latest).
    investigations: Vec<(String, String, i64, String)>,
    /// Issue 6: critical-result tasks and their communication record.
    critical: Vec<crate::critical::RecordView>,
}

async fn get_investigations(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let view = cumulative::investigations(&state.ctx, signed_in.actor(), id).await?;
    let patient = heading(&view.patient);
    let critical = crate::critical::record_views(
        &benchwork_app::critical::for_patient(&state.ctx, signed_in.actor(), id).await?,
        state.ctx.now(),
    );
    Ok(InvestigationsPage {
        critical,
        page: Page::new(
            format!("Results for {}", patient.name),
            &signed_in,
            "patients",
            None,
        ),
        patient,
        investigations: view
            .investigations
            .iter()
            .map(|row| {
                (
                    row.code.clone(),
                    row.name.clone(),
                    row.n_results,
                    display_london(row.latest_at),
                )
            })
            .collect(),
    }
    .into_response())
}

/// One row of the cumulative table.
pub(crate) struct CumulativeRow {
    pub analysed: String,
    pub accession: String,
    pub department: String,
    pub value: String,
    pub unit: String,
    /// (flag code, NHS tag colour class) when flagged.
    pub flag: Option<(String, &'static str)>,
    pub flag_note: String,
    pub interval: String,
    pub status: String,
    pub authorised: bool,
    pub delta: String,
    /// The duplicate record it was filed under, when not this one.
    pub filed_under: Option<String>,
}

fn places(result: &CumulativeRecord) -> u8 {
    result
        .decimal_places
        .and_then(|places| u8::try_from(places).ok())
        .unwrap_or(0)
}

fn is_authorised(status: &str) -> bool {
    ResultStatus::parse(status).is_some_and(ResultStatus::is_released)
}

fn cumulative_row(result: &CumulativeRecord, patient: PatientId) -> CumulativeRow {
    let shown = |value: f64| display_number(value, places(result));
    CumulativeRow {
        analysed: display_london(result.analysed_at),
        accession: result.accession.clone(),
        department: result.department_name.clone(),
        value: match result.value_number {
            Some(value) => shown(value),
            None => result.value_text.clone(),
        },
        unit: result.unit.clone().unwrap_or_default(),
        flag: result.flag.as_deref().and_then(|code| {
            let flag = Flag::parse(Some(code))?;
            let colour = match flag {
                Flag::CriticalLow | Flag::CriticalHigh => "nhsuk-tag--red",
                Flag::Low | Flag::High => "nhsuk-tag--orange",
                _ => "nhsuk-tag--green",
            };
            Some((code.to_owned(), colour))
        }),
        flag_note: result.flag_note.clone().unwrap_or_default(),
        interval: match (result.reference_low, result.reference_high) {
            (None, None) => "None applied".to_owned(),
            (low, high) => format!(
                "{} to {}{}",
                low.map(shown).unwrap_or_default(),
                high.map(shown).unwrap_or_default(),
                result
                    .reference_source
                    .as_ref()
                    .map(|source| format!(" ({source})"))
                    .unwrap_or_default()
            ),
        },
        status: ResultStatus::parse(&result.status)
            .map(|status| status.label().to_owned())
            .unwrap_or_else(|| result.status.clone()),
        authorised: is_authorised(&result.status),
        delta: match result.delta_outcome.as_deref() {
            Some("passed") => "Passed".into(),
            Some("failed") => format!(
                "Failed: {}",
                result.delta_detail.clone().unwrap_or_default()
            ),
            Some("not-applicable") => "No previous result to compare".into(),
            Some(other) => other.to_owned(),
            None => "Not applicable".into(),
        },
        filed_under: (result.patient_id != patient).then(|| result.patient_id.to_string()),
    }
}

/// The points of the trend chart: numeric results only.
fn trend_points(results: &[CumulativeRecord]) -> Vec<TrendPoint> {
    results
        .iter()
        .filter_map(|result| {
            Some(TrendPoint {
                at: result.analysed_at,
                value: result.value_number?,
                flag: result.flag.clone(),
                authorised: is_authorised(&result.status),
                reference: (result.reference_low, result.reference_high),
                critical: (result.critical_low, result.critical_high),
            })
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "patient_cumulative.html")]
struct CumulativePage {
    page: Page,
    patient: PatientHeading,
    code: String,
    name: String,
    rows: Vec<CumulativeRow>,
    n_authorised: usize,
    chart: Option<String>,
    at_limit: bool,
    limit: i64,
}

async fn get_cumulative(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, code)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let view = cumulative::cumulative(&state.ctx, signed_in.actor(), id, &code).await?;
    let patient = heading(&view.patient);
    let points = trend_points(&view.results);
    let newest = view.results.first();
    let unit = newest.and_then(|row| row.unit.clone()).unwrap_or_default();
    let chart = trend_svg(&Trend {
        name: &view.name,
        unit: &unit,
        decimal_places: newest.map(places).unwrap_or(0),
        points: &points,
    });
    let rows: Vec<CumulativeRow> = view
        .results
        .iter()
        .map(|result| cumulative_row(result, view.patient.id))
        .collect();
    Ok(CumulativePage {
        page: Page::new(
            format!("{} ({}) for {}", view.name, view.code, patient.name),
            &signed_in,
            "patients",
            None,
        ),
        n_authorised: rows.iter().filter(|row| row.authorised).count(),
        at_limit: view.results.len() as i64 >= CUMULATIVE_LIMIT,
        limit: CUMULATIVE_LIMIT,
        patient,
        code: view.code,
        name: view.name,
        rows,
        chart,
    }
    .into_response())
}
