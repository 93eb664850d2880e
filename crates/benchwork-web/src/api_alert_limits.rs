//! Alert (critical) limits in the JSON API (issue 6 item 1): read an
//! investigation's versions, propose a new one, approve one as a clinical
//! lead (not the proposer).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use benchwork_app::alert_limits::{self, InvestigationLimits, ProposalInput, RuleInput};
use benchwork_store::AlertLimitSetRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/alert-limits/{code}",
            get(get_alert_limits).post(post_alert_limits),
        )
        .route(
            "/alert-limits/{code}/versions/{version}/approve",
            post(post_approve_alert_limits),
        )
}

/// One alert limit. Limits are inclusive: a value at or below `low`, or at
/// or above `high` (or `high_uln_multiple` × the upper reference limit that
/// applies to the patient), is critical.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AlertLimitJson {
    /// `any`, `adult` (16 years or older at collection) or `child`.
    population: String,
    /// `any`, `hospital` or `primary-care`.
    setting: String,
    low: Option<f64>,
    high: Option<f64>,
    high_uln_multiple: Option<f64>,
    /// `urgent` (communicate within 60 minutes) or `same-day` (240 minutes).
    category: String,
}

/// A version of an investigation's alert limits.
#[derive(Serialize, ToSchema)]
pub struct AlertLimitVersionOut {
    version: i64,
    unit: String,
    limits: Vec<AlertLimitJson>,
    source: String,
    source_version: String,
    note: String,
    proposed_by: String,
    proposed_at: String,
    /// Null until approved; an unapproved version is never used.
    approved_by: Option<String>,
    approved_at: Option<String>,
}

/// An investigation's alert limits.
#[derive(Serialize, ToSchema)]
pub struct AlertLimitsOut {
    code: String,
    unit: String,
    /// The version result entry uses; null when none is approved (results
    /// are then never flagged critical).
    in_force: Option<i64>,
    /// Every version, newest first.
    versions: Vec<AlertLimitVersionOut>,
}

/// A proposed version.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct AlertLimitsIn {
    /// Must be the investigation's unit.
    unit: String,
    limits: Vec<AlertLimitJson>,
    /// The source document.
    source: String,
    /// Its version or date.
    source_version: String,
    note: String,
}

fn version_out(record: &AlertLimitSetRecord) -> AlertLimitVersionOut {
    AlertLimitVersionOut {
        version: record.version,
        unit: record.unit.clone(),
        limits: record
            .rules
            .iter()
            .map(|rule| AlertLimitJson {
                population: rule.population.code().into(),
                setting: rule.setting.code().into(),
                low: rule.low,
                high: rule.high,
                high_uln_multiple: rule.high_uln_multiple,
                category: rule.category.code().into(),
            })
            .collect(),
        source: record.source.clone(),
        source_version: record.source_version.clone(),
        note: record.note.clone(),
        proposed_by: record.proposed_by_name.clone(),
        proposed_at: record.proposed_at.to_string(),
        approved_by: record.approved_by_name.clone(),
        approved_at: record.approved_at.map(|at| at.to_string()),
    }
}

fn limits_out(limits: &InvestigationLimits) -> AlertLimitsOut {
    let parts = limits.investigation.definition.parts();
    AlertLimitsOut {
        code: parts.code.as_str().into(),
        unit: match &parts.result_type {
            benchwork_domain::catalogue::ResultType::Numeric { unit, .. } => unit.clone(),
            _ => String::new(),
        },
        in_force: limits.in_force().map(|record| record.version),
        versions: limits.versions.iter().map(version_out).collect(),
    }
}

fn text(value: Option<f64>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// An investigation's alert limits, every version.
#[utoipa::path(get, path = "/api/v1/alert-limits/{code}", params(("code" = String, Path)),
    responses((status = 200, body = AlertLimitsOut), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_alert_limits(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(code): Path<String>,
) -> Result<Json<AlertLimitsOut>, ApiError> {
    let limits = alert_limits::get(&state.ctx, &actor, &code).await?;
    Ok(Json(limits_out(&limits)))
}

/// Proposes a new version (EditCatalogue). It is not used until a clinical
/// lead approves it. Refused (422, nothing stored) for low not below high,
/// a unit other than the investigation's, a multiple of the upper limit for
/// an investigation without one, or a missing source.
#[utoipa::path(post, path = "/api/v1/alert-limits/{code}", params(("code" = String, Path)), request_body = AlertLimitsIn,
    responses((status = 201, body = AlertLimitsOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_alert_limits(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<AlertLimitsIn>,
) -> Result<(StatusCode, Json<AlertLimitsOut>), ApiError> {
    let proposal = ProposalInput {
        unit: input.unit,
        rules: input
            .limits
            .into_iter()
            .map(|rule| RuleInput {
                population: rule.population,
                setting: rule.setting,
                low: text(rule.low),
                high: text(rule.high),
                uln_multiple: text(rule.high_uln_multiple),
                category: rule.category,
            })
            .collect(),
        source: input.source,
        source_version: input.source_version,
        note: input.note,
    };
    alert_limits::propose(&state.ctx, &actor, &code, &proposal).await?;
    let limits = alert_limits::get(&state.ctx, &actor, &code).await?;
    Ok((StatusCode::CREATED, Json(limits_out(&limits))))
}

/// Approves a version (ApproveAlertLimits: clinical scientists and
/// consultants; 403 for its proposer): result entry uses it from now on.
#[utoipa::path(post, path = "/api/v1/alert-limits/{code}/versions/{version}/approve",
    params(("code" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = AlertLimitsOut), (status = 403, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub(crate) async fn post_approve_alert_limits(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path((code, version)): Path<(String, i64)>,
) -> Result<Json<AlertLimitsOut>, ApiError> {
    alert_limits::approve(&state.ctx, &actor, &code, version).await?;
    let limits = alert_limits::get(&state.ctx, &actor, &code).await?;
    Ok(Json(limits_out(&limits)))
}
