//! The JSON API under `/api/v1`, for machine clients with API tokens
//! (`Authorization: Bearer bwk_…`). Errors are RFC 9457 problem details.
//! The OpenAPI document is served at `/api/v1/openapi.json`.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::incidents::IncidentInput;
use benchwork_app::staff::AccountInput;
use benchwork_app::{Actor, AppError, audit, auth, incidents, notifications, staff};
use benchwork_domain::ids::{IncidentId, UserId};
use benchwork_domain::staff::Permission;
use benchwork_store::{IncidentFilter, IncidentRecord, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::forms::FormState;
use crate::session::source_address;

/// An RFC 9457 problem details response.
#[derive(Debug)]
pub enum ApiError {
    /// An action refused or failed.
    App(AppError),
    /// A request refused before any action: unreadable body, wrong method.
    Request {
        /// The HTTP status.
        status: StatusCode,
        /// The problem type's last path segment.
        kind: &'static str,
        /// Short summary.
        title: &'static str,
        /// What went wrong.
        detail: String,
    },
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError::App(error)
    }
}

/// Problem details (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference identifying the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level problems, for invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// Field name.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let app_error = match self {
            ApiError::App(error) => error,
            ApiError::Request {
                status,
                kind,
                title,
                detail,
            } => {
                return problem_response(status, kind, title, Some(detail), Vec::new());
            }
        };
        let (status, kind, title, detail, errors) = match app_error {
            AppError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-input",
                "The request is not valid",
                None,
                errors
                    .into_iter()
                    .map(|error| ProblemField {
                        field: error.field,
                        message: error.message,
                    })
                    .collect(),
            ),
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                None,
                Vec::new(),
            ),
            AppError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                Some(message),
                Vec::new(),
            ),
            AppError::Unauthenticated(message) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                Some(message),
                Vec::new(),
            ),
            AppError::TooManyAttempts { until } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
                Some(format!("try again after {until}")),
                Vec::new(),
            ),
            AppError::Conflict(message) => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                Some(message),
                Vec::new(),
            ),
            AppError::Internal(error) => {
                let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase();
                tracing::error!(reference, error = format!("{error:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    Some(format!("nothing was saved; reference {reference}")),
                    Vec::new(),
                )
            }
        };
        problem_response(status, kind, title, detail, errors)
    }
}

fn problem_response(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: Option<String>,
    errors: Vec<ProblemField>,
) -> Response {
    {
        let problem = Problem {
            kind: format!("/api/v1/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The caller of an API request, authenticated by bearer token.
pub struct ApiCaller(pub Actor);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "send an API token as 'Authorization: Bearer <token>'".into(),
                )
            })?;
        let source = source_address(parts);
        Ok(ApiCaller(
            auth::authenticate_token(&state.ctx, token, &source).await?,
        ))
    }
}

/// JSON body extractor whose rejections are problem details: 415 without a
/// JSON content type, 413 over the size limit, 400 for a syntax error, 422
/// for JSON of the wrong shape or with NUL characters in text.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::Request {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                kind: "unsupported-media-type",
                title: "Send a JSON body",
                detail: "set 'Content-Type: application/json'".into(),
            });
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::Request {
                status: rejection.status(),
                kind: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "too-large"
                } else {
                    "unreadable-body"
                },
                title: "The request body could not be read",
                detail: rejection.body_text(),
            })?;
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(value)) => {
                if contains_nul(&bytes) {
                    return Err(
                        AppError::invalid("body", "text must not contain NUL characters").into(),
                    );
                }
                Ok(ApiJson(value))
            }
            Err(rejection) if rejection.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                Err(AppError::invalid("body", rejection.body_text()).into())
            }
            Err(rejection) => Err(ApiError::Request {
                status: rejection.status(),
                kind: "invalid-json",
                title: "The request body is not valid JSON",
                detail: rejection.body_text(),
            }),
        }
    }
}

