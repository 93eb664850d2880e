//! Request and specimen pages: book a request in from a patient's page,
//! the request list with each department's rejection rate, a request, and a
//! specimen with its chain of custody, next steps and barcode label.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::requests::{self, BookingInput, RejectionRate};
use benchwork_app::results::{self, EntryLine, ResultInput};
use benchwork_app::verification::{self, AmendmentInput};
use benchwork_app::{AppError, patients};
use benchwork_domain::barcode::code128b_svg;
use benchwork_domain::catalogue::{Discipline, Priority};
use benchwork_domain::ids::PatientId;
use benchwork_domain::reference::Flag;
use benchwork_domain::request::{RejectionReason, SpecimenStatus};
use benchwork_domain::result::display_number;
use benchwork_domain::result_state::ResultStatus;
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::{
    PatientRecord, RequestRecord, ResultCommentRecord, ResultRecord, ResultReviewState,
    ResultVersionRecord,
};

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", get(get_requests))
        .route("/requests/{accession}", get(get_request))
        .route("/requests/{accession}/results", post(post_results))
        .route("/results/{id}/verify", post(post_verify))
        .route("/results/{id}/authorise", post(post_authorise))
        .route("/results/{id}/amend", post(post_amend))
        .route("/patients/{id}/requests", post(post_request))
        .route("/patients/{id}/requests/new", get(get_new_request))
        .route("/specimens/{code}", get(get_specimen))
        .route("/specimens/{code}/events", post(post_specimen_event))
}

type Field = (&'static str, &'static str, &'static str);

/// A select box.
pub(crate) struct SelectField {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<(String, String)>,
}

/// A group of investigation checkboxes: (heading, [(value, label)]).
pub(crate) type CheckboxGroup = (String, Vec<(String, String)>);

fn patient_name(patient: &PatientRecord) -> String {
    format!(
        "{}, {}",
        patient.family_name.to_uppercase(),
        patient.given_name
    )
}

fn priority_label(code: &str) -> String {
    Priority::parse(code)
        .map(|priority| priority.label().to_owned())
        .unwrap_or_else(|| code.to_owned())
}

fn status_label(code: &str) -> String {
    SpecimenStatus::parse(code)
        .map(|status| status.label().to_owned())
        .unwrap_or_else(|| code.to_owned())
}

#[derive(Template, WebTemplate)]
#[template(path = "request_new.html")]
struct NewRequestPage {
    page: Page,
    form: FormState,
    patient_id: String,
    patient_name: String,
    identity_fields: Vec<Field>,
    fields: Vec<Field>,
    selects: Vec<SelectField>,
    groups: Vec<CheckboxGroup>,
}

async fn new_request_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: PatientId,
    form: FormState,
) -> Result<NewRequestPage, WebError> {
    let actor = signed_in.actor();
    let view = patients::get(&state.ctx, actor, id).await?;
    let investigations = benchwork_app::catalogue::list(&state.ctx, actor, "").await?;
    let panels = benchwork_app::catalogue::list_panels(&state.ctx, actor).await?;
    let mut groups: Vec<CheckboxGroup> = vec![(
        "Panels".into(),
        panels
            .iter()
            .map(|panel| {
                (
                    format!("panel:{}", panel.code),
                    format!("{} ({})", panel.name, panel.code),
                )
            })
            .collect(),
    )];
    for discipline in Discipline::ALL {
        let members: Vec<(String, String)> = investigations
            .iter()
            .map(|record| record.definition.parts())
            .filter(|parts| parts.discipline == *discipline)
            .map(|parts| {
                (
                    parts.code.to_string(),
                    format!(
                        "{} ({}){}",
                        parts.name,
                        parts.code,
                        if parts.consent_required {
                            ", needs consent"
                        } else {
                            ""
                        }
                    ),
                )
            })
            .collect();
        if !members.is_empty() {
            groups.push((discipline.label().to_owned(), members));
        }
    }
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    let department_options = departments
        .into_iter()
        .filter(|department| actor.in_department(department.id))
        .map(|department| (department.id.to_string(), department.name))
        .collect();
    Ok(NewRequestPage {
        page: Page::new("Book in a request", signed_in, "requests", None)
            .with_errors(form.has_errors()),
        form,
        patient_id: id.to_string(),
        patient_name: patient_name(&view.patient),
        identity_fields: vec![
            (
                "nhs_number",
                "NHS number on the request",
                "Enter at least two identifiers as written on the request form or specimen",
            ),
            ("hospital_number", "Hospital number on the request", ""),
            ("family_name", "Family name", ""),
            ("given_name", "Given names", ""),
            ("date_of_birth", "Date of birth", "For example 31/03/1980"),
        ],
        fields: vec![
            (
                "requester_name",
                "Requester's name",
                "For example Dr A Patel",
            ),
            (
                "requester_code",
                "Requester's code",
                "GMC, NMC or local code",
            ),
            ("location", "Location", "Ward, clinic or GP practice"),
            ("clinical_details", "Clinical details", "Optional"),
        ],
        selects: vec![
            SelectField {
                name: "priority",
                label: "Priority",
                options: Priority::ALL
                    .iter()
                    .map(|priority| (priority.code().to_owned(), priority.label().to_owned()))
                    .collect(),
            },
            SelectField {
                name: "setting",
                label: "Requesting setting (decides which alert limits apply; not chosen: hospital, not stated)",
                options: benchwork_domain::alert_limits::RequestSetting::BOOKABLE
                    .iter()
                    .map(|setting| (setting.code().to_owned(), setting.label().to_owned()))
                    .collect(),
            },
            SelectField {
                name: "department",
                label: "Department",
                options: department_options,
            },
        ],
        groups,
    })
}

