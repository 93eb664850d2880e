//! Reads for the QC set-up page (issue 4): the materials and lots of the
//! viewer's departments, and per instrument × investigation the targets and
//! rule sets in force. Scoped by a join on the viewer's `user_department`.

use benchwork_domain::ids::{DepartmentId, UserId};
use benchwork_domain::qc_hold::{QcLotId, QcMaterialId};
use sqlx::Row;

use crate::row::RowExt;
use crate::{Store, StoreResult, on_pool};

/// A material level with one of its lots (none when it has no lot yet).
#[derive(Debug, Clone, PartialEq)]
pub struct QcSetupMaterialRow {
    /// The material.
    pub material_id: QcMaterialId,
    /// Its department.
    pub department_id: DepartmentId,
    /// The department's name.
    pub department_name: String,
    /// Material name.
    pub name: String,
    /// Manufacturer.
    pub manufacturer: String,
    /// 1, 2 or 3.
    pub level: i64,
    /// A lot: id, number, expiry (YYYY-MM-DD), status.
    pub lot: Option<(QcLotId, String, String, String)>,
}

/// A target in force.
#[derive(Debug, Clone, PartialEq)]
pub struct QcSetupTargetRow {
    /// Instrument name.
    pub instrument_name: String,
    /// Investigation code.
    pub investigation_code: String,
    /// Material name.
    pub material_name: String,
    /// Level.
    pub level: i64,
    /// Lot number.
    pub lot_number: String,
    /// Version in force.
    pub version: i64,
    /// Mean.
    pub mean: f64,
    /// SD.
    pub sd: f64,
    /// Source (manufacturer).
    pub source: String,
}

/// A target being established from runs (the version in force has no mean
/// and SD yet), with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcSetupEstablishingRow {
    /// Instrument name.
    pub instrument_name: String,
    /// Investigation code.
    pub investigation_code: String,
    /// Material name.
    pub material_name: String,
    /// Level.
    pub level: i64,
    /// Lot number.
    pub lot_number: String,
    /// Version in force.
    pub version: i64,
    /// How many values establish it.
    pub establish_n: i64,
    /// How many values of accepted runs it has so far.
    pub count: i64,
}

/// A rule set in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcSetupRulesRow {
    /// Instrument name.
    pub instrument_name: String,
    /// Investigation code.
    pub investigation_code: String,
    /// Version in force.
    pub version: i64,
    /// Rule codes joined by slashes.
    pub rules: String,
}

