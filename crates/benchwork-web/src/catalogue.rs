//! Catalogue pages: the list of investigations (by discipline) and panels,
//! one investigation with every field and its version history, and the
//! form that creates an investigation or makes its next version.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use benchwork_app::catalogue::{self, IntervalInput, InvestigationInput};
use benchwork_app::{AppError, FieldError};
use benchwork_domain::catalogue::{
    Discipline, Priority, ResultType, SpecimenRequirement, format_age,
};
use benchwork_domain::staff::Permission;
use benchwork_store::InvestigationVersionRecord;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/catalogue", get(get_catalogue).post(post_investigation))
        .route("/catalogue/new", get(get_new_investigation))
        .route("/catalogue/{code}", get(get_investigation))
        .route(
            "/catalogue/{code}/edit",
            get(get_edit_investigation).post(post_edit_investigation),
        )
}

type Field = (&'static str, &'static str, &'static str);

/// How many empty interval rows the form offers for adding intervals.
const BLANK_INTERVAL_ROWS: usize = 2;
/// The most interval rows a form submission is read for.
const MAX_INTERVAL_ROWS: usize = 50;

fn number(value: Option<f64>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// One investigation as the list shows it.
struct ListRow {
    code: String,
    name: String,
    loinc: String,
    discipline: String,
    unit: String,
    specimen: String,
    version: i64,
}

fn specimen_text(specimen: &SpecimenRequirement) -> String {
    match specimen {
        SpecimenRequirement::Specimen {
            specimen_type,
            container,
        } => format!("{specimen_type}, {container}"),
        SpecimenRequirement::None => "No specimen (physiological measurement)".into(),
    }
}

fn unit_text(result_type: &ResultType) -> String {
    match result_type {
        ResultType::Numeric { unit, .. } => unit.clone(),
        ResultType::Coded { .. } => "Coded".into(),
        ResultType::Text => "Text".into(),
    }
}

fn list_row(record: &InvestigationVersionRecord) -> ListRow {
    let parts = record.definition.parts();
    ListRow {
        code: parts.code.to_string(),
        name: parts.name.clone(),
        loinc: parts
            .loinc
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "None".into()),
        discipline: parts.discipline.label().to_owned(),
        unit: unit_text(&parts.result_type),
        specimen: specimen_text(&parts.specimen),
        version: record.version,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue_list.html")]
struct ListPage {
    page: Page,
    form: FormState,
    disciplines: Vec<(String, String)>,
    rows: Vec<ListRow>,
    panels: Vec<(String, String, String)>,
    can_edit: bool,
}

async fn get_catalogue(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let form = FormState::from_fields(&fields);
    let (status, form, records) =
        match catalogue::list(&state.ctx, actor, form.value("discipline")).await {
            Ok(records) => (StatusCode::OK, form, records),
            Err(AppError::Invalid(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                form.with_errors(errors),
                Vec::new(),
            ),
            Err(error) => return Err(error.into()),
        };
    let panels = catalogue::list_panels(&state.ctx, actor).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let mut disciplines = vec![(String::new(), "All disciplines".to_owned())];
    disciplines.extend(
        Discipline::ALL
            .iter()
            .map(|discipline| (discipline.code().to_owned(), discipline.label().to_owned())),
    );
    let page = ListPage {
        page: Page::new("Investigation catalogue", &signed_in, "catalogue", flash)
            .with_errors(form.has_errors()),
        form,
        disciplines,
        rows: records.iter().map(list_row).collect(),
        panels: panels
            .iter()
            .map(|panel| {
                (
                    panel.code.clone(),
                    panel.name.clone(),
                    panel
                        .members
                        .iter()
                        .map(|(code, name)| format!("{name} ({code})"))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        can_edit: actor.can(Permission::EditCatalogue),
    };
    Ok(with_flash_cleared(&state, had_flash, (status, page)))
}

/// One row of the reference-interval table.
struct IntervalRow {
    sex: String,
    ages: String,
    low: String,
    high: String,
    source: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue_show.html")]
struct ShowPage {
    page: Page,
    code: String,
    version: i64,
    current_version: i64,
    summary: Vec<(&'static str, String)>,
    intervals: Vec<IntervalRow>,
    critical: Option<(String, String, String)>,
    history: Vec<(i64, String, String)>,
    can_edit: bool,
}

fn summary_of(record: &InvestigationVersionRecord) -> Vec<(&'static str, String)> {
    let parts = record.definition.parts();
    let (result_type, decimal_places) = match &parts.result_type {
        ResultType::Numeric {
            unit,
            decimal_places,
        } => (format!("Numeric, in {unit}"), decimal_places.to_string()),
        ResultType::Coded { codes } => (format!("Coded: {}", codes.join(", ")), "None".into()),
        ResultType::Text => ("Text".into(), "None".into()),
    };
    let optional = |value: Option<String>| value.unwrap_or_else(|| "None".into());
    vec![
        ("Code", parts.code.to_string()),
        ("Name", parts.name.clone()),
        (
            "LOINC code",
            optional(parts.loinc.as_ref().map(ToString::to_string)),
        ),
        (
            "SNOMED CT code",
            optional(parts.snomed.as_ref().map(|code| code.as_str().to_owned())),
        ),
        ("Discipline", parts.discipline.label().to_owned()),
        (
            "Method",
            optional(Some(parts.method.clone()).filter(|m| !m.is_empty())),
        ),
        ("Result type", result_type),
        ("Decimal places", decimal_places),
        (
            "Reportable range",
            optional(
                parts
                    .reportable_range
                    .map(|range| format!("{} to {}", range.low(), range.high())),
            ),
        ),
        ("Specimen", specimen_text(&parts.specimen)),
        (
            "Turnaround target, routine",
            format!("{} minutes", parts.turnaround.minutes(Priority::Routine)),
        ),
        (
            "Turnaround target, urgent",
            format!("{} minutes", parts.turnaround.minutes(Priority::Urgent)),
        ),
        (
            "Consent required",
            if parts.consent_required { "Yes" } else { "No" }.into(),
        ),
        (
            "Competency required",
            optional(parts.competency_code.clone()),
        ),
        (
            "Standard operating procedure",
            optional(parts.sop_code.clone()),
        ),
        ("Delta check", delta_text(record)),
    ]
}

/// The delta rule in words, or that the default rule applies.
fn delta_text(record: &InvestigationVersionRecord) -> String {
    let parts = record.definition.parts();
    if !matches!(parts.result_type, ResultType::Numeric { .. }) {
        return "None (not a numeric result)".into();
    }
    let Some(rule) = parts.delta_rule else {
        return "Default rule: a change of more than 50% within 365 days".into();
    };
    let unit = match &parts.result_type {
        ResultType::Numeric { unit, .. } => unit.as_str(),
        _ => "",
    };
    let limits = [
        rule.absolute().map(|limit| format!("{limit} {unit}")),
        rule.percent().map(|limit| format!("{limit}%")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" or ");
    format!(
        "A change of more than {limits} within {} days",
        rule.window_days()
    )
}

async fn get_investigation(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
    Query(fields): Query<Vec<(String, String)>>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let view = catalogue::get(&state.ctx, actor, &code).await?;
    let form = FormState::from_fields(&fields);
    let record = match form.value("version") {
        "" => &view.current,
        text => {
            let version = text
                .parse::<i64>()
                .map_err(|_| WebError::App(AppError::NotFound))?;
            view.versions
                .iter()
                .find(|record| record.version == version)
                .ok_or(WebError::App(AppError::NotFound))?
        }
    };
    let parts = record.definition.parts();
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = ShowPage {
        page: Page::new(parts.name.clone(), &signed_in, "catalogue", flash),
        code: parts.code.to_string(),
        version: record.version,
        current_version: view.current.version,
        summary: summary_of(record),
        intervals: parts
            .reference_intervals
            .iter()
            .map(|interval| IntervalRow {
                sex: interval
                    .sex()
                    .map(|sex| sex.label().to_owned())
                    .unwrap_or_else(|| "Any".into()),
                ages: match interval.age_band().to_days() {
                    Some(to_days) => format!(
                        "From {} to before {}",
                        format_age(interval.age_band().from_days()),
                        format_age(to_days)
                    ),
                    None => format!("From {}", format_age(interval.age_band().from_days())),
                },
                low: number(interval.low()),
                high: number(interval.high()),
                source: interval.source().to_owned(),
            })
            .collect(),
        critical: parts.critical_limits.as_ref().map(|critical| {
            (
                critical
                    .limits
                    .low()
                    .map(|low| format!("{low} or below"))
                    .unwrap_or_else(|| "None".into()),
                critical
                    .limits
                    .high()
                    .map(|high| format!("{high} or above"))
                    .unwrap_or_else(|| "None".into()),
                critical.source.clone(),
            )
        }),
        history: view
            .versions
            .iter()
            .map(|version| {
                (
                    version.version,
                    benchwork_domain::time::display_london(version.created_at),
                    version.created_by_name.clone(),
                )
            })
            .collect(),
        can_edit: actor.can(Permission::EditCatalogue),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

/// One input of an interval row.
struct Cell {
    name: String,
    label: &'static str,
    value: String,
    error: Option<String>,
}

/// One editable reference interval.
struct EditRow {
    idx: usize,
    sex_name: String,
    sex: String,
    sex_error: Option<String>,
    cells: Vec<Cell>,
    remove_name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalogue_form.html")]
struct FormPage {
    page: Page,
    form: FormState,
    action: String,
    back: String,
    submit: &'static str,
    creating: bool,
    fields: Vec<Field>,
    disciplines: Vec<(String, String)>,
    result_types: Vec<(String, String)>,
    rows: Vec<EditRow>,
    critical_fields: Vec<Field>,
}

fn interval_field(idx: usize, name: &str) -> String {
    format!("interval_{idx}_{name}")
}

/// The number of interval rows a form holds: the highest index present,
/// plus one.
fn n_interval_rows(form: &FormState) -> usize {
    (0..MAX_INTERVAL_ROWS)
        .rev()
        .find(|idx| {
            ["sex", "age_from", "age_to", "low", "high", "source"]
                .iter()
                .any(|name| !form.value(&interval_field(*idx, name)).is_empty())
        })
        .map(|idx| idx + 1)
        .unwrap_or(0)
}

fn form_page(signed_in: &SignedIn, form: FormState, editing: Option<(&str, &str)>) -> FormPage {
    let (title, action, back, submit) = match editing {
        None => (
            "Add an investigation".to_owned(),
            "/catalogue".to_owned(),
            "/catalogue".to_owned(),
            "Add investigation",
        ),
        Some((code, name)) => (
            format!("Edit {name}"),
            format!("/catalogue/{code}/edit"),
            format!("/catalogue/{code}"),
            "Save as a new version",
        ),
    };
    let n_rows = n_interval_rows(&form) + BLANK_INTERVAL_ROWS;
    let rows = (0..n_rows)
        .map(|idx| {
            let cell = |name: &str, label: &'static str| {
                let field = interval_field(idx, name);
                Cell {
                    value: form.value(&field).to_owned(),
                    error: form.error(&field).map(str::to_owned),
                    name: field,
                    label,
                }
            };
            EditRow {
                idx,
                sex_name: interval_field(idx, "sex"),
                sex: form.value(&interval_field(idx, "sex")).to_owned(),
                sex_error: form.error(&interval_field(idx, "sex")).map(str::to_owned),
                cells: vec![
                    cell("age_from", "From age (for example 0d, 28d, 18y)"),
                    cell("age_to", "To before age (empty for no end)"),
                    cell("low", "Low limit"),
                    cell("high", "High limit"),
                    cell("source", "Source"),
                ],
                remove_name: interval_field(idx, "remove"),
            }
        })
        .collect();
    let mut disciplines = vec![(String::new(), "Choose".to_owned())];
    disciplines.extend(
        Discipline::ALL
            .iter()
            .map(|discipline| (discipline.code().to_owned(), discipline.label().to_owned())),
    );
    let mut fields: Vec<Field> = Vec::new();
    if editing.is_none() {
        fields.push(("code", "Code", "Short and unique, for example K or NA"));
    }
    fields.extend([
        ("name", "Name", ""),
        ("loinc", "LOINC code", "Optional, for example 2823-3"),
        ("snomed", "SNOMED CT code", "Optional, 6 to 18 digits"),
        ("method", "Method", "Optional"),
        (
            "unit",
            "Unit (UCUM)",
            "For numeric results, for example mmol/L, umol/L or 10*9/L",
        ),
        (
            "decimal_places",
            "Decimal places",
            "For numeric results, 0 to 6",
        ),
        ("reportable_low", "Reportable range, low limit", "Optional"),
        (
            "reportable_high",
            "Reportable range, high limit",
            "Optional",
        ),
        (
            "specimen_type",
            "Specimen type",
            "Leave empty with the container for no specimen (ECG, spirometry)",
        ),
        ("container", "Container", "For example Serum gel (gold top)"),
        (
            "tat_routine",
            "Turnaround target, routine (minutes)",
            "From receipt to authorisation",
        ),
        ("tat_urgent", "Turnaround target, urgent (minutes)", ""),
        ("competency_code", "Competency required", "Optional code"),
        ("sop_code", "Standard operating procedure", "Optional code"),
        (
            "calculation",
            "Calculated by formula",
            "Leave empty for a measured investigation; egfr-ckd-epi-2009 (eGFR, CKD-EPI 2009 without the race coefficient) or adjusted-calcium-payne (albumin-adjusted calcium)",
        ),
        (
            "calculation_inputs",
            "Inputs of the formula",
            "Investigation codes in the formula's order, for example CREA for eGFR, or CA, ALB for adjusted calcium",
        ),
        (
            "delta_absolute",
            "Delta check: largest change in the result's unit",
            "Optional, for example 1.0 for potassium in mmol/L. Leave all three delta fields empty to use the default rule (50% within 365 days)",
        ),
        (
            "delta_percent",
            "Delta check: largest change in percent",
            "Optional, for example 50",
        ),
        (
            "delta_window_days",
            "Delta check: compare with results up to this many days old",
            "Whole days from 1 to 3650, for example 7",
        ),
    ]);
    FormPage {
        page: Page::new(title, signed_in, "catalogue", None).with_errors(form.has_errors()),
        form,
        action,
        back,
        submit,
        creating: editing.is_none(),
        fields,
        disciplines,
        result_types: vec![
            ("numeric".into(), "Numeric".into()),
            ("coded".into(), "Coded".into()),
            ("text".into(), "Text".into()),
        ],
        rows,
        critical_fields: vec![
            (
                "critical_low",
                "Critical low limit",
                "Optional: a value at or below it is critical",
            ),
            (
                "critical_high",
                "Critical high limit",
                "Optional: a value at or above it is critical",
            ),
            (
                "critical_source",
                "Source of the critical limits",
                "Document and version, for example RCPath G158 (2017)",
            ),
        ],
    }
}

fn input_of(form: &FormState) -> InvestigationInput {
    let n_rows = n_interval_rows(form);
    InvestigationInput {
        code: form.value("code").into(),
        name: form.value("name").into(),
        loinc: form.value("loinc").into(),
        snomed: form.value("snomed").into(),
        discipline: form.value("discipline").into(),
        method: form.value("method").into(),
        result_type: form.value("result_type").into(),
        unit: form.value("unit").into(),
        decimal_places: form.value("decimal_places").into(),
        coded_values: form.value("coded_values").into(),
        reportable_low: form.value("reportable_low").into(),
        reportable_high: form.value("reportable_high").into(),
        specimen_type: form.value("specimen_type").into(),
        container: form.value("container").into(),
        tat_routine: form.value("tat_routine").into(),
        tat_urgent: form.value("tat_urgent").into(),
        consent_required: form.has("consent_required", "yes"),
        competency_code: form.value("competency_code").into(),
        sop_code: form.value("sop_code").into(),
        intervals: (0..n_rows)
            .map(|idx| {
                if form.has(&interval_field(idx, "remove"), "yes") {
                    return IntervalInput::default();
                }
                let value = |name: &str| form.value(&interval_field(idx, name)).to_owned();
                IntervalInput {
                    sex: value("sex"),
                    age_from: value("age_from"),
                    age_to: value("age_to"),
                    low: value("low"),
                    high: value("high"),
                    source: value("source"),
                }
            })
            .collect(),
        critical_low: form.value("critical_low").into(),
        critical_high: form.value("critical_high").into(),
        critical_source: form.value("critical_source").into(),
        based_on_version: form.value("based_on_version").into(),
        calculation: form.value("calculation").into(),
        calculation_inputs: form.value("calculation_inputs").into(),
        delta_absolute: form.value("delta_absolute").into(),
        delta_percent: form.value("delta_percent").into(),
        delta_window_days: form.value("delta_window_days").into(),
    }
}

/// Fills a form from typed input (to start an edit from the current version).
fn form_of(input: &InvestigationInput, version: i64) -> FormState {
    let mut form = FormState::default();
    for (field, value) in [
        ("code", &input.code),
        ("name", &input.name),
        ("loinc", &input.loinc),
        ("snomed", &input.snomed),
        ("discipline", &input.discipline),
        ("method", &input.method),
        ("result_type", &input.result_type),
        ("unit", &input.unit),
        ("decimal_places", &input.decimal_places),
        ("coded_values", &input.coded_values),
        ("reportable_low", &input.reportable_low),
        ("reportable_high", &input.reportable_high),
        ("specimen_type", &input.specimen_type),
        ("container", &input.container),
        ("tat_routine", &input.tat_routine),
        ("tat_urgent", &input.tat_urgent),
        ("competency_code", &input.competency_code),
        ("sop_code", &input.sop_code),
        ("critical_low", &input.critical_low),
        ("critical_high", &input.critical_high),
        ("critical_source", &input.critical_source),
        ("calculation", &input.calculation),
        ("calculation_inputs", &input.calculation_inputs),
        ("delta_absolute", &input.delta_absolute),
        ("delta_percent", &input.delta_percent),
        ("delta_window_days", &input.delta_window_days),
    ] {
        form.set(field, value.clone());
    }
    if input.consent_required {
        form.set("consent_required", "yes");
    }
    for (idx, interval) in input.intervals.iter().enumerate() {
        for (name, value) in [
            ("sex", &interval.sex),
            ("age_from", &interval.age_from),
            ("age_to", &interval.age_to),
            ("low", &interval.low),
            ("high", &interval.high),
            ("source", &interval.source),
        ] {
            form.set(&interval_field(idx, name), value.clone());
        }
    }
    form.set("based_on_version", version.to_string());
    form
}

/// Moves errors about the cross-field rules onto a field the form shows.
fn shown_errors(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|error| match error.field.as_str() {
            "age" => FieldError::new("interval_0_age_from", &error.message),
            "members" | "based_on_version" => FieldError::new("name", &error.message),
            _ => error,
        })
        .collect()
}

async fn get_new_investigation(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::EditCatalogue).await?;
    let mut form = FormState::default();
    form.set("result_type", "numeric");
    Ok(form_page(&signed_in, form, None).into_response())
}

async fn post_investigation(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match catalogue::create(&state.ctx, signed_in.actor(), &input_of(&form)).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            &format!("/catalogue/{}", record.definition.code()),
            &format!("{} added to the catalogue", record.definition.name()),
        )),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&signed_in, form.with_errors(shown_errors(errors)), None),
        )
            .into_response()),
        Err(error) => Err(error.into()),
    }
}

async fn get_edit_investigation(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::EditCatalogue).await?;
    let view = catalogue::get(&state.ctx, actor, &code).await?;
    let definition = &view.current.definition;
    let form = form_of(&catalogue::input_of(definition), view.current.version);
    Ok(form_page(
        &signed_in,
        form,
        Some((definition.code().as_str(), definition.name())),
    )
    .into_response())
}

async fn post_edit_investigation(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let form = FormState::from_fields(&fields);
    match catalogue::edit(&state.ctx, actor, &code, &input_of(&form)).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            &format!("/catalogue/{}", record.definition.code()),
            &format!(
                "{} saved as version {}",
                record.definition.name(),
                record.version
            ),
        )),
        Err(AppError::Invalid(errors)) => {
            let view = catalogue::get(&state.ctx, actor, &code).await?;
            let definition = &view.current.definition;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(
                    &signed_in,
                    form.with_errors(shown_errors(errors)),
                    Some((definition.code().as_str(), definition.name())),
                ),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}
