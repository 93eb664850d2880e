//! A patient's cumulative results in the JSON API: without `investigation`,
//! the investigations the patient has results for; with it, that
//! investigation's results, newest first. The same use cases as the pages.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::AppError;
use benchwork_app::cumulative;
use benchwork_domain::ids::PatientId;
use benchwork_domain::result_state::ResultStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{ApiCaller, ApiError};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/patients/{id}/results", get(get_patient_results))
}

/// Which results.
#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct CumulativeQuery {
    /// An investigation code (for example `K`); omit it for the list of
    /// investigations.
    investigation: Option<String>,
}

/// An investigation a patient has results for.
#[derive(Serialize, ToSchema)]
pub struct InvestigationSummaryOut {
    code: String,
    name: String,
    n_results: i64,
    /// RFC 3339, UTC.
    latest_analysed_at: String,
}

/// One result of the cumulative view.
#[derive(Serialize, ToSchema)]
pub struct CumulativeResultOut {
    id: String,
    /// The patient record it was filed under (this one or a merged duplicate).
    patient_id: String,
    accession: String,
    department: String,
    /// RFC 3339, UTC.
    analysed_at: String,
    value: String,
    value_number: Option<f64>,
    unit: Option<String>,
    /// N, L, H, LL or HH; absent when not flagged.
    flag: Option<String>,
    flag_note: Option<String>,
    /// The reference interval that applied to this result.
    reference_low: Option<f64>,
    reference_high: Option<f64>,
    reference_source: Option<String>,
    critical_low: Option<f64>,
    critical_high: Option<f64>,
    /// measured, verified, final or amended.
    status: String,
    /// Whether the result is authorised (final or amended).
    authorised: bool,
    version: i64,
    /// passed, failed or not-applicable.
    delta_outcome: Option<String>,
    delta_detail: Option<String>,
}

/// A patient's cumulative results.
#[derive(Serialize, ToSchema)]
pub struct CumulativeOut {
    patient_id: String,
    /// Set when an investigation was asked for.
    investigation: Option<String>,
    /// Its name.
    investigation_name: Option<String>,
    /// Without `investigation`: the investigations with results.
    investigations: Vec<InvestigationSummaryOut>,
    /// With `investigation`: its results, newest first.
    results: Vec<CumulativeResultOut>,
}

/// A patient's results in the caller's departments, including those filed
/// under records merged into the patient. 404 when an investigation is
/// asked for and there are no results of it the caller may see.
#[utoipa::path(get, path = "/api/v1/patients/{id}/results", params(("id" = String, Path), CumulativeQuery),
    responses((status = 200, body = CumulativeOut), (status = 403, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_patient_results(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    Query(query): Query<CumulativeQuery>,
) -> Result<Json<CumulativeOut>, ApiError> {
    let id = PatientId::parse(&id).map_err(|_| AppError::NotFound)?;
    match query.investigation.filter(|code| !code.trim().is_empty()) {
        None => {
            let view = cumulative::investigations(&state.ctx, &actor, id).await?;
            Ok(Json(CumulativeOut {
                patient_id: view.patient.id.to_string(),
                investigation: None,
                investigation_name: None,
                investigations: view
                    .investigations
                    .into_iter()
                    .map(|row| InvestigationSummaryOut {
                        code: row.code,
                        name: row.name,
                        n_results: row.n_results,
                        latest_analysed_at: row.latest_at.to_string(),
                    })
                    .collect(),
                results: Vec::new(),
            }))
        }
        Some(code) => {
            let view = cumulative::cumulative(&state.ctx, &actor, id, &code).await?;
            Ok(Json(CumulativeOut {
                patient_id: view.patient.id.to_string(),
                investigation: Some(view.code),
                investigation_name: Some(view.name),
                investigations: Vec::new(),
                results: view
                    .results
                    .into_iter()
                    .map(|row| CumulativeResultOut {
                        id: row.id.to_string(),
                        patient_id: row.patient_id.to_string(),
                        accession: row.accession,
                        department: row.department_name,
                        analysed_at: row.analysed_at.to_string(),
                        value: row.value_text,
                        value_number: row.value_number,
                        unit: row.unit,
                        flag: row.flag,
                        flag_note: row.flag_note,
                        reference_low: row.reference_low,
                        reference_high: row.reference_high,
                        reference_source: row.reference_source,
                        critical_low: row.critical_low,
                        critical_high: row.critical_high,
                        authorised: ResultStatus::parse(&row.status)
                            .is_some_and(ResultStatus::is_released),
                        status: row.status,
                        version: row.version,
                        delta_outcome: row.delta_outcome,
                        delta_detail: row.delta_detail,
                    })
                    .collect(),
            }))
        }
    }
}
