//! Results in the JSON API: record the results of a request's lines, the
//! same use case as the entry form (validation, flags, delta checks and
//! the audit trail), all in one transaction. Calculated lines (eGFR,
//! adjusted calcium) are produced from their inputs and refused as input.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use benchwork_app::results::{self, ResultInput};
use benchwork_store::{ResultCommentRecord, ResultRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/requests/{accession}/results", post(post_results))
}

/// One result to record.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ResultIn {
    /// Investigation code on the request (`K`).
    investigation: String,
    /// The value as measured: a number for numeric investigations, one of
    /// the allowed codes for coded ones.
    value: String,
    /// Instrument id, optional.
    instrument: String,
    /// Free-text comment, optional (plain text, up to 500 characters).
    comment: String,
    /// Codes of the department's comment library to add (`HAEM`), optional.
    comment_codes: Vec<String>,
    /// UCUM unit the value is in (`mmol/L`), optional: omitted means the
    /// catalogue's unit. Another unit of the same kind is converted (the
    /// conversion is noted on the result); a unit of another kind (mg/dL
    /// for a catalogue in mmol/L) or a different ratio (% for mmol/mol) is
    /// refused.
    unit: String,
}

/// Results to record for a request.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ResultsIn {
    results: Vec<ResultIn>,
}

/// A recorded result with the interval and flag that applied.
#[derive(Serialize, ToSchema)]
pub struct ResultOut {
    investigation: String,
    /// As entered.
    value: String,
    unit: Option<String>,
    /// N, L, H, LL or HH; absent when not flagged.
    flag: Option<String>,
    /// Why it is not flagged.
    flag_note: Option<String>,
    reference_low: Option<f64>,
    reference_high: Option<f64>,
    reference_source: Option<String>,
    /// passed, failed or not-applicable.
    delta: Option<String>,
    /// For a calculated result, the formula, its version and the inputs;
    /// on an input, why a calculated line using it was not calculated.
    derived_comment: Option<String>,
    instrument: Option<String>,
    /// measured, verified, final or amended.
    status: String,
    /// The free-text comment typed at entry.
    comment: String,
    /// Every comment on the result, coded and free text, oldest first.
    comments: Vec<ResultCommentOut>,
}

/// A comment on a result.
#[derive(Serialize, ToSchema)]
pub struct ResultCommentOut {
    /// The library code, absent for free text.
    code: Option<String>,
    text: String,
    /// The result version it was added to.
    result_version: i64,
    by: String,
    /// RFC 3339, UTC.
    at: String,
}

impl ResultOut {
    /// The result with its comments.
    pub(crate) fn with_comments(result: &ResultRecord, comments: &[ResultCommentRecord]) -> Self {
        let mut out = ResultOut::from(result);
        out.comments = comments
            .iter()
            .filter(|comment| comment.result_id == result.id)
            .map(|comment| ResultCommentOut {
                code: comment.code.clone(),
                text: comment.text.clone(),
                result_version: comment.result_version,
                by: comment.created_by_name.clone(),
                at: comment.created_at.to_string(),
            })
            .collect();
        out
    }
}

impl From<&ResultRecord> for ResultOut {
    fn from(result: &ResultRecord) -> Self {
        ResultOut {
            investigation: result.code.clone(),
            value: result.value_text.clone(),
            unit: result.unit.clone(),
            flag: result.flag.clone(),
            flag_note: result.flag_note.clone(),
            reference_low: result.reference_low,
            reference_high: result.reference_high,
            reference_source: result.reference_source.clone(),
            delta: result.delta_outcome.clone(),
            derived_comment: result.derived_comment.clone(),
            instrument: result.instrument_name.clone(),
            status: result.status.clone(),
            comment: result.comment.clone(),
            comments: Vec::new(),
        }
    }
}

/// Records results for a request's lines; a bad value, an unready or
/// rejected specimen, or a line already resulted is refused (422) and
/// nothing is stored. Returns every result of the request.
#[utoipa::path(post, path = "/api/v1/requests/{accession}/results", params(("accession" = String, Path)), request_body = ResultsIn,
    responses((status = 201, body = Vec<ResultOut>), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_results(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(accession): Path<String>,
    ApiJson(input): ApiJson<ResultsIn>,
) -> Result<(StatusCode, Json<Vec<ResultOut>>), ApiError> {
    let inputs: Vec<ResultInput> = input
        .results
        .into_iter()
        .map(|result| ResultInput {
            investigation: result.investigation,
            value: result.value,
            instrument: result.instrument,
            comment: result.comment,
            comment_codes: result.comment_codes,
            unit: result.unit,
        })
        .collect();
    results::enter(&state.ctx, &actor, &accession, &inputs).await?;
    let view = benchwork_app::requests::get(&state.ctx, &actor, &accession).await?;
    let results = results::results_of(&state.ctx, &view.request).await?;
    let comments = results::comments_of(&state.ctx, &view.request).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            results
                .iter()
                .map(|result| ResultOut::with_comments(result, &comments))
                .collect(),
        ),
    ))
}
