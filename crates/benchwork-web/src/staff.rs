//! Staff administration: accounts, system identities, departments, API
//! tokens.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use benchwork_app::staff::{self, AccountInput};
use benchwork_app::{AppError, auth};
use benchwork_domain::ids::{ApiTokenId, UserId};
use benchwork_domain::staff::{Permission, Role};
use benchwork_domain::time::display_london;
use benchwork_store::{DepartmentRecord, UserRecord};

use crate::AppState;
use crate::error::WebError;
use crate::forms::FormState;
use crate::home::{redirect_with_flash, take_flash, with_flash_cleared};
use crate::page::Page;
use crate::session::SignedIn;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(get_staff).post(post_staff))
        .route("/staff/new", get(get_new_staff))
        .route("/staff/{id}", get(get_account))
        .route(
            "/staff/{id}/edit",
            get(get_edit_account).post(post_edit_account),
        )
        .route("/staff/{id}/disable", post(post_disable))
        .route("/staff/{id}/enable", post(post_enable))
        .route("/staff/{id}/password", post(post_reset_password))
        .route("/staff/{id}/tokens", post(post_token))
        .route("/staff/{id}/tokens/{token}/revoke", post(post_revoke_token))
        .route("/departments", get(get_departments).post(post_department))
}

struct UserRow {
    id: String,
    username: String,
    display_name: String,
    roles: String,
    departments: String,
    disabled: bool,
}

