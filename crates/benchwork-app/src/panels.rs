//! Panel editing (issue 3 item 3): a panel's name and its ordered member
//! investigations. Creating one goes through `catalogue::create_panel`;
//! an edit makes the next version, as for investigations, keeping the old
//! version and its members, audited with the panel before and after.
//! Members are checked one by one so that a form can show each problem
//! beside the member it is about (`member_0`, `member_1`, ...).

use benchwork_domain::audit::AuditAction;
use benchwork_domain::catalogue::{CatalogueCode, PanelDefinition};
use benchwork_domain::staff::Permission;
use benchwork_store::{PanelRecord, StoreError};
use serde_json::{Value, json};

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, require};

/// A panel as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PanelInput {
    /// Code; ignored on edit, where the code never changes.
    pub code: String,
    /// Name.
    pub name: String,
    /// Member investigation codes in report order; empty entries are
    /// skipped.
    pub members: Vec<String>,
    /// On edit, the version the change was made from; empty = the current
    /// one. A different current version means someone else edited it.
    pub based_on_version: String,
}

/// The field of the member at `idx`, as forms and problem details name it.
pub fn member_field(idx: usize) -> String {
    format!("member_{idx}")
}

/// Checks a panel as typed: the code, the name, and each member (a code in
/// the catalogue, named once). Problems are named by field.
async fn parse(ctx: &Ctx, input: &PanelInput) -> AppResult<PanelDefinition> {
    let mut errors = Vec::new();
    let code = CatalogueCode::parse(&input.code)
        .map_err(|error| errors.push(FieldError::new(error.field(), error)))
        .ok();
    let mut members: Vec<CatalogueCode> = Vec::new();
    let mut n_typed = 0;
    for (idx, typed) in input.members.iter().enumerate() {
        if typed.trim().is_empty() {
            continue;
        }
        n_typed += 1;
        let field = member_field(idx);
        let Ok(member) = CatalogueCode::parse(typed) else {
            errors.push(FieldError::new(
                &field,
                format!("{} is not an investigation code", typed.trim()),
            ));
            continue;
        };
        if members.contains(&member) {
            errors.push(FieldError::new(
                &field,
                format!("{member} is already in the panel: remove the second one"),
            ));
            continue;
        }
        match ctx.store.get_investigation_by_code(member.as_str()).await {
            Ok(_) => members.push(member),
            Err(StoreError::NotFound) => errors.push(FieldError::new(
                &field,
                format!("{member} is not in the catalogue: add it first"),
            )),
            Err(error) => return Err(error.into()),
        }
    }
    if n_typed == 0 {
        errors.push(FieldError::new(
            "members",
            "add at least one investigation to the panel",
        ));
    }
    let Some(code) = code.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    PanelDefinition::new(code, &input.name, members)
        .map_err(|error| AppError::invalid(error.field(), error))
}

/// The panel as JSON, for the audit trail's before and after.
fn panel_json(code: &str, name: &str, members: &[&str]) -> Value {
    json!({ "code": code, "name": name, "members": members })
}

/// The current version of a panel by code, with its members.
pub async fn get(ctx: &Ctx, actor: &Actor, code: &str) -> AppResult<PanelRecord> {
    require(ctx, actor, Permission::ViewCatalogue).await?;
    let code = CatalogueCode::parse(code).map_err(|_| AppError::NotFound)?;
    Ok(ctx.store.get_panel_by_code(code.as_str()).await?)
}

/// Adds a panel of investigations already in the catalogue, as version 1.
pub async fn create(ctx: &Ctx, actor: &Actor, input: &PanelInput) -> AppResult<PanelRecord> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let panel = parse(ctx, input).await?;
    let members: Vec<String> = panel
        .members()
        .iter()
        .map(|code| code.as_str().to_owned())
        .collect();
    crate::catalogue::create_panel(ctx, actor, panel.code().as_str(), panel.name(), &members).await
}

/// Changes a panel's name or members: the result becomes the next version
/// and the older versions stay as they were. Refused when nothing changed,
/// or when someone else made a version since `based_on_version`.
pub async fn edit(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    input: &PanelInput,
) -> AppResult<PanelRecord> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let code = CatalogueCode::parse(code).map_err(|_| AppError::NotFound)?;
    let current = ctx.store.get_panel_by_code(code.as_str()).await?;
    let mut input = input.clone();
    input.code = current.code.clone();
    let panel = parse(ctx, &input).await?;
    let based_on = match input.based_on_version.trim() {
        "" => current.version,
        text => text.parse::<i64>().map_err(|_| {
            AppError::invalid("based_on_version", "the version edited is not a number")
        })?,
    };
    let stale = || {
        AppError::Conflict(
            "someone else changed this panel while you were editing it: open it again and repeat your change".into(),
        )
    };
    if based_on != current.version {
        return Err(stale());
    }
    let before_members: Vec<&str> = current.members.iter().map(|(c, _)| c.as_str()).collect();
    let after_members: Vec<&str> = panel.members().iter().map(CatalogueCode::as_str).collect();
    if panel.name() == current.name && after_members == before_members {
        return Err(AppError::invalid(
            "name",
            "nothing was changed: change the name or the investigations to make a new version",
        ));
    }
    let now = ctx.now();
    let version = current.version + 1;
    let mut event = audit_event(actor, now, AuditAction::Update, "catalogue.panel.edit");
    event.entity_type = Some("Panel".into());
    event.entity_id = Some(current.id.to_string());
    event.detail = Some(format!(
        "{} version {} replaced by version {version}",
        current.code, current.version
    ));
    event.before = Some(panel_json(&current.code, &current.name, &before_members).to_string());
    event.after = Some(panel_json(&current.code, panel.name(), &after_members).to_string());
    match ctx
        .store
        .add_panel_version(current.id, current.version, &panel, actor.id, now, &[event])
        .await
    {
        Ok(_) => Ok(ctx.store.get_panel_by_code(&current.code).await?),
        Err(StoreError::Conflict { .. }) => Err(stale()),
        Err(error) => Err(error.into()),
    }
}
