//! Staff accounts, system identities and departments.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::ids::{DepartmentId, UserId};
use benchwork_domain::staff::{
    AccountKind, DisplayName, NewPassword, Permission, Role, StaffError, Username,
};
use benchwork_store::{DepartmentRecord, NewUserRecord, StoreError, UserRecord, UserUpdate};

use crate::auth::hash_password;
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid};

/// Account input as typed (web form, API or CLI), before validation.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    /// Login name.
    pub username: String,
    /// Full name.
    pub display_name: String,
    /// `person` or `system`.
    pub kind: String,
    /// Role codes.
    pub roles: Vec<String>,
    /// Department ids as text.
    pub departments: Vec<String>,
    /// Initial password (people only).
    pub password: String,
}

fn json_of(
    user_name: &str,
    display_name: &str,
    kind: &str,
    roles: &[String],
    departments: &[DepartmentId],
    disabled: bool,
) -> String {
    serde_json::json!({
        "username": user_name,
        "display_name": display_name,
        "kind": kind,
        "roles": roles,
        "departments": departments.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "disabled": disabled,
    })
    .to_string()
}

fn record_json(user: &UserRecord) -> String {
    json_of(
        &user.username,
        &user.display_name,
        &user.kind,
        &user.roles,
        &user.departments,
        user.disabled_at.is_some(),
    )
}

async fn parse_roles_and_departments(
    ctx: &Ctx,
    kind: AccountKind,
    roles: &[String],
    departments: &[String],
    errors: &mut Vec<FieldError>,
) -> AppResult<(Vec<Role>, Vec<DepartmentId>)> {
    let mut parsed_roles = Vec::new();
    for code in roles {
        match Role::parse(code) {
            Ok(role) if !parsed_roles.contains(&role) => parsed_roles.push(role),
            Ok(_) => {}
            Err(error) => errors.push(FieldError::new("roles", error)),
        }
    }
    if parsed_roles.is_empty() && kind == AccountKind::Person {
        errors.push(FieldError::new("roles", StaffError::NoRole));
    }
    let known = ctx.store.list_departments().await?;
    let mut parsed_departments = Vec::new();
    for text in departments {
        match DepartmentId::parse(text) {
            Ok(id) if known.iter().any(|department| department.id == id) => {
                if !parsed_departments.contains(&id) {
                    parsed_departments.push(id);
                }
            }
            _ => errors.push(FieldError::new(
                "departments",
                format!("unknown department '{text}'"),
            )),
        }
    }
    Ok((parsed_roles, parsed_departments))
}

/// Creates a person's account or a system identity. Only administrators.
pub async fn create_account(
    ctx: &Ctx,
    actor: &Actor,
    input: &AccountInput,
) -> AppResult<UserRecord> {
    crate::require(ctx, actor, Permission::ManageStaff).await?;
    create_account_unchecked(ctx, actor, input).await
}

