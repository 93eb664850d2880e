//! Sign-in and sign-out, the home page (the person's work queue), the
//! notification inbox and changing one's own password.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::{AppError, auth, incidents, notifications};
use benchwork_domain::ids::NotificationId;
use benchwork_domain::incident::{IncidentStatus, reference};
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_store::IncidentFilter;
use serde::Deserialize;

use crate::AppState;
use crate::error::{WebError, local_path};
use crate::forms::FormState;
use crate::page::Page;
use crate::session::{
    ClientAddress, FLASH_COOKIE, MaybeSignedIn, PRE_CSRF_COOKIE, SESSION_COOKIE, SignedIn, cookie,
    set_cookie,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(get_home))
        .route("/sign-in", get(get_sign_in).post(post_sign_in))
        .route("/sign-out", post(post_sign_out))
        .route("/account/password", get(get_password).post(post_password))
        .route("/notifications", get(get_notifications))
        .route("/notifications/{id}/read", post(post_notification_read))
}

/// Takes the one-shot message left by the previous action, if any.
pub(crate) fn take_flash(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, FLASH_COOKIE)
        .and_then(|value| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={value}")).ok()
        })
        .and_then(|pairs| pairs.into_iter().next().map(|(_, message)| message))
        .filter(|message| !message.is_empty())
}

/// Redirects with a one-shot success message.
pub(crate) fn redirect_with_flash(state: &AppState, to: &str, message: &str) -> Response {
    let encoded = serde_urlencoded::to_string([("m", message)]).unwrap_or_default();
    let value = encoded.trim_start_matches("m=");
    (
        [(
            header::SET_COOKIE,
            set_cookie(state, FLASH_COOKIE, value, Some(60)),
        )],
        Redirect::to(to),
    )
        .into_response()
}

