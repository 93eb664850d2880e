//! Alert (critical) limit pages: every numeric investigation with the
//! limits in force and any waiting for approval; one investigation's
//! versions with the approve button for a clinical lead; the form that
//! proposes a new version (issue 6 item 1).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::AppError;
use benchwork_app::alert_limits::{self, FORM_ROWS, InvestigationLimits, ProposalInput, RuleInput};
use benchwork_domain::alert_limits::{AlertLimit, CriticalCategory, LimitSetting, Population};
use benchwork_domain::catalogue::ResultType;
use benchwork_domain::staff::Permission;
use benchwork_store::AlertLimitSetRecord;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/alert-limits", get(get_list))
        .route("/alert-limits/{code}", get(get_show))
        .route(
            "/alert-limits/{code}/propose",
            get(get_propose).post(post_propose),
        )
        .route(
            "/alert-limits/{code}/versions/{version}/approve",
            post(post_approve),
        )
}

fn number(value: f64) -> String {
    format!("{value}")
}

/// One limit as text: "≤ 2.5 or ≥ 6.5 mmol/L", "≥ 15 × upper reference limit".
pub(crate) fn describe_rule(rule: &AlertLimit, unit: &str) -> String {
    let mut parts = Vec::new();
    if let Some(low) = rule.low {
        parts.push(format!("≤ {} {unit}", number(low)));
    }
    if let Some(high) = rule.high {
        parts.push(format!("≥ {} {unit}", number(high)));
    }
    if let Some(multiple) = rule.high_uln_multiple {
        parts.push(format!("≥ {} × upper reference limit", number(multiple)));
    }
    parts.join(" or ")
}

/// One rule as a table row.
struct RuleRow {
    population: String,
    setting: String,
    limits: String,
    category: String,
}

/// One version as shown.
struct VersionRow {
    version: i64,
    state: String,
    rules: Vec<RuleRow>,
    source: String,
    note: String,
    proposed: String,
    approved: String,
    can_approve: bool,
}

fn version_row(
    record: &AlertLimitSetRecord,
    in_force: Option<i64>,
    actor_id: benchwork_domain::ids::UserId,
    may_approve: bool,
) -> VersionRow {
    let state = match (record.approved_at, in_force) {
        (Some(_), Some(version)) if version == record.version => "In force",
        (Some(_), _) => "Superseded",
        (None, Some(version)) if version > record.version => "Not approved (superseded)",
        (None, _) => "Waiting for approval: not used",
    };
    VersionRow {
        version: record.version,
        state: state.into(),
        rules: record
            .rules
            .iter()
            .map(|rule| RuleRow {
                population: rule.population.label().into(),
                setting: rule.setting.label().into(),
                limits: describe_rule(rule, &record.unit),
                category: rule.category.label().into(),
            })
            .collect(),
        source: format!("{} ({})", record.source, record.source_version),
        note: record.note.clone(),
        proposed: format!(
            "{} on {}",
            record.proposed_by_name,
            benchwork_domain::time::display_london(record.proposed_at)
        ),
        approved: match (&record.approved_by_name, record.approved_at) {
            (Some(name), Some(at)) => {
                format!("{name} on {}", benchwork_domain::time::display_london(at))
            }
            _ => "Not approved".into(),
        },
        can_approve: may_approve
            && record.approved_at.is_none()
            && record.proposed_by != actor_id
            && in_force.is_none_or(|version| version < record.version),
    }
}

/// One investigation in the list.
struct ListRow {
    code: String,
    name: String,
    in_force: String,
    pending: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "alert_limits_list.html")]
struct ListPage {
    page: Page,
    rows: Vec<ListRow>,
}

