//! The department comment library page, `/comments`: list, add and
//! deactivate the coded comments chosen at result entry. For holders of
//! `EditCatalogue`; every change is audited by the action.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::AppError;
use benchwork_app::comments::{self, CommentCodeInput};

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/comments", get(get_comments).post(post_comment))
        .route("/comments/{id}/deactivate", post(post_deactivate))
}

/// One library comment as shown.
struct CommentRow {
    id: String,
    department: String,
    code: String,
    text: String,
    active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "comments.html")]
struct CommentsPage {
    page: Page,
    form: FormState,
    comments: Vec<CommentRow>,
    /// (id, name) of the actor's departments.
    departments: Vec<(String, String)>,
}

async fn comments_page(
    state: &AppState,
    signed_in: &SignedIn,
    form: FormState,
    flash: Option<String>,
) -> Result<CommentsPage, WebError> {
    let actor = signed_in.actor();
    let library = comments::library(&state.ctx, actor).await?;
    let departments = comments::departments_of(&state.ctx, actor)
        .await?
        .into_iter()
        .map(|department| (department.id.to_string(), department.name))
        .collect();
    Ok(CommentsPage {
        page: Page::new("Comment library", signed_in, "catalogue", flash)
            .with_errors(form.has_errors()),
        form,
        comments: library
            .into_iter()
            .map(|entry| CommentRow {
                id: entry.id.to_string(),
                department: entry.department_name,
                code: entry.code,
                text: entry.text,
                active: entry.active,
            })
            .collect(),
        departments,
    })
}

async fn get_comments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = comments_page(&state, &signed_in, FormState::default(), flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn post_comment(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = CommentCodeInput {
        department: form.value("department").into(),
        code: form.value("code").into(),
        text: form.value("text").into(),
    };
    match comments::add_to_library(&state.ctx, signed_in.actor(), &input).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            "/comments",
            &format!("Comment {} added", input.code.trim().to_ascii_uppercase()),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = comments_page(&state, &signed_in, form.with_errors(errors), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_deactivate(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    comments::deactivate(&state.ctx, signed_in.actor(), &id).await?;
    Ok(redirect_with_flash(
        &state,
        "/comments",
        "Comment deactivated: it can no longer be chosen",
    ))
}
