//! The vendored NHS.UK frontend and our few static files, embedded in the
//! binary so that it needs no Node step and no files beside it.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::AppState;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
struct Assets;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/nhsuk/{*path}", get(|Path(path): Path<String>| async move { serve(&format!("nhsuk/{path}")) }))
        // The NHS.UK CSS refers to its icons as /assets/images/...
        .route("/assets/images/{*path}", get(|Path(path): Path<String>| async move { serve(&format!("nhsuk/assets/images/{path}")) }))
        .route("/assets/{file}", get(|Path(file): Path<String>| async move { serve(&file) }))
        .route("/favicon.ico", get(|| async { serve("nhsuk/assets/images/favicon.ico") }))
}

fn serve(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                (header::CACHE_CONTROL, "public, max-age=3600".to_owned()),
            ],
            file.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