/// Whether a JSON body holds a NUL character, raw or escaped: PostgreSQL
/// cannot store it in text, and no clinical text needs it.
fn contains_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || bytes
            .windows(6)
            .any(|window| window.eq_ignore_ascii_case(b"\\u0000"))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/me", get(get_me))
        .route("/users", get(get_users).post(post_user))
        .route("/users/{id}", get(get_user))
        .route("/incidents", get(get_incidents).post(post_incident))
        .route("/incidents/{id}", get(get_incident).patch(patch_incident))
        .route("/notifications", get(get_notifications))
        .route("/audit-events", get(get_audit_events))
        .route("/patients", get(get_patients).post(post_patient))
        .route("/patients/{id}", get(get_patient))
        .route(
            "/patients/{id}/identity-check",
            axum::routing::post(post_identity_check),
        )
        .route(
            "/patients/{id}/merge",
            axum::routing::post(post_patient_merge),
        )
        .merge(crate::api_catalogue::router())
        .merge(crate::api_requests::router())
        .merge(crate::api_results::router())
        .merge(crate::api_verification::router())
        .merge(crate::api_turnaround::router())
        .merge(crate::api_admin::router())
        .merge(crate::api_reports::router())
        .merge(crate::api_cumulative::router())
        .merge(crate::api_qc_charts::router())
        .merge(crate::api_qc::router())
        .merge(crate::api_alert_limits::router())
        .merge(crate::api_critical::router())
        .method_not_allowed_fallback(|| async {
            ApiError::Request {
                status: StatusCode::METHOD_NOT_ALLOWED,
                kind: "method-not-allowed",
                title: "Method not allowed",
                detail: "see /api/v1/openapi.json for the methods of each path".into(),
            }
        })
        .fallback(|| async { ApiError::App(AppError::NotFound) })
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Benchwork API", version = "1", description = "The JSON API of Benchwork. Authenticate with an API token: `Authorization: Bearer bwk_...` (administrators issue tokens on a staff member's or system identity's page, or with `benchwork user token`). Errors are RFC 9457 problem details."),
    paths(get_me, get_users, post_user, get_user, get_incidents, post_incident, get_incident, patch_incident, get_notifications, get_audit_events,
        get_patients, post_patient, get_patient, post_identity_check, post_patient_merge,
        crate::api_catalogue::get_investigations, crate::api_catalogue::get_investigation, crate::api_catalogue::post_investigation,
        crate::api_catalogue::put_investigation, crate::api_catalogue::get_panels,
        crate::api_requests::post_request, crate::api_requests::get_request, crate::api_requests::post_specimen_event,
        crate::api_results::post_results,
        crate::api_verification::post_verify, crate::api_verification::post_authorise, crate::api_verification::post_amend,
        crate::api_turnaround::get_turnaround,
        crate::api_admin::get_instruments, crate::api_admin::post_instrument, crate::api_admin::get_instrument, crate::api_admin::put_instrument,
        crate::api_admin::post_panel, crate::api_admin::put_panel, crate::api_admin::get_requests, crate::api_admin::get_consents,
        crate::api_admin::post_consent, crate::api_admin::get_worklist, crate::api_admin::get_result_queue,
        crate::api_reports::get_report, crate::api_reports::get_report_pdf,
        crate::api_cumulative::get_patient_results,
        crate::api_qc_charts::get_qc_chart, crate::api_qc_charts::get_qc_statistics,
        crate::api_qc::post_material, crate::api_qc::post_lot, crate::api_qc::post_target, crate::api_qc::put_rules,
        crate::api_qc::post_run, crate::api_qc::get_runs, crate::api_qc::get_holds, crate::api_qc::get_hold,
        crate::api_qc::post_corrective_action, crate::api_qc::post_review,
        crate::api_alert_limits::get_alert_limits, crate::api_alert_limits::post_alert_limits,
        crate::api_alert_limits::post_approve_alert_limits,
        crate::api_critical::get_tasks, crate::api_critical::get_task, crate::api_critical::post_take,
        crate::api_critical::post_attempt, crate::api_critical::post_decision,
        crate::api_qc::post_promote_lot, crate::api_qc::post_retire_lot),
    components(schemas(Problem, ProblemField, Me, UserOut, NewUser, IncidentOut, NewIncidentIn, IncidentUpdateIn, NotificationOut,
        PatientOut, PatientIn, IdentityCheckOut, MergeIn,
        crate::api_catalogue::InvestigationOut, crate::api_catalogue::InvestigationWithHistoryOut, crate::api_catalogue::InvestigationIn,
        crate::api_catalogue::IntervalJson, crate::api_catalogue::CriticalJson, crate::api_catalogue::DeltaRuleJson, crate::api_catalogue::PanelOut,
        crate::api_requests::RequestIn, crate::api_requests::IdentityIn, crate::api_requests::RequestOut, crate::api_requests::RequestItemOut,
        crate::api_requests::SpecimenOut, crate::api_requests::SpecimenEventIn,
        crate::api_results::ResultsIn, crate::api_results::ResultIn, crate::api_results::ResultOut,
        crate::api_verification::ResultStateOut, crate::api_verification::AmendmentIn,
        crate::api_turnaround::TurnaroundOut, crate::api_turnaround::TurnaroundGroupOut, crate::api_turnaround::OverdueLineOut,
        crate::api_admin::InstrumentOut, crate::api_admin::InstrumentIn, crate::api_admin::PanelIn, crate::api_admin::RequestSummaryOut,
        crate::api_admin::ConsentOut, crate::api_admin::ConsentOptionOut, crate::api_admin::ConsentsOut, crate::api_admin::ConsentIn,
        crate::api_admin::WorklistItemOut, crate::api_admin::QueueItemOut,
        benchwork_report::ReportDocument, benchwork_report::ReportPatient, benchwork_report::ReportRequest,
        benchwork_report::ReportSpecimen, benchwork_report::ReportLine, benchwork_report::SignOff, benchwork_report::ReportAmendment,
        crate::api_results::ResultCommentOut,
        crate::api_cumulative::CumulativeOut, crate::api_cumulative::InvestigationSummaryOut, crate::api_cumulative::CumulativeResultOut,
        crate::api_qc_charts::QcChartOut, crate::api_qc_charts::QcChartPointOut, crate::api_qc_charts::QcChartSegmentOut,
        crate::api_qc_charts::QcChartViolationOut, crate::api_qc_charts::QcStatisticsOut, crate::api_qc_charts::QcStatisticsRowOut,
        crate::api_qc::QcMaterialIn, crate::api_qc::QcMaterialOut, crate::api_qc::QcLotIn, crate::api_qc::QcLotOut,
        crate::api_qc::QcTargetIn, crate::api_qc::QcTargetOut, crate::api_qc::QcRulesIn, crate::api_qc::QcRulesOut,
        crate::api_qc::QcValueIn, crate::api_qc::QcRunIn, crate::api_qc::QcValueOut, crate::api_qc::QcViolationOut,
        crate::api_qc::QcRunOut, crate::api_qc::QcHoldOut, crate::api_qc::HeldResultOut, crate::api_qc::QcHoldDetailOut,
        crate::api_qc::CorrectiveActionIn, crate::api_qc::HoldReviewIn,
        crate::api_alert_limits::AlertLimitJson, crate::api_alert_limits::AlertLimitVersionOut,
        crate::api_alert_limits::AlertLimitsOut, crate::api_alert_limits::AlertLimitsIn,
        crate::api_critical::CriticalTaskOut, crate::api_critical::CriticalAttemptOut,
        crate::api_critical::CriticalAttemptIn, crate::api_critical::CriticalDecisionIn,
        crate::api_qc::QcLotRetireIn)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The authenticated caller.
#[derive(Serialize, ToSchema)]
pub struct Me {
    id: String,
    username: String,
    display_name: String,
    kind: String,
    roles: Vec<String>,
    departments: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn get_me(ApiCaller(actor): ApiCaller) -> Json<Me> {
    Json(Me {
        id: actor.id.to_string(),
        username: actor.username.clone(),
        display_name: actor.display_name.clone(),
        kind: actor.kind.code().into(),
        roles: actor
            .roles
            .iter()
            .map(|role| role.code().to_owned())
            .collect(),
        departments: actor.departments.iter().map(ToString::to_string).collect(),
    })
}

/// An account.
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    id: String,
    username: String,
    display_name: String,
    kind: String,
    roles: Vec<String>,
    departments: Vec<String>,
    disabled: bool,
}

impl From<&UserRecord> for UserOut {
    fn from(user: &UserRecord) -> Self {
        UserOut {
            id: user.id.to_string(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            kind: user.kind.clone(),
            roles: user.roles.clone(),
            departments: user.departments.iter().map(ToString::to_string).collect(),
            disabled: user.disabled_at.is_some(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = [UserOut]), (status = 403, body = Problem)))]
async fn get_users(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> Result<Json<Vec<UserOut>>, ApiError> {
    let users = staff::list_accounts(&state.ctx, &actor).await?;
    Ok(Json(
        users
            .iter()
            .filter(|user| user.id != UserId(uuid::Uuid::nil()))
            .map(UserOut::from)
            .collect(),
    ))
}

/// A new account.
#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    username: String,
    display_name: String,
    /// `person` (default) or `system`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    roles: Vec<String>,
    /// Department ids.
    #[serde(default)]
    departments: Vec<String>,
    /// Temporary password, for people.
    #[serde(default)]
    password: String,
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser, responses((status = 201, body = UserOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn post_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let user = staff::create_account(
        &state.ctx,
        &actor,
        &AccountInput {
            username: input.username,
            display_name: input.display_name,
            kind: input.kind,
            roles: input.roles,
            departments: input.departments,
            password: input.password,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(UserOut::from(&user))))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = String, Path)), responses((status = 200, body = UserOut), (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<UserOut>, ApiError> {
    let id = UserId::parse(&id).map_err(|_| AppError::NotFound)?;
    let user = staff::get_account(&state.ctx, &actor, id).await?;
    Ok(Json(UserOut::from(&user)))
}

/// An incident or nonconformity.
#[derive(Serialize, ToSchema)]
pub struct IncidentOut {
    id: String,
    reference: String,
    department_id: String,
    department: String,
    kind: String,
    category: String,
    severity: String,
    status: String,
    title: String,
    description: String,
    outcome: Option<String>,
    raised_by: String,
    owner_id: Option<String>,
    created_at: String,
    updated_at: String,
    closed_at: Option<String>,
}

impl From<&IncidentRecord> for IncidentOut {
    fn from(record: &IncidentRecord) -> Self {
        IncidentOut {
            id: record.id.to_string(),
            reference: benchwork_domain::incident::reference(record.number),
            department_id: record.department_id.to_string(),
            department: record.department_name.clone(),
            kind: record.kind.clone(),
            category: record.category.clone(),
            severity: record.severity.clone(),
            status: record.status.clone(),
            title: record.title.clone(),
            description: record.description.clone(),
            outcome: record.outcome.clone(),
            raised_by: record.raised_by_name.clone(),
            owner_id: record.owner_id.map(|id| id.to_string()),
            created_at: record.created_at.to_string(),
            updated_at: record.updated_at.to_string(),
            closed_at: record.closed_at.map(|at| at.to_string()),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/incidents", params(("status" = Option<String>, Query, description = "open, under-investigation or closed")), responses((status = 200, body = [IncidentOut])))]
async fn get_incidents(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<IncidentOut>>, ApiError> {
    let form = FormState::from_fields(&fields);
    let status = form.value("status");
    if !status.is_empty() && benchwork_domain::incident::IncidentStatus::parse(status).is_none() {
        return Err(AppError::invalid("status", "use open, under-investigation or closed").into());
    }
    let filter = IncidentFilter {
        status: Some(status.to_owned()).filter(|status| !status.is_empty()),
        owner_id: None,
    };
    let records = incidents::list(&state.ctx, &actor, &filter).await?;
    Ok(Json(records.iter().map(IncidentOut::from).collect()))
}

/// A new incident.
#[derive(Deserialize, ToSchema)]
pub struct NewIncidentIn {
    department_id: String,
    /// incident, near-miss or nonconformity.
    kind: String,
    category: String,
    /// no-harm, low, moderate, severe or fatal.
    severity: String,
    title: String,
    description: String,
}

#[utoipa::path(post, path = "/api/v1/incidents", request_body = NewIncidentIn, responses((status = 201, body = IncidentOut), (status = 422, body = Problem)))]
async fn post_incident(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<NewIncidentIn>,
) -> Result<(StatusCode, Json<IncidentOut>), ApiError> {
    let record = incidents::raise(
        &state.ctx,
        &actor,
        &IncidentInput {
            department: input.department_id,
            kind: input.kind,
            category: input.category,
            severity: input.severity,
            title: input.title,
            description: input.description,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(IncidentOut::from(&record))))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", params(("id" = String, Path)), responses((status = 200, body = IncidentOut), (status = 404, body = Problem)))]
async fn get_incident(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<IncidentOut>, ApiError> {
    let id = IncidentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let (record, _links) = incidents::get(&state.ctx, &actor, id).await?;
    Ok(Json(IncidentOut::from(&record)))
}

/// A change of status, owner or outcome.
#[derive(Deserialize, ToSchema)]
pub struct IncidentUpdateIn {
    status: String,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/incidents/{id}", params(("id" = String, Path)), request_body = IncidentUpdateIn, responses((status = 200, body = IncidentOut), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn patch_incident(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<IncidentUpdateIn>,
) -> Result<Json<IncidentOut>, ApiError> {
    let id = IncidentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let record = incidents::update(
        &state.ctx,
        &actor,
        id,
        &input.status,
        input.owner_id.as_deref().unwrap_or(""),
        input.outcome.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(IncidentOut::from(&record)))
}

/// A notification.
#[derive(Serialize, ToSchema)]
pub struct NotificationOut {
    id: String,
    title: String,
    body: String,
    link: Option<String>,
    created_at: String,
    read: bool,
}

#[utoipa::path(get, path = "/api/v1/notifications", responses((status = 200, body = [NotificationOut])))]
async fn get_notifications(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> Result<Json<Vec<NotificationOut>>, ApiError> {
    let inbox = notifications::inbox(&state.ctx, &actor, false).await?;
    Ok(Json(
        inbox
            .into_iter()
            .map(|item| NotificationOut {
                id: item.id.to_string(),
                title: item.title,
                body: item.body,
                link: item.link,
                created_at: item.created_at.to_string(),
                read: item.read_at.is_some(),
            })
            .collect(),
    ))
}

/// Audit events as a FHIR R4 `Bundle` of `AuditEvent` resources, newest
/// first. Filters: `person` (username or id), `patient`, `record`, `from`,
/// `to` (YYYY-MM-DD, Europe/London), `offset`, `limit` (at most 1000).
#[utoipa::path(get, path = "/api/v1/audit-events", params(
    ("person" = Option<String>, Query), ("patient" = Option<String>, Query), ("record" = Option<String>, Query),
    ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "FHIR Bundle of AuditEvent"), (status = 403, body = Problem)))]
async fn get_audit_events(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    benchwork_app::require(&state.ctx, &actor, Permission::ViewAuditTrail).await?;
    let form = FormState::from_fields(&fields);
    let filter = crate::audit::parse_filter(&form).map_err(AppError::Invalid)?;
    let offset = form.value("offset").parse::<i64>().unwrap_or(0).max(0);
    let limit = form
        .value("limit")
        .parse::<i64>()
        .unwrap_or(100)
        .clamp(1, 1000);
    let page = audit::search(&state.ctx, &actor, &filter, limit, offset).await?;
    let entries: Vec<serde_json::Value> = page
        .events
        .iter()
        .map(|(seq, event)| {
            serde_json::json!({
                "fullUrl": format!("urn:uuid:{}", event.id),
                "resource": benchwork_interfaces::fhir::AuditEvent::from_domain(event, *seq),
            })
        })
        .collect();
    let bundle = serde_json::json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "entry": entries,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/fhir+json")],
        Json(bundle),
    )
        .into_response())
}

/// A patient.
#[derive(Serialize, ToSchema)]
pub struct PatientOut {
    id: String,
    nhs_number: Option<String>,
    family_name: String,
    given_name: String,
    /// YYYY-MM-DD.
    date_of_birth: String,
    administrative_sex: String,
    reference_sex: String,
    phone: Option<String>,
    address: Option<String>,
    /// Hospital numbers with their assigning authority.
    identifiers: Vec<Identifier>,
    /// Set when this record is a duplicate merged into another.
    merged_into: Option<String>,
}

/// A hospital number.
#[derive(Serialize, ToSchema)]
pub struct Identifier {
    authority: String,
    value: String,
}

impl From<&benchwork_store::PatientRecord> for PatientOut {
    fn from(patient: &benchwork_store::PatientRecord) -> Self {
        PatientOut {
            id: patient.id.to_string(),
            nhs_number: patient.nhs_number.clone(),
            family_name: patient.family_name.clone(),
            given_name: patient.given_name.clone(),
            date_of_birth: patient.date_of_birth.clone(),
            administrative_sex: patient.administrative_sex.clone(),
            reference_sex: patient.reference_sex.clone(),
            phone: patient.phone.clone(),
            address: patient.address.clone(),
            identifiers: patient
                .identifiers
                .iter()
                .map(|(authority, value)| Identifier {
                    authority: authority.clone(),
                    value: value.clone(),
                })
                .collect(),
            merged_into: patient.merged_into.map(|id| id.to_string()),
        }
    }
}

/// Patient details (also the identifiers confirmed in an identity check).
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PatientIn {
    nhs_number: String,
    hospital_number: String,
    hospital_authority: String,
    family_name: String,
    given_name: String,
    /// YYYY-MM-DD or DD/MM/YYYY.
    date_of_birth: String,
    /// male, female, other or unknown.
    sex: String,
    /// male, female or unknown; empty = from sex.
    reference_sex: String,
    phone: String,
    address: String,
}

impl From<PatientIn> for benchwork_app::patients::PatientInput {
    fn from(input: PatientIn) -> Self {
        benchwork_app::patients::PatientInput {
            nhs_number: input.nhs_number,
            hospital_number: input.hospital_number,
            hospital_authority: input.hospital_authority,
            family_name: input.family_name,
            given_name: input.given_name,
            date_of_birth: input.date_of_birth,
            sex: input.sex,
            reference_sex: input.reference_sex,
            phone: input.phone,
            address: input.address,
        }
    }
}

/// Finds patients: by `nhs_number`, by `hospital_number`, or by
/// `family_name` and `date_of_birth` together. Every patient returned is
/// recorded as read in the audit trail.
#[utoipa::path(get, path = "/api/v1/patients", params(
    ("nhs_number" = Option<String>, Query), ("hospital_number" = Option<String>, Query),
    ("family_name" = Option<String>, Query), ("date_of_birth" = Option<String>, Query)),
    responses((status = 200, body = [PatientOut]), (status = 422, body = Problem)))]
async fn get_patients(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<PatientOut>>, ApiError> {
    let form = FormState::from_fields(&fields);
    let found = benchwork_app::patients::search(
        &state.ctx,
        &actor,
        &benchwork_app::patients::SearchInput {
            nhs_number: form.value("nhs_number").into(),
            hospital_number: form.value("hospital_number").into(),
            family_name: form.value("family_name").into(),
            date_of_birth: form.value("date_of_birth").into(),
        },
    )
    .await?;
    Ok(Json(found.iter().map(PatientOut::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/patients", request_body = PatientIn, responses((status = 201, body = PatientOut), (status = 422, body = Problem)))]
async fn post_patient(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<PatientIn>,
) -> Result<(StatusCode, Json<PatientOut>), ApiError> {
    let patient = benchwork_app::patients::register(&state.ctx, &actor, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(PatientOut::from(&patient))))
}

#[utoipa::path(get, path = "/api/v1/patients/{id}", params(("id" = String, Path)), responses((status = 200, body = PatientOut), (status = 404, body = Problem)))]
async fn get_patient(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<PatientOut>, ApiError> {
    let id = benchwork_domain::ids::PatientId::parse(&id).map_err(|_| AppError::NotFound)?;
    let view = benchwork_app::patients::get(&state.ctx, &actor, id).await?;
    Ok(Json(PatientOut::from(&view.patient)))
}

/// The outcome of a positive identification.
#[derive(Serialize, ToSchema)]
pub struct IdentityCheckOut {
    /// The identifiers that matched the record.
    matched: Vec<String>,
}

/// Checks the identifiers read from a request or specimen against the
/// record: two must match and none may contradict it (422 otherwise).
#[utoipa::path(post, path = "/api/v1/patients/{id}/identity-check", params(("id" = String, Path)), request_body = PatientIn,
    responses((status = 200, body = IdentityCheckOut), (status = 422, body = Problem)))]
async fn post_identity_check(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PatientIn>,
) -> Result<Json<IdentityCheckOut>, ApiError> {
    let id = benchwork_domain::ids::PatientId::parse(&id).map_err(|_| AppError::NotFound)?;
    let confirmed =
        benchwork_app::patients::confirm_identity(&state.ctx, &actor, id, &input.into()).await?;
    Ok(Json(IdentityCheckOut {
        matched: confirmed
            .matched()
            .iter()
            .map(|identifier| identifier.label().to_owned())
            .collect(),
    }))
}

/// A merge of this (duplicate) record into the survivor.
#[derive(Deserialize, ToSchema)]
pub struct MergeIn {
    /// The id of the record to keep.
    survivor: String,
    /// Why the two records are the same patient.
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/patients/{id}/merge", params(("id" = String, Path)), request_body = MergeIn,
    responses((status = 204), (status = 422, body = Problem), (status = 409, body = Problem)))]
async fn post_patient_merge(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MergeIn>,
) -> Result<StatusCode, ApiError> {
    let id = benchwork_domain::ids::PatientId::parse(&id).map_err(|_| AppError::NotFound)?;
    benchwork_app::patients::merge(&state.ctx, &actor, id, &input.survivor, &input.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
