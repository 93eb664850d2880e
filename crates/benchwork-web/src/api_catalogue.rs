//! The catalogue in the JSON API: investigations (each edit a new version)
//! and panels.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::catalogue::{self, IntervalInput, InvestigationInput};
use benchwork_domain::catalogue::{Priority, ResultType, SpecimenRequirement};
use benchwork_store::{InvestigationVersionRecord, PanelRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{ApiCaller, ApiError, ApiJson};
use crate::forms::FormState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/investigations",
            get(get_investigations).post(post_investigation),
        )
        .route(
            "/investigations/{code}",
            get(get_investigation).put(put_investigation),
        )
        .route("/panels", get(get_panels))
}

/// A reference interval.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct IntervalJson {
    /// `male`, `female`, or null for any sex.
    sex: Option<String>,
    /// First day of age covered (0 = birth).
    age_from_days: Option<i64>,
    /// First day of age no longer covered; null = no end.
    age_to_days: Option<i64>,
    low: Option<f64>,
    high: Option<f64>,
    /// Where the interval comes from.
    source: String,
}

/// Critical limits: a value at or beyond either is critical.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CriticalJson {
    low: Option<f64>,
    high: Option<f64>,
    /// The document the limits come from, with its version.
    source: String,
}

/// A delta check rule: a result fails when it changed by more than either
/// limit since the patient's previous result of the same investigation up
/// to `window_days` old. Null on an investigation = the default rule (50%
/// within 365 days). The numbers are checked on the server: limits greater
/// than 0, at least one of them, a window of 1 to 3650 days.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct DeltaRuleJson {
    /// Largest acceptable change in the result's unit.
    absolute: Option<f64>,
    /// Largest acceptable change in percent of the previous value.
    percent: Option<f64>,
    /// How old a previous result may be, in days.
    window_days: Option<i64>,
}

/// One version of an investigation's definition.
#[derive(Serialize, ToSchema)]
pub struct InvestigationOut {
    id: String,
    code: String,
    version: i64,
    current_version: i64,
    name: String,
    loinc: Option<String>,
    snomed: Option<String>,
    discipline: String,
    method: String,
    /// numeric, coded or text.
    result_type: String,
    /// UCUM unit (numeric).
    unit: Option<String>,
    decimal_places: Option<u8>,
    /// Allowed codes (coded).
    coded_values: Vec<String>,
    reportable_low: Option<f64>,
    reportable_high: Option<f64>,
    /// Null for a physiological measurement without specimen.
    specimen_type: Option<String>,
    container: Option<String>,
    tat_routine_minutes: u32,
    tat_urgent_minutes: u32,
    consent_required: bool,
    competency_code: Option<String>,
    sop_code: Option<String>,
    reference_intervals: Vec<IntervalJson>,
    critical_limits: Option<CriticalJson>,
    /// For a calculated investigation, the formula code
    /// (`egfr-ckd-epi-2009`, `adjusted-calcium-payne`); null when measured.
    calculation: Option<String>,
    /// The formula's input investigation codes, in its order.
    calculation_inputs: Vec<String>,
    /// This investigation's delta check rule; null = the default rule.
    delta_rule: Option<DeltaRuleJson>,
    created_by: String,
    created_at: String,
}

