//! The report of a request: on screen (printable, in the NHS.UK styles) and
//! as a PDF download. Both show the same `ReportDocument` that
//! `benchwork_app::reports` assembles.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use benchwork_app::reports;
use benchwork_report::ReportDocument;

use crate::AppState;
use crate::error::WebError;
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/requests/{accession}/report", get(get_report))
        .route("/requests/{accession}/report.pdf", get(get_report_pdf))
}

#[derive(Template, WebTemplate)]
#[template(path = "request_report.html")]
struct ReportPage {
    page: Page,
    report: ReportDocument,
    patient_id: String,
    /// Issue 6: critical-result tasks and their communication record.
    critical: Vec<crate::critical::RecordView>,
}

async fn get_report(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(accession): Path<String>,
) -> Result<Response, WebError> {
    let report = reports::report(&state.ctx, signed_in.actor(), &accession).await?;
    let critical = crate::critical::record_views(
        &benchwork_app::critical::for_request(&state.ctx, signed_in.actor(), &accession).await?,
        state.ctx.now(),
    );
    Ok(ReportPage {
        critical,
        page: Page::new(
            format!("Report of request {}", report.document.request.accession),
            &signed_in,
            "requests",
            None,
        ),
        patient_id: report.patient_id.to_string(),
        report: report.document,
    }
    .into_response())
}

/// The response for a PDF report: a download named after the accession
/// number, never cached (it is patient data).
pub(crate) fn pdf_response(accession: &str, pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{accession}.pdf\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pdf,
    )
        .into_response()
}

async fn get_report_pdf(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(accession): Path<String>,
) -> Result<Response, WebError> {
    let (report, pdf) = reports::report_pdf(&state.ctx, signed_in.actor(), &accession).await?;
    Ok(pdf_response(&report.document.request.accession, pdf))
}
