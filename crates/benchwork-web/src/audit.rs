//! The audit trail page and its CSV export, for auditors and managers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::{AppError, FieldError, audit};
use benchwork_domain::audit::{AuditEvent, AuditOutcome};
use benchwork_domain::ids::{PatientId, UserId};
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::AuditFilter;

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(get_audit))
        .route("/audit/export.csv", get(get_audit_csv))
}

const PAGE_SIZE: i64 = 50;
/// The most rows one CSV export holds; narrow the filter for more.
const EXPORT_LIMIT: i64 = 100_000;

/// Parses the filter fields; a date is a day in Europe/London time.
pub(crate) fn parse_filter(form: &FormState) -> Result<AuditFilter, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut filter = AuditFilter::default();
    let person = form.value("person").trim();
    if !person.is_empty() {
        match UserId::parse(person) {
            Ok(id) => filter.actor_id = Some(id),
            Err(_) => filter.actor_name = Some(person.to_ascii_lowercase()),
        }
    }
    let patient = form.value("patient").trim();
    if !patient.is_empty() {
        match PatientId::parse(patient) {
            Ok(id) => filter.patient_id = Some(id),
            Err(_) => errors.push(FieldError::new("patient", "Enter the patient's record id")),
        }
    }
    let record = form.value("record").trim();
    if !record.is_empty() {
        filter.entity_id = Some(record.to_owned());
    }
    let day = |field: &str, errors: &mut Vec<FieldError>| -> Option<jiff::Timestamp> {
        let text = form.value(field).trim();
        if text.is_empty() {
            return None;
        }
        let parsed = text
            .parse::<jiff::civil::Date>()
            .ok()
            .and_then(|date| {
                date.to_zoned(jiff::tz::TimeZone::get("Europe/London").ok()?)
                    .ok()
            })
            .map(|zoned| zoned.timestamp());
        if parsed.is_none() {
            errors.push(FieldError::new(
                field,
                "Enter a date as YYYY-MM-DD, for example 2026-11-25",
            ));
        }
        parsed
    };
    filter.from = day("from", &mut errors);
    filter.to = day("to", &mut errors)
        .and_then(|start| start.checked_add(jiff::SignedDuration::from_hours(24)).ok());
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        errors.push(FieldError::new(
            "to",
            "The end date must be on or after the start date",
        ));
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    }
}

struct EventRow {
    seq: String,
    when: String,
    who: String,
    roles: String,
    what: String,
    failed: bool,
    record: String,
    source: String,
    detail: String,
    change: String,
}

