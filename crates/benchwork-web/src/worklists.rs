//! The worklist page: request lines awaiting a result, urgent first then
//! oldest first, by department, discipline or instrument; each row links to
//! the result entry form on its request page. Below it, for those allowed,
//! the results awaiting verification and authorisation in the person's
//! departments, urgent first.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::{results, verification};
use benchwork_domain::catalogue::{Discipline, Priority};
use benchwork_domain::request::SpecimenStatus;
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::QueueRecord;
use serde::Deserialize;

use crate::AppState;
use crate::error::WebError;
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/worklists", get(get_worklist))
}

#[derive(Debug, Default, Deserialize)]
struct WorklistQuery {
    #[serde(default)]
    department: String,
    #[serde(default)]
    discipline: String,
    #[serde(default)]
    instrument: String,
}

struct WorklistRow {
    accession: String,
    priority: String,
    urgent: bool,
    investigation: String,
    discipline: String,
    specimen: String,
    department: String,
    booked: String,
}

/// A result awaiting verification or authorisation.
struct QueueRow {
    accession: String,
    priority: String,
    urgent: bool,
    investigation: String,
    value: String,
    flag: String,
    department: String,
    booked: String,
}

fn queue_row(row: &QueueRecord) -> QueueRow {
    QueueRow {
        accession: row.accession.clone(),
        priority: Priority::parse(&row.priority)
            .map(|priority| priority.label().to_owned())
            .unwrap_or_else(|| row.priority.clone()),
        urgent: row.priority == Priority::Urgent.code(),
        investigation: row.code.clone(),
        value: format!(
            "{} {}",
            row.value_text,
            row.unit.clone().unwrap_or_default()
        ),
        flag: row.flag.clone().unwrap_or_default(),
        department: row.department_name.clone(),
        booked: display_london(row.booked_at),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "worklist.html")]
struct WorklistPage {
    page: Page,
    rows: Vec<WorklistRow>,
    /// Whether the person may verify / authorise (the queues are shown).
    may_verify: bool,
    may_authorise: bool,
    to_verify: Vec<QueueRow>,
    to_authorise: Vec<QueueRow>,
    discipline: String,
    instrument: String,
    /// (code, label).
    disciplines: Vec<(String, String)>,
    /// (id, name).
    instruments: Vec<(String, String)>,
}

async fn get_worklist(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<WorklistQuery>,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let rows = results::worklist(
        &state.ctx,
        actor,
        &query.department,
        &query.discipline,
        &query.instrument,
    )
    .await?;
    let instruments = results::instruments(&state.ctx, actor).await?;
    let may_verify = actor.can(Permission::VerifyResults);
    let may_authorise = actor.can(Permission::AuthoriseResults);
    let (to_verify, to_authorise) = if may_verify || may_authorise {
        verification::queues(&state.ctx, actor).await?
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(WorklistPage {
        page: Page::new("Worklists", &signed_in, "worklists", None),
        rows: rows
            .iter()
            .map(|row| WorklistRow {
                accession: row.accession.clone(),
                priority: Priority::parse(&row.priority)
                    .map(|priority| priority.label().to_owned())
                    .unwrap_or_else(|| row.priority.clone()),
                urgent: row.priority == Priority::Urgent.code(),
                investigation: format!("{} ({})", row.name, row.code),
                discipline: Discipline::parse(&row.discipline)
                    .map(|discipline| discipline.label().to_owned())
                    .unwrap_or_else(|| row.discipline.clone()),
                specimen: match (&row.specimen_code, &row.specimen_status) {
                    (Some(code), Some(status)) => format!(
                        "{code} ({})",
                        SpecimenStatus::parse(status)
                            .map(|status| status.label().to_lowercase())
                            .unwrap_or_else(|| status.clone())
                    ),
                    _ => "No specimen".into(),
                },
                department: row.department_name.clone(),
                booked: display_london(row.booked_at),
            })
            .collect(),
        may_verify,
        may_authorise,
        to_verify: to_verify.iter().map(queue_row).collect(),
        to_authorise: to_authorise.iter().map(queue_row).collect(),
        discipline: query.discipline,
        instrument: query.instrument,
        disciplines: Discipline::ALL
            .iter()
            .map(|discipline| (discipline.code().to_owned(), discipline.label().to_owned()))
            .collect(),
        instruments: instruments
            .into_iter()
            .map(|instrument| (instrument.id.to_string(), instrument.name))
            .collect(),
    }
    .into_response())
}
