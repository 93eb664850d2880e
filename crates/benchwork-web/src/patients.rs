//! Patient pages: find, register, read (audited), correct, confirm
//! identity, merge duplicates.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::patients::{self, PatientInput, SearchInput};
use benchwork_app::requests::{self, ConsentInput};
use benchwork_app::{AppError, FieldError};
use benchwork_domain::consent::{ConsentGiver, ConsentMethod, ConsentStatus};
use benchwork_domain::ids::PatientId;
use benchwork_domain::patient::{
    AdministrativeSex, DateOfBirth, NhsNumber, ReferenceSex, age_in_years,
};
use benchwork_domain::staff::Permission;
use benchwork_store::PatientRecord;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/patients", get(get_patients).post(post_patient))
        .route("/patients/new", get(get_new_patient))
        .route("/patients/{id}", get(get_patient))
        .route(
            "/patients/{id}/edit",
            get(get_edit_patient).post(post_edit_patient),
        )
        .route("/patients/{id}/confirm", post(post_confirm))
        .route("/patients/{id}/merge", post(post_merge))
        .route("/patients/{id}/consent", post(post_consent))
}

type Field = (&'static str, &'static str, &'static str);

/// A select box: (name, label, hint, options as (value, label)).
type SelectField = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(String, String)>,
);

const SEARCH_FIELDS: [Field; 4] = [
    (
        "nhs_number",
        "NHS number",
        "10 digits, for example 943 476 5919",
    ),
    ("hospital_number", "Hospital number", ""),
    ("family_name", "Family name", ""),
    ("date_of_birth", "Date of birth", "For example 31/03/1980"),
];

pub(crate) struct PatientRow {
    pub id: String,
    pub name: String,
    pub nhs_number: String,
    pub identifiers: String,
    pub date_of_birth: String,
    pub age: String,
    pub sex: String,
    pub reference_sex: String,
    pub phone: String,
    pub address: String,
    pub merged: bool,
}

