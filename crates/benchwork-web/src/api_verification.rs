//! Verification, authorisation and amendment in the JSON API: the same use
//! cases as the buttons and the amendment form on the request page (one
//! transaction with the audit event; self-authorisation refused with 403;
//! a wrong state refused with 409).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use benchwork_app::verification::{self, AmendmentInput};
use benchwork_store::ResultReviewRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/results/{id}/verify", post(post_verify))
        .route("/results/{id}/authorise", post(post_authorise))
        .route("/results/{id}/amend", post(post_amend))
}

/// A result after a transition.
#[derive(Serialize, ToSchema)]
pub struct ResultStateOut {
    id: String,
    accession: String,
    investigation: String,
    /// verified, final or amended.
    status: String,
    /// The version now current.
    version: i64,
}

fn state_out(record: &ResultReviewRecord, status: &str, version: i64) -> ResultStateOut {
    ResultStateOut {
        id: record.id.to_string(),
        accession: record.accession.clone(),
        investigation: record.code.clone(),
        status: status.into(),
        version,
    }
}

/// An amendment of a released result.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AmendmentIn {
    /// The new value, as for result entry.
    value: String,
    /// Why the released result is changed (required).
    reason: String,
    /// Codes of the department's comment library to add to the new
    /// version, optional.
    #[serde(default)]
    comment_codes: Vec<String>,
    /// Free-text comment to add to the new version, optional.
    #[serde(default)]
    comment: String,
}

/// Technically verifies a measured result. Verifying twice is 409.
#[utoipa::path(post, path = "/api/v1/results/{id}/verify", params(("id" = String, Path)),
    responses((status = 200, body = ResultStateOut), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_verify(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ResultStateOut>, ApiError> {
    let record = verification::verify_result(&state.ctx, &actor, &id).await?;
    Ok(Json(state_out(&record, "verified", record.version)))
}

/// Authorises and releases a verified result. Authorising an unverified
/// result is 409; authorising a result you verified or produced is 403.
#[utoipa::path(post, path = "/api/v1/results/{id}/authorise", params(("id" = String, Path)),
    responses((status = 200, body = ResultStateOut), (status = 403, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_authorise(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ResultStateOut>, ApiError> {
    let record = verification::authorise_result(&state.ctx, &actor, &id).await?;
    Ok(Json(state_out(&record, "final", record.version)))
}

/// Amends a released result: a new version with a reason; the old version
/// is kept, the report marked amended and the department notified.
/// Calculated results using it are recalculated as amendments with the
/// reason "input amended" (409 while one is not yet authorised). Comments
/// may be added to the new version.
#[utoipa::path(post, path = "/api/v1/results/{id}/amend", params(("id" = String, Path)), request_body = AmendmentIn,
    responses((status = 200, body = ResultStateOut), (status = 422, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_amend(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AmendmentIn>,
) -> Result<Json<ResultStateOut>, ApiError> {
    let (record, version) = verification::amend_result_value(
        &state.ctx,
        &actor,
        &id,
        &AmendmentInput {
            value: input.value,
            reason: input.reason,
            comment_codes: input.comment_codes,
            comment: input.comment,
        },
    )
    .await?;
    Ok(Json(state_out(&record, "amended", version)))
}
