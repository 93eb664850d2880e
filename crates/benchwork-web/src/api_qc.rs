//! Internal quality control in the JSON API (issue 4): set up materials,
//! lots, targets and rules (ManageQc); record and list QC runs (RecordQc);
//! list holds, read one with the patient results it covers, record its
//! corrective action and the review of each result (ReleaseQcHold).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use benchwork_app::qc::{
    self, EstablishInput, LotInput, MaterialInput, RulesInput, RunInput, TargetInput,
};
use benchwork_app::qc_holds::{self, CorrectiveInput, ReviewInput};
use benchwork_app::{AppError, FieldError};
use benchwork_store::{HoldResultRecord, QcHoldRecord, QcRunRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/qc/materials", post(post_material))
        .route("/qc/lots", post(post_lot))
        .route("/qc/lots/{id}/promote", post(post_promote_lot))
        .route("/qc/lots/{id}/retire", post(post_retire_lot))
        .route("/qc/targets", post(post_target))
        .route("/qc/rules", put(put_rules))
        .route("/qc/runs", get(get_runs).post(post_run))
        .route("/qc/holds", get(get_holds))
        .route("/qc/holds/{id}", get(get_hold))
        .route(
            "/qc/holds/{id}/corrective-action",
            post(post_corrective_action),
        )
        .route("/qc/holds/{id}/reviews", post(post_review))
}

/// A QC material level to add.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcMaterialIn {
    /// Department id (may be omitted when you have one department).
    department: String,
    name: String,
    manufacturer: String,
    /// 1, 2 or 3.
    level: Option<i64>,
}

/// A QC material level.
#[derive(Serialize, ToSchema)]
pub struct QcMaterialOut {
    id: String,
    department_id: String,
    name: String,
    manufacturer: String,
    level: i64,
}

/// A lot to add.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcLotIn {
    /// The material (level) id.
    material: String,
    lot_number: String,
    /// Last day of use, YYYY-MM-DD; an expired lot is refused.
    expires_on: String,
    /// current or parallel.
    status: String,
}

/// A lot.
#[derive(Serialize, ToSchema)]
pub struct QcLotOut {
    id: String,
    material_id: String,
    lot_number: String,
    expires_on: String,
    status: String,
}

/// A target: the manufacturer's mean and SD, or (source "establishing", a
/// parallel lot only) established from the first `establish_n` values of
/// accepted runs.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcTargetIn {
    lot: String,
    instrument: String,
    /// Investigation code, e.g. K.
    investigation: String,
    mean: Option<f64>,
    /// Greater than zero.
    sd: Option<f64>,
    /// "manufacturer" (the default) or "establishing".
    source: Option<String>,
    /// With source "establishing": 10 to 100, 20 when absent.
    establish_n: Option<i64>,
}

/// A target version.
#[derive(Serialize, ToSchema)]
pub struct QcTargetOut {
    id: String,
    lot_id: String,
    instrument_id: String,
    version: i64,
    /// Absent while the target is being established.
    mean: Option<f64>,
    /// Absent while the target is being established.
    sd: Option<f64>,
    /// manufacturer, establishing or established.
    source: String,
    /// How many values establish it (source "establishing").
    establish_n: Option<i64>,
}

/// The rules of an investigation on an instrument.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcRulesIn {
    instrument: String,
    investigation: String,
    /// Rule codes, e.g. "1-2s/1-3s/2-2s/R-4s/4-1s/10x".
    rules: String,
}

/// A rule-set version.
#[derive(Serialize, ToSchema)]
pub struct QcRulesOut {
    instrument_id: String,
    version: i64,
    rules: String,
}

/// One QC value to record.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcValueIn {
    /// The lot id.
    lot: String,
    value: Option<f64>,
}

/// A QC run to record: one value per current lot (and per parallel lot, optionally).
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcRunIn {
    instrument: String,
    investigation: String,
    values: Vec<QcValueIn>,
    comment: String,
}

