//! The administration and list gaps of the JSON API (issue 3 item 9): the
//! instrument register, panel editing, the request list with filters, a
//! patient's consent decisions, worklists and the result queues. Each is
//! the same use case as a page; errors are problem details.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::instruments;
use benchwork_app::lists;
use benchwork_app::panels::{self, PanelInput};
use benchwork_app::requests::{ConsentInput, ConsentView};
use benchwork_app::results::InstrumentInput;
use benchwork_store::{InstrumentRecord, QueueRecord, WorklistRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};
use crate::api_catalogue::PanelOut;
use crate::forms::FormState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/instruments", get(get_instruments).post(post_instrument))
        .route("/instruments/{id}", get(get_instrument).put(put_instrument))
        .route("/panels", axum::routing::post(post_panel))
        .route("/panels/{code}", axum::routing::put(put_panel))
        .route("/requests", get(get_requests))
        .route(
            "/patients/{id}/consents",
            get(get_consents).post(post_consent),
        )
        .route("/worklists", get(get_worklist))
        .route("/results/queue", get(get_result_queue))
}

/// An instrument of the register.
#[derive(Serialize, ToSchema)]
pub struct InstrumentOut {
    id: String,
    department_id: String,
    name: String,
    /// Discipline code (`blood-sciences`).
    discipline: String,
    location: String,
}

impl From<&InstrumentRecord> for InstrumentOut {
    fn from(record: &InstrumentRecord) -> Self {
        InstrumentOut {
            id: record.id.to_string(),
            department_id: record.department_id.to_string(),
            name: record.name.clone(),
            discipline: record.discipline.clone(),
            location: record.location.clone(),
        }
    }
}

/// A new instrument, or (without `department_id`) a correction of one.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct InstrumentIn {
    /// One of the caller's departments (ignored on correction: an
    /// instrument never changes department).
    department_id: String,
    /// Unique in the department.
    name: String,
    /// Discipline code (`blood-sciences`, `haematology`, ...).
    discipline: String,
    location: String,
}

impl From<InstrumentIn> for InstrumentInput {
    fn from(input: InstrumentIn) -> Self {
        InstrumentInput {
            department: input.department_id,
            name: input.name,
            discipline: input.discipline,
            location: input.location,
        }
    }
}

/// The instruments of the caller's departments.
#[utoipa::path(get, path = "/api/v1/instruments", responses((status = 200, body = [InstrumentOut]), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_instruments(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> Result<Json<Vec<InstrumentOut>>, ApiError> {
    let departments = instruments::list_by_department(&state.ctx, &actor).await?;
    Ok(Json(
        departments
            .iter()
            .flat_map(|department| department.instruments.iter().map(InstrumentOut::from))
            .collect(),
    ))
}