fn user_row(user: &UserRecord, departments: &[DepartmentRecord]) -> UserRow {
    UserRow {
        id: user.id.to_string(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        roles: user
            .roles
            .iter()
            .map(|code| {
                Role::parse(code)
                    .map(|role| role.label())
                    .unwrap_or("unknown role")
            })
            .collect::<Vec<_>>()
            .join(", "),
        departments: user
            .departments
            .iter()
            .filter_map(|id| departments.iter().find(|department| department.id == *id))
            .map(|department| department.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        disabled: user.disabled_at.is_some(),
    }
}

fn parse_user_id(text: &str) -> Result<UserId, WebError> {
    UserId::parse(text).map_err(|_| WebError::App(AppError::NotFound))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_list.html")]
struct StaffPage {
    page: Page,
    users: Vec<UserRow>,
    can_manage: bool,
}

async fn get_staff(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let users = staff::list_accounts(&state.ctx, signed_in.actor()).await?;
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = StaffPage {
        page: Page::new("Staff", &signed_in, "staff", flash),
        users: users
            .iter()
            .filter(|user| user.id != UserId(uuid::Uuid::nil()))
            .map(|user| user_row(user, &departments))
            .collect(),
        can_manage: signed_in.actor().can(Permission::ManageStaff),
    };
    Ok(with_flash_cleared(&state, had_flash, page))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_form.html")]
struct StaffFormPage {
    page: Page,
    form: FormState,
    creating: bool,
    action: String,
    back: String,
    roles: Vec<(&'static str, &'static str)>,
    departments: Vec<(String, String)>,
}

async fn staff_form(
    state: &AppState,
    signed_in: &SignedIn,
    form: FormState,
    creating: bool,
    user_id: Option<UserId>,
) -> Result<StaffFormPage, WebError> {
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    let (title, action, back) = match user_id {
        None => (
            "Add an account".to_owned(),
            "/staff".to_owned(),
            "/staff".to_owned(),
        ),
        Some(id) => (
            "Change account".to_owned(),
            format!("/staff/{id}/edit"),
            format!("/staff/{id}"),
        ),
    };
    Ok(StaffFormPage {
        page: Page::new(title, signed_in, "staff", None).with_errors(form.has_errors()),
        form,
        creating,
        action,
        back,
        roles: Role::ALL
            .iter()
            .map(|role| (role.code(), role.label()))
            .collect(),
        departments: departments
            .into_iter()
            .map(|department| (department.id.to_string(), department.name))
            .collect(),
    })
}

async fn get_new_staff(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::ManageStaff).await?;
    Ok(
        staff_form(&state, &signed_in, FormState::default(), true, None)
            .await?
            .into_response(),
    )
}

async fn post_staff(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    let input = AccountInput {
        username: form.value("username").to_owned(),
        display_name: form.value("display_name").to_owned(),
        kind: form.value("kind").to_owned(),
        roles: form.values("roles"),
        departments: form.values("departments"),
        password: form.value("password").to_owned(),
    };
    match staff::create_account(&state.ctx, signed_in.actor(), &input).await {
        Ok(user) => Ok(redirect_with_flash(
            &state,
            &format!("/staff/{}", user.id),
            &format!("Account {} added", user.username),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = staff_form(&state, &signed_in, form.with_errors(errors), true, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

struct TokenRow {
    id: String,
    label: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_show.html")]
struct AccountPage {
    page: Page,
    form: FormState,
    user: UserRow,
    kind_label: &'static str,
    is_person: bool,
    can_manage: bool,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
}

async fn account_page(
    state: &AppState,
    signed_in: &SignedIn,
    user_id: UserId,
    form: FormState,
    new_token: Option<String>,
    flash: Option<String>,
) -> Result<AccountPage, WebError> {
    let user = staff::get_account(&state.ctx, signed_in.actor(), user_id).await?;
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    let can_manage = signed_in.actor().can(Permission::ManageStaff);
    let tokens = if can_manage {
        state
            .ctx
            .store
            .list_api_tokens(user_id)
            .await
            .map_err(AppError::from)?
    } else {
        Vec::new()
    };
    Ok(AccountPage {
        page: Page::new(user.display_name.clone(), signed_in, "staff", flash)
            .with_errors(form.has_errors()),
        form,
        kind_label: if user.kind == "system" {
            "Interface or instrument"
        } else {
            "Member of staff"
        },
        is_person: user.kind == "person",
        user: user_row(&user, &departments),
        can_manage,
        tokens: tokens
            .into_iter()
            .map(|token| TokenRow {
                id: token.id.to_string(),
                label: token.label,
                created: display_london(token.created_at),
                last_used: token
                    .last_used_at
                    .map(display_london)
                    .unwrap_or_else(|| "Never".into()),
                revoked: token.revoked_at.is_some(),
            })
            .collect(),
        new_token,
    })
}

async fn get_account(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = account_page(
        &state,
        &signed_in,
        parse_user_id(&id)?,
        FormState::default(),
        None,
        flash,
    )
    .await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn get_edit_account(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::ManageStaff).await?;
    let user_id = parse_user_id(&id)?;
    let user = staff::get_account(&state.ctx, signed_in.actor(), user_id).await?;
    let mut form = FormState::default();
    form.set("display_name", user.display_name.clone());
    form.set_all("roles", user.roles.clone());
    form.set_all(
        "departments",
        user.departments.iter().map(ToString::to_string).collect(),
    );
    Ok(staff_form(&state, &signed_in, form, false, Some(user_id))
        .await?
        .into_response())
}

async fn post_edit_account(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let user_id = parse_user_id(&id)?;
    let form = FormState::from_fields(&fields);
    match staff::update_account(
        &state.ctx,
        signed_in.actor(),
        user_id,
        form.value("display_name"),
        &form.values("roles"),
        &form.values("departments"),
    )
    .await
    {
        Ok(user) => Ok(redirect_with_flash(
            &state,
            &format!("/staff/{user_id}"),
            &format!("Account {} changed", user.username),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = staff_form(
                &state,
                &signed_in,
                form.with_errors(errors),
                false,
                Some(user_id),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_disable(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let user_id = parse_user_id(&id)?;
    staff::set_disabled(&state.ctx, signed_in.actor(), user_id, true).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/staff/{user_id}"),
        "Account disabled; its sessions have ended",
    ))
}

async fn post_enable(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let user_id = parse_user_id(&id)?;
    staff::set_disabled(&state.ctx, signed_in.actor(), user_id, false).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/staff/{user_id}"),
        "Account enabled",
    ))
}

async fn post_reset_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let user_id = parse_user_id(&id)?;
    let form = FormState::from_fields(&fields);
    match staff::reset_password(
        &state.ctx,
        signed_in.actor(),
        user_id,
        form.value("password"),
    )
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &format!("/staff/{user_id}"),
            "Password reset; the person must change it at next sign-in",
        )),
        Err(AppError::Invalid(errors)) => {
            let page = account_page(
                &state,
                &signed_in,
                user_id,
                FormState::default().with_errors(errors),
                None,
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let user_id = parse_user_id(&id)?;
    let form = FormState::from_fields(&fields);
    match auth::issue_api_token(&state.ctx, signed_in.actor(), user_id, form.value("label")).await {
        Ok(issued) => {
            let page = account_page(
                &state,
                &signed_in,
                user_id,
                FormState::default(),
                Some(issued.token),
                None,
            )
            .await?;
            Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let page = account_page(
                &state,
                &signed_in,
                user_id,
                form.with_errors(errors),
                None,
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn post_revoke_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, token)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let user_id = parse_user_id(&id)?;
    let token_id = ApiTokenId::parse(&token).map_err(|_| WebError::App(AppError::NotFound))?;
    auth::revoke_api_token(&state.ctx, signed_in.actor(), user_id, token_id).await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/staff/{user_id}"),
        "Token revoked",
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    page: Page,
    form: FormState,
    departments: Vec<(String, String)>,
}

async fn departments_page(
    state: &AppState,
    signed_in: &SignedIn,
    form: FormState,
    flash: Option<String>,
) -> Result<DepartmentsPage, WebError> {
    let departments = state
        .ctx
        .store
        .list_departments()
        .await
        .map_err(AppError::from)?;
    Ok(DepartmentsPage {
        page: Page::new("Departments", signed_in, "staff", flash).with_errors(form.has_errors()),
        form,
        departments: departments
            .into_iter()
            .map(|department| (department.code, department.name))
            .collect(),
    })
}

async fn get_departments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    benchwork_app::require(&state.ctx, signed_in.actor(), Permission::ManageStaff).await?;
    let flash = take_flash(&headers);
    let had_flash = flash.is_some();
    let page = departments_page(&state, &signed_in, FormState::default(), flash).await?;
    Ok(with_flash_cleared(&state, had_flash, page))
}

async fn post_department(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = FormState::from_fields(&fields);
    match staff::create_department(
        &state.ctx,
        signed_in.actor(),
        form.value("code"),
        form.value("name"),
    )
    .await
    {
        Ok(department) => Ok(redirect_with_flash(
            &state,
            "/departments",
            &format!("Department {} added", department.name),
        )),
        Err(AppError::Invalid(errors)) => {
            let page = departments_page(&state, &signed_in, form.with_errors(errors), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
