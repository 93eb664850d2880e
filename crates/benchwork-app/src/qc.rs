//! Internal quality control (issue 4): setting up QC materials, lots,
//! targets and rule sets, and recording QC runs judged by the Westgard rules
//! (`benchwork_domain::westgard`). A rejected run opens a hold on the
//! patient results of its series in the same transaction; the hold itself
//! (corrective action, review of results, the check verification calls) is
//! in [`crate::qc_holds`].

use std::collections::BTreeMap;

use benchwork_domain::audit::{AuditAction, AuditEvent};
use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::{DepartmentId, NotificationId};
use benchwork_domain::incident::{IncidentCategory, IncidentKind, NewIncident, Severity};
use benchwork_domain::qc_hold::{
    LotStatus, QcHoldId, QcLotId, QcMaterialId, QcRunId, QcTargetId, decision_code, releases_hold,
};
use benchwork_domain::qc_stats::{
    ESTABLISH_N_DEFAULT, ESTABLISH_N_RANGE, establish_target as establish_stats,
};
use benchwork_domain::result::InstrumentId;
use benchwork_domain::staff::{Permission, Role};
use benchwork_domain::time::display_london;
use benchwork_domain::westgard::{QcTarget, RuleSet, RunDecision, RunZ, evaluate};
use benchwork_store::{
    InstrumentRecord, InvestigationVersionRecord, NewNotification, QcEstablishingTarget,
    QcLotInUse, QcLotRecord, QcMaterialRecord, QcRuleConfigRecord, QcRunRecord, QcRunWrite,
    QcTargetRecord, QcValueRecord, QcViolationRecord, StoreError,
};
use serde_json::json;

use crate::results::today;
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// How many earlier accepted runs are given to the rules: enough for the
/// longest rule (12x) in one level.
pub const HISTORY_RUNS: i64 = 20;

/// Refuses unless the actor may record QC or view the department's records
/// (the refusal is audited by [`require`]).
pub async fn require_view(ctx: &Ctx, actor: &Actor) -> AppResult<()> {
    if actor.can(Permission::RecordQc) {
        return Ok(());
    }
    require(ctx, actor, Permission::ViewDepartmentRecords).await
}

pub(crate) fn qc_event(
    actor: &Actor,
    at: jiff::Timestamp,
    action: AuditAction,
    event_type: &str,
    entity: &str,
    id: String,
    department: DepartmentId,
) -> AuditEvent {
    let mut event = audit_event(actor, at, action, event_type);
    event.entity_type = Some(entity.into());
    event.entity_id = Some(id);
    event.department_id = Some(department);
    event
}

fn text_field(
    value: &str,
    field: &str,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("enter the {what} (up to 200 characters)"),
        ));
        None
    } else {
        Some(value.to_owned())
    }
}

fn number_field(value: &str, field: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    match value.trim().parse::<f64>() {
        Ok(number) if number.is_finite() => Some(number),
        _ => {
            errors.push(FieldError::new(
                field,
                format!("enter the {what} as a number"),
            ));
            None
        }
    }
}