/// Creates an account without the permission check: for the CLI run by the
/// server's operator and for first-run set-up, where the actor is the
/// system itself.
pub async fn create_account_unchecked(
    ctx: &Ctx,
    actor: &Actor,
    input: &AccountInput,
) -> AppResult<UserRecord> {
    let mut errors = Vec::new();
    let username = Username::parse(&input.username)
        .map_err(|error| errors.push(FieldError::new("username", error)))
        .ok();
    let display_name = DisplayName::parse(&input.display_name)
        .map_err(|error| errors.push(FieldError::new("display_name", error)))
        .ok();
    let kind = match input.kind.trim() {
        "" | "person" => AccountKind::Person,
        "system" => AccountKind::System,
        _ => {
            errors.push(FieldError::new(
                "kind",
                "choose a person or a system identity",
            ));
            AccountKind::Person
        }
    };
    let (roles, departments) =
        parse_roles_and_departments(ctx, kind, &input.roles, &input.departments, &mut errors)
            .await?;
    let password = match (&username, kind) {
        (Some(username), AccountKind::Person) => NewPassword::parse(&input.password, username)
            .map_err(|error| errors.push(FieldError::new("password", error)))
            .ok(),
        _ => None,
    };
    let (Some(username), Some(display_name), true) = (username, display_name, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let password_hash = match password {
        Some(password) => {
            Some(hash_password(ctx.settings.hashing, password.expose().to_owned()).await?)
        }
        None => None,
    };
    let now = ctx.now();
    let record = NewUserRecord {
        id: UserId(new_uuid()),
        username: username.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
        kind: kind.code().to_owned(),
        password_hash,
        // An account made by someone else starts with a password that
        // someone else knows: the person must choose their own.
        must_change_password: kind == AccountKind::Person && actor.id != UserId(uuid::Uuid::nil()),
        roles: roles.iter().map(|role| role.code().to_owned()).collect(),
        departments,
        created_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "user.create");
    event.entity_type = Some("User".into());
    event.entity_id = Some(record.id.to_string());
    event.after = Some(json_of(
        &record.username,
        &record.display_name,
        &record.kind,
        &record.roles,
        &record.departments,
        false,
    ));
    match ctx.store.create_user(&record, &[event]).await {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => {
            return Err(AppError::invalid(
                "username",
                "that username is already taken",
            ));
        }
        Err(error) => return Err(error.into()),
    }
    Ok(ctx.store.get_user(record.id).await?)
}

/// The actor that the CLI and first-run set-up act as: the operator of the
/// server, recorded in the audit trail as `system`.
pub fn operator(source: &str) -> Actor {
    Actor {
        id: UserId(uuid::Uuid::nil()),
        username: "system".into(),
        display_name: "Benchwork system".into(),
        kind: AccountKind::System,
        roles: vec![Role::Administrator],
        departments: Vec::new(),
        source_address: Some(source.to_owned()),
        must_change_password: false,
    }
}

/// Changes name, roles and departments. Only administrators.
pub async fn update_account(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    display_name: &str,
    roles: &[String],
    departments: &[String],
) -> AppResult<UserRecord> {
    crate::require(ctx, actor, Permission::ManageStaff).await?;
    let before = ctx.store.get_user(user_id).await?;
    let kind = AccountKind::parse(&before.kind).map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut errors = Vec::new();
    let display_name = DisplayName::parse(display_name)
        .map_err(|error| errors.push(FieldError::new("display_name", error)))
        .ok();
    let (roles, departments) =
        parse_roles_and_departments(ctx, kind, roles, departments, &mut errors).await?;
    if actor.id == user_id && !roles.contains(&Role::Administrator) {
        errors.push(FieldError::new(
            "roles",
            "you cannot remove your own administrator role; ask another administrator",
        ));
    }
    let (Some(display_name), true) = (display_name, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let now = ctx.now();
    let update = UserUpdate {
        id: user_id,
        display_name: display_name.as_str().to_owned(),
        roles: roles.iter().map(|role| role.code().to_owned()).collect(),
        departments,
        updated_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Update, "user.update");
    event.entity_type = Some("User".into());
    event.entity_id = Some(user_id.to_string());
    event.before = Some(record_json(&before));
    event.after = Some(json_of(
        &before.username,
        &update.display_name,
        &before.kind,
        &update.roles,
        &update.departments,
        before.disabled_at.is_some(),
    ));
    ctx.store.update_user(&update, &[event]).await?;
    Ok(ctx.store.get_user(user_id).await?)
}

/// Disables or re-enables an account. Disabling ends the person's sessions
/// at once; their API tokens stop working.
pub async fn set_disabled(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    disabled: bool,
) -> AppResult<()> {
    crate::require(ctx, actor, Permission::ManageStaff).await?;
    set_disabled_unchecked(ctx, actor, user_id, disabled).await
}

/// [`set_disabled`] for the operator's CLI.
pub async fn set_disabled_unchecked(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    disabled: bool,
) -> AppResult<()> {
    if disabled && actor.id == user_id {
        return Err(AppError::Conflict(
            "you cannot disable your own account".into(),
        ));
    }
    let before = ctx.store.get_user(user_id).await?;
    let now = ctx.now();
    let mut event = audit_event(
        actor,
        now,
        AuditAction::Update,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
    );
    event.entity_type = Some("User".into());
    event.entity_id = Some(user_id.to_string());
    event.before = Some(record_json(&before));
    event.after = Some(json_of(
        &before.username,
        &before.display_name,
        &before.kind,
        &before.roles,
        &before.departments,
        disabled,
    ));
    ctx.store
        .set_user_disabled(user_id, disabled.then_some(now), now, &[event])
        .await?;
    Ok(())
}

/// Sets a temporary password chosen by an administrator; the person must
/// change it at next sign-in. Ends the person's sessions.
pub async fn reset_password(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    password: &str,
) -> AppResult<()> {
    crate::require(ctx, actor, Permission::ManageStaff).await?;
    reset_password_unchecked(ctx, actor, user_id, password).await
}

/// [`reset_password`] for the operator's CLI.
pub async fn reset_password_unchecked(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    password: &str,
) -> AppResult<()> {
    let user = ctx.store.get_user(user_id).await?;
    if user.kind != AccountKind::Person.code() {
        return Err(AppError::Conflict(
            "system identities have no password; issue an API token instead".into(),
        ));
    }
    let username = Username::parse(&user.username).map_err(|error| anyhow::anyhow!("{error}"))?;
    let password = NewPassword::parse(password, &username)
        .map_err(|error| AppError::invalid("password", error))?;
    let hash = hash_password(ctx.settings.hashing, password.expose().to_owned()).await?;
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Update, "user.reset-password");
    event.entity_type = Some("User".into());
    event.entity_id = Some(user_id.to_string());
    ctx.store
        .set_user_password(user_id, &hash, true, None, now, &[event])
        .await?;
    Ok(())
}

/// A person changes their own password. Their other sessions end; the one
/// they are using (`keep_session`) stays.
pub async fn change_own_password(
    ctx: &Ctx,
    actor: &Actor,
    current: &str,
    new: &str,
    confirm: &str,
    keep_session: Option<&[u8]>,
) -> AppResult<()> {
    let user = ctx.store.get_user(actor.id).await?;
    let Some(hash) = user.password_hash.clone() else {
        return Err(AppError::Conflict("this account has no password".into()));
    };
    let mut errors = Vec::new();
    if !crate::auth::check_password(hash, current.to_owned()).await? {
        errors.push(FieldError::new(
            "current_password",
            "the current password is not correct",
        ));
    }
    let username = Username::parse(&user.username).map_err(|error| anyhow::anyhow!("{error}"))?;
    let password = NewPassword::parse(new, &username)
        .map_err(|error| errors.push(FieldError::new("new_password", error)))
        .ok();
    if new != confirm {
        errors.push(FieldError::new(
            "confirm_password",
            "the two new passwords do not match",
        ));
    }
    if new == current && errors.is_empty() {
        errors.push(FieldError::new(
            "new_password",
            "choose a password different from the current one",
        ));
    }
    let (Some(password), true) = (password, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = hash_password(ctx.settings.hashing, password.expose().to_owned()).await?;
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Update, "user.change-password");
    event.entity_type = Some("User".into());
    event.entity_id = Some(actor.id.to_string());
    ctx.store
        .set_user_password(actor.id, &hash, false, keep_session, now, &[event])
        .await?;
    Ok(())
}

/// Every account (for those who may see the staff list).
pub async fn list_accounts(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<UserRecord>> {
    crate::require(ctx, actor, Permission::ViewStaff).await?;
    Ok(ctx.store.list_users().await?)
}

/// One account.
pub async fn get_account(ctx: &Ctx, actor: &Actor, user_id: UserId) -> AppResult<UserRecord> {
    if actor.id != user_id {
        crate::require(ctx, actor, Permission::ViewStaff).await?;
    }
    Ok(ctx.store.get_user(user_id).await?)
}

/// Creates a department. Only administrators.
pub async fn create_department(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    name: &str,
) -> AppResult<DepartmentRecord> {
    crate::require(ctx, actor, Permission::ManageStaff).await?;
    create_department_unchecked(ctx, actor, code, name).await
}

/// [`create_department`] for the operator's CLI and the demo.
pub async fn create_department_unchecked(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    name: &str,
) -> AppResult<DepartmentRecord> {
    let code = code.trim().to_ascii_uppercase();
    let name = name.trim();
    let mut errors = Vec::new();
    if code.is_empty()
        || code.len() > 20
        || !code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push(FieldError::new(
            "code",
            "enter a short code of up to 20 letters, numbers or hyphens, like BLOOD or CARDIAC",
        ));
    }
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "enter the department's name (up to 100 characters)",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = ctx.now();
    let record = DepartmentRecord {
        id: DepartmentId(new_uuid()),
        code,
        name: name.to_owned(),
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "department.create");
    event.entity_type = Some("Department".into());
    event.entity_id = Some(record.id.to_string());
    event.department_id = Some(record.id);
    event.after = Some(serde_json::json!({"code": record.code, "name": record.name}).to_string());
    match ctx.store.create_department(&record, now, &[event]).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => Err(AppError::invalid(
            "code",
            "a department with that code already exists",
        )),
        Err(error) => Err(error.into()),
    }
}
