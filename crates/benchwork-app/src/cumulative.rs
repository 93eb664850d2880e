//! A patient's cumulative results (issue 3 item 7): the investigations a
//! patient has results for, and one investigation's results over time,
//! newest first, including those filed under records merged into the
//! patient. Laboratory staff see every result with its status, authorised
//! or not. Permission and department scoping are those of reading a
//! request (`ViewDepartmentRecords`; results of the actor's departments
//! only), and each read is recorded as a read of the patient's data, one
//! event per patient record whose results are shown.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::ids::PatientId;
use benchwork_domain::staff::Permission;
use benchwork_store::{CumulativeRecord, InvestigationSummaryRecord, PatientRecord};

use crate::{Actor, AppError, AppResult, Ctx, audit_event, require};

/// The most results one cumulative view shows (the newest). A patient on
/// daily electrolytes for two years stays well within it.
pub const CUMULATIVE_LIMIT: i64 = 1_000;

/// A patient and the investigations they have results for.
#[derive(Debug, Clone)]
pub struct PatientInvestigations {
    /// The patient asked for.
    pub patient: PatientRecord,
    /// Investigations with results in the actor's departments, by name.
    pub investigations: Vec<InvestigationSummaryRecord>,
}

/// One investigation's results for a patient, newest first.
#[derive(Debug, Clone)]
pub struct CumulativeView {
    /// The patient asked for.
    pub patient: PatientRecord,
    /// Investigation code.
    pub code: String,
    /// Investigation name (as in the newest result's catalogue version).
    pub name: String,
    /// The results, newest first (at most [`CUMULATIVE_LIMIT`]).
    pub results: Vec<CumulativeRecord>,
}

fn read_event(
    ctx: &Ctx,
    actor: &Actor,
    patient: PatientId,
    event_type: &str,
    detail: String,
) -> benchwork_domain::audit::AuditEvent {
    let mut event = audit_event(actor, ctx.now(), AuditAction::Read, event_type);
    event.patient_id = Some(patient);
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(patient.to_string());
    event.detail = Some(detail);
    event
}

/// The investigations `patient` has results for in the actor's
/// departments, with how many and the latest. Audited as a read of the
/// patient's data.
pub async fn investigations(
    ctx: &Ctx,
    actor: &Actor,
    patient: PatientId,
) -> AppResult<PatientInvestigations> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    // The record and its merged records are independent reads: made at
    // once, they cost one round trip.
    let (patient, family) = tokio::try_join!(
        ctx.store.get_patient(patient),
        ctx.store.patient_family(patient)
    )?;
    let investigations = ctx
        .store
        .list_patient_investigations(&family, actor.id)
        .await?;
    ctx.audit_reads
        .write(read_event(
            ctx,
            actor,
            patient.id,
            "patient.results.read",
            format!(
                "cumulative results: list of {} investigations",
                investigations.len()
            ),
        ))
        .await?;
    Ok(PatientInvestigations {
        patient,
        investigations,
    })
}

/// The results of investigation `code` for `patient` (and the records
/// merged into it) in the actor's departments, newest first. Not found
/// when there are none the actor may see, so another department's results
/// are indistinguishable from none. Audited before they are returned.
pub async fn cumulative(
    ctx: &Ctx,
    actor: &Actor,
    patient: PatientId,
    code: &str,
) -> AppResult<CumulativeView> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let code = code.trim().to_uppercase();
    if code.is_empty() || code.len() > 40 {
        return Err(AppError::NotFound);
    }
    let (patient, family) = tokio::try_join!(
        ctx.store.get_patient(patient),
        ctx.store.patient_family(patient)
    )?;
    let results = ctx
        .store
        .cumulative_results(&family, &code, actor.id, CUMULATIVE_LIMIT)
        .await?;
    let Some(newest) = results.first() else {
        return Err(AppError::NotFound);
    };
    let name = newest.name.clone();
    let mut records: Vec<PatientId> = vec![patient.id];
    for result in &results {
        if !records.contains(&result.patient_id) {
            records.push(result.patient_id);
        }
    }
    let events = records
        .iter()
        .map(|id| {
            let detail = if *id == patient.id {
                format!("cumulative results: {code}, {} results", results.len())
            } else {
                format!(
                    "cumulative results: {code}, results filed under this record shown with record {}",
                    patient.id
                )
            };
            read_event(ctx, actor, *id, "patient.results.read", detail)
        })
        .collect();
    ctx.audit_reads.write_all(events).await?;
    Ok(CumulativeView {
        patient,
        code,
        name,
        results,
    })
}