fn list_row(limits: &InvestigationLimits) -> ListRow {
    let parts = limits.investigation.definition.parts();
    ListRow {
        code: parts.code.as_str().into(),
        name: parts.name.clone(),
        in_force: match limits.in_force() {
            Some(record) => format!(
                "Version {}: {}",
                record.version,
                record
                    .rules
                    .iter()
                    .map(|rule| format!(
                        "{} ({}, {})",
                        describe_rule(rule, &record.unit),
                        rule.population.code(),
                        rule.setting.code()
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            None => "None approved: results are not flagged critical".into(),
        },
        pending: limits.pending().len(),
    }
}

async fn get_list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let all = alert_limits::list(&state.ctx, signed_in.actor()).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = ListPage {
        page: Page::new("Alert limits", &signed_in, "catalogue", flash),
        rows: all.iter().map(list_row).collect(),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

#[derive(Template, WebTemplate)]
#[template(path = "alert_limit_show.html")]
struct ShowPage {
    page: Page,
    code: String,
    name: String,
    unit: String,
    in_force: Option<i64>,
    versions: Vec<VersionRow>,
    can_propose: bool,
}

async fn get_show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let limits = alert_limits::get(&state.ctx, actor, &code).await?;
    let parts = limits.investigation.definition.parts();
    let in_force = limits.in_force().map(|record| record.version);
    let may_approve = actor.can(Permission::ApproveAlertLimits);
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = ShowPage {
        page: Page::new(
            format!("Alert limits: {}", parts.name),
            &signed_in,
            "catalogue",
            flash,
        ),
        code: parts.code.as_str().into(),
        name: parts.name.clone(),
        unit: unit_of(&limits),
        in_force,
        versions: limits
            .versions
            .iter()
            .map(|record| version_row(record, in_force, actor.id, may_approve))
            .collect(),
        can_propose: actor.can(Permission::EditCatalogue),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

fn unit_of(limits: &InvestigationLimits) -> String {
    match &limits.investigation.definition.parts().result_type {
        ResultType::Numeric { unit, .. } => unit.clone(),
        _ => String::new(),
    }
}

/// A select repeated on every limit row: (field, label, options).
type SelectRow = (&'static str, &'static str, Vec<(String, String)>);

#[derive(Template, WebTemplate)]
#[template(path = "alert_limit_form.html")]
struct FormPage {
    page: Page,
    form: FormState,
    code: String,
    unit: String,
    rows: Vec<usize>,
    /// Per row: (field, label, options).
    selects: Vec<SelectRow>,
    /// Per row: (field, label).
    numbers: Vec<(&'static str, &'static str)>,
    /// Once: (field, label, hint).
    texts: Vec<(&'static str, &'static str, &'static str)>,
}

impl FormPage {
    fn field(&self, name: &str, row: &usize) -> String {
        format!("{name}-{row}")
    }
}

fn form_page(signed_in: &SignedIn, form: FormState, limits: &InvestigationLimits) -> FormPage {
    let parts = limits.investigation.definition.parts();
    FormPage {
        page: Page::new(
            format!("Propose alert limits: {}", parts.name),
            signed_in,
            "catalogue",
            None,
        )
        .with_errors(form.has_errors()),
        form,
        code: parts.code.as_str().into(),
        unit: unit_of(limits),
        rows: (1..=FORM_ROWS).collect(),
        selects: vec![
            (
                "population",
                "Population",
                Population::ALL
                    .iter()
                    .map(|population| (population.code().into(), population.label().into()))
                    .collect(),
            ),
            (
                "setting",
                "Requests from",
                LimitSetting::ALL
                    .iter()
                    .map(|setting| (setting.code().into(), setting.label().into()))
                    .collect(),
            ),
            (
                "category",
                "Category",
                CriticalCategory::ALL
                    .iter()
                    .map(|category| (category.code().into(), category.label().into()))
                    .collect(),
            ),
        ],
        numbers: vec![
            ("low", "Critical low (at or below)"),
            ("high", "Critical high (at or above)"),
            (
                "uln_multiple",
                "Or critical high as a multiple of the upper reference limit",
            ),
        ],
        texts: vec![
            (
                "source",
                "Source document",
                "For example RCPath G158 The communication of critical and unexpected pathology results",
            ),
            (
                "source_version",
                "Source version or date",
                "For example October 2017",
            ),
            (
                "note",
                "Note",
                "What changed, or what a local clinical lead must confirm (optional)",
            ),
        ],
    }
}

async fn get_propose(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::EditCatalogue).await?;
    let limits = alert_limits::get(&state.ctx, actor, &code).await?;
    // Start from the latest version, so a change is an edit of it.
    let mut form = FormState::default();
    form.set("unit", unit_of(&limits));
    if let Some(latest) = limits.versions.first() {
        form.set("source", latest.source.clone());
        form.set("source_version", latest.source_version.clone());
        for (index, rule) in latest.rules.iter().enumerate().take(FORM_ROWS) {
            let row = index + 1;
            let text = |value: Option<f64>| value.map(number).unwrap_or_default();
            form.set(&format!("population-{row}"), rule.population.code());
            form.set(&format!("setting-{row}"), rule.setting.code());
            form.set(&format!("low-{row}"), text(rule.low));
            form.set(&format!("high-{row}"), text(rule.high));
            form.set(&format!("uln_multiple-{row}"), text(rule.high_uln_multiple));
            form.set(&format!("category-{row}"), rule.category.code());
        }
    }
    Ok(form_page(&signed_in, form, &limits).into_response())
}

fn input_of(form: &FormState) -> ProposalInput {
    ProposalInput {
        unit: form.value("unit").into(),
        rules: (1..=FORM_ROWS)
            .map(|row| RuleInput {
                population: form.value(&format!("population-{row}")).into(),
                setting: form.value(&format!("setting-{row}")).into(),
                low: form.value(&format!("low-{row}")).into(),
                high: form.value(&format!("high-{row}")).into(),
                uln_multiple: form.value(&format!("uln_multiple-{row}")).into(),
                category: form.value(&format!("category-{row}")).into(),
            })
            .collect(),
        source: form.value("source").into(),
        source_version: form.value("source_version").into(),
        note: form.value("note").into(),
    }
}

async fn post_propose(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let form = FormState::from_fields(&fields);
    match alert_limits::propose(&state.ctx, actor, &code, &input_of(&form)).await {
        Ok(version) => Ok(redirect_with_flash(
            &state,
            &format!("/alert-limits/{}", code.trim()),
            &format!(
                "Version {version} proposed: it is not used until a clinical lead approves it"
            ),
        )),
        Err(AppError::Invalid(errors)) => {
            let limits = alert_limits::get(&state.ctx, actor, &code).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&signed_in, form.with_errors(errors), &limits),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_approve(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((code, version)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let version: i64 = version
        .trim()
        .parse()
        .map_err(|_| WebError::App(AppError::NotFound))?;
    alert_limits::approve(&state.ctx, signed_in.actor(), &code, version).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/alert-limits/{}", code.trim()),
        &format!("Version {version} approved: result entry uses it from now on"),
    ))
}