async fn instrument_field(
    ctx: &Ctx,
    actor: &Actor,
    value: &str,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<InstrumentRecord>> {
    let Ok(id) = InstrumentId::parse(value) else {
        errors.push(FieldError::new(
            "instrument",
            "select an instrument of your department",
        ));
        return Ok(None);
    };
    match ctx.store.get_instrument(id, actor.id).await {
        Ok(record) => Ok(Some(record)),
        Err(StoreError::NotFound) => {
            errors.push(FieldError::new(
                "instrument",
                "select an instrument of your department",
            ));
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

async fn investigation_field(
    ctx: &Ctx,
    value: &str,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<InvestigationVersionRecord>> {
    let code = value.trim();
    if code.is_empty() {
        errors.push(FieldError::new("investigation", "select the investigation"));
        return Ok(None);
    }
    match ctx.store.get_investigation_by_code(code).await {
        Ok(record) => Ok(Some(record)),
        Err(StoreError::NotFound) => {
            errors.push(FieldError::new(
                "investigation",
                format!("{code} is not an investigation of the catalogue"),
            ));
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

fn expiry_of(lot: &QcLotRecord) -> AppResult<jiff::civil::Date> {
    lot.expires_on
        .parse::<jiff::civil::Date>()
        .map_err(|error| {
            AppError::Internal(anyhow::anyhow!("stored lot expiry unreadable: {error}"))
        })
}

/// A QC material level as typed.
#[derive(Debug, Clone, Default)]
pub struct MaterialInput {
    /// Department id; may be empty when the actor has one department.
    pub department: String,
    /// Name.
    pub name: String,
    /// Manufacturer.
    pub manufacturer: String,
    /// 1, 2 or 3.
    pub level: String,
}

/// Adds a QC material level to one of the actor's departments.
pub async fn create_material(
    ctx: &Ctx,
    actor: &Actor,
    input: &MaterialInput,
) -> AppResult<QcMaterialRecord> {
    require(ctx, actor, Permission::ManageQc).await?;
    let mut errors = Vec::new();
    let department = match (
        DepartmentId::parse(&input.department),
        actor.departments.as_slice(),
    ) {
        (Ok(id), _) if actor.in_department(id) => Some(id),
        (Err(_), [only]) if input.department.trim().is_empty() => Some(*only),
        _ => {
            errors.push(FieldError::new(
                "department",
                "select one of your departments",
            ));
            None
        }
    };
    let name = text_field(&input.name, "name", "material's name", &mut errors);
    let manufacturer = text_field(
        &input.manufacturer,
        "manufacturer",
        "manufacturer",
        &mut errors,
    );
    let level = match input.level.trim().parse::<i64>() {
        Ok(level @ 1..=3) => Some(level),
        _ => {
            errors.push(FieldError::new("level", "enter the level: 1, 2 or 3"));
            None
        }
    };
    let (Some(department), Some(name), Some(manufacturer), Some(level), true) =
        (department, name, manufacturer, level, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let now = ctx.now();
    let record = QcMaterialRecord {
        id: QcMaterialId(new_uuid()),
        department_id: department,
        name,
        manufacturer,
        level,
        created_by: actor.id,
        created_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "qc.material.create");
    event.entity_type = Some("QcMaterial".into());
    event.entity_id = Some(record.id.to_string());
    event.department_id = Some(department);
    event.after = Some(
        json!({ "name": record.name, "manufacturer": record.manufacturer, "level": level })
            .to_string(),
    );
    match ctx.store.create_qc_material(&record, &[event]).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => Err(AppError::Invalid(vec![FieldError::new(
            "name",
            "this material already has this level in the department",
        )])),
        Err(error) => Err(error.into()),
    }
}

/// A lot as typed.
#[derive(Debug, Clone, Default)]
pub struct LotInput {
    /// The material (level) id.
    pub material: String,
    /// The manufacturer's lot number.
    pub lot_number: String,
    /// Last day of use, YYYY-MM-DD.
    pub expires_on: String,
    /// current or parallel (a new lot starts as one of these).
    pub status: String,
}

/// Adds a lot of a material. An expired lot or a lot number the material
/// already has is refused.
pub async fn create_lot(ctx: &Ctx, actor: &Actor, input: &LotInput) -> AppResult<QcLotRecord> {
    require(ctx, actor, Permission::ManageQc).await?;
    let mut errors = Vec::new();
    let material = match QcMaterialId::parse(&input.material) {
        Ok(id) => match ctx.store.get_qc_material(id, actor.id).await {
            Ok(material) => Some(material),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        },
        Err(_) => None,
    };
    if material.is_none() {
        errors.push(FieldError::new(
            "material",
            "select a QC material of your department",
        ));
    }
    let lot_number = text_field(&input.lot_number, "lot_number", "lot number", &mut errors);
    let expires_on = match input.expires_on.trim().parse::<jiff::civil::Date>() {
        Ok(date) if date < today(ctx) => {
            errors.push(FieldError::new(
                "expires_on",
                format!("this lot expired on {date}: an expired lot cannot be used for QC"),
            ));
            None
        }
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(FieldError::new(
                "expires_on",
                "enter the expiry date as YYYY-MM-DD",
            ));
            None
        }
    };
    let status = match LotStatus::parse(&input.status) {
        Some(status @ (LotStatus::Current | LotStatus::Parallel)) => Some(status),
        _ => {
            errors.push(FieldError::new("status", "choose current or parallel"));
            None
        }
    };
    let (Some(material), Some(lot_number), Some(expires_on), Some(status), true) =
        (material, lot_number, expires_on, status, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let now = ctx.now();
    let record = QcLotRecord {
        id: QcLotId(new_uuid()),
        material_id: material.id,
        lot_number,
        expires_on: expires_on.to_string(),
        status: status.code().into(),
        created_by: actor.id,
        created_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "qc.lot.create");
    event.entity_type = Some("QcLot".into());
    event.entity_id = Some(record.id.to_string());
    event.department_id = Some(material.department_id);
    event.after = Some(
        json!({
            "material": material.name, "level": material.level, "lot_number": record.lot_number,
            "expires_on": record.expires_on, "status": record.status,
        })
        .to_string(),
    );
    match ctx.store.create_qc_lot(&record, &[event]).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => Err(AppError::Invalid(vec![FieldError::new(
            "lot_number",
            "this material already has a lot with this number",
        )])),
        Err(error) => Err(error.into()),
    }
}

/// A target as typed: the manufacturer's mean and SD of a lot on an
/// instrument for an investigation.
#[derive(Debug, Clone, Default)]
pub struct TargetInput {
    /// Lot id.
    pub lot: String,
    /// Instrument id.
    pub instrument: String,
    /// Investigation code.
    pub investigation: String,
    /// Mean.
    pub mean: String,
    /// SD.
    pub sd: String,
}

/// Sets the target of a lot on an instrument for an investigation: a new
/// version, audited with the one it replaces. Refused: SD of zero or less, a
/// mean outside the investigation's reportable range, an expired lot, an
/// unknown lot, instrument or investigation.
pub async fn set_target(
    ctx: &Ctx,
    actor: &Actor,
    input: &TargetInput,
) -> AppResult<QcTargetRecord> {
    require(ctx, actor, Permission::ManageQc).await?;
    let mut errors = Vec::new();
    let lot = match QcLotId::parse(&input.lot) {
        Ok(id) => match ctx.store.get_qc_lot(id, actor.id).await {
            Ok(lot) => Some(lot),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        },
        Err(_) => None,
    };
    match &lot {
        None => errors.push(FieldError::new("lot", "select a QC lot of your department")),
        Some((lot, _)) if expiry_of(lot)? < today(ctx) => errors.push(FieldError::new(
            "lot",
            format!(
                "lot {} expired on {}: an expired lot cannot be used for QC",
                lot.lot_number, lot.expires_on
            ),
        )),
        Some(_) => {}
    }
    let instrument = instrument_field(ctx, actor, &input.instrument, &mut errors).await?;
    let investigation = investigation_field(ctx, &input.investigation, &mut errors).await?;
    let mean = number_field(&input.mean, "mean", "target mean", &mut errors);
    let sd = number_field(&input.sd, "sd", "target SD", &mut errors);
    if let (Some(mean), Some(sd)) = (mean, sd)
        && let Err(error) = QcTarget::new(mean, sd)
    {
        errors.push(FieldError::new("sd", error));
    }
    if let (Some(mean), Some(investigation)) = (mean, &investigation)
        && let Some(range) = investigation.definition.parts().reportable_range.as_ref()
        && !range.contains(mean)
    {
        errors.push(FieldError::new(
            "mean",
            format!(
                "the target mean is outside the reportable range of {} ({} to {})",
                investigation.definition.code(),
                range.low(),
                range.high()
            ),
        ));
    }
    if let (Some((_, material)), Some(instrument)) = (&lot, &instrument)
        && material.department_id != instrument.department_id
    {
        errors.push(FieldError::new(
            "instrument",
            "the instrument and the QC lot belong to different departments",
        ));
    }
    let (Some((lot, material)), Some(instrument), Some(investigation), Some(mean), Some(sd), true) =
        (lot, instrument, investigation, mean, sd, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let previous = ctx
        .store
        .current_qc_target(lot.id, instrument.id, investigation.investigation_id)
        .await?;
    let version = ctx
        .store
        .max_qc_target_version(lot.id, instrument.id, investigation.investigation_id)
        .await?
        + 1;
    let now = ctx.now();
    let record = QcTargetRecord {
        id: QcTargetId(new_uuid()),
        lot_id: lot.id,
        instrument_id: instrument.id,
        investigation_id: investigation.investigation_id,
        version,
        mean,
        sd,
        source: "manufacturer".into(),
        set_by: actor.id,
        set_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Update, "qc.target.set");
    event.entity_type = Some("QcTarget".into());
    event.entity_id = Some(format!(
        "{}/{}/{}",
        lot.id,
        instrument.id,
        investigation.definition.code()
    ));
    event.department_id = Some(material.department_id);
    event.before = previous.as_ref().map(|target| {
        json!({ "version": target.version, "mean": target.mean, "sd": target.sd, "source": target.source }).to_string()
    });
    event.after = Some(
        json!({
            "version": record.version, "mean": mean, "sd": sd, "source": record.source,
            "lot_number": lot.lot_number, "level": material.level, "instrument": instrument.name,
            "investigation": investigation.definition.code().to_string(),
        })
        .to_string(),
    );
    match ctx.store.add_qc_target(&record, &[event]).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "someone else changed this target meanwhile: check it and try again".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// A target to be established from the first N values of accepted runs, as
/// typed.
#[derive(Debug, Clone, Default)]
pub struct EstablishInput {
    /// Lot id (a parallel lot).
    pub lot: String,
    /// Instrument id.
    pub instrument: String,
    /// Investigation code.
    pub investigation: String,
    /// N as typed: empty for the default (20); 10 to 100.
    pub establish_n: String,
}

/// Starts establishing the target of a parallel lot on an instrument for an
/// investigation from the first N values of accepted runs: a new target
/// version with no mean or SD (source `establishing`), audited. While it is
/// established the lot's values are recorded with each run but do not
/// decide it; when the Nth value of an accepted run is recorded, the run's
/// transaction writes the mean and SD as the next version (source
/// `established`). Refused for a lot that is not parallel (a current lot
/// decides runs and needs a target now), an expired or unknown lot, an
/// unknown instrument or investigation, and N outside 10 to 100.
pub async fn establish_target(
    ctx: &Ctx,
    actor: &Actor,
    input: &EstablishInput,
) -> AppResult<QcEstablishingTarget> {
    require(ctx, actor, Permission::ManageQc).await?;
    let mut errors = Vec::new();
    let lot = match QcLotId::parse(&input.lot) {
        Ok(id) => match ctx.store.get_qc_lot(id, actor.id).await {
            Ok(lot) => Some(lot),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        },
        Err(_) => None,
    };
    match &lot {
        None => errors.push(FieldError::new("lot", "select a QC lot of your department")),
        Some((lot, _)) if expiry_of(lot)? < today(ctx) => errors.push(FieldError::new(
            "lot",
            format!(
                "lot {} expired on {}: an expired lot cannot be used for QC",
                lot.lot_number, lot.expires_on
            ),
        )),
        Some((lot, _)) if lot.status != LotStatus::Parallel.code() => {
            errors.push(FieldError::new(
                "lot",
                format!(
                    "lot {} is {}: only a parallel lot can have its target established from runs, because its values must not decide runs until the target is fixed",
                    lot.lot_number, lot.status
                ),
            ))
        }
        Some(_) => {}
    }
    let instrument = instrument_field(ctx, actor, &input.instrument, &mut errors).await?;
    let investigation = investigation_field(ctx, &input.investigation, &mut errors).await?;
    let establish_n = match input.establish_n.trim() {
        "" => Some(ESTABLISH_N_DEFAULT),
        text => match text.parse::<i64>() {
            Ok(n) if ESTABLISH_N_RANGE.contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    "establish_n",
                    format!(
                        "enter how many values establish the target: a whole number from {} to {}",
                        ESTABLISH_N_RANGE.start(),
                        ESTABLISH_N_RANGE.end()
                    ),
                ));
                None
            }
        },
    };
    if let (Some((_, material)), Some(instrument)) = (&lot, &instrument)
        && material.department_id != instrument.department_id
    {
        errors.push(FieldError::new(
            "instrument",
            "the instrument and the QC lot belong to different departments",
        ));
    }
    let (Some((lot, material)), Some(instrument), Some(investigation), Some(establish_n), true) = (
        lot,
        instrument,
        investigation,
        establish_n,
        errors.is_empty(),
    ) else {
        return Err(AppError::Invalid(errors));
    };
    let version = ctx
        .store
        .max_qc_target_version(lot.id, instrument.id, investigation.investigation_id)
        .await?
        + 1;
    let now = ctx.now();
    let record = QcEstablishingTarget {
        id: QcTargetId(new_uuid()),
        lot_id: lot.id,
        instrument_id: instrument.id,
        investigation_id: investigation.investigation_id,
        version,
        establish_n,
        set_by: actor.id,
        set_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Update, "qc.target.establishing");
    event.entity_type = Some("QcTarget".into());
    event.entity_id = Some(format!(
        "{}/{}/{}",
        lot.id,
        instrument.id,
        investigation.definition.code()
    ));
    event.department_id = Some(material.department_id);
    event.after = Some(
        json!({
            "version": version, "source": "establishing", "establish_n": establish_n,
            "lot_number": lot.lot_number, "level": material.level, "instrument": instrument.name,
            "investigation": investigation.definition.code().to_string(),
        })
        .to_string(),
    );
    match ctx
        .store
        .add_qc_establishing_target(&record, &[event])
        .await
    {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "someone else changed this target meanwhile: check it and try again".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

async fn lot_of(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<(QcLotRecord, QcMaterialRecord)> {
    let id = QcLotId::parse(id.trim()).map_err(|_| AppError::NotFound)?;
    Ok(ctx.store.get_qc_lot(id, actor.id).await?)
}

/// A lot of the actor's departments with its material (ManageQc).
pub async fn get_lot(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
) -> AppResult<(QcLotRecord, QcMaterialRecord)> {
    require(ctx, actor, Permission::ManageQc).await?;
    lot_of(ctx, actor, id).await
}

/// Makes a parallel lot current: the current lot of the same material is
/// retired in the same transaction, audited (`qc.lot.promote`). Refused
/// unless the lot is parallel and in date, and has a target with a mean and
/// SD (from the manufacturer or established) on every instrument ×
/// investigation where the current lot of its material has one.
pub async fn promote_lot(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<QcLotRecord> {
    require(ctx, actor, Permission::ManageQc).await?;
    let (lot, material) = lot_of(ctx, actor, id).await?;
    let refuse = |message: String| Err(AppError::Invalid(vec![FieldError::new("lot", message)]));
    if lot.status != LotStatus::Parallel.code() {
        return refuse(format!(
            "lot {} is {}: only a parallel lot can be made current",
            lot.lot_number, lot.status
        ));
    }
    if expiry_of(&lot)? < today(ctx) {
        return refuse(format!(
            "lot {} expired on {}: an expired lot cannot become current",
            lot.lot_number, lot.expires_on
        ));
    }
    let gaps = ctx.store.qc_promotion_gaps(lot.id).await?;
    if !gaps.is_empty() {
        return refuse(format!(
            "lot {} has no fixed target (manufacturer's or established) for {}, where the current lot has one: set or establish those targets first",
            lot.lot_number,
            gaps.iter()
                .map(|(instrument, code)| format!("{code} on {instrument}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let now = ctx.now();
    let mut event = qc_event(
        actor,
        now,
        AuditAction::Update,
        "qc.lot.promote",
        "QcLot",
        lot.id.to_string(),
        material.department_id,
    );
    event.before = Some(json!({ "status": lot.status }).to_string());
    event.after = Some(
        json!({
            "status": "current", "lot_number": lot.lot_number, "material": material.name,
            "level": material.level, "previous_current": "retired",
        })
        .to_string(),
    );
    match ctx.store.promote_qc_lot(lot.id, now, &[event]).await {
        Ok(()) => Ok(QcLotRecord {
            status: LotStatus::Current.code().into(),
            ..lot
        }),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "the lot or its targets changed meanwhile: check them and try again".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// Retires a lot by hand with a reason, audited (`qc.lot.retire`); its
/// values are no longer taken by runs. Refused for a lot already retired or
/// without a reason.
pub async fn retire_lot(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> AppResult<QcLotRecord> {
    require(ctx, actor, Permission::ManageQc).await?;
    let (lot, material) = lot_of(ctx, actor, id).await?;
    let mut errors = Vec::new();
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "reason",
            "enter why the lot is retired (up to 500 characters)",
        ));
    }
    if lot.status == LotStatus::Retired.code() {
        errors.push(FieldError::new(
            "lot",
            format!("lot {} is already retired", lot.lot_number),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = ctx.now();
    let mut event = qc_event(
        actor,
        now,
        AuditAction::Update,
        "qc.lot.retire",
        "QcLot",
        lot.id.to_string(),
        material.department_id,
    );
    event.before = Some(json!({ "status": lot.status }).to_string());
    event.after = Some(
        json!({
            "status": "retired", "reason": reason, "lot_number": lot.lot_number,
            "material": material.name, "level": material.level,
        })
        .to_string(),
    );
    match ctx.store.retire_qc_lot(lot.id, now, &[event]).await {
        Ok(()) => Ok(QcLotRecord {
            status: LotStatus::Retired.code().into(),
            ..lot
        }),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "the lot changed meanwhile: check it and try again".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// A rule set as typed.
#[derive(Debug, Clone, Default)]
pub struct RulesInput {
    /// Instrument id.
    pub instrument: String,
    /// Investigation code.
    pub investigation: String,
    /// Rule codes, e.g. "1-2s/1-3s/2-2s/R-4s/4-1s/10x".
    pub rules: String,
}

/// Sets the Westgard rules of an investigation on an instrument: a new
/// version, audited with the one it replaces.
pub async fn set_rules(
    ctx: &Ctx,
    actor: &Actor,
    input: &RulesInput,
) -> AppResult<QcRuleConfigRecord> {
    require(ctx, actor, Permission::ManageQc).await?;
    let mut errors = Vec::new();
    let instrument = instrument_field(ctx, actor, &input.instrument, &mut errors).await?;
    let investigation = investigation_field(ctx, &input.investigation, &mut errors).await?;
    let rules = match RuleSet::parse(&input.rules) {
        Ok(rules) => Some(rules),
        Err(error) => {
            errors.push(FieldError::new("rules", error));
            None
        }
    };
    let (Some(instrument), Some(investigation), Some(rules), true) =
        (instrument, investigation, rules, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let previous = ctx
        .store
        .current_qc_rules(instrument.id, investigation.investigation_id)
        .await?;
    let now = ctx.now();
    let record = QcRuleConfigRecord {
        instrument_id: instrument.id,
        investigation_id: investigation.investigation_id,
        version: previous.as_ref().map_or(1, |config| config.version + 1),
        rules: rules.codes(),
        set_by: actor.id,
        set_at: now,
    };
    let mut event = audit_event(actor, now, AuditAction::Update, "qc.rules.set");
    event.entity_type = Some("QcRuleConfig".into());
    event.entity_id = Some(format!(
        "{}/{}",
        instrument.id,
        investigation.definition.code()
    ));
    event.department_id = Some(instrument.department_id);
    event.before = previous
        .as_ref()
        .map(|config| json!({ "version": config.version, "rules": config.rules }).to_string());
    event.after = Some(json!({ "version": record.version, "rules": record.rules }).to_string());
    match ctx.store.add_qc_rules(&record, &[event]).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "someone else changed these rules meanwhile: check them and try again".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// What the run form of one instrument and investigation needs.
#[derive(Debug, Clone)]
pub struct RunSetup {
    /// The instrument.
    pub instrument: InstrumentRecord,
    /// The investigation.
    pub investigation: InvestigationVersionRecord,
    /// The lots in use, by level, current first.
    pub lots: Vec<QcLotInUse>,
    /// The rules that will judge the run.
    pub rules: RuleSet,
}

/// The lots and rules for a run of an investigation on an instrument.
pub async fn run_setup(
    ctx: &Ctx,
    actor: &Actor,
    instrument: &str,
    investigation: &str,
) -> AppResult<RunSetup> {
    require(ctx, actor, Permission::RecordQc).await?;
    let mut errors = Vec::new();
    let instrument = instrument_field(ctx, actor, instrument, &mut errors).await?;
    let investigation = investigation_field(ctx, investigation, &mut errors).await?;
    let (Some(instrument), Some(investigation), true) =
        (instrument, investigation, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let lots = ctx
        .store
        .qc_lots_in_use(
            instrument.department_id,
            instrument.id,
            investigation.investigation_id,
        )
        .await?;
    let n_levels = lots
        .iter()
        .filter(|lot| lot.lot.status == LotStatus::Current.code())
        .map(|lot| lot.level)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let rules = match ctx
        .store
        .current_qc_rules(instrument.id, investigation.investigation_id)
        .await?
    {
        Some(config) => RuleSet::parse(&config.rules).map_err(|error| {
            AppError::Internal(anyhow::anyhow!("stored QC rules unreadable: {error}"))
        })?,
        None if n_levels >= 3 => RuleSet::three_level(),
        None => RuleSet::two_level(),
    };
    Ok(RunSetup {
        instrument,
        investigation,
        lots,
        rules,
    })
}

/// A QC run as typed: one value per lot in use (`values`: lot id, value).
#[derive(Debug, Clone, Default)]
pub struct RunInput {
    /// Instrument id.
    pub instrument: String,
    /// Investigation code.
    pub investigation: String,
    /// (lot id, value as typed).
    pub values: Vec<(String, String)>,
    /// Free text.
    pub comment: String,
}

/// The field of a lot's value on the form.
pub fn value_field(lot: QcLotId) -> String {
    format!("value-{lot}")
}

/// Records a QC run: each value becomes a z-score against the target in
/// force for its lot; the current lots' values are judged by the Westgard
/// rules against the previous accepted runs; the run, its values and the
/// rules that fired are stored with the audit event in one transaction. A
/// rejected run opens a hold on the series' patient results (when none is
/// open) and notifies the quality managers and authorisers; an accepted run
/// after a corrective action releases the open hold. A value of an expired
/// lot, or of a current lot without a target, is refused.
pub async fn record_run(ctx: &Ctx, actor: &Actor, input: &RunInput) -> AppResult<QcRunRecord> {
    let setup = run_setup(ctx, actor, &input.instrument, &input.investigation).await?;
    let investigation_id = setup.investigation.investigation_id;
    let code = setup.investigation.definition.code().to_string();
    let typed: BTreeMap<String, &str> = input
        .values
        .iter()
        .map(|(lot, value)| (lot.trim().to_owned(), value.as_str()))
        .collect();
    let mut errors = Vec::new();
    let mut values = Vec::new();
    let mut deciding_levels = std::collections::BTreeSet::new();
    let today = today(ctx);
    for in_use in &setup.lots {
        let lot = &in_use.lot;
        let field = value_field(lot.id);
        let current =
            lot.status == LotStatus::Current.code() && !deciding_levels.contains(&in_use.level);
        let typed_value = typed
            .get(&lot.id.to_string())
            .map(|text| text.trim())
            .unwrap_or("");
        if typed_value.is_empty() {
            if current {
                errors.push(FieldError::new(
                    &field,
                    format!(
                        "enter the level {} value of lot {}",
                        in_use.level, lot.lot_number
                    ),
                ));
                deciding_levels.insert(in_use.level);
            }
            continue;
        }
        if current {
            deciding_levels.insert(in_use.level);
        }
        if expiry_of(lot)? < today {
            errors.push(FieldError::new(
                &field,
                format!("lot {} expired on {}: use a lot in date and ask for the expired one to be retired", lot.lot_number, lot.expires_on),
            ));
            continue;
        }
        let Some(value) = number_field(
            typed_value,
            &field,
            &format!("level {} value", in_use.level),
            &mut errors,
        ) else {
            continue;
        };
        let target = match &in_use.target {
            Some(target) => Some((
                target.id,
                QcTarget::new(target.mean, target.sd).map_err(|error| {
                    AppError::Internal(anyhow::anyhow!("stored QC target invalid: {error}"))
                })?,
            )),
            None if current => {
                errors.push(FieldError::new(
                    &field,
                    format!("lot {} has no target for {code} on {}: a target must be set before its QC can be judged", lot.lot_number, setup.instrument.name),
                ));
                continue;
            }
            None => None,
        };
        // A parallel lot whose target is being established: the value is
        // stored against the establishing version, without a z-score.
        let establishing = in_use
            .establishing
            .as_ref()
            .filter(|_| target.is_none())
            .map(|(establishing, _)| establishing.id);
        values.push(QcValueRecord {
            level: in_use.level,
            lot_id: lot.id,
            lot_number: lot.lot_number.clone(),
            target_id: target.map(|(id, _)| id).or(establishing),
            target: target.map(|(_, target)| (target.mean(), target.sd())),
            value,
            z: target.map(|(_, target)| target.z(value)),
            decides: current,
        });
    }
    if deciding_levels.is_empty() {
        errors.push(FieldError::new(
            "investigation",
            format!("there is no current QC lot for {code} in this department: a lot and its target must be set up first"),
        ));
    }
    if let Some(unknown) = typed.keys().find(|lot| {
        !setup
            .lots
            .iter()
            .any(|in_use| in_use.lot.id.to_string() == **lot)
    }) {
        errors.push(FieldError::new(
            "values",
            format!("{unknown} is not a lot in use for {code}"),
        ));
    }
    let comment = input.comment.trim().to_owned();
    if comment.chars().count() > 2000 {
        errors.push(FieldError::new(
            "comment",
            "keep the comment to 2000 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }

    // Judge the current lots' values against the history of accepted runs.
    let levels: Vec<i64> = deciding_levels.into_iter().collect();
    let index_of = |level: i64| levels.iter().position(|l| *l == level);
    let history = ctx
        .store
        .qc_history(setup.instrument.id, investigation_id, HISTORY_RUNS)
        .await?;
    let run_id = QcRunId(new_uuid());
    let mut run_ids: Vec<QcRunId> = history.iter().map(|(id, _)| *id).collect();
    run_ids.push(run_id);
    let mut series: Vec<RunZ> = history
        .iter()
        .map(|(_, values)| {
            let mut z = vec![None; levels.len()];
            for (level, value) in values {
                if let Some(index) = index_of(*level) {
                    z[index] = *value;
                }
            }
            RunZ { z }
        })
        .collect();
    let mut current_z = vec![None; levels.len()];
    for value in values.iter().filter(|value| value.decides) {
        if let Some(index) = index_of(value.level) {
            current_z[index] = value.z;
        }
    }
    series.push(RunZ { z: current_z });
    let evaluation = evaluate(&series, &setup.rules);
    let violations: Vec<QcViolationRecord> = evaluation
        .violations
        .iter()
        .enumerate()
        .map(|(position, violation)| QcViolationRecord {
            position: position as i64,
            rule: violation.rule.code().into(),
            scope: violation.scope.describe(),
            points: serde_json::Value::Array(
                violation
                    .points
                    .iter()
                    .map(|point| {
                        json!({
                            "run": run_ids.get(point.run).map(|id| id.to_string()),
                            "level": levels.get(point.level),
                        })
                    })
                    .collect(),
            )
            .to_string(),
        })
        .collect();
    let now = ctx.now();
    let decision = decision_code(evaluation.decision);
    let run = QcRunRecord {
        id: run_id,
        department_id: setup.instrument.department_id,
        instrument_id: setup.instrument.id,
        instrument_name: setup.instrument.name.clone(),
        investigation_id,
        investigation_code: code.clone(),
        run_at: now,
        operator_id: actor.id,
        operator_name: actor.display_name.clone(),
        decision: decision.into(),
        rules: setup.rules.codes(),
        comment,
        values,
        violations,
    };
    let fired = run
        .violations
        .iter()
        .map(|v| v.rule.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut events = vec![qc_event(
        actor,
        now,
        AuditAction::Create,
        "qc.run.record",
        "QcRun",
        run.id.to_string(),
        run.department_id,
    )];
    events[0].after = Some(
        json!({
            "instrument": run.instrument_name, "investigation": code, "decision": decision,
            "rules": run.rules, "fired": fired,
            "values": run.values.iter().map(|v| json!({
                "level": v.level, "lot": v.lot_number, "value": v.value, "z": v.z, "decides": v.decides,
            })).collect::<Vec<_>>(),
        })
        .to_string(),
    );
    let open_hold = ctx
        .store
        .open_qc_hold_unscoped(run.instrument_id, investigation_id)
        .await?;
    let mut hold = None;
    let mut release = None;
    let mut notifications = Vec::new();
    let mut established = Vec::new();
    if matches!(
        evaluation.decision,
        RunDecision::Accept | RunDecision::Warning
    ) {
        for in_use in &setup.lots {
            let Some((establishing, _)) = &in_use.establishing else {
                continue;
            };
            let Some(value) = run
                .values
                .iter()
                .find(|value| value.target_id == Some(establishing.id))
            else {
                continue;
            };
            let n = usize::try_from(establishing.establish_n).unwrap_or(usize::MAX);
            let mut first = ctx.store.qc_establishing_values(establishing.id).await?;
            if first.len() + 1 < n {
                continue;
            }
            if first.len() < n {
                first.push(value.value);
            }
            first.truncate(n);
            let Ok((mean, sd)) = establish_stats(&first) else {
                // All values identical (or unreadable): no target can be
                // fixed from them; the lot stays parallel and establishing
                // until a person sets the target by hand.
                continue;
            };
            let target = QcTargetRecord {
                id: QcTargetId(new_uuid()),
                lot_id: establishing.lot_id,
                instrument_id: establishing.instrument_id,
                investigation_id: establishing.investigation_id,
                version: establishing.version + 1,
                mean,
                sd,
                source: "established".into(),
                set_by: actor.id,
                set_at: now,
            };
            let mut event = qc_event(
                actor,
                now,
                AuditAction::Update,
                "qc.target.established",
                "QcTarget",
                format!("{}/{}/{code}", target.lot_id, target.instrument_id),
                run.department_id,
            );
            event.before = Some(
                json!({ "version": establishing.version, "source": "establishing", "establish_n": establishing.establish_n })
                    .to_string(),
            );
            event.after = Some(
                json!({
                    "version": target.version, "mean": mean, "sd": sd, "source": "established",
                    "n": first.len(), "lot_number": in_use.lot.lot_number, "level": in_use.level,
                    "instrument": run.instrument_name, "investigation": code, "run": run.id.to_string(),
                })
                .to_string(),
            );
            events.push(event);
            notifications.push(NewNotification {
                id: NotificationId(new_uuid()),
                recipient_user_id: None,
                recipient_role: Some(Role::QualityManager.code().into()),
                department_id: Some(run.department_id),
                title: format!(
                    "QC target established: {code} level {} lot {} on {}",
                    in_use.level, in_use.lot.lot_number, run.instrument_name
                ),
                body: format!(
                    "The target of {} level {} lot {} for {code} on {} was established from the first {} values of accepted runs: mean {mean:.4}, SD {sd:.4}. It is now fixed; change it only by setting a new target version.",
                    in_use.material_name,
                    in_use.level,
                    in_use.lot.lot_number,
                    run.instrument_name,
                    first.len()
                ),
                link: Some("/qc/setup".into()),
                created_at: now,
            });
            established.push((target, establishing.establish_n));
        }
    }
    match (evaluation.decision, open_hold) {
        (RunDecision::Reject, None) => {
            let window_start = ctx
                .store
                .last_accepting_qc_run_at(run.instrument_id, investigation_id, now)
                .await?;
            let hold_id = QcHoldId(new_uuid());
            hold = Some((hold_id, window_start));
            let mut event = qc_event(
                actor,
                now,
                AuditAction::Create,
                "qc.hold.open",
                "QcHold",
                hold_id.to_string(),
                run.department_id,
            );
            event.after = Some(
                json!({
                    "instrument": run.instrument_name, "investigation": code, "rejected_run": run.id.to_string(),
                    "rules": fired, "window_start": window_start.map(|at| at.to_string()), "status": "open",
                })
                .to_string(),
            );
            events.push(event);
            let since = window_start.map_or("any earlier QC".to_owned(), display_london);
            for role in [
                Role::QualityManager,
                Role::Practitioner,
                Role::ClinicalScientist,
                Role::Consultant,
            ] {
                notifications.push(NewNotification {
                    id: NotificationId(new_uuid()),
                    recipient_user_id: None,
                    recipient_role: Some(role.code().into()),
                    department_id: Some(run.department_id),
                    title: format!("QC rejected: {code} on {} ({fired})", run.instrument_name),
                    body: format!(
                        "Patient {code} results on {} analysed since the last accepted QC ({since}) are held until a corrective action is recorded and a QC run is accepted.",
                        run.instrument_name
                    ),
                    link: Some(format!("/qc/holds/{hold_id}")),
                    created_at: now,
                });
            }
        }
        (
            RunDecision::Accept | RunDecision::Warning,
            Some((hold_id, Some((corrective_by, corrective_at)))),
        ) if releases_hold(evaluation.decision, now, Some(corrective_at)) => {
            release = Some((hold_id, corrective_by));
            let mut event = qc_event(
                actor,
                now,
                AuditAction::Update,
                "qc.hold.release",
                "QcHold",
                hold_id.to_string(),
                run.department_id,
            );
            event.before = Some(json!({ "status": "open" }).to_string());
            event.after = Some(
                json!({ "status": "released", "release_run": run.id.to_string(), "released_by": corrective_by.to_string() })
                    .to_string(),
            );
            events.push(event);
        }
        _ => {}
    }
    let write = QcRunWrite {
        run,
        hold,
        release,
        notifications,
        established,
    };
    ctx.store
        .record_qc_run(&write, &events)
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => AppError::Conflict(
                "the hold or a target changed meanwhile: record the run again".into(),
            ),
            other => other.into(),
        })?;
    if let Some((hold_id, _)) = write.hold {
        // The nonconformity is raised through the incidents module, in its
        // own transaction: the hold (the safety control) is already stored.
        let incident = NewIncident::new(
            IncidentKind::Nonconformity,
            IncidentCategory::QualityControl,
            Severity::NoHarm,
            &format!("QC rejected: {code} on {}", write.run.instrument_name),
            &format!(
                "The QC run of {} for {code} on {} was rejected ({fired}). Patient results in the window are held (hold {hold_id}).",
                display_london(now),
                write.run.instrument_name
            ),
        )
        .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
        crate::incidents::raise_validated(
            ctx,
            actor,
            write.run.department_id,
            incident,
            vec![
                (
                    "QcRun".into(),
                    write.run.id.to_string(),
                    format!("QC run {code} {}", display_london(now)),
                ),
                (
                    "QcHold".into(),
                    hold_id.to_string(),
                    format!("QC hold {code} on {}", write.run.instrument_name),
                ),
            ],
        )
        .await?;
    }
    Ok(write.run)
}

/// A run of the actor's departments.
pub async fn get_run(ctx: &Ctx, actor: &Actor, id: &str) -> AppResult<QcRunRecord> {
    require_view(ctx, actor).await?;
    let id = QcRunId::parse(id).map_err(|_| AppError::NotFound)?;
    Ok(ctx.store.get_qc_run(id, actor.id).await?)
}

/// Runs of the actor's departments, newest first, optionally of one
/// instrument and investigation (code).
pub async fn list_runs(
    ctx: &Ctx,
    actor: &Actor,
    instrument: &str,
    investigation: &str,
    limit: i64,
) -> AppResult<Vec<QcRunRecord>> {
    require_view(ctx, actor).await?;
    let mut errors = Vec::new();
    let instrument = match instrument.trim() {
        "" => None,
        text => instrument_field(ctx, actor, text, &mut errors)
            .await?
            .map(|record| record.id),
    };
    let investigation: Option<InvestigationId> = match investigation.trim() {
        "" => None,
        text => investigation_field(ctx, text, &mut errors)
            .await?
            .map(|record| record.investigation_id),
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(ctx
        .store
        .list_qc_runs(actor.id, instrument, investigation, false, limit)
        .await?)
}

/// The latest run of each instrument and investigation of the actor's
/// departments.
pub async fn latest_runs(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<QcRunRecord>> {
    require_view(ctx, actor).await?;
    Ok(ctx
        .store
        .list_qc_runs(actor.id, None, None, true, 500)
        .await?)
}

/// The demo's chemistry control: (investigation, level 1 mean and SD, level
/// 2 mean and SD), manufacturer's values for a low-normal and a high level.
/// (mean, SD).
type MeanSd = (f64, f64);

const DEMO_TARGETS: &[(&str, MeanSd, MeanSd)] = &[
    ("K", (3.50, 0.07), (6.20, 0.10)),
    ("NA", (122.0, 1.5), (155.0, 1.8)),
    ("CREA", (85.0, 3.5), (480.0, 12.0)),
    ("GLU", (4.80, 0.12), (17.50, 0.35)),
];

/// z-scores of the demo's history, all within 1.5 SD and alternating sides
/// so that no rule fires.
const DEMO_Z: [f64; 20] = [
    0.4, -0.7, 1.1, -0.2, 0.8, -1.3, 0.3, -0.5, 1.4, -0.9, 0.6, -0.3, 0.9, -1.1, 0.2, -0.6, 1.2,
    -0.4, 0.5, -0.8,
];

/// Seeds the demo's QC on `instrument` (the BLOOD chemistry analyser): a
/// two-level chemistry control with a lot per level, manufacturer's targets
/// for K, NA, CREA and GLU, and 20 accepted daily runs per investigation
/// before now, judged by the default rules like any other run.
pub async fn seed_demo(ctx: &Ctx) -> AppResult<()> {
    let actor_of = async |username: &str| -> AppResult<Actor> {
        crate::auth::actor_from(
            &ctx.store.get_user_by_username(username).await?,
            Some("demo".into()),
        )
    };
    let seeder = &actor_of("scientist").await?;
    let operator = actor_of("associate").await?.id;
    let instrument = &ctx
        .store
        .list_instruments(seeder.id)
        .await?
        .into_iter()
        .find(|instrument| instrument.name == "Chemistry analyser 1")
        .ok_or(AppError::NotFound)?;
    let expires = jiff::civil::date(today(ctx).year() + 1, 6, 30).to_string();
    let mut lots = Vec::new();
    for (level, lot_number) in [(1, "26431"), (2, "26432")] {
        let material = create_material(
            ctx,
            seeder,
            &MaterialInput {
                department: instrument.department_id.to_string(),
                name: "Lyphochek Assayed Chemistry Control".into(),
                manufacturer: "Bio-Rad".into(),
                level: level.to_string(),
            },
        )
        .await?;
        let lot = create_lot(
            ctx,
            seeder,
            &LotInput {
                material: material.id.to_string(),
                lot_number: lot_number.into(),
                expires_on: expires.clone(),
                status: "current".into(),
            },
        )
        .await?;
        lots.push(lot);
    }
    let rules = RuleSet::two_level();
    let now = ctx.now();
    for (code, level_1, level_2) in DEMO_TARGETS {
        let mut targets = Vec::new();
        for (lot, (mean, sd)) in lots.iter().zip([level_1, level_2]) {
            targets.push(
                set_target(
                    ctx,
                    seeder,
                    &TargetInput {
                        lot: lot.id.to_string(),
                        instrument: instrument.id.to_string(),
                        investigation: (*code).into(),
                        mean: mean.to_string(),
                        sd: sd.to_string(),
                    },
                )
                .await?,
            );
        }
        let mut series = Vec::new();
        for (day, z_1) in DEMO_Z.iter().enumerate() {
            let z_2 = -DEMO_Z[(day + 7) % DEMO_Z.len()];
            let run_at = now
                .checked_sub(jiff::SignedDuration::from_hours(
                    24 * (DEMO_Z.len() - day) as i64,
                ))
                .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
            let mut values = Vec::new();
            let mut z = Vec::new();
            for ((lot, target), z_level) in lots.iter().zip(&targets).zip([*z_1, z_2]) {
                let value = ((target.mean + z_level * target.sd) * 100.0).round() / 100.0;
                let qc_target = QcTarget::new(target.mean, target.sd)
                    .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
                z.push(qc_target.z(value));
                values.push(QcValueRecord {
                    level: values.len() as i64 + 1,
                    lot_id: lot.id,
                    lot_number: lot.lot_number.clone(),
                    target_id: Some(target.id),
                    target: Some((target.mean, target.sd)),
                    value,
                    z: Some(qc_target.z(value)),
                    decides: true,
                });
            }
            series.push(RunZ::of(&z));
            let evaluation = evaluate(&series, &rules);
            if evaluation.decision == RunDecision::Reject {
                series.pop();
            }
            let run = QcRunRecord {
                id: QcRunId(new_uuid()),
                department_id: instrument.department_id,
                instrument_id: instrument.id,
                instrument_name: instrument.name.clone(),
                investigation_id: targets[0].investigation_id,
                investigation_code: (*code).into(),
                run_at,
                operator_id: operator,
                operator_name: String::new(),
                decision: decision_code(evaluation.decision).into(),
                rules: rules.codes(),
                comment: "Demo history".into(),
                values,
                violations: Vec::new(),
            };
            let mut event = qc_event(
                seeder,
                now,
                AuditAction::Create,
                "qc.run.record",
                "QcRun",
                run.id.to_string(),
                run.department_id,
            );
            event.after = Some(
                json!({ "investigation": code, "decision": run.decision, "demo": true })
                    .to_string(),
            );
            ctx.store
                .record_qc_run(
                    &QcRunWrite {
                        run,
                        hold: None,
                        release: None,
                        notifications: Vec::new(),
                        established: Vec::new(),
                    },
                    &[event],
                )
                .await?;
        }
    }
    Ok(())
}

/// The instruments of the actor's departments, for the run form.
pub async fn instruments(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<InstrumentRecord>> {
    require(ctx, actor, Permission::RecordQc).await?;
    Ok(ctx.store.list_instruments(actor.id).await?)
}