/// Adds an instrument to one of the caller's departments. A name already
/// used in the department is refused (422 on `name`).
#[utoipa::path(post, path = "/api/v1/instruments", request_body = InstrumentIn,
    responses((status = 201, body = InstrumentOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_instrument(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<InstrumentIn>,
) -> Result<(StatusCode, Json<InstrumentOut>), ApiError> {
    let record = instruments::create(&state.ctx, &actor, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(InstrumentOut::from(&record))))
}

/// One instrument of the caller's departments.
#[utoipa::path(get, path = "/api/v1/instruments/{id}", params(("id" = String, Path)),
    responses((status = 200, body = InstrumentOut), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_instrument(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<InstrumentOut>, ApiError> {
    let record = instruments::get(&state.ctx, &actor, &id).await?;
    Ok(Json(InstrumentOut::from(&record)))
}

/// Corrects an instrument's name, discipline and location (audited with
/// before and after). A name taken in the department, or no change, is
/// 422; a correction made by someone else meanwhile is 409.
#[utoipa::path(put, path = "/api/v1/instruments/{id}", params(("id" = String, Path)), request_body = InstrumentIn,
    responses((status = 200, body = InstrumentOut), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub(crate) async fn put_instrument(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<InstrumentIn>,
) -> Result<Json<InstrumentOut>, ApiError> {
    let record = instruments::edit(&state.ctx, &actor, &id, &input.into()).await?;
    Ok(Json(InstrumentOut::from(&record)))
}

/// A panel: its name and member investigation codes in report order.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PanelIn {
    /// Code (`UE`); ignored on edit.
    code: String,
    name: String,
    /// Investigation codes in report order; each in the catalogue, once.
    /// A problem with the member at index N is reported on `member_N`.
    members: Vec<String>,
    /// On edit: the version the change was made from (409 if another
    /// version was made since); omitted = the current one.
    based_on_version: Option<i64>,
}

impl From<PanelIn> for PanelInput {
    fn from(input: PanelIn) -> Self {
        PanelInput {
            code: input.code,
            name: input.name,
            members: input.members,
            based_on_version: input
                .based_on_version
                .map(|version| version.to_string())
                .unwrap_or_default(),
        }
    }
}

/// Adds a panel of investigations already in the catalogue, as version 1.
#[utoipa::path(post, path = "/api/v1/panels", request_body = PanelIn,
    responses((status = 201, body = PanelOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_panel(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<PanelIn>,
) -> Result<(StatusCode, Json<PanelOut>), ApiError> {
    let record = panels::create(&state.ctx, &actor, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(PanelOut::from(&record))))
}

/// Changes a panel's name or members as its next version; the previous
/// version is kept.
#[utoipa::path(put, path = "/api/v1/panels/{code}", params(("code" = String, Path)), request_body = PanelIn,
    responses((status = 200, body = PanelOut), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub(crate) async fn put_panel(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<PanelIn>,
) -> Result<Json<PanelOut>, ApiError> {
    let record = panels::edit(&state.ctx, &actor, &code, &input.into()).await?;
    Ok(Json(PanelOut::from(&record)))
}

/// A request in a list.
#[derive(Serialize, ToSchema)]
pub struct RequestSummaryOut {
    /// The accession number (`BW26-000123`).
    accession: String,
    status: String,
    /// routine or urgent.
    priority: String,
    department_id: String,
    department: String,
    patient_id: String,
    nhs_number: Option<String>,
    patient_name: String,
    requester_name: String,
    location: String,
    created_at: String,
}

/// The requests of the caller's departments, newest first (at most 200),
/// optionally with one status and of one department (code or id).
#[utoipa::path(get, path = "/api/v1/requests", params(
    ("status" = Option<String>, Query, description = "a request status code, for example registered"),
    ("department" = Option<String>, Query, description = "the code or id of one of your departments")),
    responses((status = 200, body = [RequestSummaryOut]), (status = 422, body = crate::api::Problem)))]
pub(crate) async fn get_requests(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<RequestSummaryOut>>, ApiError> {
    let form = FormState::from_fields(&fields);
    let rows = lists::requests(
        &state.ctx,
        &actor,
        form.value("status"),
        form.value("department"),
    )
    .await?;
    Ok(Json(
        rows.iter()
            .map(|(request, patient)| RequestSummaryOut {
                accession: request.accession.clone(),
                status: request.status.clone(),
                priority: request.priority.clone(),
                department_id: request.department_id.to_string(),
                department: request.department_name.clone(),
                patient_id: patient.id.to_string(),
                nhs_number: patient.nhs_number.clone(),
                patient_name: format!("{}, {}", patient.family_name, patient.given_name),
                requester_name: request.requester_name.clone(),
                location: request.location.clone(),
                created_at: request.created_at.to_string(),
            })
            .collect(),
    ))
}

/// One consent decision.
#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    id: String,
    /// Investigation code.
    investigation: String,
    /// given, refused or withdrawn.
    status: String,
    /// verbal, written or electronic.
    method: String,
    /// patient, parent-guardian or other.
    given_by: String,
    recorded_by: String,
    recorded_at: String,
}

/// An investigation that needs consent.
#[derive(Serialize, ToSchema)]
pub struct ConsentOptionOut {
    code: String,
    name: String,
}

/// A patient's consent decisions, newest first (the latest per
/// investigation applies), and the investigations that need consent.
#[derive(Serialize, ToSchema)]
pub struct ConsentsOut {
    decisions: Vec<ConsentOut>,
    requiring_consent: Vec<ConsentOptionOut>,
}

impl From<&ConsentView> for ConsentsOut {
    fn from(view: &ConsentView) -> Self {
        ConsentsOut {
            decisions: view
                .records
                .iter()
                .map(|record| ConsentOut {
                    id: record.id.to_string(),
                    investigation: record.investigation_code.clone(),
                    status: record.status.clone(),
                    method: record.method.clone(),
                    given_by: record.given_by.clone(),
                    recorded_by: record.recorded_by_name.clone(),
                    recorded_at: record.recorded_at.to_string(),
                })
                .collect(),
            requiring_consent: view
                .options
                .iter()
                .map(|(code, name)| ConsentOptionOut {
                    code: code.clone(),
                    name: name.clone(),
                })
                .collect(),
        }
    }
}

/// A consent decision to record.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ConsentIn {
    /// Code of an investigation that needs consent.
    investigation: String,
    /// given, refused or withdrawn (problems are reported on `consent_status`).
    status: String,
    /// verbal, written or electronic.
    method: String,
    /// patient, parent-guardian or other.
    given_by: String,
}

/// A patient's consent decisions (the read is audited).
#[utoipa::path(get, path = "/api/v1/patients/{id}/consents", params(("id" = String, Path)),
    responses((status = 200, body = ConsentsOut), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_consents(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ConsentsOut>, ApiError> {
    let view = lists::patient_consents(&state.ctx, &actor, &id).await?;
    Ok(Json(ConsentsOut::from(&view)))
}

/// Records a consent decision, recorded by the caller; returns the
/// patient's decisions with the new one first.
#[utoipa::path(post, path = "/api/v1/patients/{id}/consents", params(("id" = String, Path)), request_body = ConsentIn,
    responses((status = 201, body = ConsentsOut), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_consent(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConsentIn>,
) -> Result<(StatusCode, Json<ConsentsOut>), ApiError> {
    let view = lists::record_patient_consent(
        &state.ctx,
        &actor,
        &id,
        &ConsentInput {
            investigation: input.investigation,
            status: input.status,
            method: input.method,
            given_by: input.given_by,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ConsentsOut::from(&view))))
}

/// A request line awaiting a result.
#[derive(Serialize, ToSchema)]
pub struct WorklistItemOut {
    accession: String,
    priority: String,
    booked_at: String,
    department: String,
    patient_id: String,
    /// Investigation code.
    investigation: String,
    name: String,
    discipline: String,
    specimen: Option<String>,
    specimen_status: Option<String>,
}

impl From<&WorklistRecord> for WorklistItemOut {
    fn from(row: &WorklistRecord) -> Self {
        WorklistItemOut {
            accession: row.accession.clone(),
            priority: row.priority.clone(),
            booked_at: row.booked_at.to_string(),
            department: row.department_name.clone(),
            patient_id: row.patient_id.to_string(),
            investigation: row.code.clone(),
            name: row.name.clone(),
            discipline: row.discipline.clone(),
            specimen: row.specimen_code.clone(),
            specimen_status: row.specimen_status.clone(),
        }
    }
}

/// The request lines of the caller's departments awaiting a result whose
/// specimen is ready, urgent first then oldest first, optionally for one
/// discipline or instrument (an unknown one is 422, never ignored).
#[utoipa::path(get, path = "/api/v1/worklists", params(
    ("discipline" = Option<String>, Query, description = "a discipline code, for example blood-sciences"),
    ("instrument" = Option<String>, Query, description = "the id of an instrument of one of your departments")),
    responses((status = 200, body = [WorklistItemOut]), (status = 422, body = crate::api::Problem)))]
