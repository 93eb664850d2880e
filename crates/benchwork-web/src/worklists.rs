//! The worklist page: request lines awaiting a result, urgent first then
//! oldest first, by department, discipline or instrument; each row links to
//! the result entry form on its request page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::results;
use benchwork_domain::catalogue::{Discipline, Priority};
use benchwork_domain::request::SpecimenStatus;
use benchwork_domain::time::display_london;
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

#[derive(Template, WebTemplate)]
#[template(path = "worklist.html")]
struct WorklistPage {
    page: Page,
    rows: Vec<WorklistRow>,
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
