//! HTTP for Benchwork: pages in the NHS.UK design system and the JSON API.
//!
//! Main items: [`router`] (every route), [`AppState`], the session layer in
//! [`session`] (resolves the signed-in person and enforces CSRF on every
//! form), [`error::WebError`] (HTML error pages) and [`api::ApiError`]
//! (RFC 9457 problem details). Each resource module exposes `router()`.
//!
//! Architecture invariant: handlers parse input, call `benchwork-app`, and
//! render; they hold no business rules and no SQL.

use axum::Router;
use axum::http::{HeaderValue, header};
use benchwork_app::Ctx;
use tower_http::set_header::SetResponseHeaderLayer;

pub mod api;
mod api_admin;
mod api_catalogue;
mod api_cumulative;
mod api_qc_charts;
mod api_reports;
mod api_requests;
mod api_results;
mod api_turnaround;
mod api_verification;
// Issue 4: internal quality control.
mod api_qc;
mod assets;
mod audit;
mod catalogue;
mod chart;
mod comments;
mod cumulative;
pub mod error;
mod forms;
mod home;
mod incidents;
mod instruments;
mod lj_chart;
mod page;
mod panels;
mod patients;
mod qc;
mod qc_charts;
mod qc_setup;
mod reports;
mod requests;
pub mod session;
mod staff;
mod turnaround;
mod worklists;
// Issue 6 item 1: alert (critical) limits.
mod alert_limits;
mod api_alert_limits;
// Issue 6: critical-result communication.
mod api_critical;
mod critical;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The application context.
    pub ctx: Ctx,
    /// Whether cookies carry the `Secure` flag (behind HTTPS).
    pub secure_cookies: bool,
}

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .merge(home::router())
        .merge(staff::router())
        .merge(audit::router())
        .merge(incidents::router())
        .merge(patients::router())
        .merge(catalogue::router())
        .merge(requests::router())
        .merge(reports::router())
        .merge(worklists::router())
        .merge(turnaround::router())
        .merge(qc_charts::router())
        .merge(instruments::router())
        .merge(panels::router())
        .merge(comments::router())
        .merge(cumulative::router())
        .merge(qc::router())
        .merge(qc_setup::router())
        .merge(alert_limits::router())
        .merge(critical::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::session_layer,
        ));
    Router::new()
        .merge(pages)
        .nest("/api/v1", api::router())
        .merge(assets::router())
        .merge(health_router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(refuse_nul_in_uri))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

fn health_router() -> Router<AppState> {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(state): State<AppState>| async move {
                match state.ctx.store.is_ready().await {
                    Ok(true) => (StatusCode::OK, "ready"),
                    Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending"),
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "readiness check failed");
                        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
                    }
                }
            }),
        )
}

/// Refuses any URL carrying an encoded NUL character (`%00`): no one means
/// it, and PostgreSQL cannot store it, so it must never reach a query.
async fn refuse_nul_in_uri(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let has_nul = request
        .uri()
        .path_and_query()
        .is_some_and(|pq| pq.as_str().to_ascii_lowercase().contains("%00"));
    if !has_nul {
        return next.run(request).await;
    }
    if request.uri().path().starts_with("/api/") {
        api::ApiError::App(benchwork_app::AppError::invalid(
            "query",
            "the address must not contain NUL characters",
        ))
        .into_response()
    } else {
        error::WebError::BadRequest("The address contains a character that is not allowed.".into())
            .into_response()
    }
}