fn parse_patient_id(text: &str) -> Result<PatientId, WebError> {
    PatientId::parse(text).map_err(|_| WebError::App(AppError::NotFound))
}

async fn get_new_request(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::BookRequests).await?;
    let mut form = FormState::default();
    form.set("priority", Priority::Routine.code());
    if let [department] = signed_in.actor().departments.as_slice() {
        form.set("department", department.to_string());
    }
    Ok(new_request_page(&state, &signed_in, id, form)
        .await?
        .into_response())
}

fn booking_input(form: &FormState) -> BookingInput {
    let chosen = form.values("investigations");
    BookingInput {
        identity: patients::PatientInput {
            nhs_number: form.value("nhs_number").into(),
            hospital_number: form.value("hospital_number").into(),
            family_name: form.value("family_name").into(),
            given_name: form.value("given_name").into(),
            date_of_birth: form.value("date_of_birth").into(),
            ..Default::default()
        },
        department: form.value("department").into(),
        priority: form.value("priority").into(),
        requester_name: form.value("requester_name").into(),
        requester_code: form.value("requester_code").into(),
        location: form.value("location").into(),
        setting: form.value("setting").into(),
        clinical_details: form.value("clinical_details").into(),
        investigations: chosen
            .iter()
            .filter(|value| !value.starts_with("panel:"))
            .cloned()
            .collect(),
        panels: chosen
            .iter()
            .filter_map(|value| value.strip_prefix("panel:").map(str::to_owned))
            .collect(),
    }
}

