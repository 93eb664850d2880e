//! Result comments: each department's library of coded comments (managed
//! by `EditCatalogue` holders, every change audited) and the comments added
//! to a result at entry or with an amendment, coded from the library or free
//! text, validated here for both ways in.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::comment::{CommentCode, CommentCodeId, ResultCommentId, comment_text};
use benchwork_domain::ids::{DepartmentId, UserId};
use benchwork_domain::result::ResultId;
use benchwork_domain::staff::Permission;
use benchwork_store::{CommentCodeRecord, NewCommentCodeRecord, NewResultComment, StoreError};
use jiff::Timestamp;
use serde_json::json;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// A library comment as typed.
#[derive(Debug, Clone, Default)]
pub struct CommentCodeInput {
    /// Department id (one of the actor's).
    pub department: String,
    /// Code.
    pub code: String,
    /// Text.
    pub text: String,
}

/// The library comments of the actor's departments, inactive ones
/// included.
pub async fn library(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<CommentCodeRecord>> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    Ok(ctx.store.list_comment_codes(actor.id).await?)
}

/// The active library comments of a department, to choose from at entry
/// or amendment.
pub async fn active_library(
    ctx: &Ctx,
    actor: &Actor,
    department: DepartmentId,
) -> AppResult<Vec<CommentCodeRecord>> {
    if !actor.can(Permission::AuthoriseResults) {
        require(ctx, actor, Permission::EnterResults).await?;
    }
    Ok(ctx.store.active_comment_codes(department).await?)
}

/// The actor's departments, to add library comments to.
pub async fn departments_of(
    ctx: &Ctx,
    actor: &Actor,
) -> AppResult<Vec<benchwork_store::DepartmentRecord>> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    Ok(ctx
        .store
        .list_departments()
        .await?
        .into_iter()
        .filter(|department| actor.in_department(department.id))
        .collect())
}

/// Adds a comment to a department's library, audited.
pub async fn add_to_library(
    ctx: &Ctx,
    actor: &Actor,
    input: &CommentCodeInput,
) -> AppResult<CommentCodeId> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let mut errors = Vec::new();
    let department = match DepartmentId::parse(&input.department) {
        Ok(id) if actor.in_department(id) => Some(id),
        _ => {
            errors.push(FieldError::new(
                "department",
                "select one of your departments",
            ));
            None
        }
    };
    let code = CommentCode::parse(&input.code)
        .map_err(|error| errors.push(FieldError::new("code", error)))
        .ok();
    let text = comment_text(&input.text)
        .map_err(|error| errors.push(FieldError::new("text", error)))
        .ok();
    let (Some(department), Some(code), Some(text), true) =
        (department, code, text, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let now = ctx.now();
    let record = NewCommentCodeRecord {
        id: CommentCodeId(new_uuid()),
        department_id: department,
        code: code.as_str().to_owned(),
        text,
        created_by: actor.id,
        created_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "comment_code.create");
    event.entity_type = Some("CommentCode".into());
    event.entity_id = Some(record.id.to_string());
    event.department_id = Some(department);
    event.after = Some(json!({ "code": record.code, "text": record.text }).to_string());
    match ctx.store.create_comment_code(&record, &[event]).await {
        Ok(()) => Ok(record.id),
        Err(StoreError::Conflict { .. }) => Err(AppError::invalid(
            "code",
            format!(
                "the department already has a comment with code {}: choose another code",
                record.code
            ),
        )),
        Err(error) => Err(error.into()),
    }
}

/// Deactivates a library comment: it can no longer be chosen, and comments
/// already stored keep their code and text. Audited.
pub async fn deactivate(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<()> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let id = CommentCodeId::parse(id).map_err(|_| AppError::NotFound)?;
    let found = ctx
        .store
        .list_comment_codes(actor.id)
        .await?
        .into_iter()
        .find(|record| record.id == id)
        .ok_or(AppError::NotFound)?;
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Update, "comment_code.deactivate");
    event.entity_type = Some("CommentCode".into());
    event.entity_id = Some(id.to_string());
    event.department_id = Some(found.department_id);
    event.before = Some(json!({ "code": found.code, "active": found.active }).to_string());
    event.after = Some(json!({ "code": found.code, "active": false }).to_string());
    match ctx
        .store
        .deactivate_comment_code(id, actor.id, now, &[event])
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(format!(
            "comment {} is already inactive",
            found.code
        ))),
        Err(error) => Err(error.into()),
    }
}

/// Comments to add to one result, validated: each code must be an active
/// comment of `library`; the free text must be plain text of at most 500
/// characters. Errors name `codes_field` and `text_field`.
pub(crate) fn parse_result_comments(
    library: &[CommentCodeRecord],
    codes: &[String],
    text: &str,
    codes_field: &str,
    text_field: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<(Option<String>, String)> {
    let mut comments: Vec<(Option<String>, String)> = Vec::new();
    for typed in codes
        .iter()
        .map(|code| code.trim())
        .filter(|code| !code.is_empty())
    {
        match library
            .iter()
            .find(|entry| entry.active && entry.code.eq_ignore_ascii_case(typed))
        {
            Some(entry) => {
                if !comments
                    .iter()
                    .any(|(code, _)| code.as_deref() == Some(entry.code.as_str()))
                {
                    comments.push((Some(entry.code.clone()), entry.text.clone()));
                }
            }
            None => errors.push(FieldError::new(
                codes_field,
                format!(
                    "{} is not a comment of the department's library: choose one from the list",
                    typed
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(40)
                        .collect::<String>()
                ),
            )),
        }
    }
    if !text.trim().is_empty() {
        match comment_text(text) {
            Ok(text) => comments.push((None, text)),
            Err(error) => errors.push(FieldError::new(text_field, error)),
        }
    }
    comments
}

/// The records for comments added to a result's version.
pub(crate) fn new_comments(
    result: ResultId,
    version: i64,
    comments: &[(Option<String>, String)],
    by: UserId,
    at: Timestamp,
) -> Vec<NewResultComment> {
    comments
        .iter()
        .map(|(code, text)| NewResultComment {
            id: ResultCommentId(new_uuid()),
            result_id: result,
            result_version: version,
            code: code.clone(),
            text: text.clone(),
            created_by: by,
            created_at: at,
        })
        .collect()
}

/// The comments as JSON, for the audit trail.
pub(crate) fn comments_json(comments: &[(Option<String>, String)]) -> serde_json::Value {
    json!(
        comments
            .iter()
            .map(|(code, text)| json!({ "code": code, "text": text }))
            .collect::<Vec<_>>()
    )
}