pub(crate) async fn get_worklist(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<WorklistItemOut>>, ApiError> {
    let form = FormState::from_fields(&fields);
    let rows = instruments::worklist(
        &state.ctx,
        &actor,
        form.value("discipline"),
        form.value("instrument"),
    )
    .await?;
    Ok(Json(rows.iter().map(WorklistItemOut::from).collect()))
}

/// A result waiting in a queue.
#[derive(Serialize, ToSchema)]
pub struct QueueItemOut {
    /// The result's id, for `/results/{id}/verify` or `/authorise`.
    id: String,
    accession: String,
    priority: String,
    booked_at: String,
    department: String,
    patient_id: String,
    investigation: String,
    value: String,
    unit: Option<String>,
    flag: Option<String>,
}

impl From<&QueueRecord> for QueueItemOut {
    fn from(row: &QueueRecord) -> Self {
        QueueItemOut {
            id: row.id.to_string(),
            accession: row.accession.clone(),
            priority: row.priority.clone(),
            booked_at: row.booked_at.to_string(),
            department: row.department_name.clone(),
            patient_id: row.patient_id.to_string(),
            investigation: row.code.clone(),
            value: row.value_text.clone(),
            unit: row.unit.clone(),
            flag: row.flag.clone(),
        }
    }
}

/// One stage of the caller's result queue, urgent first: `verify`
/// (measured results) or `authorise` (verified results the caller neither
/// produced nor verified).
#[utoipa::path(get, path = "/api/v1/results/queue", params(
    ("stage" = String, Query, description = "verify or authorise")),
    responses((status = 200, body = [QueueItemOut]), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_result_queue(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<QueueItemOut>>, ApiError> {
    let form = FormState::from_fields(&fields);
    let rows = lists::result_queue(&state.ctx, &actor, form.value("stage")).await?;
    Ok(Json(rows.iter().map(QueueItemOut::from).collect()))
}
