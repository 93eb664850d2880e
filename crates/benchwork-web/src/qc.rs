//! Internal quality control pages (issue 4): the QC overview (latest run of
//! each instrument and investigation, open holds first), QC run entry, the
//! run page (values, z-scores and the rules that fired, in words) and the
//! hold page (the results it holds and those released in its window, the
//! corrective action and the review of each result).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::qc::{self, RunInput, RunSetup, value_field};
use benchwork_app::qc_holds::{self, CorrectiveInput, ReviewInput};
use benchwork_app::{AppError, FieldError};
use benchwork_domain::qc_hold::{CorrectiveKind, ReviewOutcome};
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::{HoldResultRecord, QcHoldRecord, QcRunRecord};

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/qc", get(get_qc))
        .route("/qc/runs", post(post_run))
        .route("/qc/runs/new", get(get_new_run))
        .route("/qc/runs/{id}", get(get_run))
        .route("/qc/holds/{id}", get(get_hold))
        .route(
            "/qc/holds/{id}/corrective-action",
            post(post_corrective_action),
        )
        .route("/qc/holds/{id}/reviews", post(post_review))
}

fn decision_label(code: &str) -> &'static str {
    match code {
        "accepted" => "Accepted",
        "warning" => "Warning (1-2s): accepted after inspection",
        "rejected" => "Rejected",
        _ => "Unknown",
    }
}

fn decision_tag(code: &str) -> &'static str {
    match code {
        "accepted" => "nhsuk-tag--green",
        "warning" => "nhsuk-tag--yellow",
        _ => "nhsuk-tag--red",
    }
}

