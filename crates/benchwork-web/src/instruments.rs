//! Instrument register pages: the instruments of the person's departments,
//! by department, and the forms that add one or correct one.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use benchwork_app::instruments::{self, DepartmentInstruments};
use benchwork_app::results::InstrumentInput;
use benchwork_app::{Actor, AppError};
use benchwork_domain::catalogue::Discipline;
use benchwork_domain::staff::Permission;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/instruments", get(get_instruments).post(post_instrument))
        .route("/instruments/new", get(get_new_instrument))
        .route(
            "/instruments/{id}/edit",
            get(get_edit_instrument).post(post_edit_instrument),
        )
}

/// One instrument as the list shows it.
struct Row {
    id: String,
    name: String,
    discipline: String,
    location: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "instruments_list.html")]
struct ListPage {
    page: Page,
    departments: Vec<(String, Vec<Row>)>,
    can_manage: bool,
}

fn discipline_label(code: &str) -> String {
    Discipline::parse(code)
        .map(|discipline| discipline.label().to_owned())
        .unwrap_or_else(|| code.to_owned())
}

async fn get_instruments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let departments = instruments::list_by_department(&state.ctx, actor).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = ListPage {
        page: Page::new("Instruments", &signed_in, "instruments", flash),
        departments: departments
            .into_iter()
            .map(|department| {
                (
                    department.department_name,
                    department
                        .instruments
                        .iter()
                        .map(|instrument| Row {
                            id: instrument.id.to_string(),
                            name: instrument.name.clone(),
                            discipline: discipline_label(&instrument.discipline),
                            location: instrument.location.clone(),
                        })
                        .collect(),
                )
            })
            .collect(),
        can_manage: actor.can(Permission::ManageInstruments),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

#[derive(Template, WebTemplate)]
#[template(path = "instrument_form.html")]
struct FormPage {
    page: Page,
    form: FormState,
    action: String,
    creating: bool,
    departments: Vec<(String, String)>,
    disciplines: Vec<(String, String)>,
}

fn form_page(
    signed_in: &SignedIn,
    form: FormState,
    departments: &[DepartmentInstruments],
    editing: Option<(&str, &str)>,
) -> FormPage {
    let (title, action) = match editing {
        None => ("Add an instrument".to_owned(), "/instruments".to_owned()),
        Some((id, name)) => (format!("Edit {name}"), format!("/instruments/{id}/edit")),
    };
    let mut disciplines = vec![(String::new(), "Choose".to_owned())];
    disciplines.extend(
        Discipline::ALL
            .iter()
            .map(|discipline| (discipline.code().to_owned(), discipline.label().to_owned())),
    );
    FormPage {
        page: Page::new(title, signed_in, "instruments", None).with_errors(form.has_errors()),
        form,
        action,
        creating: editing.is_none(),
        departments: departments
            .iter()
            .map(|department| {
                (
                    department.department_id.to_string(),
                    department.department_name.clone(),
                )
            })
            .collect(),
        disciplines,
    }
}

fn input_of(form: &FormState) -> InstrumentInput {
    InstrumentInput {
        department: form.value("department").into(),
        name: form.value("name").into(),
        discipline: form.value("discipline").into(),
        location: form.value("location").into(),
    }
}

async fn departments_of(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<DepartmentInstruments>, WebError> {
    Ok(instruments::list_by_department(&state.ctx, actor).await?)
}

async fn get_new_instrument(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::ManageInstruments).await?;
    let departments = departments_of(&state, actor).await?;
    let mut form = FormState::default();
    if let [only] = departments.as_slice() {
        form.set("department", only.department_id.to_string());
    }
    Ok(form_page(&signed_in, form, &departments, None).into_response())
}

async fn post_instrument(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let form = FormState::from_fields(&fields);
    match instruments::create(&state.ctx, actor, &input_of(&form)).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            "/instruments",
            &format!("{} added to the instruments", record.name),
        )),
        Err(AppError::Invalid(errors)) => {
            let departments = departments_of(&state, actor).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&signed_in, form.with_errors(errors), &departments, None),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn get_edit_instrument(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::ManageInstruments).await?;
    let record = instruments::get(&state.ctx, actor, &id).await?;
    let departments = departments_of(&state, actor).await?;
    let mut form = FormState::default();
    form.set("name", record.name.clone());
    form.set("discipline", record.discipline.clone());
    form.set("location", record.location.clone());
    Ok(form_page(
        &signed_in,
        form,
        &departments,
        Some((&record.id.to_string(), &record.name)),
    )
    .into_response())
}

async fn post_edit_instrument(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let form = FormState::from_fields(&fields);
    match instruments::edit(&state.ctx, actor, &id, &input_of(&form)).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            "/instruments",
            &format!("{} saved", record.name),
        )),
        Err(AppError::Invalid(errors)) => {
            let record = instruments::get(&state.ctx, actor, &id).await?;
            let departments = departments_of(&state, actor).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(
                    &signed_in,
                    form.with_errors(errors),
                    &departments,
                    Some((&record.id.to_string(), &record.name)),
                ),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}
