//! Errors of page requests, shown as NHS-style error pages. Internal errors
//! are logged with their whole cause chain and shown only as a reference.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use benchwork_app::AppError;

use crate::page::Page;

/// Why a page request failed.
#[derive(Debug)]
pub enum WebError {
    /// An action refused or failed.
    App(AppError),
    /// The page needs a signed-in person.
    SignInRequired {
        /// Where to return after signing in.
        next: String,
        /// Whether the session had timed out.
        expired: bool,
    },
    /// A form without the right anti-forgery token.
    BadCsrf,
    /// Send the browser elsewhere.
    Redirect(String),
    /// The request itself is malformed.
    BadRequest(String),
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> Self {
        WebError::App(error)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    heading: String,
    message: String,
    reference: Option<String>,
}

fn error_page(
    status: StatusCode,
    heading: &str,
    message: String,
    reference: Option<String>,
) -> Response {
    let page = ErrorPage {
        page: Page::anonymous(heading, String::new()),
        heading: heading.to_owned(),
        message,
        reference,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, heading.to_owned()).into_response(),
    }
}

/// A safe local path to return to after sign-in: never another site.
pub(crate) fn local_path(next: &str) -> String {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains(char::is_control)
    {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignInRequired { next, expired } => {
                let next = local_path(&next);
                let query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                let expired = if expired { "&expired=1" } else { "" };
                Redirect::to(&format!("/sign-in?{query}{expired}")).into_response()
            }
            WebError::Redirect(to) => Redirect::to(&to).into_response(),
            WebError::BadCsrf => error_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your security the form could not be accepted. Go back, reload the page and try again.".into(),
                None,
            ),
            WebError::BadRequest(message) => error_page(StatusCode::BAD_REQUEST, "The request could not be read", message, None),
            WebError::App(error) => match error {
                AppError::NotFound => not_found_page(),
                AppError::Forbidden(message) => error_page(
                    StatusCode::FORBIDDEN,
                    "You do not have permission to do this",
                    crate::forms::sentence(&message),
                    None,
                ),
                AppError::Unauthenticated(_) => Redirect::to("/sign-in").into_response(),
                AppError::TooManyAttempts { until } => error_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    format!("Try again after {}.", benchwork_domain::time::display_london(until)),
                    None,
                ),
                AppError::Conflict(message) => error_page(
                    StatusCode::CONFLICT,
                    "This could not be saved",
                    crate::forms::sentence(&message),
                    None,
                ),
                AppError::Invalid(errors) => error_page(
                    StatusCode::BAD_REQUEST,
                    "There is a problem",
                    errors
                        .iter()
                        .map(|error| crate::forms::sentence(&error.message))
                        .collect::<Vec<_>>()
                        .join(". "),
                    None,
                ),
                AppError::Internal(error) => {
                    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase();
                    tracing::error!(reference, error = format!("{error:#}"), "internal error");
                    error_page(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Sorry, there is a problem with the service",
                        "Nothing was saved by the action that failed. Try again later; if it keeps happening, \
                         contact the service desk and give them the reference below."
                            .into(),
                        Some(reference),
                    )
                }
            },
        }
    }
}

fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "If you typed the web address, check it is correct. The record may also belong to a department you are not a member of."
            .into(),
        None,
    )
}

/// The fallback for unknown paths: problem details under /api, a page
/// elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        crate::api::ApiError::App(AppError::NotFound).into_response()
    } else {
        let mut response = not_found_page();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        response
    }
}
