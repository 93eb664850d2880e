//! Incidents and nonconformities, raised by people or by the system.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::ids::{DepartmentId, IncidentId, UserId};
use benchwork_domain::incident::{
    IncidentCategory, IncidentChange, IncidentKind, IncidentStatus, NewIncident, Severity,
    check_change, reference,
};
use benchwork_domain::staff::{Permission, Role};
use benchwork_store::{IncidentFilter, IncidentLinkRecord, IncidentRecord, NewIncidentRecord};

use crate::notifications::{Message, notify_role};
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid};

/// Incident input as typed, before validation.
#[derive(Debug, Clone, Default)]
pub struct IncidentInput {
    /// Department id as text.
    pub department: String,
    /// Kind code.
    pub kind: String,
    /// Category code.
    pub category: String,
    /// Severity code.
    pub severity: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
}

/// A record involved in an incident: (record type, id, label).
pub type Link = (String, String, String);

fn incident_json(record: &IncidentRecord) -> String {
    serde_json::json!({
        "status": record.status,
        "owner": record.owner_id.map(|id| id.to_string()),
        "outcome": record.outcome,
    })
    .to_string()
}

/// Raises an incident by hand. Anyone who is not read-only may raise one in
/// a department they belong to: it is a safety action.
pub async fn raise(ctx: &Ctx, actor: &Actor, input: &IncidentInput) -> AppResult<IncidentRecord> {
    crate::require(ctx, actor, Permission::RaiseIncident).await?;
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
    let kind = IncidentKind::parse(&input.kind);
    let category = IncidentCategory::parse(&input.category);
    let severity = Severity::parse(&input.severity);
    use benchwork_domain::incident::IncidentError as E;
    if kind.is_none() {
        errors.push(FieldError::new("kind", E::InvalidKind));
    }
    if category.is_none() {
        errors.push(FieldError::new("category", E::InvalidCategory));
    }
    if severity.is_none() {
        errors.push(FieldError::new("severity", E::InvalidSeverity));
    }
    let title = benchwork_domain::incident::validate_title(&input.title)
        .map_err(|error| errors.push(FieldError::new("title", error)))
        .ok();
    let description = benchwork_domain::incident::validate_description(&input.description)
        .map_err(|error| errors.push(FieldError::new("description", error)))
        .ok();
    let (
        Some(department),
        Some(kind),
        Some(category),
        Some(severity),
        Some(title),
        Some(description),
        true,
    ) = (
        department,
        kind,
        category,
        severity,
        title,
        description,
        errors.is_empty(),
    )
    else {
        return Err(AppError::Invalid(errors));
    };
    let incident = NewIncident {
        kind,
        category,
        severity,
        title,
        description,
    };
    raise_validated(ctx, actor, department, incident, Vec::new()).await
}

/// Raises an incident from code (a failed QC run, an overdue calibration),
/// by a person or by a system identity, linked to the records involved.
/// Quality managers of the department are notified.
pub async fn raise_validated(
    ctx: &Ctx,
    actor: &Actor,
    department: DepartmentId,
    incident: NewIncident,
    links: Vec<Link>,
) -> AppResult<IncidentRecord> {
    let now = ctx.now();
    let record = NewIncidentRecord {
        id: IncidentId(new_uuid()),
        department_id: department,
        kind: incident.kind.code().to_owned(),
        category: incident.category.code().to_owned(),
        severity: incident.severity.code().to_owned(),
        title: incident.title.clone(),
        description: incident.description.clone(),
        raised_by: actor.id,
        links,
        created_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "incident.raise");
    event.entity_type = Some("Incident".into());
    event.entity_id = Some(record.id.to_string());
    event.department_id = Some(department);
    event.after = Some(
        serde_json::json!({
            "kind": record.kind, "category": record.category, "severity": record.severity,
            "title": record.title, "description": record.description, "status": "open",
        })
        .to_string(),
    );
    let number = ctx.store.create_incident(&record, &[event]).await?;
    notify_role(
        ctx,
        Role::QualityManager,
        Some(department),
        Message {
            title: format!("{} raised: {}", reference(number), incident.title),
            body: format!(
                "{} ({}, {}) raised by {}.",
                incident.kind.label(),
                incident.category.label(),
                incident.severity.label(),
                actor.display_name
            ),
            link: Some(format!("/incidents/{}", record.id)),
        },
    )
    .await?;
    // The raiser may be a system identity outside the department, so the
    // record is read back by id alone.
    Ok(ctx.store.get_incident_unscoped(record.id).await?)
}