impl Store {
    /// The materials of the viewer's departments, each with its lots (one
    /// row per lot), by department, name, level and lot number.
    pub async fn list_qc_setup_materials(
        &self,
        viewer: UserId,
    ) -> StoreResult<Vec<QcSetupMaterialRow>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT m.id, m.department_id, d.name AS department_name, m.name, m.manufacturer, m.level, \
                 l.id AS lot_id, l.lot_number, l.expires_on, l.status \
                 FROM qc_material m JOIN department d ON d.id = m.department_id \
                 JOIN user_department scope ON scope.department_id = m.department_id AND scope.user_id = $1 \
                 LEFT JOIN qc_lot l ON l.material_id = m.id \
                 ORDER BY d.name, m.name, m.level, l.lot_number",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                let lot = match row.opt_uuid("lot_id")? {
                    Some(id) => Some((
                        QcLotId(id),
                        row.text("lot_number")?,
                        row.text("expires_on")?,
                        row.text("status")?,
                    )),
                    None => None,
                };
                Ok(QcSetupMaterialRow {
                    material_id: QcMaterialId(row.uuid("id")?),
                    department_id: DepartmentId(row.uuid("department_id")?),
                    department_name: row.text("department_name")?,
                    name: row.text("name")?,
                    manufacturer: row.text("manufacturer")?,
                    level: row.int("level")?,
                    lot,
                })
            })
            .collect()
        })
    }

    /// The targets being established (highest version with source
    /// `establishing`) on the viewer's departments' instruments, with the
    /// number of values of accepted runs so far.
    pub async fn list_qc_setup_establishing(
        &self,
        viewer: UserId,
    ) -> StoreResult<Vec<QcSetupEstablishingRow>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT i.name AS instrument_name, inv.code, m.name AS material_name, m.level, l.lot_number, \
                 t.version, t.establish_n, (SELECT COUNT(*) FROM qc_value v JOIN qc_run r ON r.id = v.run_id \
                 WHERE v.target_id = t.id AND r.decision IN ('accepted', 'warning')) AS n_values \
                 FROM qc_target t JOIN qc_lot l ON l.id = t.lot_id JOIN qc_material m ON m.id = l.material_id \
                 JOIN instrument i ON i.id = t.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 JOIN investigation inv ON inv.id = t.investigation_id \
                 WHERE t.source = 'establishing' AND t.version = (SELECT MAX(t2.version) \
                 FROM qc_target t2 WHERE t2.lot_id = t.lot_id AND t2.instrument_id = t.instrument_id \
                 AND t2.investigation_id = t.investigation_id) \
                 ORDER BY i.name, inv.code, m.level, l.lot_number",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcSetupEstablishingRow {
                    instrument_name: row.text("instrument_name")?,
                    investigation_code: row.text("code")?,
                    material_name: row.text("material_name")?,
                    level: row.int("level")?,
                    lot_number: row.text("lot_number")?,
                    version: row.int("version")?,
                    establish_n: row.int("establish_n")?,
                    count: row.int("n_values")?,
                })
            })
            .collect()
        })
    }

    /// The targets in force (highest version) on the viewer's departments'
    /// instruments, by instrument, investigation, level and lot number.
    pub async fn list_qc_setup_targets(
        &self,
        viewer: UserId,
    ) -> StoreResult<Vec<QcSetupTargetRow>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT i.name AS instrument_name, inv.code, m.name AS material_name, m.level, l.lot_number, \
                 t.version, t.mean, t.sd, t.source \
                 FROM qc_target t JOIN qc_lot l ON l.id = t.lot_id JOIN qc_material m ON m.id = l.material_id \
                 JOIN instrument i ON i.id = t.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 JOIN investigation inv ON inv.id = t.investigation_id \
                 WHERE t.mean IS NOT NULL AND t.sd IS NOT NULL AND t.version = (SELECT MAX(t2.version) \
                 FROM qc_target t2 WHERE t2.lot_id = t.lot_id AND t2.instrument_id = t.instrument_id \
                 AND t2.investigation_id = t.investigation_id) \
                 ORDER BY i.name, inv.code, m.level, l.lot_number",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcSetupTargetRow {
                    instrument_name: row.text("instrument_name")?,
                    investigation_code: row.text("code")?,
                    material_name: row.text("material_name")?,
                    level: row.int("level")?,
                    lot_number: row.text("lot_number")?,
                    version: row.int("version")?,
                    mean: row.try_get::<f64, _>("mean")?,
                    sd: row.try_get::<f64, _>("sd")?,
                    source: row.text("source")?,
                })
            })
            .collect()
        })
    }

    /// The rule sets in force (highest version) on the viewer's
    /// departments' instruments, by instrument and investigation.
    pub async fn list_qc_setup_rules(&self, viewer: UserId) -> StoreResult<Vec<QcSetupRulesRow>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT i.name AS instrument_name, inv.code, r.version, r.rules \
                 FROM qc_rule_config r JOIN instrument i ON i.id = r.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 JOIN investigation inv ON inv.id = r.investigation_id \
                 WHERE r.version = (SELECT MAX(r2.version) FROM qc_rule_config r2 \
                 WHERE r2.instrument_id = r.instrument_id AND r2.investigation_id = r.investigation_id) \
                 ORDER BY i.name, inv.code",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcSetupRulesRow {
                    instrument_name: row.text("instrument_name")?,
                    investigation_code: row.text("code")?,
                    version: row.int("version")?,
                    rules: row.text("rules")?,
                })
            })
            .collect()
        })
    }
}