fn uk_date(stored: &str) -> String {
    stored
        .parse::<jiff::civil::Date>()
        .map(|date| date.strftime("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| stored.to_owned())
}

pub(crate) fn patient_row(patient: &PatientRecord, today: jiff::civil::Date) -> PatientRow {
    let dob = patient.date_of_birth.parse::<jiff::civil::Date>().ok();
    PatientRow {
        id: patient.id.to_string(),
        name: format!(
            "{}, {}",
            patient.family_name.to_uppercase(),
            patient.given_name
        ),
        nhs_number: patient
            .nhs_number
            .as_deref()
            .and_then(|digits| NhsNumber::parse(digits).ok())
            .map(|number| number.to_string())
            .unwrap_or_else(|| "Not known".into()),
        identifiers: if patient.identifiers.is_empty() {
            "None".into()
        } else {
            patient
                .identifiers
                .iter()
                .map(|(authority, value)| format!("{value} ({authority})"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        date_of_birth: uk_date(&patient.date_of_birth),
        age: dob
            .map(|dob| age_in_years(DateOfBirth::from_stored(dob), today).to_string())
            .unwrap_or_default(),
        sex: AdministrativeSex::parse(&patient.administrative_sex)
            .map(|sex| sex.label().to_owned())
            .unwrap_or_else(|_| patient.administrative_sex.clone()),
        reference_sex: ReferenceSex::parse(&patient.reference_sex)
            .map(|sex| sex.label().to_owned())
            .unwrap_or_else(|_| patient.reference_sex.clone()),
        phone: patient
            .phone
            .clone()
            .unwrap_or_else(|| "Not recorded".into()),
        address: patient
            .address
            .clone()
            .unwrap_or_else(|| "Not recorded".into()),
        merged: patient.merged_into.is_some(),
    }
}

fn today(state: &AppState) -> jiff::civil::Date {
    state
        .ctx
        .now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

fn parse_patient_id(text: &str) -> Result<PatientId, WebError> {
    PatientId::parse(text).map_err(|_| WebError::App(AppError::NotFound))
}

#[derive(Template, WebTemplate)]
#[template(path = "patients_search.html")]
struct SearchPage {
    page: Page,
    form: FormState,
    fields: Vec<Field>,
    searched: bool,
    results: Vec<PatientRow>,
    can_register: bool,
}

async fn get_patients(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::ViewPatients).await?;
    let form = FormState::from_fields(&fields);
    let searched = SEARCH_FIELDS
        .iter()
        .any(|field| !form.value(field.0).trim().is_empty());
    let (status, form, results) = if searched {
        let input = SearchInput {
            nhs_number: form.value("nhs_number").into(),
            hospital_number: form.value("hospital_number").into(),
            family_name: form.value("family_name").into(),
            date_of_birth: form.value("date_of_birth").into(),
        };
        match patients::search(&state.ctx, actor, &input).await {
            Ok(found) => (StatusCode::OK, form, found),
            Err(AppError::Invalid(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                form.with_errors(errors),
                Vec::new(),
            ),
            Err(error) => return Err(error.into()),
        }
    } else {
        (StatusCode::OK, form, Vec::new())
    };
    let today = today(&state);
    let page = SearchPage {
        page: Page::new("Find a patient", &signed_in, "patients", None)
            .with_errors(form.has_errors()),
        searched: searched && !form.has_errors(),
        form,
        fields: SEARCH_FIELDS.to_vec(),
        results: results
            .iter()
            .map(|patient| patient_row(patient, today))
            .collect(),
        can_register: actor.can(Permission::RegisterPatients),
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "patient_form.html")]
struct PatientFormPage {
    page: Page,
    form: FormState,
    action: String,
    back: String,
    submit: &'static str,
    fields: Vec<Field>,
    selects: Vec<SelectField>,
}

fn patient_form(
    signed_in: &SignedIn,
    form: FormState,
    editing: Option<PatientId>,
) -> PatientFormPage {
    let (title, action, back, submit) = match editing {
        None => (
            "Register a patient".to_owned(),
            "/patients".to_owned(),
            "/patients".to_owned(),
            "Register patient",
        ),
        Some(id) => (
            "Correct patient details".to_owned(),
            format!("/patients/{id}/edit"),
            format!("/patients/{id}"),
            "Save changes",
        ),
    };
    let mut sex_options = vec![(String::new(), "Choose".to_owned())];
    sex_options.extend(
        AdministrativeSex::ALL
            .iter()
            .map(|sex| (sex.code().to_owned(), sex.label().to_owned())),
    );
    let mut reference_options = vec![(String::new(), "Same as sex (unknown for other)".to_owned())];
    reference_options.extend(
        ReferenceSex::ALL
            .iter()
            .map(|sex| (sex.code().to_owned(), sex.label().to_owned())),
    );
    PatientFormPage {
        page: Page::new(title, signed_in, "patients", None).with_errors(form.has_errors()),
        form,
        action,
        back,
        submit,
        fields: vec![
            (
                "nhs_number",
                "NHS number",
                "10 digits, for example 943 476 5919. Leave empty if not known.",
            ),
            (
                "hospital_number",
                "Hospital number",
                "As printed on the patient's wristband or notes",
            ),
            (
                "hospital_authority",
                "Issued by",
                "The hospital or trust that issued the number; empty for this hospital (LOCAL)",
            ),
            ("family_name", "Family name", ""),
            ("given_name", "Given names", ""),
            ("date_of_birth", "Date of birth", "For example 31/03/1980"),
            ("phone", "Telephone", "Optional"),
            ("address", "Address", "Optional"),
        ],
        selects: vec![
            ("sex", "Sex", "", sex_options),
            (
                "reference_sex",
                "Sex used for reference ranges",
                "Which reference ranges apply; ask a clinical scientist if unsure",
                reference_options,
            ),
        ],
    }
}

fn input_of(form: &FormState) -> PatientInput {
    PatientInput {
        nhs_number: form.value("nhs_number").into(),
        hospital_number: form.value("hospital_number").into(),
        hospital_authority: form.value("hospital_authority").into(),
        family_name: form.value("family_name").into(),
        given_name: form.value("given_name").into(),
        date_of_birth: form.value("date_of_birth").into(),
        sex: form.value("sex").into(),
        reference_sex: form.value("reference_sex").into(),
        phone: form.value("phone").into(),
        address: form.value("address").into(),
    }
}

async fn get_new_patient(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::RegisterPatients).await?;
    Ok(patient_form(&signed_in, FormState::default(), None).into_response())
}

async fn post_patient(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match patients::register(&state.ctx, signed_in.actor(), &input_of(&form)).await {
        Ok(patient) => Ok(redirect_with_flash(
            &state,
            &format!("/patients/{}", patient.id),
            &format!(
                "{}, {} registered",
                patient.family_name.to_uppercase(),
                patient.given_name
            ),
        )),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            patient_form(&signed_in, form.with_errors(errors), None),
        )
            .into_response()),
        Err(error) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "patient_show.html")]
struct PatientPage {
    page: Page,
    form: FormState,
    patient: PatientRow,
    merged_into: Option<(String, String)>,
    merged: Vec<(String, String)>,
    is_current: bool,
    can_register: bool,
    can_merge: bool,
    confirmed: Option<String>,
    identity_fields: Vec<Field>,
    merge_fields: Vec<Field>,
    can_book: bool,
    /// (investigation, status, method, given by, recorded by, when), newest first.
    consents: Vec<(String, String, String, String, String, String)>,
    consent_selects: Vec<SelectField>,
}

async fn patient_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: PatientId,
    form: FormState,
    confirmed: Option<String>,
    flash: Option<String>,
) -> Result<PatientPage, WebError> {
    let actor = signed_in.actor();
    let view = patients::get(&state.ctx, actor, id).await?;
    let consent = requests::consents(&state.ctx, actor, id).await?;
    let today = today(state);
    let row = patient_row(&view.patient, today);
    let label = |code: &str, labels: &[(&str, &str)]| {
        labels
            .iter()
            .find(|(known, _)| *known == code)
            .map(|(_, label)| (*label).to_owned())
            .unwrap_or_else(|| code.to_owned())
    };
    let statuses: Vec<(&str, &str)> = ConsentStatus::ALL
        .iter()
        .map(|status| (status.code(), status.label()))
        .collect();
    let methods: Vec<(&str, &str)> = ConsentMethod::ALL
        .iter()
        .map(|method| (method.code(), method.label()))
        .collect();
    let givers: Vec<(&str, &str)> = ConsentGiver::ALL
        .iter()
        .map(|giver| (giver.code(), giver.label()))
        .collect();
    let options = |labels: &[(&str, &str)]| {
        labels
            .iter()
            .map(|(code, label)| ((*code).to_owned(), (*label).to_owned()))
            .collect::<Vec<_>>()
    };
    let consents = consent
        .records
        .iter()
        .map(|record| {
            (
                record.investigation_code.clone(),
                label(&record.status, &statuses),
                label(&record.method, &methods),
                label(&record.given_by, &givers),
                record.recorded_by_name.clone(),
                benchwork_domain::time::display_london(record.recorded_at),
            )
        })
        .collect();
    let consent_selects = vec![
        (
            "investigation",
            "Investigation",
            "Only investigations that need consent are listed",
            consent
                .options
                .iter()
                .map(|(code, name)| (code.clone(), format!("{name} ({code})")))
                .collect(),
        ),
        ("consent_status", "Decision", "", options(&statuses)),
        ("method", "How it was expressed", "", options(&methods)),
        ("given_by", "Who made the decision", "", options(&givers)),
    ];
    Ok(PatientPage {
        page: Page::new(row.name.clone(), signed_in, "patients", flash)
            .with_errors(form.has_errors()),
        form,
        is_current: view.patient.merged_into.is_none(),
        merged_into: view.merged_into.map(|survivor| {
            let row = patient_row(&survivor, today);
            (row.id, row.name)
        }),
        merged: view
            .merged
            .iter()
            .map(|record| {
                let row = patient_row(record, today);
                (row.id, format!("{} ({})", row.name, row.identifiers))
            })
            .collect(),
        patient: row,
        can_register: actor.can(Permission::RegisterPatients),
        can_merge: actor.can(Permission::MergePatients),
        can_book: actor.can(Permission::BookRequests),
        consents,
        consent_selects,
        confirmed,
        identity_fields: vec![
            ("nhs_number", "NHS number", ""),
            ("hospital_number", "Hospital number", ""),
            ("family_name", "Family name", ""),
            ("given_name", "Given names", ""),
            ("date_of_birth", "Date of birth", "For example 31/03/1980"),
        ],
        merge_fields: vec![
            (
                "survivor",
                "Id of the record to keep",
                "Open the record to keep and copy the last part of its address",
            ),
            (
                "reason",
                "Why these are the same patient",
                "For example: same name, date of birth and address; this record has no NHS number",
            ),
        ],
    })
}

async fn get_patient(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = patient_page(
        &state,
        &signed_in,
        parse_patient_id(&id)?,
        FormState::default(),
        None,
        flash,
    )
    .await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn get_edit_patient(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::RegisterPatients).await?;
    let view = patients::get(&state.ctx, signed_in.actor(), id).await?;
    let patient = view.patient;
    let mut form = FormState::default();
    form.set("nhs_number", patient.nhs_number.clone().unwrap_or_default());
    if let Some((authority, value)) = patient.identifiers.first() {
        form.set("hospital_number", value.clone());
        form.set("hospital_authority", authority.clone());
    }
    form.set("family_name", patient.family_name.clone());
    form.set("given_name", patient.given_name.clone());
    form.set("date_of_birth", uk_date(&patient.date_of_birth));
    form.set("sex", patient.administrative_sex.clone());
    form.set("reference_sex", patient.reference_sex.clone());
    form.set("phone", patient.phone.clone().unwrap_or_default());
    form.set("address", patient.address.clone().unwrap_or_default());
    Ok(patient_form(&signed_in, form, Some(id)).into_response())
}

async fn post_edit_patient(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let form = FormState::from_fields(&fields);
    match patients::update(&state.ctx, signed_in.actor(), id, &input_of(&form)).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            &format!("/patients/{id}"),
            "Patient details corrected",
        )),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            patient_form(&signed_in, form.with_errors(errors), Some(id)),
        )
            .into_response()),
        Err(error) => Err(error.into()),
    }
}

