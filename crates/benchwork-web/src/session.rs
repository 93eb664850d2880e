//! The session layer: finds the signed-in person for every page request and
//! refuses any form post that does not carry the session's anti-forgery
//! token (the synchronizer-token pattern). The sign-in form, which has no
//! session yet, uses a double-submit cookie instead.

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use benchwork_app::Actor;
use benchwork_app::auth::{ActiveSession, SessionProblem, resolve_session};

use crate::AppState;
use crate::error::WebError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bw_session";
/// The pre-sign-in anti-forgery cookie's name.
pub const PRE_CSRF_COOKIE: &str = "bw_presession";
/// The one-shot message cookie's name.
pub const FLASH_COOKIE: &str = "bw_flash";
/// The form field carrying the anti-forgery token.
pub const CSRF_FIELD: &str = "csrf_token";

/// What the session layer found, stored in the request's extensions.
#[derive(Clone, Debug)]
pub(crate) struct SessionState {
    pub session: Option<ActiveSession>,
    pub expired: bool,
}

/// Reads one cookie from the request headers.
pub(crate) fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The client's address: the socket peer.
pub(crate) fn source_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Resolves the session, then checks the anti-forgery token of form posts.
pub async fn session_layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match session_layer_inner(state, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn session_layer_inner(
    state: AppState,
    request: Request,
    next: Next,
) -> Result<Response, WebError> {
    let (mut parts, body) = request.into_parts();
    let source = source_address(&parts);
    let mut found = SessionState {
        session: None,
        expired: false,
    };
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|token| !token.is_empty()) {
        match resolve_session(&state.ctx, &token, &source).await? {
            Ok(session) => found.session = Some(session),
            Err(SessionProblem::Expired(_)) => found.expired = true,
            Err(SessionProblem::Unknown) => {}
        }
    }
    let body = if parts.method == Method::POST {
        // Read the form once to check its token, then hand it on.
        let bytes = to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| WebError::BadRequest("the form is too large".into()))?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if fields
            .iter()
            .any(|(key, value)| key.contains('\0') || value.contains('\0'))
        {
            // No one types a NUL character, and PostgreSQL cannot store one.
            return Err(WebError::BadRequest(
                "the form contains a character that is not allowed".into(),
            ));
        }
        let sent = fields
            .iter()
            .find(|(key, _)| key == CSRF_FIELD)
            .map(|(_, value)| value.as_str())
            .unwrap_or("");
        let expected = match (&found.session, parts.uri.path()) {
            (Some(session), _) => Some(session.csrf_token.clone()),
            (None, "/sign-in") => cookie(&parts.headers, PRE_CSRF_COOKIE),
            (None, _) => None,
        };
        match expected {
            Some(expected) if !sent.is_empty() && constant_time_eq(sent, &expected) => {}
            Some(_) => return Err(WebError::BadCsrf),
            None => {
                // No session: the page the form came from has expired.
                return Err(WebError::SignInRequired {
                    next: "/".into(),
                    expired: found.expired,
                });
            }
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(found);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// The signed-in person. Pages that need one take this extractor; without a
/// session it redirects to the sign-in page, and a person who must change
/// their password is sent to do that first.
#[derive(Clone, Debug)]
pub struct SignedIn(pub ActiveSession);

impl SignedIn {
    /// Who is signed in.
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let found = parts.extensions.get::<SessionState>().cloned();
        let next = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        match found {
            Some(SessionState {
                session: Some(session),
                ..
            }) => {
                let path = parts.uri.path();
                if session.actor.must_change_password
                    && path != "/account/password"
                    && path != "/sign-out"
                {
                    return Err(WebError::Redirect("/account/password".into()));
                }
                Ok(SignedIn(session))
            }
            Some(SessionState { expired, .. }) => Err(WebError::SignInRequired { next, expired }),
            None => Err(WebError::SignInRequired {
                next,
                expired: false,
            }),
        }
    }
}

/// The session if there is one (for the sign-in page).
#[derive(Clone, Debug)]
pub struct MaybeSignedIn(pub Option<ActiveSession>, pub bool);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let found = parts.extensions.get::<SessionState>().cloned();
        Ok(match found {
            Some(state) => MaybeSignedIn(state.session, state.expired),
            None => MaybeSignedIn(None, false),
        })
    }
}

/// The client's address, for sign-in and audit.
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(source_address(parts)))
    }
}

/// A `Set-Cookie` value with the project's cookie attributes.
pub(crate) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if state.secure_cookies {
        cookie.push_str("; Secure");
    }
    cookie
}