/// The incidents of the actor's departments.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    filter: &IncidentFilter,
) -> AppResult<Vec<IncidentRecord>> {
    crate::require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    Ok(ctx.store.list_incidents(actor.id, filter, 500).await?)
}

/// One incident of the actor's departments, with its linked records.
pub async fn get(
    ctx: &Ctx,
    actor: &Actor,
    id: IncidentId,
) -> AppResult<(IncidentRecord, Vec<IncidentLinkRecord>)> {
    crate::require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let record = ctx.store.get_incident(id, actor.id).await?;
    let links = ctx.store.list_incident_links(id).await?;
    Ok((record, links))
}

/// Changes status, owner and outcome. Practitioners and managers only.
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: IncidentId,
    status: &str,
    owner: &str,
    outcome: &str,
) -> AppResult<IncidentRecord> {
    crate::require(ctx, actor, Permission::ManageIncidents).await?;
    let before = ctx.store.get_incident(id, actor.id).await?;
    let mut errors = Vec::new();
    let status = IncidentStatus::parse(status);
    if status.is_none() {
        errors.push(FieldError::new(
            "status",
            benchwork_domain::incident::IncidentError::InvalidStatus,
        ));
    }
    let owner = match owner.trim() {
        "" => None,
        text => match UserId::parse(text) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("owner", "select a member of staff"));
                None
            }
        },
    };
    if let Some(owner) = owner {
        match ctx.store.get_user(owner).await {
            Ok(user)
                if user.departments.contains(&before.department_id)
                    && user.disabled_at.is_none() => {}
            _ => errors.push(FieldError::new(
                "owner",
                "the owner must be an active member of the incident's department",
            )),
        }
    }
    let current = IncidentStatus::parse(&before.status)
        .ok_or_else(|| anyhow::anyhow!("stored incident status {:?}", before.status))?;
    let Some(status) = status else {
        return Err(AppError::Invalid(errors));
    };
    let outcome = Some(outcome.trim().to_owned()).filter(|text| !text.is_empty());
    if outcome.as_deref().is_some_and(|text| {
        text.chars().count() > 10_000
            || benchwork_domain::incident::has_control_characters(text, true)
    }) {
        errors.push(FieldError::new(
            "outcome",
            "enter the outcome as plain text (up to 10,000 characters)",
        ));
    }
    let change = IncidentChange {
        status,
        owner,
        outcome: outcome.clone(),
    };
    if let Err(error) = check_change(current, &change) {
        let field = if matches!(
            error,
            benchwork_domain::incident::IncidentError::OutcomeRequired
        ) {
            "outcome"
        } else {
            "status"
        };
        errors.push(FieldError::new(field, error));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = ctx.now();
    let closed_at = (status == IncidentStatus::Closed).then_some(before.closed_at.unwrap_or(now));
    let mut event = audit_event(actor, now, AuditAction::Update, "incident.update");
    event.entity_type = Some("Incident".into());
    event.entity_id = Some(id.to_string());
    event.department_id = Some(before.department_id);
    event.before = Some(incident_json(&before));
    event.after = Some(
        serde_json::json!({
            "status": status.code(),
            "owner": owner.map(|id| id.to_string()),
            "outcome": outcome,
        })
        .to_string(),
    );
    ctx.store
        .update_incident(id, &before.status, status.code(), owner, outcome.as_deref(), closed_at, now, &[event])
        .await
        .map_err(|error| match error {
            benchwork_store::StoreError::Conflict { .. } => {
                AppError::Conflict("someone else changed this incident while you were editing it; reload and try again".into())
            }
            other => other.into(),
        })?;
    Ok(ctx.store.get_incident(id, actor.id).await?)
}