async fn post_confirm(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let form = FormState::from_fields(&fields);
    match patients::confirm_identity(&state.ctx, signed_in.actor(), id, &input_of(&form)).await {
        Ok(confirmed) => {
            let matched = confirmed
                .matched()
                .iter()
                .map(|identifier| identifier.label())
                .collect::<Vec<_>>()
                .join(" and ");
            let page = patient_page(
                &state,
                &signed_in,
                id,
                FormState::default(),
                Some(matched),
                None,
            )
            .await?;
            Ok(page.into_response())
        }
        Err(AppError::Invalid(mut errors)) => {
            // The identity failure is about the whole check: point it at the
            // first field.
            for error in &mut errors {
                if error.field == "identity" {
                    *error = FieldError::new("nhs_number", &error.message);
                }
            }
            let page =
                patient_page(&state, &signed_in, id, form.with_errors(errors), None, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_merge(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let form = FormState::from_fields(&fields);
    match patients::merge(
        &state.ctx,
        signed_in.actor(),
        id,
        form.value("survivor"),
        form.value("reason"),
    )
    .await
    {
        Ok(survivor) => Ok(redirect_with_flash(
            &state,
            &format!("/patients/{survivor}"),
            "Duplicate record merged into this one",
        )),
        Err(AppError::Invalid(errors)) => {
            let page =
                patient_page(&state, &signed_in, id, form.with_errors(errors), None, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_consent(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_patient_id(&id)?;
    let form = FormState::from_fields(&fields);
    let input = ConsentInput {
        investigation: form.value("investigation").into(),
        status: form.value("consent_status").into(),
        method: form.value("method").into(),
        given_by: form.value("given_by").into(),
    };
    match requests::record_consent(&state.ctx, signed_in.actor(), id, &input).await {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &format!("/patients/{id}"),
            "Consent recorded",
        )),
        Err(AppError::Invalid(errors)) => {
            let page =
                patient_page(&state, &signed_in, id, form.with_errors(errors), None, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
