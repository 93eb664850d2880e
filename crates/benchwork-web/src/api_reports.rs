//! The report of a request in the JSON API: the same document as the
//! report page, and its PDF.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use benchwork_app::reports;
use benchwork_report::ReportDocument;

use crate::AppState;
use crate::api::{ApiCaller, ApiError};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/requests/{accession}/report", get(get_report))
        .route("/requests/{accession}/report.pdf", get(get_report_pdf))
}

/// The report of a request: only authorised results carry a value, other
/// lines say "to follow" or why the specimen was rejected; `status` is
/// interim, final or amended. The read is audited.
#[utoipa::path(get, path = "/api/v1/requests/{accession}/report", params(("accession" = String, Path)),
    responses((status = 200, body = ReportDocument), (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_report(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(accession): Path<String>,
) -> Result<Json<ReportDocument>, ApiError> {
    Ok(Json(
        reports::report(&state.ctx, &actor, &accession)
            .await?
            .document,
    ))
}

/// The report of a request as an A4 PDF (a download named after the
/// accession number). The download is audited.
#[utoipa::path(get, path = "/api/v1/requests/{accession}/report.pdf", params(("accession" = String, Path)),
    responses((status = 200, description = "The report as an A4 PDF", content_type = "application/pdf"),
        (status = 404, body = crate::api::Problem)))]
pub(crate) async fn get_report_pdf(
    State(state): State<AppState>,
    ApiCaller(actor): ApiCaller,
    Path(accession): Path<String>,
) -> Result<Response, ApiError> {
    let (report, pdf) = reports::report_pdf(&state.ctx, &actor, &accession).await?;
    Ok(crate::reports::pdf_response(
        &report.document.request.accession,
        pdf,
    ))
}