fn event_row(seq: Option<u64>, event: &AuditEvent) -> EventRow {
    let change = match (&event.before, &event.after) {
        (Some(before), Some(after)) => format!("{before} → {after}"),
        (None, Some(after)) => after.clone(),
        (Some(before), None) => before.clone(),
        (None, None) => String::new(),
    };
    EventRow {
        seq: seq
            .map(|seq| seq.to_string())
            .unwrap_or_else(|| "pending".into()),
        when: display_london(event.recorded),
        who: event.actor_name.clone(),
        roles: event.actor_roles.clone(),
        what: event.event_type.clone(),
        failed: event.outcome != AuditOutcome::Success,
        record: match (&event.entity_type, &event.entity_id) {
            (Some(kind), Some(id)) => format!("{kind} {id}"),
            (Some(kind), None) => kind.clone(),
            _ => String::new(),
        },
        source: event.source_address.clone().unwrap_or_default(),
        detail: event.detail.clone().unwrap_or_default(),
        change,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    form: FormState,
    fields: Vec<(&'static str, &'static str, &'static str)>,
    events: Vec<EventRow>,
    query: String,
    previous: Option<String>,
    next: Option<String>,
    head: Option<(u64, String)>,
    n_unsealed: i64,
}

fn query_string(fields: &[(String, String)], offset: Option<i64>) -> String {
    let mut pairs: Vec<(String, String)> = fields
        .iter()
        .filter(|(key, value)| key != "offset" && !value.is_empty())
        .cloned()
        .collect();
    if let Some(offset) = offset {
        pairs.push(("offset".into(), offset.to_string()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn get_audit(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::ViewAuditTrail).await?;
    let form = FormState::from_fields(&fields);
    let offset = form.value("offset").parse::<i64>().unwrap_or(0).max(0);
    let filter_fields = vec![
        ("person", "Person (username)", "text"),
        ("patient", "Patient record id", "text"),
        ("record", "Record id", "text"),
        ("from", "From (YYYY-MM-DD)", "text"),
        ("to", "To (YYYY-MM-DD)", "text"),
    ];
    let head = state.ctx.store.audit_head().await.map_err(AppError::from)?;
    let n_unsealed = state
        .ctx
        .store
        .count_unsealed_audit_events()
        .await
        .map_err(AppError::from)?;
    let (status, form, events, has_more) = match parse_filter(&form) {
        Ok(filter) => {
            let page =
                audit::search(&state.ctx, signed_in.actor(), &filter, PAGE_SIZE, offset).await?;
            (StatusCode::OK, form, page.events, page.has_more)
        }
        Err(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            form.with_errors(errors),
            Vec::new(),
            false,
        ),
    };
    let page = AuditPage {
        page: Page::new("Audit trail", &signed_in, "audit", None).with_errors(form.has_errors()),
        fields: filter_fields,
        events: events
            .iter()
            .map(|(seq, event)| event_row(*seq, event))
            .collect(),
        query: query_string(&fields, None),
        previous: (offset > 0).then(|| query_string(&fields, Some((offset - PAGE_SIZE).max(0)))),
        next: has_more.then(|| query_string(&fields, Some(offset + PAGE_SIZE))),
        head: head.map(|head| (head.seq, hex::encode(head.hash))),
        n_unsealed,
        form,
    };
    Ok((status, page).into_response())
}

async fn get_audit_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(fields): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::ViewAuditTrail).await?;
    let form = FormState::from_fields(&fields);
    let filter = parse_filter(&form).map_err(AppError::Invalid)?;
    let page = audit::search(&state.ctx, signed_in.actor(), &filter, EXPORT_LIMIT, 0).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, row: &[String]| {
        writer.write_record(row).map_err(|error| {
            WebError::App(AppError::Internal(anyhow::anyhow!("writing CSV: {error}")))
        })
    };
    write(
        &mut writer,
        &[
            "sequence",
            "id",
            "recorded_utc",
            "action",
            "type",
            "outcome",
            "actor_id",
            "actor",
            "actor_roles",
            "source_address",
            "entity_type",
            "entity_id",
            "patient_id",
            "department_id",
            "detail",
            "before",
            "after",
        ]
        .map(String::from),
    )?;
    for (seq, event) in &page.events {
        write(
            &mut writer,
            &[
                seq.map(|seq| seq.to_string()).unwrap_or_default(),
                event.id.to_string(),
                event.recorded.to_string(),
                event.action.code().to_owned(),
                event.event_type.clone(),
                event.outcome.code().to_string(),
                event.actor_id.map(|id| id.to_string()).unwrap_or_default(),
                event.actor_name.clone(),
                event.actor_roles.clone(),
                event.source_address.clone().unwrap_or_default(),
                event.entity_type.clone().unwrap_or_default(),
                event.entity_id.clone().unwrap_or_default(),
                event
                    .patient_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                event
                    .department_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                event.detail.clone().unwrap_or_default(),
                event.before.clone().unwrap_or_default(),
                event.after.clone().unwrap_or_default(),
            ]
            .map(|cell| neutralise_formula(&cell)),
        )?;
    }
    let bytes = writer.into_inner().map_err(|error| {
        WebError::App(AppError::Internal(anyhow::anyhow!("writing CSV: {error}")))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"benchwork-audit.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Stops a spreadsheet from running text that starts like a formula
/// (CSV injection): such cells get a leading apostrophe.
fn neutralise_formula(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}
