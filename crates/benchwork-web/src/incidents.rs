//! Incident and nonconformity pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use benchwork_app::incidents::{self, IncidentInput};
use benchwork_app::{Actor, AppError};
use benchwork_domain::ids::IncidentId;
use benchwork_domain::incident::{
    IncidentCategory, IncidentKind, IncidentStatus, Severity, reference,
};
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::{IncidentFilter, IncidentRecord};

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(get_incidents).post(post_incident))
        .route("/incidents/new", get(get_new_incident))
        .route(
            "/incidents/{id}",
            get(get_incident).post(post_incident_update),
        )
}

pub(crate) struct IncidentView {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub department: String,
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub status: String,
    pub raised: String,
    pub raised_by: String,
    pub owner: String,
    pub description: String,
    pub outcome: String,
}

pub(crate) fn incident_view(record: &IncidentRecord) -> IncidentView {
    IncidentView {
        id: record.id.to_string(),
        reference: reference(record.number),
        title: record.title.clone(),
        department: record.department_name.clone(),
        kind: IncidentKind::parse(&record.kind)
            .map(|kind| kind.label())
            .unwrap_or("Unknown")
            .to_owned(),
        category: IncidentCategory::parse(&record.category)
            .map(|category| category.label())
            .unwrap_or("Unknown")
            .to_owned(),
        severity: Severity::parse(&record.severity)
            .map(|severity| severity.label())
            .unwrap_or("Unknown")
            .to_owned(),
        status: IncidentStatus::parse(&record.status)
            .map(|status| status.label())
            .unwrap_or("Unknown")
            .to_owned(),
        raised: display_london(record.created_at),
        raised_by: record.raised_by_name.clone(),
        owner: record
            .owner_name
            .clone()
            .unwrap_or_else(|| "Nobody yet".into()),
        description: record.description.clone(),
        outcome: record.outcome.clone().unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents_list.html")]
struct IncidentsPage {
    page: Page,
    incidents: Vec<IncidentView>,
    can_raise: bool,
}

async fn get_incidents(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let records = if actor.can(Permission::ViewDepartmentRecords) {
        incidents::list(&state.ctx, actor, &IncidentFilter::default()).await?
    } else {
        benchwork_app::require(&state.ctx, actor, Permission::RaiseIncident).await?;
        Vec::new()
    };
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = IncidentsPage {
        page: Page::new(
            "Incidents and nonconformities",
            &signed_in,
            "incidents",
            flash,
        ),
        incidents: records.iter().map(incident_view).collect(),
        can_raise: actor.can(Permission::RaiseIncident),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

struct SelectField {
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "incident_new.html")]
struct NewIncidentPage {
    page: Page,
    form: FormState,
    selects: Vec<SelectField>,
}

async fn new_incident_page(
    state: &AppState,
    signed_in: &SignedIn,
    form: FormState,
) -> Result<NewIncidentPage, WebError> {
    let actor: &Actor = signed_in.actor();
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    let mut form = form;
    if form.value("department").is_empty() && actor.departments.len() == 1 {
        form.set("department", actor.departments[0].to_string());
    }
    Ok(NewIncidentPage {
        page: Page::new("Report an incident", signed_in, "incidents", None)
            .with_errors(form.has_errors()),
        form,
        selects: vec![
            SelectField {
                name: "department",
                label: "Department",
                options: departments
                    .into_iter()
                    .filter(|department| actor.in_department(department.id))
                    .map(|department| (department.id.to_string(), department.name))
                    .collect(),
            },
            SelectField {
                name: "kind",
                label: "What kind of event",
                options: IncidentKind::ALL
                    .iter()
                    .map(|kind| (kind.code().into(), kind.label().into()))
                    .collect(),
            },
            SelectField {
                name: "category",
                label: "Category",
                options: IncidentCategory::ALL
                    .iter()
                    .map(|c| (c.code().into(), c.label().into()))
                    .collect(),
            },
            SelectField {
                name: "severity",
                label: "Degree of harm",
                options: Severity::ALL
                    .iter()
                    .map(|s| (s.code().into(), s.label().into()))
                    .collect(),
            },
        ],
    })
}

async fn get_new_incident(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::RaiseIncident).await?;
    Ok(new_incident_page(&state, &signed_in, FormState::default())
        .await?
        .into_response())
}

async fn post_incident(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = IncidentInput {
        department: form.value("department").into(),
        kind: form.value("kind").into(),
        category: form.value("category").into(),
        severity: form.value("severity").into(),
        title: form.value("title").into(),
        description: form.value("description").into(),
    };
    match incidents::raise(&state.ctx, signed_in.actor(), &input).await {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            &format!("/incidents/{}", record.id),
            &format!("Incident {} reported", reference(record.number)),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = new_incident_page(&state, &signed_in, form.with_errors(errors)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "incident_show.html")]
struct IncidentPage {
    page: Page,
    form: FormState,
    incident: IncidentView,
    links: Vec<(String, String, String)>,
    can_manage: bool,
    statuses: Vec<(&'static str, &'static str)>,
    owners: Vec<(String, String)>,
}

async fn incident_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: IncidentId,
    form: Option<FormState>,
    flash: Option<String>,
) -> Result<IncidentPage, WebError> {
    let (record, links) = incidents::get(&state.ctx, signed_in.actor(), id).await?;
    let can_manage = signed_in.actor().can(Permission::ManageIncidents);
    let owners = if can_manage {
        state
            .ctx
            .store
            .list_users()
            .await
            .map_err(AppError::from)?
            .into_iter()
            .filter(|user| {
                user.kind == "person"
                    && user.disabled_at.is_none()
                    && user.departments.contains(&record.department_id)
            })
            .map(|user| (user.id.to_string(), user.display_name))
            .collect()
    } else {
        Vec::new()
    };
    let form = form.unwrap_or_else(|| {
        let mut form = FormState::default();
        form.set("status", record.status.clone());
        form.set(
            "owner",
            record.owner_id.map(|id| id.to_string()).unwrap_or_default(),
        );
        form.set("outcome", record.outcome.clone().unwrap_or_default());
        form
    });
    let view = incident_view(&record);
    Ok(IncidentPage {
        page: Page::new(
            format!("{} {}", view.reference, view.title),
            signed_in,
            "incidents",
            flash,
        )
        .with_errors(form.has_errors()),
        form,
        incident: view,
        links: links
            .into_iter()
            .map(|link| (link.record_type, link.record_id, link.label))
            .collect(),
        can_manage,
        statuses: IncidentStatus::ALL
            .iter()
            .map(|status| (status.code(), status.label()))
            .collect(),
        owners,
    })
}

fn parse_incident_id(text: &str) -> Result<IncidentId, WebError> {
    IncidentId::parse(text).map_err(|_| WebError::App(AppError::NotFound))
}

async fn get_incident(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = incident_page(&state, &signed_in, parse_incident_id(&id)?, None, flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn post_incident_update(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = parse_incident_id(&id)?;
    let form = FormState::from_fields(&fields);
    match incidents::update(
        &state.ctx,
        signed_in.actor(),
        id,
        form.value("status"),
        form.value("owner"),
        form.value("outcome"),
    )
    .await
    {
        Ok(record) => Ok(redirect_with_flash(
            &state,
            &format!("/incidents/{id}"),
            &format!("Incident {} updated", reference(record.number)),
        )),
        Err(AppError::Invalid(errors)) => {
            let page =
                incident_page(&state, &signed_in, id, Some(form.with_errors(errors)), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
