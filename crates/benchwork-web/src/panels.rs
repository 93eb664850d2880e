//! Panel pages: the list of panels, and the form that adds a panel or
//! makes its next version. Members are chosen from the catalogue and are
//! added, removed and moved up or down with buttons that post the form
//! back (no JavaScript): only "Save" changes the catalogue.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use benchwork_app::panels::{self, PanelInput, member_field};
use benchwork_app::{Actor, AppError, FieldError, catalogue};
use benchwork_domain::staff::Permission;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

/// The most members a submitted form is read for.
const MAX_MEMBERS: usize = 100;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/catalogue/panels", get(get_panels).post(post_panel))
        .route("/catalogue/panels/new", get(get_new_panel))
        .route(
            "/catalogue/panels/{code}/edit",
            get(get_edit_panel).post(post_edit_panel),
        )
}

/// One panel as the list shows it.
struct Row {
    code: String,
    name: String,
    version: i64,
    members: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "panels_list.html")]
struct ListPage {
    page: Page,
    rows: Vec<Row>,
    can_edit: bool,
}

async fn get_panels(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let records = catalogue::list_panels(&state.ctx, actor).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = ListPage {
        page: Page::new("Panels", &signed_in, "catalogue", flash),
        rows: records
            .iter()
            .map(|panel| Row {
                code: panel.code.clone(),
                name: panel.name.clone(),
                version: panel.version,
                members: panel
                    .members
                    .iter()
                    .map(|(code, name)| format!("{name} ({code})"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        can_edit: actor.can(Permission::EditCatalogue),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

/// One member of the form, in report order.
struct MemberRow {
    idx: usize,
    field: String,
    value: String,
    error: Option<String>,
    options: Vec<(String, String)>,
    first: bool,
    last: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "panel_form.html")]
struct FormPage {
    page: Page,
    form: FormState,
    action: String,
    creating: bool,
    members: Vec<MemberRow>,
    options: Vec<(String, String)>,
}

/// What a panel form holds: code, name, version edited and the members in
/// order.
struct Typed {
    form: FormState,
    members: Vec<String>,
}

impl Typed {
    fn from_fields(fields: &[(String, String)]) -> Typed {
        let mut indexed: Vec<(usize, String)> = fields
            .iter()
            .filter_map(|(key, value)| {
                let idx = key.strip_prefix("member_")?.parse::<usize>().ok()?;
                (idx < MAX_MEMBERS).then(|| (idx, value.trim().to_owned()))
            })
            .collect();
        indexed.sort_by_key(|(idx, _)| *idx);
        Typed {
            form: FormState::from_fields(fields),
            members: indexed
                .into_iter()
                .map(|(_, value)| value)
                .filter(|value| !value.is_empty())
                .collect(),
        }
    }

    /// Applies a button other than "Save"; returns whether one was pressed.
    fn apply(&mut self, action: &str) -> bool {
        let (verb, idx) = match action.split_once('-') {
            Some((verb, idx)) => (verb, idx.parse::<usize>().ok()),
            None => (action, None),
        };
        let n_members = self.members.len();
        match (verb, idx) {
            ("add", _) => {
                let new_member = self.form.value("new_member").trim().to_owned();
                if !new_member.is_empty() {
                    self.members.push(new_member);
                }
            }
            ("up", Some(idx)) if idx > 0 && idx < n_members => self.members.swap(idx - 1, idx),
            ("down", Some(idx)) if idx + 1 < n_members => self.members.swap(idx, idx + 1),
            ("remove", Some(idx)) if idx < n_members => {
                self.members.remove(idx);
            }
            ("up" | "down" | "remove", _) => {}
            _ => return false,
        }
        self.form.set("new_member", "");
        true
    }

    /// The members with the one chosen in "Add an investigation", when the
    /// person saves without pressing "Add" first.
    fn input(&self) -> PanelInput {
        let mut members = self.members.clone();
        let new_member = self.form.value("new_member").trim();
        if !new_member.is_empty() {
            members.push(new_member.to_owned());
        }
        PanelInput {
            code: self.form.value("code").into(),
            name: self.form.value("name").into(),
            members,
            based_on_version: self.form.value("based_on_version").into(),
        }
    }
}

async fn options_of(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, WebError> {
    Ok(catalogue::list(&state.ctx, actor, "")
        .await?
        .iter()
        .map(|record| {
            let parts = record.definition.parts();
            (
                parts.code.to_string(),
                format!("{} ({})", parts.name, parts.code),
            )
        })
        .collect())
}

fn form_page(
    signed_in: &SignedIn,
    typed: Typed,
    errors: Vec<FieldError>,
    options: Vec<(String, String)>,
    editing: Option<(&str, &str)>,
) -> FormPage {
    let (title, action) = match editing {
        None => ("Add a panel".to_owned(), "/catalogue/panels".to_owned()),
        Some((code, name)) => (
            format!("Edit {name}"),
            format!("/catalogue/panels/{code}/edit"),
        ),
    };
    // A member typed on the new-member list that could not be saved is
    // shown as a row of its own, so the error has a place and the entry is
    // kept.
    let mut values = typed.members.clone();
    let new_member = typed.form.value("new_member").trim().to_owned();
    let mut form = typed.form;
    if !new_member.is_empty() && !errors.is_empty() {
        values.push(new_member);
        form.set("new_member", "");
    }
    let form = form.with_errors(errors);
    let n_members = values.len();
    let members = values
        .into_iter()
        .enumerate()
        .map(|(idx, value)| {
            let field = member_field(idx);
            let mut row_options = options.clone();
            if !row_options.iter().any(|(code, _)| *code == value) {
                row_options.push((value.clone(), format!("{value} (not in the catalogue)")));
            }
            MemberRow {
                idx,
                error: form.error(&field).map(str::to_owned),
                field,
                value,
                options: row_options,
                first: idx == 0,
                last: idx + 1 == n_members,
            }
        })
        .collect();
    FormPage {
        page: Page::new(title, signed_in, "catalogue", None).with_errors(form.has_errors()),
        form,
        action,
        creating: editing.is_none(),
        members,
        options,
    }
}

/// Moves errors about the whole list onto the field the form shows it by.
fn shown_errors(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|error| match error.field.as_str() {
            "members" => FieldError::new("new_member", &error.message),
            "based_on_version" => FieldError::new("name", &error.message),
            _ => error,
        })
        .collect()
}

async fn get_new_panel(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::EditCatalogue).await?;
    let options = options_of(&state, actor).await?;
    let typed = Typed {
        form: FormState::default(),
        members: Vec::new(),
    };
    Ok(form_page(&signed_in, typed, Vec::new(), options, None).into_response())
}

async fn post_panel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::EditCatalogue).await?;
    let mut typed = Typed::from_fields(&fields);
    let action = typed.form.value("action").to_owned();
    if typed.apply(&action) {
        let options = options_of(&state, actor).await?;
        return Ok(form_page(&signed_in, typed, Vec::new(), options, None).into_response());
    }
    match panels::create(&state.ctx, actor, &typed.input()).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            "/catalogue/panels",
            &format!("{} added as version 1", record.name),
        )),
        Err(AppError::Invalid(errors)) => {
            let options = options_of(&state, actor).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&signed_in, typed, shown_errors(errors), options, None),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn get_edit_panel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::EditCatalogue).await?;
    let record = panels::get(&state.ctx, actor, &code).await?;
    let options = options_of(&state, actor).await?;
    let mut form = FormState::default();
    form.set("name", record.name.clone());
    form.set("based_on_version", record.version.to_string());
    let typed = Typed {
        form,
        members: record
            .members
            .iter()
            .map(|(code, _)| code.clone())
            .collect(),
    };
    Ok(form_page(
        &signed_in,
        typed,
        Vec::new(),
        options,
        Some((&record.code, &record.name)),
    )
    .into_response())
}

async fn post_edit_panel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    benchwork_app::require(&state.ctx, actor, Permission::EditCatalogue).await?;
    let current = panels::get(&state.ctx, actor, &code).await?;
    let mut typed = Typed::from_fields(&fields);
    let action = typed.form.value("action").to_owned();
    let editing = Some((current.code.as_str(), current.name.as_str()));
    if typed.apply(&action) {
        let options = options_of(&state, actor).await?;
        return Ok(form_page(&signed_in, typed, Vec::new(), options, editing).into_response());
    }
    match panels::edit(&state.ctx, actor, &code, &typed.input()).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            "/catalogue/panels",
            &format!("{} saved as version {}", record.name, record.version),
        )),
        Err(AppError::Invalid(errors)) => {
            let options = options_of(&state, actor).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&signed_in, typed, shown_errors(errors), options, editing),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}