async fn post_request(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let form = FormState::from_fields(&fields);
    match requests::book(&state.ctx, signed_in.actor(), id, &booking_input(&form)).await {
        Ok(accession) => Ok(redirect_with_flash(
            &state,
            &format!("/requests/{accession}"),
            &format!("Request {accession} booked in"),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = new_request_page(&state, &signed_in, id, form.with_errors(errors)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) struct RequestRow {
    pub accession: String,
    pub patient_id: String,
    pub patient: String,
    pub department: String,
    pub priority: String,
    pub requester: String,
    pub location: String,
    /// Requesting setting label.
    pub setting: String,
    pub clinical_details: String,
    pub booked: String,
    /// Request status label (derived; see `benchwork_domain::request_status`).
    pub status: String,
}

fn request_row(request: &RequestRecord, patient: &PatientRecord) -> RequestRow {
    RequestRow {
        accession: request.accession.clone(),
        patient_id: patient.id.to_string(),
        patient: patient_name(patient),
        department: request.department_name.clone(),
        priority: priority_label(&request.priority),
        requester: format!("{} ({})", request.requester_name, request.requester_code),
        location: request.location.clone(),
        setting: benchwork_domain::alert_limits::RequestSetting::parse(&request.setting)
            .map(|setting| setting.label().to_owned())
            .unwrap_or_else(|| request.setting.clone()),
        clinical_details: if request.clinical_details.is_empty() {
            "None given".into()
        } else {
            request.clinical_details.clone()
        },
        booked: format!(
            "{} by {}",
            display_london(request.created_at),
            request.created_by_name
        ),
        status: request_status_label(&request.status),
    }
}

fn request_status_label(code: &str) -> String {
    benchwork_domain::request_status::RequestStatus::parse(code)
        .map(|status| status.label().to_owned())
        .unwrap_or_else(|| code.to_owned())
}

#[derive(Template, WebTemplate)]
#[template(path = "request_list.html")]
struct RequestListPage {
    page: Page,
    rows: Vec<RequestRow>,
    rates: Vec<RejectionRate>,
    days: i64,
}

async fn get_requests(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    let (requests, rates) = requests::list(&state.ctx, signed_in.actor()).await?;
    Ok(RequestListPage {
        page: Page::new("Requests", &signed_in, "requests", None),
        rows: requests
            .iter()
            .map(|(request, patient)| request_row(request, patient))
            .collect(),
        rates,
        days: requests::REJECTION_RATE_DAYS,
    }
    .into_response())
}

/// A result as shown on the request page.
pub(crate) struct ResultRow {
    pub code: String,
    pub name: String,
    pub value: String,
    pub unit: String,
    /// (flag code, NHS tag colour class) when flagged.
    pub flag: Option<(String, &'static str)>,
    pub interval: String,
    pub notes: Vec<String>,
    pub instrument: String,
    pub produced: String,
    /// The result's id (for the verify, authorise and amend forms).
    pub id: String,
    /// Status label.
    pub status: String,
    /// Who verified, authorised and amended it, one line each.
    pub review: Vec<String>,
    pub can_verify: bool,
    pub can_authorise: bool,
    pub can_amend: bool,
    /// Versions replaced by amendments, oldest first, one line each.
    pub history: Vec<String>,
    /// Comments, coded and free text, oldest first, one line each.
    pub comments: Vec<String>,
}

/// Adds the verification state, the permitted actions and the version
/// history to a result row.
fn with_review(
    mut row: ResultRow,
    review: Option<&ResultReviewState>,
    versions: &[ResultVersionRecord],
    actor: &benchwork_app::Actor,
) -> ResultRow {
    let Some(review) = review else {
        return row;
    };
    let status = ResultStatus::parse(&review.status);
    row.id = review.id.to_string();
    row.status = status
        .map(|status| status.label().to_owned())
        .unwrap_or_else(|| review.status.clone());
    if let Some((_, name, at)) = &review.verified {
        row.review
            .push(format!("Verified by {name}, {}", display_london(*at)));
    }
    if let Some((_, name, at)) = &review.authorised {
        row.review
            .push(format!("Authorised by {name}, {}", display_london(*at)));
    }
    if let Some((name, at, reason)) = &review.amended {
        row.review.push(format!(
            "Amended by {name}, {} (version {}): {reason}",
            display_london(*at),
            review.version
        ));
    }
    row.can_verify = status == Some(ResultStatus::Measured) && actor.can(Permission::VerifyResults);
    row.can_authorise = status == Some(ResultStatus::Verified)
        && actor.can(Permission::AuthoriseResults)
        && review.produced_by != actor.id
        && review.verified.as_ref().map(|verified| verified.0) != Some(actor.id);
    row.can_amend =
        status.is_some_and(ResultStatus::is_released) && actor.can(Permission::AuthoriseResults);
    row.history = versions
        .iter()
        .filter(|version| version.result_id == review.id)
        .map(|version| {
            format!(
                "Version {}: {}{} ({}, produced by {}{}); replaced {} by {}: {}",
                version.version,
                version.value_text,
                version
                    .flag
                    .as_ref()
                    .map(|flag| format!(" {flag}"))
                    .unwrap_or_default(),
                ResultStatus::parse(&version.status)
                    .map(|status| status.label().to_lowercase())
                    .unwrap_or_else(|| version.status.clone()),
                version.produced_by_name,
                version
                    .authorised_by_name
                    .as_ref()
                    .map(|name| format!(", authorised by {name}"))
                    .unwrap_or_default(),
                display_london(version.superseded_at),
                version.superseded_by_name,
                version.superseded_reason
            )
        })
        .collect();
    row
}

fn result_row(result: &ResultRecord) -> ResultRow {
    let places = result
        .decimal_places
        .and_then(|places| u8::try_from(places).ok())
        .unwrap_or(0);
    let shown = |value: f64| display_number(value, places);
    let interval = match (result.reference_low, result.reference_high) {
        (None, None) => "None applied".to_owned(),
        (low, high) => format!(
            "{} to {}{}",
            low.map(shown).unwrap_or_default(),
            high.map(shown).unwrap_or_default(),
            result
                .reference_source
                .as_ref()
                .map(|source| format!(" ({source})"))
                .unwrap_or_default()
        ),
    };
    let mut notes = Vec::new();
    notes.extend(result.flag_note.clone());
    if result.delta_outcome.as_deref() == Some("failed") {
        notes.push(format!(
            "Delta check failed: {}",
            result.delta_detail.clone().unwrap_or_default()
        ));
    }
    notes.extend(result.derived_comment.clone());
    ResultRow {
        code: result.code.clone(),
        name: result.name.clone(),
        // A value reported as a limit (an eGFR of ">90") is shown as
        // reported, not as the number behind it.
        value: match result.value_number {
            Some(_) if result.value_text.starts_with(['>', '<']) => result.value_text.clone(),
            Some(value) => shown(value),
            None => result.value_text.clone(),
        },
        unit: result.unit.clone().unwrap_or_default(),
        flag: result.flag.as_deref().and_then(|code| {
            let flag = Flag::parse(Some(code))?;
            let colour = match flag {
                Flag::CriticalLow | Flag::CriticalHigh => "nhsuk-tag--red",
                Flag::Low | Flag::High => "nhsuk-tag--orange",
                _ => "nhsuk-tag--green",
            };
            Some((code.to_owned(), colour))
        }),
        interval,
        notes,
        instrument: result
            .instrument_name
            .clone()
            .unwrap_or_else(|| "Not recorded".into()),
        produced: format!(
            "{} by {}",
            display_london(result.analysed_at),
            result.produced_by_name
        ),
        id: result.id.to_string(),
        status: String::new(),
        review: Vec::new(),
        can_verify: false,
        can_authorise: false,
        can_amend: false,
        history: Vec::new(),
        comments: Vec::new(),
    }
}

fn with_comments(
    mut row: ResultRow,
    result: &ResultRecord,
    comments: &[ResultCommentRecord],
) -> ResultRow {
    row.comments = comments
        .iter()
        .filter(|comment| comment.result_id == result.id)
        .map(|comment| {
            format!(
                "{}{} ({}, {}, version {})",
                comment
                    .code
                    .as_ref()
                    .map(|code| format!("[{code}] "))
                    .unwrap_or_default(),
                comment.text,
                comment.created_by_name,
                display_london(comment.created_at),
                comment.result_version
            )
        })
        .collect();
    row
}

#[derive(Template, WebTemplate)]
#[template(path = "request_show.html")]
struct RequestPage {
    page: Page,
    form: FormState,
    accession: String,
    request: RequestRow,
    /// (code, name, version, specimen id or "No specimen").
    items: Vec<(String, String, i64, String)>,
    /// (specimen id, type and container, status).
    specimens: Vec<(String, String, String)>,
    results: Vec<ResultRow>,
    /// When the report was last amended.
    report_amended: Option<String>,
    /// The request's status changes, oldest first, one line each.
    status_history: Vec<String>,
    entry: Vec<EntryLine>,
    /// (id, name) of the department's instruments.
    instruments: Vec<(String, String)>,
    /// (code, name, why not calculated) of calculated lines without a
    /// result.
    pending_calculations: Vec<(String, String, String)>,
    /// (code, text) of the department's active library comments.
    comment_library: Vec<(String, String)>,
}

async fn request_page(
    state: &AppState,
    signed_in: &SignedIn,
    accession: &str,
    form: FormState,
    flash: Option<String>,
) -> Result<RequestPage, WebError> {
    let actor = signed_in.actor();
    let view = requests::get(&state.ctx, actor, accession).await?;
    let results = results::results_of(&state.ctx, &view.request).await?;
    let (reviews, versions, report_amended_at) =
        verification::review_of(&state.ctx, &view.request).await?;
    let status_history =
        benchwork_app::turnaround::status_history(&state.ctx, &view.request).await?;
    let comments = results::comments_of(&state.ctx, &view.request).await?;
    let pending_calculations =
        benchwork_app::calculated::pending_calculations(&state.ctx, &view.request, &view.patient)
            .await?
            .into_iter()
            .filter_map(|(code, reason)| {
                let item = view.items.iter().find(|item| item.code == code)?;
                Some((code, item.name.clone(), reason))
            })
            .collect();
    let comment_library =
        if actor.can(Permission::EnterResults) || actor.can(Permission::AuthoriseResults) {
            benchwork_app::comments::active_library(&state.ctx, actor, view.request.department_id)
                .await?
                .into_iter()
                .map(|entry| (entry.code, entry.text))
                .collect()
        } else {
            Vec::new()
        };
    let (entry, instruments) = if actor.can(Permission::EnterResults) {
        let entry = results::entry_lines(&state.ctx, actor, &view.request, &view.patient).await?;
        let instruments = results::instruments(&state.ctx, actor)
            .await?
            .into_iter()
            .filter(|instrument| instrument.department_id == view.request.department_id)
            .map(|instrument| (instrument.id.to_string(), instrument.name))
            .collect();
        (entry, instruments)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(RequestPage {
        page: Page::new(
            format!("Request {}", view.request.accession),
            signed_in,
            "requests",
            flash,
        )
        .with_errors(form.has_errors()),
        form,
        accession: view.request.accession.clone(),
        request: request_row(&view.request, &view.patient),
        items: view
            .items
            .iter()
            .map(|item| {
                (
                    item.code.clone(),
                    item.name.clone(),
                    item.version,
                    item.specimen_code
                        .clone()
                        .unwrap_or_else(|| "No specimen".into()),
                )
            })
            .collect(),
        specimens: view
            .specimens
            .iter()
            .map(|specimen| {
                (
                    specimen.code.clone(),
                    format!("{}, {}", specimen.specimen_type, specimen.container),
                    status_label(&specimen.status),
                )
            })
            .collect(),
        results: results
            .iter()
            .map(|result| {
                with_review(
                    with_comments(result_row(result), result, &comments),
                    reviews.iter().find(|review| review.id == result.id),
                    &versions,
                    actor,
                )
            })
            .collect(),
        report_amended: report_amended_at.map(display_london),
        status_history: status_history
            .iter()
            .map(|event| {
                format!(
                    "{}: {} by {}",
                    display_london(event.at),
                    request_status_label(&event.to_status),
                    event.by_name
                )
            })
            .collect(),
        entry,
        instruments,
        pending_calculations,
        comment_library,
    })
}

async fn get_request(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(accession): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = request_page(&state, &signed_in, &accession, FormState::default(), flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

/// The results typed on the entry form: one `value-CODE`, `instrument-CODE`
/// and `comment-CODE` per investigation, and any number of
/// `comment_codes-CODE` (library comments), in the order of `code` fields.
fn result_inputs(form: &FormState) -> Vec<ResultInput> {
    form.values("code")
        .into_iter()
        .map(|code| ResultInput {
            value: form.value(&format!("value-{code}")).into(),
            instrument: form.value(&format!("instrument-{code}")).into(),
            comment: form.value(&format!("comment-{code}")).into(),
            comment_codes: form.values(&format!("comment_codes-{code}")),
            // People type in the catalogue's unit, shown beside the field.
            unit: String::new(),
            investigation: code,
        })
        .collect()
}

async fn post_results(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(accession): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match results::enter(
        &state.ctx,
        signed_in.actor(),
        &accession,
        &result_inputs(&form),
    )
    .await
    {
        Ok(n) => Ok(redirect_with_flash(
            &state,
            &format!("/requests/{accession}"),
            &format!("{n} result{} recorded", if n == 1 { "" } else { "s" }),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = request_page(
                &state,
                &signed_in,
                &accession,
                form.with_errors(errors),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "specimen_show.html")]
struct SpecimenPage {
    page: Page,
    form: FormState,
    code: String,
    accession: String,
    patient_id: String,
    patient: String,
    description: String,
    status: String,
    rejection: Option<String>,
    /// (status, detail, who, when).
    events: Vec<(String, String, String, String)>,
    /// Next steps other than rejection: (code, label).
    steps: Vec<(String, String)>,
    can_reject: bool,
    can_handle: bool,
    reasons: Vec<(String, String)>,
    label_svg: String,
}

async fn specimen_page(
    state: &AppState,
    signed_in: &SignedIn,
    code: &str,
    form: FormState,
    flash: Option<String>,
) -> Result<SpecimenPage, WebError> {
    let actor = signed_in.actor();
    let view = requests::specimen(&state.ctx, actor, code).await?;
    let label_svg = code128b_svg(&view.specimen.code, 2, 60)
        .map_err(|error| WebError::App(AppError::Internal(error.into())))?;
    Ok(SpecimenPage {
        page: Page::new(
            format!("Specimen {}", view.specimen.code),
            signed_in,
            "requests",
            flash,
        )
        .with_errors(form.has_errors()),
        form,
        code: view.specimen.code.clone(),
        accession: view.request.accession.clone(),
        patient_id: view.patient.id.to_string(),
        patient: patient_name(&view.patient),
        description: format!(
            "{}, {}",
            view.specimen.specimen_type, view.specimen.container
        ),
        status: view.status.label().to_owned(),
        rejection: view.specimen.rejection_reason.as_deref().map(|reason| {
            let label = RejectionReason::parse(reason)
                .map(|reason| reason.label().to_owned())
                .unwrap_or_else(|| reason.to_owned());
            match &view.specimen.rejection_text {
                Some(text) => format!("{label}: {text}"),
                None => label,
            }
        }),
        events: view
            .events
            .iter()
            .map(|event| {
                (
                    status_label(&event.status),
                    event.detail.clone().unwrap_or_default(),
                    event.by_name.clone(),
                    display_london(event.at),
                )
            })
            .collect(),
        steps: view
            .status
            .next()
            .iter()
            .filter(|status| **status != SpecimenStatus::Rejected)
            .map(|status| (status.code().to_owned(), status.label().to_owned()))
            .collect(),
        can_reject: view.status.next().contains(&SpecimenStatus::Rejected),
        can_handle: actor.can(Permission::BookRequests),
        reasons: RejectionReason::ALL
            .iter()
            .map(|reason| (reason.code().to_owned(), reason.label().to_owned()))
            .collect(),
        label_svg,
    })
}

async fn get_specimen(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = specimen_page(&state, &signed_in, &code, FormState::default(), flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn post_specimen_event(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match requests::record_step(
        &state.ctx,
        signed_in.actor(),
        &code,
        form.value("step"),
        form.value("reason"),
        form.value("reason_text"),
    )
    .await
    {
        Ok(specimen) => Ok(redirect_with_flash(
            &state,
            &format!("/specimens/{}", specimen.code),
            &format!(
                "Specimen {} is now {}",
                specimen.code,
                status_label(&specimen.status).to_lowercase()
            ),
        )),
        Err(AppError::Invalid(errors)) => {
            let page =
                specimen_page(&state, &signed_in, &code, form.with_errors(errors), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

fn flash_for(code: &str, what: &str) -> String {
    format!("{code} {what}")
}

async fn post_verify(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let record = verification::verify_result(&state.ctx, signed_in.actor(), &id).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/requests/{}", record.accession),
        &flash_for(&record.code, "verified"),
    ))
}

async fn post_authorise(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let record = verification::authorise_result(&state.ctx, signed_in.actor(), &id).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/requests/{}", record.accession),
        &flash_for(&record.code, "authorised and released"),
    ))
}

/// The amendment form posts `value`, `reason` and the request's
/// `accession` (to show the form again with its errors); on the page the
/// fields are `amend-value-ID` and `amend-reason-ID`.
async fn post_amend(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = AmendmentInput {
        value: form.value("value").into(),
        reason: form.value("reason").into(),
        comment_codes: form.values("comment_codes"),
        comment: form.value("comment").into(),
    };
    match verification::amend_result_value(&state.ctx, signed_in.actor(), &id, &input).await {
        Ok((record, version)) => Ok(redirect_with_flash(
            &state,
            &format!("/requests/{}", record.accession),
            &flash_for(&record.code, &format!("amended (version {version})")),
        )),
        Err(AppError::Invalid(errors)) => {
            let mut shown = FormState::default();
            shown.set(&format!("amend-value-{id}"), input.value.clone());
            shown.set(&format!("amend-reason-{id}"), input.reason.clone());
            shown.set(&format!("amend-comment-{id}"), input.comment.clone());
            shown.set_all(
                &format!("amend-comment_codes-{id}"),
                input.comment_codes.clone(),
            );
            let errors = errors
                .into_iter()
                .map(|error| {
                    benchwork_app::FieldError::new(
                        &format!("amend-{}-{id}", error.field),
                        error.message,
                    )
                })
                .collect();
            let page = request_page(
                &state,
                &signed_in,
                form.value("accession"),
                shown.with_errors(errors),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
