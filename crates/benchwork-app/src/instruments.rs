//! The instrument register's administration (issue 3 item 5: the minimal
//! record of name, discipline, location and department that the equipment
//! module extends): the register by department, one instrument, adding one
//! (through `results::create_instrument`) and correcting one, audited with
//! the values before and after; and the worklist of an instrument or
//! discipline with its filters checked, for the API.
//!
//! Managing the register needs `ManageInstruments`, not `EditCatalogue`:
//! naming an analyser and where it stands approves no reference interval
//! or limit, and it is practitioners who run the benches.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::catalogue::Discipline;
use benchwork_domain::ids::DepartmentId;
use benchwork_domain::result::InstrumentId;
use benchwork_domain::staff::Permission;
use benchwork_store::{
    INSTRUMENT_CHANGED, InstrumentRecord, InstrumentUpdate, StoreError, WorklistRecord,
};
use serde_json::json;

use crate::results::{self, InstrumentInput};
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, require};

/// One department's instruments, by name.
#[derive(Debug, Clone)]
pub struct DepartmentInstruments {
    /// Department id.
    pub department_id: DepartmentId,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// Its instruments.
    pub instruments: Vec<InstrumentRecord>,
}

/// The instruments of the actor's departments, grouped by department (in
/// name order), every department of the actor listed even when it has none.
pub async fn list_by_department(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<DepartmentInstruments>> {
    let instruments = results::instruments(ctx, actor).await?;
    Ok(ctx
        .store
        .list_departments()
        .await?
        .into_iter()
        .filter(|department| actor.in_department(department.id))
        .map(|department| DepartmentInstruments {
            instruments: instruments
                .iter()
                .filter(|instrument| instrument.department_id == department.id)
                .cloned()
                .collect(),
            department_id: department.id,
            department_code: department.code,
            department_name: department.name,
        })
        .collect())
}

/// One instrument of the actor's departments, by id; another
/// department's, or an id that is not one, is not found.
pub async fn get(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<InstrumentRecord> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let id = InstrumentId::parse(id.trim()).map_err(|_| AppError::NotFound)?;
    Ok(ctx.store.get_instrument(id, actor.id).await?)
}

/// Adds an instrument to one of the actor's departments (a name already
/// used there is refused on the `name` field).
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: &InstrumentInput,
) -> AppResult<InstrumentRecord> {
    let id = results::create_instrument(ctx, actor, input).await?;
    Ok(ctx.store.get_instrument(id, actor.id).await?)
}

fn text_field(value: &str, field: &str, what: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("enter the {what} (up to 100 characters)"),
        ));
    }
    value.to_owned()
}

fn instrument_json(name: &str, discipline: &str, location: &str) -> String {
    json!({ "name": name, "discipline": discipline, "location": location }).to_string()
}

/// Corrects an instrument's name, discipline or location; its department
/// never changes (`input.department` is ignored). Refused when nothing
/// changed, when the name is taken in the department, or when someone
/// else corrected it since it was read. Audited with before and after.
pub async fn edit(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    input: &InstrumentInput,
) -> AppResult<InstrumentRecord> {
    require(ctx, actor, Permission::ManageInstruments).await?;
    let id = InstrumentId::parse(id.trim()).map_err(|_| AppError::NotFound)?;
    let before = ctx.store.get_instrument(id, actor.id).await?;
    let mut errors = Vec::new();
    let discipline = Discipline::parse(&input.discipline);
    if discipline.is_none() {
        errors.push(FieldError::new("discipline", "select a discipline"));
    }
    let name = text_field(&input.name, "name", "instrument's name", &mut errors);
    let location = text_field(
        &input.location,
        "location",
        "instrument's location",
        &mut errors,
    );
    let (Some(discipline), true) = (discipline, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let discipline = discipline.code().to_owned();
    if name == before.name && discipline == before.discipline && location == before.location {
        return Err(AppError::invalid(
            "name",
            "nothing was changed: change the name, discipline or location",
        ));
    }
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Update, "instrument.edit");
    event.entity_type = Some("Instrument".into());
    event.entity_id = Some(before.id.to_string());
    event.department_id = Some(before.department_id);
    event.before = Some(instrument_json(
        &before.name,
        &before.discipline,
        &before.location,
    ));
    event.after = Some(instrument_json(&name, &discipline, &location));
    let update = InstrumentUpdate {
        before,
        name,
        discipline,
        location,
        at: now,
    };
    match ctx.store.update_instrument(&update, &[event]).await {
        Ok(()) => Ok(ctx.store.get_instrument(id, actor.id).await?),
        Err(StoreError::Conflict { constraint }) if constraint == INSTRUMENT_CHANGED => {
            Err(AppError::Conflict(
                "someone else changed this instrument while you were editing it: open it again and repeat your change".into(),
            ))
        }
        Err(StoreError::Conflict { .. }) => Err(AppError::invalid(
            "name",
            "an instrument with this name already exists in the department: choose another name",
        )),
        Err(error) => Err(error.into()),
    }
}

/// The worklist for a discipline or an instrument (both optional), with
/// the filters checked: an unknown discipline, or an instrument that is
/// not one of the actor's departments', is refused rather than ignored, so
/// that a client never takes the whole worklist for a filtered one.
pub async fn worklist(
    ctx: &Ctx,
    actor: &Actor,
    discipline: &str,
    instrument: &str,
) -> AppResult<Vec<WorklistRecord>> {
    require(ctx, actor, Permission::EnterResults).await?;
    let mut errors = Vec::new();
    if !discipline.trim().is_empty() && Discipline::parse(discipline.trim()).is_none() {
        errors.push(FieldError::new(
            "discipline",
            "use a discipline code, for example blood-sciences",
        ));
    }
    if !instrument.trim().is_empty() {
        let found = match InstrumentId::parse(instrument.trim()) {
            Ok(id) => match ctx.store.get_instrument(id, actor.id).await {
                Ok(_) => true,
                Err(StoreError::NotFound) => false,
                Err(error) => return Err(error.into()),
            },
            Err(_) => false,
        };
        if !found {
            errors.push(FieldError::new(
                "instrument",
                "use the id of an instrument of one of your departments",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    results::worklist(ctx, actor, "", discipline.trim(), instrument.trim()).await
}