/// One value of a run.
#[derive(Serialize, ToSchema)]
pub struct QcValueOut {
    level: i64,
    lot_id: String,
    lot_number: String,
    value: f64,
    /// SDs from the target mean (absent without a target).
    z: Option<f64>,
    /// Whether it decides the run (current lot) or runs beside it (parallel).
    decides: bool,
}

/// A rule that fired.
#[derive(Serialize, ToSchema)]
pub struct QcViolationOut {
    rule: String,
    scope: String,
    /// The points: run id and level.
    #[schema(value_type = Object)]
    points: serde_json::Value,
}

/// A QC run.
#[derive(Serialize, ToSchema)]
pub struct QcRunOut {
    id: String,
    instrument_id: String,
    instrument: String,
    investigation: String,
    run_at: String,
    operator: String,
    /// accepted, warning (1-2s only) or rejected.
    decision: String,
    rules: String,
    comment: String,
    values: Vec<QcValueOut>,
    violations: Vec<QcViolationOut>,
}

impl From<&QcRunRecord> for QcRunOut {
    fn from(run: &QcRunRecord) -> Self {
        QcRunOut {
            id: run.id.to_string(),
            instrument_id: run.instrument_id.to_string(),
            instrument: run.instrument_name.clone(),
            investigation: run.investigation_code.clone(),
            run_at: run.run_at.to_string(),
            operator: run.operator_name.clone(),
            decision: run.decision.clone(),
            rules: run.rules.clone(),
            comment: run.comment.clone(),
            values: run
                .values
                .iter()
                .map(|value| QcValueOut {
                    level: value.level,
                    lot_id: value.lot_id.to_string(),
                    lot_number: value.lot_number.clone(),
                    value: value.value,
                    z: value.z,
                    decides: value.decides,
                })
                .collect(),
            violations: run
                .violations
                .iter()
                .map(|violation| QcViolationOut {
                    rule: violation.rule.clone(),
                    scope: violation.scope.clone(),
                    points: serde_json::from_str(&violation.points).unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// A hold on patient results.
#[derive(Serialize, ToSchema)]
pub struct QcHoldOut {
    id: String,
    instrument_id: String,
    instrument: String,
    investigation: String,
    rejected_run_id: String,
    /// Results analysed after this are held; absent: all.
    window_start: Option<String>,
    opened_at: String,
    /// open or released.
    status: String,
    corrective_kind: Option<String>,
    corrective_action: Option<String>,
    corrective_at: Option<String>,
    release_run_id: Option<String>,
    released_at: Option<String>,
}

impl From<&QcHoldRecord> for QcHoldOut {
    fn from(hold: &QcHoldRecord) -> Self {
        QcHoldOut {
            id: hold.id.to_string(),
            instrument_id: hold.instrument_id.to_string(),
            instrument: hold.instrument_name.clone(),
            investigation: hold.investigation_code.clone(),
            rejected_run_id: hold.rejected_run_id.to_string(),
            window_start: hold.window_start.map(|at| at.to_string()),
            opened_at: hold.opened_at.to_string(),
            status: hold.status.clone(),
            corrective_kind: hold.corrective.as_ref().map(|c| c.0.clone()),
            corrective_action: hold.corrective.as_ref().map(|c| c.1.clone()),
            corrective_at: hold.corrective.as_ref().map(|c| c.3.to_string()),
            release_run_id: hold.release_run.map(|(id, _)| id.to_string()),
            released_at: hold.released.map(|(_, at)| at.to_string()),
        }
    }
}

/// A patient result a hold covers.
#[derive(Serialize, ToSchema)]
pub struct HeldResultOut {
    result_id: String,
    accession: String,
    patient_id: String,
    patient: String,
    value: String,
    unit: Option<String>,
    analysed_at: String,
    /// measured, verified (held) or final, amended (released before the hold).
    status: String,
    /// released, withdrawn, confirmed or recalled; absent until reviewed.
    review_outcome: Option<String>,
    review_reason: Option<String>,
}

impl From<&HoldResultRecord> for HeldResultOut {
    fn from(result: &HoldResultRecord) -> Self {
        HeldResultOut {
            result_id: result.result_id.to_string(),
            accession: result.accession.clone(),
            patient_id: result.patient_id.to_string(),
            patient: result.patient_name.clone(),
            value: result.value_text.clone(),
            unit: result.unit.clone(),
            analysed_at: result.analysed_at.to_string(),
            status: result.status.clone(),
            review_outcome: result.review.as_ref().map(|r| r.0.clone()),
            review_reason: result.review.as_ref().map(|r| r.1.clone()),
        }
    }
}

/// A hold with the results it covers.
#[derive(Serialize, ToSchema)]
pub struct QcHoldDetailOut {
    hold: QcHoldOut,
    results: Vec<HeldResultOut>,
}

/// A corrective action.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CorrectiveActionIn {
    /// recalibration, new-reagent, maintenance, new-qc-material or other.
    kind: String,
    description: String,
}

/// The review of one result a hold covers.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct HoldReviewIn {
    result: String,
    /// released or withdrawn (held result); confirmed or recalled (released before).
    outcome: String,
    reason: String,
}

/// Which runs to list.
#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct RunsQuery {
    /// Instrument id.
    instrument: String,
    /// Investigation code.
    investigation: String,
}

fn number(value: Option<f64>) -> String {
    value.map(|number| number.to_string()).unwrap_or_default()
}

/// Adds a QC material level (ManageQc).
#[utoipa::path(post, path = "/api/v1/qc/materials", request_body = QcMaterialIn,
    responses((status = 201, body = QcMaterialOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_material(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<QcMaterialIn>,
) -> Result<(StatusCode, Json<QcMaterialOut>), ApiError> {
    let record = qc::create_material(
        &state.ctx,
        &actor,
        &MaterialInput {
            department: input.department,
            name: input.name,
            manufacturer: input.manufacturer,
            level: input
                .level
                .map(|level| level.to_string())
                .unwrap_or_default(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(QcMaterialOut {
            id: record.id.to_string(),
            department_id: record.department_id.to_string(),
            name: record.name,
            manufacturer: record.manufacturer,
            level: record.level,
        }),
    ))
}

/// Adds a lot of a material (ManageQc). Expired lots and duplicate lot numbers are refused (422).
#[utoipa::path(post, path = "/api/v1/qc/lots", request_body = QcLotIn,
    responses((status = 201, body = QcLotOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_lot(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<QcLotIn>,
) -> Result<(StatusCode, Json<QcLotOut>), ApiError> {
    let record = qc::create_lot(
        &state.ctx,
        &actor,
        &LotInput {
            material: input.material,
            lot_number: input.lot_number,
            expires_on: input.expires_on,
            status: input.status,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(QcLotOut {
            id: record.id.to_string(),
            material_id: record.material_id.to_string(),
            lot_number: record.lot_number,
            expires_on: record.expires_on,
            status: record.status,
        }),
    ))
}

fn lot_out(record: benchwork_store::QcLotRecord) -> QcLotOut {
    QcLotOut {
        id: record.id.to_string(),
        material_id: record.material_id.to_string(),
        lot_number: record.lot_number,
        expires_on: record.expires_on,
        status: record.status,
    }
}

/// Makes a parallel lot current; the current lot of its material is retired in the same transaction
/// (ManageQc). Refused (422) unless the lot is parallel, in date, and has a fixed target wherever the
/// current lot has one.
#[utoipa::path(post, path = "/api/v1/qc/lots/{id}/promote", params(("id" = String, Path)),
    responses((status = 200, body = QcLotOut), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_promote_lot(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<QcLotOut>, ApiError> {
    let record = qc::promote_lot(&state.ctx, &actor, &id).await?;
    Ok(Json(lot_out(record)))
}

/// Why a lot is retired.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct QcLotRetireIn {
    /// Up to 500 characters.
    reason: String,
}

/// Retires a lot with a reason (ManageQc); runs no longer take its values.
#[utoipa::path(post, path = "/api/v1/qc/lots/{id}/retire", params(("id" = String, Path)), request_body = QcLotRetireIn,
    responses((status = 200, body = QcLotOut), (status = 422, body = crate::api::Problem), (status = 404, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_retire_lot(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<QcLotRetireIn>,
) -> Result<Json<QcLotOut>, ApiError> {
    let record = qc::retire_lot(&state.ctx, &actor, &id, &input.reason).await?;
    Ok(Json(lot_out(record)))
}

/// Sets a lot's target on an instrument for an investigation: a new version (ManageQc).
#[utoipa::path(post, path = "/api/v1/qc/targets", request_body = QcTargetIn,
    responses((status = 201, body = QcTargetOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_target(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<QcTargetIn>,
) -> Result<(StatusCode, Json<QcTargetOut>), ApiError> {
    match input.source.as_deref().unwrap_or("manufacturer") {
        "manufacturer" if input.establish_n.is_none() => {}
        "manufacturer" => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "establish_n",
                "establish_n is only for source \"establishing\"",
            )])
            .into());
        }
        "establishing" if input.mean.is_some() || input.sd.is_some() => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "source",
                "a target established from runs has no mean or SD yet",
            )])
            .into());
        }
        "establishing" => {
            let record = qc::establish_target(
                &state.ctx,
                &actor,
                &EstablishInput {
                    lot: input.lot,
                    instrument: input.instrument,
                    investigation: input.investigation,
                    establish_n: input.establish_n.map(|n| n.to_string()).unwrap_or_default(),
                },
            )
            .await?;
            return Ok((
                StatusCode::CREATED,
                Json(QcTargetOut {
                    id: record.id.to_string(),
                    lot_id: record.lot_id.to_string(),
                    instrument_id: record.instrument_id.to_string(),
                    version: record.version,
                    mean: None,
                    sd: None,
                    source: "establishing".into(),
                    establish_n: Some(record.establish_n),
                }),
            ));
        }
        _ => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "source",
                "source is \"manufacturer\" or \"establishing\"",
            )])
            .into());
        }
    }
    let record = qc::set_target(
        &state.ctx,
        &actor,
        &TargetInput {
            lot: input.lot,
            instrument: input.instrument,
            investigation: input.investigation,
            mean: number(input.mean),
            sd: number(input.sd),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(QcTargetOut {
            id: record.id.to_string(),
            lot_id: record.lot_id.to_string(),
            instrument_id: record.instrument_id.to_string(),
            version: record.version,
            mean: Some(record.mean),
            sd: Some(record.sd),
            source: record.source,
            establish_n: None,
        }),
    ))
}

