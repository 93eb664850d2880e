//! QC set-up pages (issue 4): the materials and lots of the person's
//! departments with the targets and rule sets in force, and the forms that
//! add a material, a lot, a target version and a rule-set version. The
//! changes and their checks are `benchwork_app::qc`; these pages only show
//! them and keep what was typed when they are refused.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use benchwork_app::qc::{self, EstablishInput, LotInput, MaterialInput, RulesInput, TargetInput};
use benchwork_app::qc_setup::{self, QcSetup};
use benchwork_app::{AppError, FieldError};
use benchwork_domain::staff::Permission;
use benchwork_domain::westgard::{Rule, RuleSet};

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/qc/setup", get(get_setup))
        .route(
            "/qc/setup/materials/new",
            get(get_material).post(post_material),
        )
        .route("/qc/setup/lots/new", get(get_lot).post(post_lot))
        .route("/qc/setup/targets/new", get(get_target).post(post_target))
        .route("/qc/setup/rules", get(get_rules).post(post_rules))
        .route(
            "/qc/setup/lots/{id}/promote",
            get(get_promote).post(post_promote),
        )
        .route(
            "/qc/setup/lots/{id}/retire",
            get(get_retire).post(post_retire),
        )
}

/// One lot row of the set-up page.
struct LotRow {
    id: String,
    department: String,
    material: String,
    manufacturer: String,
    level: i64,
    lot_number: String,
    expires_on: String,
    status: String,
}

