//! What the QC set-up page shows (issue 4): the materials and lots of the
//! actor's departments, the targets and rule sets in force, and the choices
//! the set-up forms offer. The changes themselves are in [`crate::qc`].

use benchwork_domain::staff::Permission;
use benchwork_store::{
    DepartmentRecord, InstrumentRecord, QcSetupEstablishingRow, QcSetupMaterialRow,
    QcSetupRulesRow, QcSetupTargetRow,
};

use crate::{Actor, AppResult, Ctx, require};

/// The QC set-up of the actor's departments.
#[derive(Debug, Clone)]
pub struct QcSetup {
    /// The actor's departments, by name.
    pub departments: Vec<DepartmentRecord>,
    /// Materials, one row per lot (or one row without a lot).
    pub materials: Vec<QcSetupMaterialRow>,
    /// Targets in force.
    pub targets: Vec<QcSetupTargetRow>,
    /// Targets being established from runs, with their progress.
    pub establishing: Vec<QcSetupEstablishingRow>,
    /// Rule sets in force.
    pub rules: Vec<QcSetupRulesRow>,
    /// Instruments of the actor's departments.
    pub instruments: Vec<InstrumentRecord>,
}

/// Reads the QC set-up; needs `ManageQc` (a refusal is audited by
/// [`require`]). QC set-up holds no patient data, so no read event.
pub async fn setup(ctx: &Ctx, actor: &Actor) -> AppResult<QcSetup> {
    require(ctx, actor, Permission::ManageQc).await?;
    let departments = ctx
        .store
        .list_departments()
        .await?
        .into_iter()
        .filter(|department| actor.in_department(department.id))
        .collect();
    Ok(QcSetup {
        departments,
        materials: ctx.store.list_qc_setup_materials(actor.id).await?,
        targets: ctx.store.list_qc_setup_targets(actor.id).await?,
        establishing: ctx.store.list_qc_setup_establishing(actor.id).await?,
        rules: ctx.store.list_qc_setup_rules(actor.id).await?,
        instruments: ctx.store.list_instruments(actor.id).await?,
    })
}
