//! Requests and specimens in the JSON API: book a request in (after the
//! identity and consent checks), read one, and record a specimen's custody
//! step.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use benchwork_app::requests::{self, BookingInput, RequestView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", post(post_request))
        .route("/requests/{accession}", get(get_request))
        .route("/specimens/{id}/events", post(post_specimen_event))
}

/// The identifiers read from a request form or wristband; leave out what
/// is not known.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct IdentityIn {
    nhs_number: String,
    hospital_number: String,
    family_name: String,
    given_name: String,
    /// YYYY-MM-DD or DD/MM/YYYY.
    date_of_birth: String,
}

impl From<IdentityIn> for benchwork_app::patients::PatientInput {
    fn from(input: IdentityIn) -> Self {
        benchwork_app::patients::PatientInput {
            nhs_number: input.nhs_number,
            hospital_number: input.hospital_number,
            family_name: input.family_name,
            given_name: input.given_name,
            date_of_birth: input.date_of_birth,
            ..Default::default()
        }
    }
}

/// A request to book in.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RequestIn {
    /// The patient's id.
    patient_id: String,
    /// The identifiers read from the request form: two must match the
    /// patient's record and none contradict it.
    identity: IdentityIn,
    /// Department id; may be left out by someone in one department only.
    department_id: String,
    /// routine or urgent.
    priority: String,
    requester_name: String,
    /// GMC, NMC or local code.
    requester_code: String,
    /// Ward, clinic or practice.
    location: String,
    /// Requesting setting: inpatient, outpatient, emergency or
    /// primary-care; left out or empty means hospital, not stated. It
    /// decides which alert limits apply (primary-care CRP).
    setting: String,
    clinical_details: String,
    /// Investigation codes.
    investigations: Vec<String>,
    /// Panel codes; each books all its members.
    panels: Vec<String>,
}

/// One investigation of a request.
#[derive(Serialize, ToSchema)]
pub struct RequestItemOut {
    code: String,
    name: String,
    /// The catalogue version booked.
    version: i64,
    /// Null for a measurement without specimen.
    specimen_id: Option<String>,
}

/// A specimen.
#[derive(Serialize, ToSchema)]
pub struct SpecimenOut {
    /// The printed specimen id (`SBW26-000123-1`).
    id: String,
    specimen_type: String,
    container: String,
    /// expected, collected, received, accepted, rejected, in-process,
    /// stored or disposed.
    status: String,
    rejection_reason: Option<String>,
    rejection_text: Option<String>,
}

/// A request.
#[derive(Serialize, ToSchema)]
pub struct RequestOut {
    /// The accession number (`BW26-000123`).
    accession: String,
    patient_id: String,
    department_id: String,
    priority: String,
    requester_name: String,
    requester_code: String,
    location: String,
    /// Requesting setting code (hospital for requests booked before it was
    /// recorded).
    setting: String,
    clinical_details: String,
    /// Derived from the lines: registered, in-progress, partially-reported,
    /// completed, or rejected (every specimen rejected, nothing reported).
    status: String,
    created_at: String,
    investigations: Vec<RequestItemOut>,
    specimens: Vec<SpecimenOut>,
}

impl From<&RequestView> for RequestOut {
    fn from(view: &RequestView) -> Self {
        let request = &view.request;
        RequestOut {
            accession: request.accession.clone(),
            patient_id: request.patient_id.to_string(),
            department_id: request.department_id.to_string(),
            priority: request.priority.clone(),
            requester_name: request.requester_name.clone(),
            requester_code: request.requester_code.clone(),
            location: request.location.clone(),
            setting: request.setting.clone(),
            clinical_details: request.clinical_details.clone(),
            status: request.status.clone(),
            created_at: request.created_at.to_string(),
            investigations: view
                .items
                .iter()
                .map(|item| RequestItemOut {
                    code: item.code.clone(),
                    name: item.name.clone(),
                    version: item.version,
                    specimen_id: item.specimen_code.clone(),
                })
                .collect(),
            specimens: view
                .specimens
                .iter()
                .map(|specimen| SpecimenOut {
                    id: specimen.code.clone(),
                    specimen_type: specimen.specimen_type.clone(),
                    container: specimen.container.clone(),
                    status: specimen.status.clone(),
                    rejection_reason: specimen.rejection_reason.clone(),
                    rejection_text: specimen.rejection_text.clone(),
                })
                .collect(),
        }
    }
}

/// Books a request in. Refused (422) when the identifiers do not confirm
/// the patient, when a field is missing, or when an investigation needs
/// consent that is not given; nothing is stored then.
#[utoipa::path(post, path = "/api/v1/requests", request_body = RequestIn,
    responses((status = 201, body = RequestOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_request(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<RequestIn>,
) -> Result<(StatusCode, Json<RequestOut>), ApiError> {
    benchwork_app::require(
        &state.ctx,
        &actor,
        benchwork_domain::staff::Permission::BookRequests,
    )
    .await?;
    let patient = benchwork_domain::ids::PatientId::parse(&input.patient_id).map_err(|_| {
        benchwork_app::AppError::invalid("patient_id", "give the id of a registered patient")
    })?;
    let booking = BookingInput {
        identity: input.identity.into(),
        department: input.department_id,
        priority: input.priority,
        requester_name: input.requester_name,
        requester_code: input.requester_code,
        location: input.location,
        setting: input.setting,
        clinical_details: input.clinical_details,
        investigations: input.investigations,
        panels: input.panels,
    };
    let accession = requests::book(&state.ctx, &actor, patient, &booking).await?;
    let view = requests::get(&state.ctx, &actor, &accession.to_string()).await?;
    Ok((StatusCode::CREATED, Json(RequestOut::from(&view))))
}

/// A request of the caller's departments by accession number.
#[utoipa::path(get, path = "/api/v1/requests/{accession}", params(("accession" = String, Path)),
    responses((status = 200, body = RequestOut), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_request(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(accession): Path<String>,
) -> Result<Json<RequestOut>, ApiError> {
    let view = requests::get(&state.ctx, &actor, &accession).await?;
    Ok(Json(RequestOut::from(&view)))
}

/// A custody step for a specimen.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SpecimenEventIn {
    /// The status to move to: collected, received, accepted, rejected,
    /// in-process, stored or disposed.
    step: String,
    /// For a rejection: unlabelled, mislabelled, haemolysed, clotted,
    /// insufficient, leaked, wrong-container, too-old or other.
    reason: String,
    /// What was seen; required for the reason other.
    reason_text: String,
}

/// Moves a specimen to the next step of its chain of custody; a step out
/// of order is refused (422).
#[utoipa::path(post, path = "/api/v1/specimens/{id}/events", params(("id" = String, Path)), request_body = SpecimenEventIn,
    responses((status = 200, body = SpecimenOut), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_specimen_event(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SpecimenEventIn>,
) -> Result<Json<SpecimenOut>, ApiError> {
    let specimen = requests::record_step(
        &state.ctx,
        &actor,
        &id,
        &input.step,
        &input.reason,
        &input.reason_text,
    )
    .await?;
    Ok(Json(SpecimenOut {
        id: specimen.code,
        specimen_type: specimen.specimen_type,
        container: specimen.container,
        status: specimen.status,
        rejection_reason: specimen.rejection_reason,
        rejection_text: specimen.rejection_text,
    }))
}