/// Sets the Westgard rules of an investigation on an instrument: a new version (ManageQc).
#[utoipa::path(put, path = "/api/v1/qc/rules", request_body = QcRulesIn,
    responses((status = 200, body = QcRulesOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn put_rules(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<QcRulesIn>,
) -> Result<Json<QcRulesOut>, ApiError> {
    let record = qc::set_rules(
        &state.ctx,
        &actor,
        &RulesInput {
            instrument: input.instrument,
            investigation: input.investigation,
            rules: input.rules,
        },
    )
    .await?;
    Ok(Json(QcRulesOut {
        instrument_id: record.instrument_id.to_string(),
        version: record.version,
        rules: record.rules,
    }))
}

/// Records a QC run, judged by the Westgard rules (RecordQc). A rejected run holds the patient results of its
/// investigation on its instrument since the last accepted run.
#[utoipa::path(post, path = "/api/v1/qc/runs", request_body = QcRunIn,
    responses((status = 201, body = QcRunOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_run(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<QcRunIn>,
) -> Result<(StatusCode, Json<QcRunOut>), ApiError> {
    let run = qc::record_run(
        &state.ctx,
        &actor,
        &RunInput {
            instrument: input.instrument,
            investigation: input.investigation,
            values: input
                .values
                .into_iter()
                .map(|value| (value.lot, number(value.value)))
                .collect(),
            comment: input.comment,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(QcRunOut::from(&run))))
}

/// QC runs of your departments, newest first.
#[utoipa::path(get, path = "/api/v1/qc/runs", params(RunsQuery),
    responses((status = 200, body = [QcRunOut]), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_runs(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(query): Query<RunsQuery>,
) -> Result<Json<Vec<QcRunOut>>, ApiError> {
    let runs = qc::list_runs(
        &state.ctx,
        &actor,
        &query.instrument,
        &query.investigation,
        500,
    )
    .await?;
    Ok(Json(runs.iter().map(QcRunOut::from).collect()))
}

/// Holds on patient results in your departments, open first.
#[utoipa::path(get, path = "/api/v1/qc/holds",
    responses((status = 200, body = [QcHoldOut]), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_holds(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> Result<Json<Vec<QcHoldOut>>, ApiError> {
    let holds = qc_holds::list_holds(&state.ctx, &actor).await?;
    Ok(Json(holds.iter().map(QcHoldOut::from).collect()))
}

/// A hold with the patient results it covers (the reads are audited).
#[utoipa::path(get, path = "/api/v1/qc/holds/{id}", params(("id" = String, Path)),
    responses((status = 200, body = QcHoldDetailOut), (status = 404, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn get_hold(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<QcHoldDetailOut>, ApiError> {
    let (hold, results) = qc_holds::get_hold(&state.ctx, &actor, &id).await?;
    Ok(Json(QcHoldDetailOut {
        hold: QcHoldOut::from(&hold),
        results: results.iter().map(HeldResultOut::from).collect(),
    }))
}

/// Records the corrective action of an open hold (ReleaseQcHold). It does not release the hold by
/// itself: a QC run accepted afterwards does.
#[utoipa::path(post, path = "/api/v1/qc/holds/{id}/corrective-action", params(("id" = String, Path)), request_body = CorrectiveActionIn,
    responses((status = 200, body = QcHoldOut), (status = 422, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_corrective_action(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CorrectiveActionIn>,
) -> Result<Json<QcHoldOut>, ApiError> {
    let hold = qc_holds::record_corrective_action(
        &state.ctx,
        &actor,
        &id,
        &CorrectiveInput {
            kind: input.kind,
            description: input.description,
        },
    )
    .await?;
    Ok(Json(QcHoldOut::from(&hold)))
}

/// Records the review of one result a hold covers (ReleaseQcHold): a held result is released with a
/// reason (after the hold is released) or withdrawn; one released before is confirmed or recalled.
#[utoipa::path(post, path = "/api/v1/qc/holds/{id}/reviews", params(("id" = String, Path)), request_body = HoldReviewIn,
    responses((status = 201, body = HeldResultOut), (status = 422, body = crate::api::Problem), (status = 409, body = crate::api::Problem), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn post_review(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<HoldReviewIn>,
) -> Result<(StatusCode, Json<HeldResultOut>), ApiError> {
    let (_, result, outcome) = qc_holds::review_result(
        &state.ctx,
        &actor,
        &id,
        &ReviewInput {
            result: input.result,
            outcome: input.outcome,
            reason: input.reason.clone(),
        },
    )
    .await?;
    let mut out = HeldResultOut::from(&result);
    out.review_outcome = Some(outcome.code().into());
    out.review_reason = Some(input.reason.trim().into());
    Ok((StatusCode::CREATED, Json(out)))
}