/// Clears the flash cookie once shown.
pub(crate) fn with_flash_cleared(
    state: &AppState,
    had_flash: bool,
    response: impl IntoResponse,
) -> Response {
    let mut response = response.into_response();
    if had_flash && let Ok(value) = set_cookie(state, FLASH_COOKIE, "", Some(0)).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

struct NotificationView {
    id: String,
    title: String,
    body: String,
    link: Option<String>,
    when: String,
}

struct IncidentSummary {
    id: String,
    reference: String,
    title: String,
    department: String,
    status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    notifications: Vec<NotificationView>,
    show_incidents: bool,
    incidents: Vec<IncidentSummary>,
    /// Issue 6: the critical-results board.
    critical: Vec<crate::critical::TaskView>,
}

async fn get_home(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let actor = signed_in.actor();
    let inbox = notifications::inbox(&state.ctx, actor, true).await?;
    let show_incidents = actor.can(Permission::ViewDepartmentRecords);
    let incidents = if show_incidents {
        incidents::list(&state.ctx, actor, &IncidentFilter::default())
            .await?
            .into_iter()
            .filter(|incident| incident.status != IncidentStatus::Closed.code())
            .map(|incident| IncidentSummary {
                id: incident.id.to_string(),
                reference: reference(incident.number),
                title: incident.title,
                department: incident.department_name,
                status: IncidentStatus::parse(&incident.status)
                    .map(|status| status.label().to_owned())
                    .unwrap_or(incident.status),
            })
            .collect()
    } else {
        Vec::new()
    };
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = HomePage {
        page: Page::new("Your work queue", &signed_in, "home", flash),
        notifications: inbox
            .into_iter()
            .map(|item| NotificationView {
                id: item.id.to_string(),
                title: item.title,
                body: item.body,
                link: item.link.filter(|link| link.starts_with('/')),
                when: display_london(item.created_at),
            })
            .collect(),
        show_incidents,
        incidents,
        critical: crate::critical::board_views(&state, actor).await?,
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    page: Page,
    form: FormState,
    next: String,
    expired: bool,
    refused: Option<String>,
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    expired: Option<String>,
}

fn random_hex() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    form: FormState,
    next: String,
    expired: bool,
    refused: Option<String>,
) -> Response {
    // A fresh double-submit token for the sign-in form, which has no session.
    let token = random_hex();
    let has_errors = form.has_errors() || refused.is_some();
    let page = SignInPage {
        page: Page::anonymous("Sign in", token.clone()).with_errors(has_errors),
        form,
        next,
        expired,
        refused,
    };
    (
        status,
        [
            (
                header::SET_COOKIE,
                set_cookie(state, PRE_CSRF_COOKIE, &token, None),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        page,
    )
        .into_response()
}

async fn get_sign_in(
    State(state): State<AppState>,
    MaybeSignedIn(session, _): MaybeSignedIn,
    Query(query): Query<SignInQuery>,
) -> Response {
    let next = local_path(query.next.as_deref().unwrap_or("/"));
    if session.is_some() {
        return Redirect::to(&next).into_response();
    }
    sign_in_page(
        &state,
        StatusCode::OK,
        FormState::default(),
        next,
        query.expired.is_some(),
        None,
    )
}

async fn post_sign_in(
    State(state): State<AppState>,
    ClientAddress(source): ClientAddress,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = FormState::from_fields(&fields);
    let next = local_path(form.value("next"));
    match auth::sign_in(
        &state.ctx,
        form.value("username"),
        form.value("password"),
        &source,
    )
    .await
    {
        Ok(signed_in) => {
            let to = if signed_in.actor.must_change_password {
                "/account/password".to_owned()
            } else {
                next
            };
            (
                // Two cookies: AppendHeaders keeps both (an array would
                // replace the first with the second).
                axum::response::AppendHeaders([
                    (
                        header::SET_COOKIE,
                        set_cookie(&state, SESSION_COOKIE, &signed_in.token, None),
                    ),
                    (
                        header::SET_COOKIE,
                        set_cookie(&state, PRE_CSRF_COOKIE, "", Some(0)),
                    ),
                ]),
                Redirect::to(&to),
            )
                .into_response()
        }
        Err(AppError::Invalid(errors)) => {
            let mut kept =
                FormState::from_fields(&[("username".into(), form.value("username").to_owned())]);
            kept = kept.with_errors(errors);
            sign_in_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                kept,
                next,
                false,
                None,
            )
        }
        Err(AppError::Unauthenticated(message)) => {
            let kept =
                FormState::from_fields(&[("username".into(), form.value("username").to_owned())]);
            sign_in_page(
                &state,
                StatusCode::UNAUTHORIZED,
                kept,
                next,
                false,
                Some(format!("{message}.")),
            )
        }
        Err(AppError::TooManyAttempts { until }) => {
            let kept =
                FormState::from_fields(&[("username".into(), form.value("username").to_owned())]);
            sign_in_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                kept,
                next,
                false,
                Some(format!(
                    "There have been too many failed attempts to sign in. Try again after {}.",
                    display_london(until)
                )),
            )
        }
        Err(error) => WebError::from(error).into_response(),
    }
}

async fn post_sign_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    auth::sign_out(&state.ctx, &signed_in.0).await?;
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(&state, SESSION_COOKIE, "", Some(0)),
        )],
        Redirect::to("/sign-in"),
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordPage {
    page: Page,
    form: FormState,
    must_change: bool,
    fields: Vec<(&'static str, &'static str, &'static str)>,
}

fn password_page(signed_in: &SignedIn, form: FormState) -> PasswordPage {
    PasswordPage {
        page: Page::new("Change your password", signed_in, "account", None)
            .with_errors(form.has_errors()),
        must_change: signed_in.actor().must_change_password,
        form,
        fields: vec![
            ("current_password", "Current password", "current-password"),
            ("new_password", "New password", "new-password"),
            ("confirm_password", "New password again", "new-password"),
        ],
    }
}

async fn get_password(signed_in: SignedIn) -> impl IntoResponse {
    password_page(&signed_in, FormState::default())
}

async fn post_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match benchwork_app::staff::change_own_password(
        &state.ctx,
        signed_in.actor(),
        form.value("current_password"),
        form.value("new_password"),
        form.value("confirm_password"),
        Some(&signed_in.0.token_hash),
    )
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            "/",
            "Your password has been changed",
        )),
        Err(AppError::Invalid(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(&signed_in, FormState::default().with_errors(errors)),
        )
            .into_response()),
        Err(error) => Err(error.into()),
    }
}

struct InboxRow {
    id: String,
    title: String,
    body: String,
    link: Option<String>,
    when: String,
    to: String,
    read: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    page: Page,
    notifications: Vec<InboxRow>,
}

async fn get_notifications(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    let inbox = notifications::inbox(&state.ctx, signed_in.actor(), false).await?;
    Ok(NotificationsPage {
        page: Page::new("Notifications", &signed_in, "notifications", None),
        notifications: inbox
            .into_iter()
            .map(|item| InboxRow {
                id: item.id.to_string(),
                title: item.title,
                body: item.body,
                link: item.link.filter(|link| link.starts_with('/')),
                when: display_london(item.created_at),
                to: item
                    .recipient_role
                    .as_deref()
                    .and_then(|code| benchwork_domain::staff::Role::parse(code).ok())
                    .map(|role| format!("Everyone who is a {}", role.label().to_lowercase()))
                    .unwrap_or_else(|| "You".into()),
                read: item.read_at.is_some(),
            })
            .collect(),
    }
    .into_response())
}

async fn post_notification_read(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = NotificationId::parse(&id).map_err(|_| WebError::App(AppError::NotFound))?;
    notifications::mark_read(&state.ctx, signed_in.actor(), id).await?;
    Ok(Redirect::to("/notifications").into_response())
}