impl From<&InvestigationVersionRecord> for InvestigationOut {
    fn from(record: &InvestigationVersionRecord) -> Self {
        let parts = record.definition.parts();
        let (unit, decimal_places, coded_values) = match &parts.result_type {
            ResultType::Numeric {
                unit,
                decimal_places,
            } => (Some(unit.clone()), Some(*decimal_places), Vec::new()),
            ResultType::Coded { codes } => (None, None, codes.clone()),
            ResultType::Text => (None, None, Vec::new()),
        };
        let (specimen_type, container) = match &parts.specimen {
            SpecimenRequirement::Specimen {
                specimen_type,
                container,
            } => (Some(specimen_type.clone()), Some(container.clone())),
            SpecimenRequirement::None => (None, None),
        };
        InvestigationOut {
            id: record.investigation_id.to_string(),
            code: parts.code.to_string(),
            version: record.version,
            current_version: record.current_version,
            name: parts.name.clone(),
            loinc: parts.loinc.as_ref().map(ToString::to_string),
            snomed: parts.snomed.as_ref().map(|code| code.as_str().to_owned()),
            discipline: parts.discipline.code().to_owned(),
            method: parts.method.clone(),
            result_type: parts.result_type.code().to_owned(),
            unit,
            decimal_places,
            coded_values,
            reportable_low: parts.reportable_range.map(|range| range.low()),
            reportable_high: parts.reportable_range.map(|range| range.high()),
            specimen_type,
            container,
            tat_routine_minutes: parts.turnaround.minutes(Priority::Routine),
            tat_urgent_minutes: parts.turnaround.minutes(Priority::Urgent),
            consent_required: parts.consent_required,
            competency_code: parts.competency_code.clone(),
            sop_code: parts.sop_code.clone(),
            reference_intervals: parts
                .reference_intervals
                .iter()
                .map(|interval| IntervalJson {
                    sex: interval.sex().map(|sex| sex.code().to_owned()),
                    age_from_days: Some(interval.age_band().from_days()),
                    age_to_days: interval.age_band().to_days(),
                    low: interval.low(),
                    high: interval.high(),
                    source: interval.source().to_owned(),
                })
                .collect(),
            critical_limits: parts.critical_limits.as_ref().map(|critical| CriticalJson {
                low: critical.limits.low(),
                high: critical.limits.high(),
                source: critical.source.clone(),
            }),
            calculation: parts
                .calculation
                .as_ref()
                .map(|calculation| calculation.formula.code().to_owned()),
            calculation_inputs: parts
                .calculation
                .as_ref()
                .map(|calculation| {
                    calculation
                        .inputs
                        .iter()
                        .map(|code| code.as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
            delta_rule: parts.delta_rule.map(|rule| DeltaRuleJson {
                absolute: rule.absolute(),
                percent: rule.percent(),
                window_days: Some(rule.window_days()),
            }),
            created_by: record.created_by_name.clone(),
            created_at: record.created_at.to_string(),
        }
    }
}

/// An investigation with its version history, newest first.
#[derive(Serialize, ToSchema)]
pub struct InvestigationWithHistoryOut {
    #[serde(flatten)]
    current: InvestigationOut,
    /// Every version, newest first, the current one included.
    versions: Vec<InvestigationOut>,
}

/// A definition to create, or the next version of one. Text fields may be
/// null or left out for empty, so a GET answer can be sent back changed.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct InvestigationIn {
    /// Ignored on PUT: the code in the path is kept.
    code: Option<String>,
    name: Option<String>,
    loinc: Option<String>,
    snomed: Option<String>,
    discipline: Option<String>,
    method: Option<String>,
    /// numeric (default), coded or text.
    result_type: Option<String>,
    unit: Option<String>,
    decimal_places: Option<i64>,
    coded_values: Vec<String>,
    reportable_low: Option<f64>,
    reportable_high: Option<f64>,
    /// Empty with `container` for no specimen.
    specimen_type: Option<String>,
    container: Option<String>,
    tat_routine_minutes: Option<i64>,
    tat_urgent_minutes: Option<i64>,
    consent_required: bool,
    competency_code: Option<String>,
    sop_code: Option<String>,
    reference_intervals: Vec<IntervalJson>,
    critical_limits: Option<CriticalJson>,
    /// On PUT: the version the change is based on; refused with 409 when
    /// another version has been made since.
    based_on_version: Option<i64>,
    /// Formula code of a calculated investigation; null or absent when
    /// measured.
    calculation: Option<String>,
    /// The formula's input investigation codes, in its order.
    calculation_inputs: Vec<String>,
    /// The delta check rule; null or absent = the default rule.
    delta_rule: Option<DeltaRuleJson>,
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

impl From<InvestigationIn> for InvestigationInput {
    fn from(input: InvestigationIn) -> Self {
        let critical = input.critical_limits.unwrap_or_default();
        InvestigationInput {
            code: input.code.unwrap_or_default(),
            name: input.name.unwrap_or_default(),
            loinc: input.loinc.unwrap_or_default(),
            snomed: input.snomed.unwrap_or_default(),
            discipline: input.discipline.unwrap_or_default(),
            method: input.method.unwrap_or_default(),
            result_type: input.result_type.unwrap_or_default(),
            unit: input.unit.unwrap_or_default(),
            decimal_places: text(input.decimal_places),
            coded_values: input.coded_values.join("\n"),
            reportable_low: text(input.reportable_low),
            reportable_high: text(input.reportable_high),
            specimen_type: input.specimen_type.unwrap_or_default(),
            container: input.container.unwrap_or_default(),
            tat_routine: text(input.tat_routine_minutes),
            tat_urgent: text(input.tat_urgent_minutes),
            consent_required: input.consent_required,
            competency_code: input.competency_code.unwrap_or_default(),
            sop_code: input.sop_code.unwrap_or_default(),
            calculation: input.calculation.unwrap_or_default(),
            calculation_inputs: input.calculation_inputs.join(", "),
            delta_absolute: text(input.delta_rule.as_ref().and_then(|rule| rule.absolute)),
            delta_percent: text(input.delta_rule.as_ref().and_then(|rule| rule.percent)),
            delta_window_days: text(input.delta_rule.as_ref().and_then(|rule| rule.window_days)),
            intervals: input
                .reference_intervals
                .into_iter()
                .map(|interval| IntervalInput {
                    sex: interval.sex.unwrap_or_default(),
                    age_from: interval
                        .age_from_days
                        .map(|days| format!("{days}d"))
                        .unwrap_or_default(),
                    age_to: interval
                        .age_to_days
                        .map(|days| format!("{days}d"))
                        .unwrap_or_default(),
                    low: text(interval.low),
                    high: text(interval.high),
                    source: interval.source,
                })
                .collect(),
            critical_low: text(critical.low),
            critical_high: text(critical.high),
            critical_source: critical.source,
            based_on_version: text(input.based_on_version),
        }
    }
}

/// The current version of every investigation; `discipline` narrows to
/// one discipline (blood-sciences, haematology, microbiology,
/// cellular-pathology, cardiac-physiology, respiratory-physiology,
/// audiology, other).
#[utoipa::path(get, path = "/api/v1/investigations", params(("discipline" = Option<String>, Query)),
    responses((status = 200, body = [InvestigationOut]), (status = 422, body = crate::api::Problem)))]
pub(crate) async fn get_investigations(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<InvestigationOut>>, ApiError> {
    let form = FormState::from_fields(&fields);
    let records = catalogue::list(&state.ctx, &actor, form.value("discipline")).await?;
    Ok(Json(records.iter().map(InvestigationOut::from).collect()))
}

/// An investigation's current version with every version made.
#[utoipa::path(get, path = "/api/v1/investigations/{code}", params(("code" = String, Path)),
    responses((status = 200, body = InvestigationWithHistoryOut), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_investigation(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(code): Path<String>,
) -> Result<Json<InvestigationWithHistoryOut>, ApiError> {
    let view = catalogue::get(&state.ctx, &actor, &code).await?;
    Ok(Json(InvestigationWithHistoryOut {
        current: InvestigationOut::from(&view.current),
        versions: view.versions.iter().map(InvestigationOut::from).collect(),
    }))
}

/// Adds an investigation (version 1).
#[utoipa::path(post, path = "/api/v1/investigations", request_body = InvestigationIn,
    responses((status = 201, body = InvestigationOut), (status = 422, body = crate::api::Problem), (status = 403, body = crate::api::Problem)))]
pub(crate) async fn post_investigation(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    ApiJson(input): ApiJson<InvestigationIn>,
) -> Result<(StatusCode, Json<InvestigationOut>), ApiError> {
    let record = catalogue::create(&state.ctx, &actor, &input.into()).await?;
    Ok((StatusCode::CREATED, Json(InvestigationOut::from(&record))))
}

/// Replaces an investigation's definition with a new version; every older
/// version is kept unchanged.
#[utoipa::path(put, path = "/api/v1/investigations/{code}", params(("code" = String, Path)), request_body = InvestigationIn,
    responses((status = 200, body = InvestigationOut), (status = 422, body = crate::api::Problem), (status = 409, body = crate::api::Problem)))]
pub(crate) async fn put_investigation(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<InvestigationIn>,
) -> Result<Json<InvestigationOut>, ApiError> {
    let record = catalogue::edit(&state.ctx, &actor, &code, &input.into()).await?;
    Ok(Json(InvestigationOut::from(&record)))
}

/// A panel.
#[derive(Serialize, ToSchema)]
pub struct PanelOut {
    id: String,
    code: String,
    name: String,
    version: i64,
    /// Member investigation codes, in report order.
    members: Vec<String>,
}

impl From<&PanelRecord> for PanelOut {
    fn from(panel: &PanelRecord) -> Self {
        PanelOut {
            id: panel.id.to_string(),
            code: panel.code.clone(),
            name: panel.name.clone(),
            version: panel.version,
            members: panel.members.iter().map(|(code, _)| code.clone()).collect(),
        }
    }
}

/// Every panel with its members.
#[utoipa::path(get, path = "/api/v1/panels", responses((status = 200, body = [PanelOut])))]
pub(crate) async fn get_panels(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
) -> Result<Json<Vec<PanelOut>>, ApiError> {
    let panels = catalogue::list_panels(&state.ctx, &actor).await?;
    Ok(Json(panels.iter().map(PanelOut::from).collect()))
}