/// The targets and rules in force of one instrument × investigation.
struct SeriesRow {
    instrument: String,
    investigation: String,
    rules: String,
    targets: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_setup.html")]
struct SetupPage {
    page: Page,
    lots: Vec<LotRow>,
    series: Vec<SeriesRow>,
}

fn series_rows(setup: &QcSetup) -> Vec<SeriesRow> {
    fn row_of(rows: &mut Vec<SeriesRow>, instrument: &str, investigation: &str) -> usize {
        if let Some(index) = rows
            .iter()
            .position(|row| row.instrument == instrument && row.investigation == investigation)
        {
            return index;
        }
        rows.push(SeriesRow {
            instrument: instrument.to_owned(),
            investigation: investigation.to_owned(),
            rules: "Not set: the default two-level or three-level set applies".into(),
            targets: Vec::new(),
        });
        rows.len() - 1
    }
    let mut rows: Vec<SeriesRow> = Vec::new();
    for target in &setup.targets {
        let index = row_of(
            &mut rows,
            &target.instrument_name,
            &target.investigation_code,
        );
        rows[index].targets.push(format!(
            "Level {} {} lot {}: mean {}, SD {} ({}, version {})",
            target.level,
            target.material_name,
            target.lot_number,
            target.mean,
            target.sd,
            target.source,
            target.version
        ));
    }
    for target in &setup.establishing {
        let index = row_of(
            &mut rows,
            &target.instrument_name,
            &target.investigation_code,
        );
        rows[index].targets.push(format!(
            "Level {} {} lot {}: target being established from runs, {} of {} values (version {})",
            target.level,
            target.material_name,
            target.lot_number,
            target.count.min(target.establish_n),
            target.establish_n,
            target.version
        ));
    }
    for rules in &setup.rules {
        let index = row_of(&mut rows, &rules.instrument_name, &rules.investigation_code);
        rows[index].rules = format!("{} (version {})", rules.rules, rules.version);
    }
    rows.sort_by(|a, b| {
        (a.instrument.as_str(), a.investigation.as_str())
            .cmp(&(b.instrument.as_str(), b.investigation.as_str()))
    });
    rows
}

async fn get_setup(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let setup = qc_setup::setup(&state.ctx, signed_in.actor()).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = SetupPage {
        page: Page::new("QC set-up", &signed_in, "qc", flash),
        lots: setup
            .materials
            .iter()
            .map(|row| {
                let (id, lot_number, expires_on, status) = match &row.lot {
                    Some((id, number, expires, status)) => (
                        id.to_string(),
                        number.clone(),
                        expires.clone(),
                        status.clone(),
                    ),
                    None => (
                        String::new(),
                        "No lot yet".into(),
                        String::new(),
                        String::new(),
                    ),
                };
                LotRow {
                    id,
                    department: row.department_name.clone(),
                    material: row.name.clone(),
                    manufacturer: row.manufacturer.clone(),
                    level: row.level,
                    lot_number,
                    expires_on,
                    status,
                }
            })
            .collect(),
        series: series_rows(&setup),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

/// One field of a set-up form: a select when `options` is given, else a
/// text input.
struct Field {
    id: &'static str,
    label: &'static str,
    hint: String,
    options: Option<Vec<(String, String)>>,
    width: &'static str,
}

impl Field {
    fn text(id: &'static str, label: &'static str, hint: impl Into<String>) -> Field {
        Field {
            id,
            label,
            hint: hint.into(),
            options: None,
            width: "nhsuk-input--width-20",
        }
    }

    fn narrow(mut self) -> Field {
        self.width = "nhsuk-input--width-10";
        self
    }

    fn select(
        id: &'static str,
        label: &'static str,
        hint: impl Into<String>,
        options: Vec<(String, String)>,
    ) -> Field {
        Field {
            id,
            label,
            hint: hint.into(),
            options: Some(options),
            width: "",
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_setup_form.html")]
struct FormPage {
    page: Page,
    form: FormState,
    action: String,
    intro: String,
    fields: Vec<Field>,
    submit: &'static str,
    submit_id: &'static str,
}

/// Which set-up form.
#[derive(Clone, Copy)]
enum Kind {
    Material,
    Lot,
    Target,
    Rules,
}

fn instrument_options(setup: &QcSetup) -> Vec<(String, String)> {
    setup
        .instruments
        .iter()
        .map(|instrument| (instrument.id.to_string(), instrument.name.clone()))
        .collect()
}

fn lot_options(setup: &QcSetup, only_in_use: bool) -> Vec<(String, String)> {
    setup
        .materials
        .iter()
        .filter_map(|row| {
            let (id, number, expires, status) = row.lot.as_ref()?;
            if only_in_use && status == "retired" {
                return None;
            }
            Some((
                id.to_string(),
                format!(
                    "{} level {} lot {} ({status}, expires {expires})",
                    row.name, row.level, number
                ),
            ))
        })
        .collect()
}

fn rules_hint() -> String {
    format!(
        "Rule codes separated by slashes. The rules: {}. Default for two levels: {}; for three levels: {}.",
        Rule::ALL
            .iter()
            .map(|rule| rule.code())
            .collect::<Vec<_>>()
            .join(", "),
        RuleSet::two_level().codes(),
        RuleSet::three_level().codes()
    )
}

async fn show_form(
    state: &AppState,
    signed_in: &SignedIn,
    kind: Kind,
    form: FormState,
    status: StatusCode,
) -> Result<Response, WebError> {
    let setup = qc_setup::setup(&state.ctx, signed_in.actor()).await?;
    let (title, action, intro, fields, submit, submit_id) = match kind {
        Kind::Material => {
            let mut materials = Vec::new();
            if setup.departments.len() != 1 || form.error("department").is_some() {
                materials.push(Field::select(
                    "department",
                    "Department",
                    "",
                    setup
                        .departments
                        .iter()
                        .map(|department| (department.id.to_string(), department.name.clone()))
                        .collect(),
                ));
            }
            materials.extend([
                Field::text(
                    "name",
                    "Material name",
                    "For example Lyphochek Assayed Chemistry Control",
                ),
                Field::text("manufacturer", "Manufacturer", "For example Bio-Rad"),
                Field::text("level", "Level", "1, 2 or 3").narrow(),
            ]);
            (
                "Add a QC material",
                "/qc/setup/materials/new",
                "Each level of a control material is a material of its own.".to_owned(),
                materials,
                "Add material",
                "add-material",
            )
        }
        Kind::Lot => {
            let materials = setup
                .materials
                .iter()
                .fold(Vec::<(String, String)>::new(), |mut options, row| {
                    let id = row.material_id.to_string();
                    if !options.iter().any(|(known, _)| *known == id) {
                        options.push((
                            id,
                            format!("{} level {} ({})", row.name, row.level, row.manufacturer),
                        ));
                    }
                    options
                });
            (
                "Add a QC lot",
                "/qc/setup/lots/new",
                "A new lot starts as current, or as parallel while it is run alongside the current lot."
                    .to_owned(),
                vec![
                    Field::select("material", "Material", "", materials),
                    Field::text("lot_number", "Lot number", "As printed on the vial").narrow(),
                    Field::text(
                        "expires_on",
                        "Expiry date",
                        "The last day of use, as YYYY-MM-DD, for example 2027-03-31",
                    )
                    .narrow(),
                    Field::select(
                        "status",
                        "Status",
                        "",
                        vec![
                            ("current".into(), "Current".into()),
                            ("parallel".into(), "Parallel (does not decide runs)".into()),
                        ],
                    ),
                ],
                "Add lot",
                "add-lot",
            )
        }
        Kind::Target => (
            "Set a QC target",
            "/qc/setup/targets/new",
            "If the lot already has a target on this instrument for this investigation, this sets a new version; the old one is kept."
                .to_owned(),
            vec![
                Field::select("lot", "Lot", "", lot_options(&setup, true)),
                Field::select("instrument", "Instrument", "", instrument_options(&setup)),
                Field::text("investigation", "Investigation code", "For example K, NA, CREA or GLU")
                    .narrow(),
                Field::select(
                    "source",
                    "Source of the target",
                    "A target established from runs is for a parallel lot: its values do not decide runs until the mean and SD are fixed from the first N values of accepted runs",
                    vec![
                        ("manufacturer".into(), "The manufacturer's mean and SD".into()),
                        ("establish".into(), "Established from the first N runs".into()),
                    ],
                ),
                Field::text("mean", "Target mean", "The manufacturer's mean for this instrument")
                    .narrow(),
                Field::text("sd", "Target SD", "Greater than zero").narrow(),
                Field::text(
                    "establish_n",
                    "N: values to establish the target from",
                    "Only when established from runs: 10 to 100, 20 if left empty",
                )
                .narrow(),
            ],
            "Set target",
            "set-target",
        ),
        Kind::Rules => (
            "Set QC rules",
            "/qc/setup/rules",
            "Sets a new version of the Westgard rules that judge runs of an investigation on an instrument."
                .to_owned(),
            vec![
                Field::select("instrument", "Instrument", "", instrument_options(&setup)),
                Field::text("investigation", "Investigation code", "For example K, NA, CREA or GLU")
                    .narrow(),
                Field::text("rules", "Rule codes", rules_hint()),
            ],
            "Set rules",
            "set-rules",
        ),
    };
    let page = FormPage {
        page: Page::new(title, signed_in, "qc", None).with_errors(form.has_errors()),
        form,
        action: action.to_owned(),
        intro,
        fields,
        submit,
        submit_id,
    };
    Ok((status, page).into_response())
}

async fn get_form(state: AppState, signed_in: SignedIn, kind: Kind) -> Result<Response, WebError> {
    let mut form = FormState::default();
    match kind {
        Kind::Lot => form.set("status", "current"),
        Kind::Target => form.set("source", "manufacturer"),
        _ => {}
    }
    show_form(&state, &signed_in, kind, form, StatusCode::OK).await
}

async fn get_material(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    get_form(state, signed_in, Kind::Material).await
}

async fn get_lot(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, WebError> {
    get_form(state, signed_in, Kind::Lot).await
}

async fn get_target(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    get_form(state, signed_in, Kind::Target).await
}

async fn get_rules(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    get_form(state, signed_in, Kind::Rules).await
}

/// Shows the outcome of a set-up change: back to the set-up page with a
/// flash, or the form again with the errors next to the fields.
async fn outcome<T>(
    state: &AppState,
    signed_in: &SignedIn,
    kind: Kind,
    form: FormState,
    result: Result<T, AppError>,
    message: impl FnOnce(T) -> String,
) -> Result<Response, WebError> {
    match result {
        Ok(record) => Ok(redirect_with_flash(state, "/qc/setup", &message(record))),
        Err(AppError::Invalid(errors)) => {
            let errors: Vec<FieldError> = errors;
            show_form(
                state,
                signed_in,
                kind,
                form.with_errors(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_material(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = MaterialInput {
        department: form.value("department").into(),
        name: form.value("name").into(),
        manufacturer: form.value("manufacturer").into(),
        level: form.value("level").into(),
    };
    let result = qc::create_material(&state.ctx, signed_in.actor(), &input).await;
    outcome(
        &state,
        &signed_in,
        Kind::Material,
        form,
        result,
        |material| {
            format!(
                "QC material added: {} level {}",
                material.name, material.level
            )
        },
    )
    .await
}

async fn post_lot(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = LotInput {
        material: form.value("material").into(),
        lot_number: form.value("lot_number").into(),
        expires_on: form.value("expires_on").into(),
        status: form.value("status").into(),
    };
    let result = qc::create_lot(&state.ctx, signed_in.actor(), &input).await;
    outcome(&state, &signed_in, Kind::Lot, form, result, |lot| {
        format!("QC lot added: {} ({})", lot.lot_number, lot.status)
    })
    .await
}

async fn post_target(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    if form.value("source") == "establish" {
        let result = if !form.value("mean").trim().is_empty() || !form.value("sd").trim().is_empty()
        {
            Err(AppError::Invalid(vec![FieldError::new(
                "source",
                "a target established from runs has no mean or SD yet: clear them, or choose the manufacturer's mean and SD",
            )]))
        } else {
            let input = EstablishInput {
                lot: form.value("lot").into(),
                instrument: form.value("instrument").into(),
                investigation: form.value("investigation").trim().to_uppercase(),
                establish_n: form.value("establish_n").into(),
            };
            qc::establish_target(&state.ctx, signed_in.actor(), &input).await
        };
        return outcome(&state, &signed_in, Kind::Target, form, result, |target| {
            format!(
                "QC target being established from the first {} values of accepted runs (version {})",
                target.establish_n, target.version
            )
        })
        .await;
    }
    let input = TargetInput {
        lot: form.value("lot").into(),
        instrument: form.value("instrument").into(),
        investigation: form.value("investigation").trim().to_uppercase(),
        mean: form.value("mean").into(),
        sd: form.value("sd").into(),
    };
    let result = if form.value("establish_n").trim().is_empty() {
        qc::set_target(&state.ctx, signed_in.actor(), &input).await
    } else {
        Err(AppError::Invalid(vec![FieldError::new(
            "establish_n",
            "N is only for a target established from runs: clear it, or choose that source",
        )]))
    };
    outcome(&state, &signed_in, Kind::Target, form, result, |target| {
        format!(
            "QC target set: mean {}, SD {} (version {})",
            target.mean, target.sd, target.version
        )
    })
    .await
}

async fn post_rules(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = RulesInput {
        instrument: form.value("instrument").into(),
        investigation: form.value("investigation").trim().to_uppercase(),
        rules: form.value("rules").into(),
    };
    let result = qc::set_rules(&state.ctx, signed_in.actor(), &input).await;
    outcome(&state, &signed_in, Kind::Rules, form, result, |rules| {
        format!("QC rules set: {} (version {})", rules.rules, rules.version)
    })
    .await
}

/// Which lot change.
#[derive(Clone, Copy)]
enum LotChange {
    Promote,
    Retire,
}

/// The confirmation page of a lot change: promoting needs no input, retiring
/// a reason.
async fn show_lot_change(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    change: LotChange,
    form: FormState,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (lot, material) = qc::get_lot(&state.ctx, signed_in.actor(), id).await?;
    let what = format!(
        "{} level {} lot {} ({}, expires {})",
        material.name, material.level, lot.lot_number, lot.status, lot.expires_on
    );
    let (title, intro, fields, submit, submit_id, verb) = match change {
        LotChange::Promote => (
            "Make a QC lot current",
            format!(
                "Make {what} the current lot: its values will decide QC runs, and the current lot of this material will be retired at the same time. It needs a fixed target wherever the current lot has one."
            ),
            Vec::new(),
            "Make current",
            "promote-lot",
            "promote",
        ),
        LotChange::Retire => (
            "Retire a QC lot",
            format!(
                "Retire {what}: runs will no longer take its values. If it is the current lot, runs are judged on the other levels until another lot is made current."
            ),
            vec![Field::text(
                "reason",
                "Reason",
                "For example: vial stability exceeded, or replaced by a new lot",
            )],
            "Retire lot",
            "retire-lot",
            "retire",
        ),
    };
    let page = FormPage {
        page: Page::new(title, signed_in, "qc", None).with_errors(form.has_errors()),
        form,
        action: format!("/qc/setup/lots/{}/{verb}", lot.id),
        intro,
        fields,
        submit,
        submit_id,
    };
    Ok((status, page).into_response())
}

async fn get_promote(
    State(state): State<AppState>,
    signed_in: SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    show_lot_change(
        &state,
        &signed_in,
        &id,
        LotChange::Promote,
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

async fn get_retire(
    State(state): State<AppState>,
    signed_in: SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    show_lot_change(
        &state,
        &signed_in,
        &id,
        LotChange::Retire,
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

async fn lot_change_outcome(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    change: LotChange,
    form: FormState,
    result: Result<benchwork_store::QcLotRecord, AppError>,
) -> Result<Response, WebError> {
    match result {
        Ok(lot) => Ok(redirect_with_flash(
            state,
            "/qc/setup",
            &match change {
                LotChange::Promote => format!(
                    "QC lot {} is now current; the previous current lot is retired",
                    lot.lot_number
                ),
                LotChange::Retire => format!("QC lot {} retired", lot.lot_number),
            },
        )),
        Err(AppError::Invalid(errors)) => {
            show_lot_change(
                state,
                signed_in,
                id,
                change,
                form.with_errors(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_promote(
    State(state): State<AppState>,
    signed_in: SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let result = qc::promote_lot(&state.ctx, signed_in.actor(), &id).await;
    lot_change_outcome(&state, &signed_in, &id, LotChange::Promote, form, result).await
}

async fn post_retire(
    State(state): State<AppState>,
    signed_in: SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let result = qc::retire_lot(&state.ctx, signed_in.actor(), &id, form.value("reason")).await;
    lot_change_outcome(&state, &signed_in, &id, LotChange::Retire, form, result).await
}

/// Whether the set-up link shows on the QC overview.
pub(crate) fn can_manage(signed_in: &SignedIn) -> bool {
    signed_in.actor().can(Permission::ManageQc)
}