/// A run as the pages show it.
struct RunView {
    id: String,
    instrument: String,
    investigation: String,
    run_at: String,
    operator: String,
    decision_label: &'static str,
    decision_tag: &'static str,
    rules: String,
    comment: String,
    values: Vec<(String, String, String, String, String, &'static str)>,
    violations: Vec<(String, String, String)>,
}

fn run_view(run: &QcRunRecord) -> RunView {
    let level_of_run = |text: &str| -> String {
        let points: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
        points
            .iter()
            .map(|point| {
                let run_id = point["run"].as_str().unwrap_or_default();
                let level = point["level"].as_i64().unwrap_or_default();
                if run_id == run.id.to_string() {
                    format!("level {level} in this run")
                } else {
                    format!("level {level} in run {}", run_id.get(..8).unwrap_or(run_id))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    RunView {
        id: run.id.to_string(),
        instrument: run.instrument_name.clone(),
        investigation: run.investigation_code.clone(),
        run_at: display_london(run.run_at),
        operator: run.operator_name.clone(),
        decision_label: decision_label(&run.decision),
        decision_tag: decision_tag(&run.decision),
        rules: run.rules.clone(),
        comment: run.comment.clone(),
        values: run
            .values
            .iter()
            .map(|value| {
                (
                    value.level.to_string(),
                    value.lot_number.clone(),
                    value.value.to_string(),
                    value
                        .target
                        .map(|(mean, sd)| format!("{mean} ± {sd}"))
                        .unwrap_or_else(|| "no target".into()),
                    value
                        .z
                        .map(|z| format!("{z:+.2}"))
                        .unwrap_or_else(|| "–".into()),
                    if value.decides {
                        "current lot"
                    } else {
                        "parallel lot (does not decide)"
                    },
                )
            })
            .collect(),
        violations: run
            .violations
            .iter()
            .map(|violation| {
                (
                    violation.rule.clone(),
                    violation.scope.clone(),
                    level_of_run(&violation.points),
                )
            })
            .collect(),
    }
}

/// A hold as the pages show it.
struct HoldView {
    id: String,
    instrument: String,
    investigation: String,
    rejected_run_id: String,
    rejected_run_at: String,
    window_start: String,
    open: bool,
    corrective: Option<(String, String, String)>,
    released: Option<(String, String)>,
}

fn hold_view(hold: &QcHoldRecord) -> HoldView {
    HoldView {
        id: hold.id.to_string(),
        instrument: hold.instrument_name.clone(),
        investigation: hold.investigation_code.clone(),
        rejected_run_id: hold.rejected_run_id.to_string(),
        rejected_run_at: display_london(hold.rejected_run_at),
        window_start: hold
            .window_start
            .map(display_london)
            .unwrap_or_else(|| "no earlier accepted run: all results".into()),
        open: hold.status == "open",
        corrective: hold.corrective.as_ref().map(|(kind, text, _, at)| {
            (
                CorrectiveKind::parse(kind).map_or(kind.clone(), |kind| kind.label().to_owned()),
                text.clone(),
                display_london(*at),
            )
        }),
        released: hold
            .release_run
            .map(|(run, at)| (run.to_string(), display_london(at))),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_overview.html")]
struct OverviewPage {
    page: Page,
    open_holds: Vec<HoldView>,
    runs: Vec<RunView>,
    can_record: bool,
    can_manage: bool,
}

async fn get_qc(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let runs = qc::latest_runs(&state.ctx, actor).await?;
    let holds = qc_holds::list_holds(&state.ctx, actor).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = OverviewPage {
        page: Page::new("Quality control", &signed_in, "qc", flash),
        open_holds: holds
            .iter()
            .filter(|hold| hold.status == "open")
            .map(hold_view)
            .collect(),
        runs: runs.iter().map(run_view).collect(),
        can_record: actor.can(Permission::RecordQc),
        can_manage: crate::qc_setup::can_manage(&signed_in),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

/// One value input of the run form.
struct LotField {
    field: String,
    label: String,
    hint: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_run_new.html")]
struct RunFormPage {
    page: Page,
    form: FormState,
    instruments: Vec<(String, String)>,
    lots: Vec<LotField>,
    rules: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RunQuery {
    instrument: String,
    investigation: String,
}

fn lot_fields(setup: &RunSetup) -> Vec<LotField> {
    setup
        .lots
        .iter()
        .map(|in_use| LotField {
            field: value_field(in_use.lot.id),
            label: format!(
                "Level {} – {} lot {}{}",
                in_use.level,
                in_use.material_name,
                in_use.lot.lot_number,
                if in_use.lot.status == "parallel" {
                    " (parallel, optional)"
                } else {
                    ""
                }
            ),
            hint: match (&in_use.target, &in_use.establishing) {
                (Some(target), _) => format!(
                    "Target {} ± {} (SD); expires {}",
                    target.mean, target.sd, in_use.lot.expires_on
                ),
                (None, Some((establishing, count))) => format!(
                    "Target being established: {} of {} values; expires {}",
                    count.min(&establishing.establish_n),
                    establishing.establish_n,
                    in_use.lot.expires_on
                ),
                (None, None) => format!("No target set yet; expires {}", in_use.lot.expires_on),
            },
        })
        .collect()
}

async fn run_form(
    state: &AppState,
    signed_in: &SignedIn,
    form: FormState,
    status: StatusCode,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let instruments = qc::instruments(&state.ctx, actor)
        .await?
        .into_iter()
        .map(|instrument| (instrument.id.to_string(), instrument.name))
        .collect();
    let mut form = form;
    let (lots, rules) =
        if form.value("instrument").is_empty() || form.value("investigation").is_empty() {
            (Vec::new(), String::new())
        } else {
            match qc::run_setup(
                &state.ctx,
                actor,
                form.value("instrument"),
                form.value("investigation"),
            )
            .await
            {
                Ok(setup) => (lot_fields(&setup), setup.rules.codes()),
                Err(AppError::Invalid(errors)) => {
                    let mut all = form.errors().to_vec();
                    all.extend(errors);
                    form = form.with_errors(all);
                    (Vec::new(), String::new())
                }
                Err(error) => return Err(error.into()),
            }
        };
    let page = RunFormPage {
        page: Page::new("Record a QC run", signed_in, "qc", None).with_errors(form.has_errors()),
        form,
        instruments,
        lots,
        rules,
    };
    Ok((status, page).into_response())
}

async fn get_new_run(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<RunQuery>,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::RecordQc).await?;
    let mut form = FormState::default();
    form.set("instrument", query.instrument);
    form.set("investigation", query.investigation.trim().to_uppercase());
    run_form(&state, &signed_in, form, StatusCode::OK).await
}

async fn post_run(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let form = FormState::from_fields(&fields);
    let input = RunInput {
        instrument: form.value("instrument").into(),
        investigation: form.value("investigation").into(),
        values: fields
            .iter()
            .filter_map(|(name, value)| {
                name.strip_prefix("value-")
                    .map(|lot| (lot.to_owned(), value.clone()))
            })
            .collect(),
        comment: form.value("comment").into(),
    };
    match qc::record_run(&state.ctx, actor, &input).await {
        Ok(run) => Ok(redirect_with_flash(
            &state,
            &format!("/qc/runs/{}", run.id),
            &format!("QC run recorded: {}", decision_label(&run.decision)),
        )),
        Err(AppError::Invalid(errors)) => {
            run_form(
                &state,
                &signed_in,
                form.with_errors(errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_run_show.html")]
struct RunPage {
    page: Page,
    run: RunView,
    hold: Option<String>,
}

async fn get_run(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let run = qc::get_run(&state.ctx, actor, &id).await?;
    let hold = qc_holds::list_holds(&state.ctx, actor)
        .await?
        .into_iter()
        .find(|hold| hold.rejected_run_id == run.id)
        .map(|hold| hold.id.to_string());
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = RunPage {
        page: Page::new(
            format!(
                "QC run: {} on {}",
                run.investigation_code, run.instrument_name
            ),
            &signed_in,
            "qc",
            flash,
        ),
        run: run_view(&run),
        hold,
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

/// A result covered by a hold, as the hold page shows it.
struct HeldView {
    id: String,
    accession: String,
    patient: String,
    value: String,
    analysed_at: String,
    review: Option<(String, String, String, String)>,
}

fn held_view(result: &HoldResultRecord) -> HeldView {
    HeldView {
        id: result.result_id.to_string(),
        accession: result.accession.clone(),
        patient: result.patient_name.clone(),
        value: match &result.unit {
            Some(unit) => format!("{} {unit}", result.value_text),
            None => result.value_text.clone(),
        },
        analysed_at: display_london(result.analysed_at),
        review: result.review.as_ref().map(|(outcome, reason, by, at)| {
            (
                ReviewOutcome::parse(outcome)
                    .map_or(outcome.clone(), |outcome| outcome.label().to_owned()),
                reason.clone(),
                by.clone(),
                display_london(*at),
            )
        }),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "qc_hold_show.html")]
struct HoldPage {
    page: Page,
    form: FormState,
    hold: HoldView,
    held: Vec<HeldView>,
    released: Vec<HeldView>,
    kinds: Vec<(&'static str, &'static str)>,
    can_release: bool,
}

async fn hold_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    form: FormState,
    flash: Option<String>,
) -> Result<HoldPage, WebError> {
    let actor = signed_in.actor();
    let (hold, results) = qc_holds::get_hold(&state.ctx, actor, id).await?;
    let (released, held): (Vec<_>, Vec<_>) = results
        .iter()
        .partition(|result| matches!(result.status.as_str(), "final" | "amended"));
    Ok(HoldPage {
        page: Page::new(
            format!(
                "QC hold: {} on {}",
                hold.investigation_code, hold.instrument_name
            ),
            signed_in,
            "qc",
            flash,
        )
        .with_errors(form.has_errors()),
        form,
        hold: hold_view(&hold),
        held: held.into_iter().map(held_view).collect(),
        released: released.into_iter().map(held_view).collect(),
        kinds: CorrectiveKind::ALL
            .iter()
            .map(|kind| (kind.code(), kind.label()))
            .collect(),
        can_release: actor.can(Permission::ReleaseQcHold),
    })
}

async fn get_hold(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = hold_page(&state, &signed_in, &id, FormState::default(), flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn post_corrective_action(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = CorrectiveInput {
        kind: form.value("kind").into(),
        description: form.value("description").into(),
    };
    match qc_holds::record_corrective_action(&state.ctx, signed_in.actor(), &id, &input).await {
        Ok(hold) => Ok(redirect_with_flash(
            &state,
            &format!("/qc/holds/{}", hold.id),
            "Corrective action recorded: the hold is released by the next accepted QC run",
        )),
        Err(AppError::Invalid(errors)) => {
            let page = hold_page(&state, &signed_in, &id, form.with_errors(errors), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_review(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let result = form.value("result").to_owned();
    let input = ReviewInput {
        result: result.clone(),
        outcome: form.value("outcome").into(),
        reason: form.value(&format!("reason-{result}")).into(),
    };
    match qc_holds::review_result(&state.ctx, signed_in.actor(), &id, &input).await {
        Ok((hold, held, outcome)) => Ok(redirect_with_flash(
            &state,
            &format!("/qc/holds/{}", hold.id),
            &format!("{} {}: {}", held.accession, "result", outcome.label()),
        )),
        Err(AppError::Invalid(errors)) => {
            // Errors are shown next to the row's reason field.
            let errors = errors
                .into_iter()
                .map(|error| match error.field.as_str() {
                    "reason" | "outcome" => {
                        FieldError::new(&format!("reason-{result}"), error.message)
                    }
                    _ => error,
                })
                .collect();
            let page = hold_page(&state, &signed_in, &id, form.with_errors(errors), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
