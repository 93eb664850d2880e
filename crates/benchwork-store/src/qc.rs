//! Internal quality control (issue 4): QC materials, lots, versioned targets
//! and rule sets; QC runs with their values and the rules that fired; the
//! holds a rejected run puts on patient results, their corrective action,
//! release and the review of each result they cover. Reads by id join the
//! viewer's `user_department`; every change is written with its audit
//! events (and a run with its hold and notifications) in one transaction.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::{DepartmentId, PatientId, UserId};
use benchwork_domain::qc_hold::{QcHoldId, QcLotId, QcMaterialId, QcRunId, QcTargetId};
use benchwork_domain::request::RequestId;
use benchwork_domain::result::{InstrumentId, ResultId};
use jiff::Timestamp;
use sqlx::Row;

use crate::audit::insert_events;
use crate::notifications::NewNotification;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

trait RealExt {
    fn real(&self, column: &str) -> StoreResult<f64>;
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>>;
}

macro_rules! impl_real_ext {
    ($row:ty) => {
        impl RealExt for $row {
            fn real(&self, column: &str) -> StoreResult<f64> {
                Ok(self.try_get(column)?)
            }
            fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
                Ok(self.try_get(column)?)
            }
        }
    };
}
impl_real_ext!(sqlx::sqlite::SqliteRow);
impl_real_ext!(sqlx::postgres::PgRow);

/// One earlier run as the rules see it: the run and its deciding (level, z).
pub type QcHistoryRun = (QcRunId, Vec<(i64, Option<f64>)>);

/// A QC material at one level.
#[derive(Debug, Clone, PartialEq)]
pub struct QcMaterialRecord {
    /// Its id.
    pub id: QcMaterialId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Name, e.g. "Lyphochek Assayed Chemistry Control".
    pub name: String,
    /// Manufacturer.
    pub manufacturer: String,
    /// 1, 2 or 3.
    pub level: i64,
    /// Who added it.
    pub created_by: UserId,
    /// When.
    pub created_at: Timestamp,
}

/// A lot of a material.
#[derive(Debug, Clone, PartialEq)]
pub struct QcLotRecord {
    /// Its id.
    pub id: QcLotId,
    /// The material.
    pub material_id: QcMaterialId,
    /// The manufacturer's lot number.
    pub lot_number: String,
    /// Last day of use, YYYY-MM-DD.
    pub expires_on: String,
    /// current, parallel or retired.
    pub status: String,
    /// Who added it.
    pub created_by: UserId,
    /// When.
    pub created_at: Timestamp,
}

/// One version of the target of a lot on an instrument for an investigation.
#[derive(Debug, Clone, PartialEq)]
pub struct QcTargetRecord {
    /// Its id.
    pub id: QcTargetId,
    /// The lot.
    pub lot_id: QcLotId,
    /// The instrument.
    pub instrument_id: InstrumentId,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// From 1; the highest is in force.
    pub version: i64,
    /// Mean.
    pub mean: f64,
    /// SD, greater than zero.
    pub sd: f64,
    /// manufacturer (establishing from runs is a later slice).
    pub source: String,
    /// Who set it.
    pub set_by: UserId,
    /// When.
    pub set_at: Timestamp,
}

/// One version of the rules applied to an investigation on an instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcRuleConfigRecord {
    /// The instrument.
    pub instrument_id: InstrumentId,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// From 1; the highest is in force.
    pub version: i64,
    /// Rule codes joined by slashes.
    pub rules: String,
    /// Who set it.
    pub set_by: UserId,
    /// When.
    pub set_at: Timestamp,
}

/// A lot in use (current or parallel) in a department, with the target in
/// force for one instrument and investigation, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct QcLotInUse {
    /// The lot.
    pub lot: QcLotRecord,
    /// Its material's name.
    pub material_name: String,
    /// Its level.
    pub level: i64,
    /// The target in force.
    pub target: Option<QcTargetRecord>,
    /// The target being established (the version in force has no mean and
    /// SD yet), with how many values of accepted runs it has so far.
    pub establishing: Option<(QcEstablishingTarget, i64)>,
}

/// A target version being established from the first `establish_n` values
/// of accepted runs (source `establishing`, no mean or SD yet).
#[derive(Debug, Clone, PartialEq)]
pub struct QcEstablishingTarget {
    /// Id.
    pub id: QcTargetId,
    /// Lot.
    pub lot_id: QcLotId,
    /// Instrument.
    pub instrument_id: InstrumentId,
    /// Investigation.
    pub investigation_id: InvestigationId,
    /// Version.
    pub version: i64,
    /// How many values establish it.
    pub establish_n: i64,
    /// Who set it.
    pub set_by: UserId,
    /// When.
    pub set_at: Timestamp,
}

/// One value of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct QcValueRecord {
    /// Level, from 1.
    pub level: i64,
    /// The lot.
    pub lot_id: QcLotId,
    /// Its number (read back only).
    pub lot_number: String,
    /// The target version used.
    pub target_id: Option<QcTargetId>,
    /// Target mean and SD used (read back only).
    pub target: Option<(f64, f64)>,
    /// The value.
    pub value: f64,
    /// SDs from the target mean.
    pub z: Option<f64>,
    /// Whether it decides the run (current lot) or runs beside (parallel).
    pub decides: bool,
}

/// A rule that fired in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcViolationRecord {
    /// Report order.
    pub position: i64,
    /// Rule code.
    pub rule: String,
    /// Where it looked, in words.
    pub scope: String,
    /// The points, JSON `[{"run": "<id>", "level": 1}]`.
    pub points: String,
}

/// A QC run.
#[derive(Debug, Clone, PartialEq)]
pub struct QcRunRecord {
    /// Its id.
    pub id: QcRunId,
    /// The instrument's department.
    pub department_id: DepartmentId,
    /// The instrument.
    pub instrument_id: InstrumentId,
    /// Its name (read back only).
    pub instrument_name: String,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// Its code (read back only).
    pub investigation_code: String,
    /// When run.
    pub run_at: Timestamp,
    /// Who ran it.
    pub operator_id: UserId,
    /// Their name (read back only).
    pub operator_name: String,
    /// accepted, warning or rejected.
    pub decision: String,
    /// Rule codes applied.
    pub rules: String,
    /// Free text.
    pub comment: String,
    /// The values.
    pub values: Vec<QcValueRecord>,
    /// The rules that fired.
    pub violations: Vec<QcViolationRecord>,
}

/// A hold on patient results.
#[derive(Debug, Clone, PartialEq)]
pub struct QcHoldRecord {
    /// Its id.
    pub id: QcHoldId,
    /// Department.
    pub department_id: DepartmentId,
    /// The instrument.
    pub instrument_id: InstrumentId,
    /// Its name (read back only).
    pub instrument_name: String,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// Its code (read back only).
    pub investigation_code: String,
    /// The rejected run.
    pub rejected_run_id: QcRunId,
    /// When the rejected run was run (read back only).
    pub rejected_run_at: Timestamp,
    /// Results analysed after this are held; `None`: all.
    pub window_start: Option<Timestamp>,
    /// When opened.
    pub opened_at: Timestamp,
    /// open or released.
    pub status: String,
    /// Corrective action: kind, description, who, when.
    pub corrective: Option<(String, String, UserId, Timestamp)>,
    /// The accepted run that released it, with when it ran.
    pub release_run: Option<(QcRunId, Timestamp)>,
    /// Who released it and when.
    pub released: Option<(UserId, Timestamp)>,
}

/// A patient result covered by a hold.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldResultRecord {
    /// The result.
    pub result_id: ResultId,
    /// Accession number.
    pub accession: String,
    /// The patient.
    pub patient_id: PatientId,
    /// "FAMILY, Given".
    pub patient_name: String,
    /// Value as typed.
    pub value_text: String,
    /// Unit.
    pub unit: Option<String>,
    /// When analysed.
    pub analysed_at: Timestamp,
    /// Result status.
    pub status: String,
    /// The review: outcome, reason, who, when.
    pub review: Option<(String, String, String, Timestamp)>,
}

/// A review outcome to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHoldReview {
    /// The hold.
    pub hold_id: QcHoldId,
    /// The result.
    pub result_id: ResultId,
    /// Outcome code.
    pub outcome: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
}

/// The hold, if any, keeping a result from being verified or released.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldBlock {
    /// The hold.
    pub hold_id: QcHoldId,
    /// open or released.
    pub status: String,
    /// The rejected run.
    pub rejected_run_id: QcRunId,
    /// When it ran.
    pub rejected_run_at: Timestamp,
    /// The review outcome recorded for the result, if any.
    pub outcome: Option<String>,
}

/// A run to store, with what it causes.
#[derive(Debug, Clone)]
pub struct QcRunWrite {
    /// The run (values and violations inside).
    pub run: QcRunRecord,
    /// A hold to open (rejected run, no hold open yet).
    pub hold: Option<(QcHoldId, Option<Timestamp>)>,
    /// A hold this run releases, with who released it.
    pub release: Option<(QcHoldId, UserId)>,
    /// Notifications to deliver.
    pub notifications: Vec<NewNotification>,
    /// Targets this run completes: new versions (source `established`) of
    /// targets being established, written in the run's transaction.
    pub established: Vec<(QcTargetRecord, i64)>,
}

fn material_from_row(row: &impl RowExt) -> StoreResult<QcMaterialRecord> {
    Ok(QcMaterialRecord {
        id: QcMaterialId(row.uuid("id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        name: row.text("name")?,
        manufacturer: row.text("manufacturer")?,
        level: row.int("level")?,
        created_by: UserId(row.uuid("created_by")?),
        created_at: row.at("created_at")?,
    })
}

fn target_from_row(row: &(impl RowExt + RealExt)) -> StoreResult<QcTargetRecord> {
    Ok(QcTargetRecord {
        id: QcTargetId(row.uuid("t_id")?),
        lot_id: QcLotId(row.uuid("t_lot_id")?),
        instrument_id: InstrumentId(row.uuid("t_instrument_id")?),
        investigation_id: InvestigationId(row.uuid("t_investigation_id")?),
        version: row.int("t_version")?,
        mean: row.real("t_mean")?,
        sd: row.real("t_sd")?,
        source: row.text("t_source")?,
        set_by: UserId(row.uuid("t_set_by")?),
        set_at: row.at("t_set_at")?,
    })
}

const TARGET_COLUMNS: &str = "t.id AS t_id, t.lot_id AS t_lot_id, t.instrument_id AS t_instrument_id, \
     t.investigation_id AS t_investigation_id, t.version AS t_version, t.mean AS t_mean, t.sd AS t_sd, \
     t.source AS t_source, t.set_by AS t_set_by, t.set_at AS t_set_at";

const HOLD_SELECT: &str = "SELECT h.id, h.department_id, h.instrument_id, ins.name AS instrument_name, \
     h.investigation_id, inv.code AS investigation_code, h.rejected_run_id, rr.run_at AS rejected_run_at, \
     h.window_start, h.opened_at, h.status, h.corrective_kind, h.corrective_action, h.corrective_by, \
     h.corrective_at, h.release_run_id, rel.run_at AS release_run_at, h.released_by, h.released_at \
     FROM qc_hold h JOIN instrument ins ON ins.id = h.instrument_id \
     JOIN investigation inv ON inv.id = h.investigation_id \
     JOIN qc_run rr ON rr.id = h.rejected_run_id \
     LEFT JOIN qc_run rel ON rel.id = h.release_run_id \
     JOIN user_department scope ON scope.department_id = h.department_id AND scope.user_id = $1";

fn hold_from_row(row: &impl RowExt) -> StoreResult<QcHoldRecord> {
    let corrective = match (
        row.opt_text("corrective_kind")?,
        row.opt_text("corrective_action")?,
        row.opt_uuid("corrective_by")?,
        row.opt_at("corrective_at")?,
    ) {
        (Some(kind), Some(text), Some(by), Some(at)) => Some((kind, text, UserId(by), at)),
        _ => None,
    };
    Ok(QcHoldRecord {
        id: QcHoldId(row.uuid("id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        instrument_id: InstrumentId(row.uuid("instrument_id")?),
        instrument_name: row.text("instrument_name")?,
        investigation_id: InvestigationId(row.uuid("investigation_id")?),
        investigation_code: row.text("investigation_code")?,
        rejected_run_id: QcRunId(row.uuid("rejected_run_id")?),
        rejected_run_at: row.at("rejected_run_at")?,
        window_start: row.opt_at("window_start")?,
        opened_at: row.at("opened_at")?,
        status: row.text("status")?,
        corrective,
        release_run: match (
            row.opt_uuid("release_run_id")?,
            row.opt_at("release_run_at")?,
        ) {
            (Some(id), Some(at)) => Some((QcRunId(id), at)),
            _ => None,
        },
        released: match (row.opt_uuid("released_by")?, row.opt_at("released_at")?) {
            (Some(by), Some(at)) => Some((UserId(by), at)),
            _ => None,
        },
    })
}

const RUN_SELECT: &str = "SELECT r.id, r.department_id, r.instrument_id, ins.name AS instrument_name, \
     r.investigation_id, inv.code AS investigation_code, r.run_at, r.operator_id, u.display_name AS operator_name, \
     r.decision, r.rules, r.comment \
     FROM qc_run r JOIN instrument ins ON ins.id = r.instrument_id \
     JOIN investigation inv ON inv.id = r.investigation_id \
     JOIN app_user u ON u.id = r.operator_id \
     JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1";

fn run_from_row(row: &impl RowExt) -> StoreResult<QcRunRecord> {
    Ok(QcRunRecord {
        id: QcRunId(row.uuid("id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        instrument_id: InstrumentId(row.uuid("instrument_id")?),
        instrument_name: row.text("instrument_name")?,
        investigation_id: InvestigationId(row.uuid("investigation_id")?),
        investigation_code: row.text("investigation_code")?,
        run_at: row.at("run_at")?,
        operator_id: UserId(row.uuid("operator_id")?),
        operator_name: row.text("operator_name")?,
        decision: row.text("decision")?,
        rules: row.text("rules")?,
        comment: row.text("comment")?,
        values: Vec::new(),
        violations: Vec::new(),
    })
}

/// The condition, on `res` (a result) and `h` (a hold), that the hold covers
/// the result: same investigation, same instrument (or no instrument
/// recorded, in the hold's department: it may have come from the failed
/// instrument, so it is held), analysed after the window start, and (once
/// released) no later than the run that released it.
pub(crate) const COVERS: &str = "h.investigation_id = res.investigation_id \
     AND (h.instrument_id = res.instrument_id OR (res.instrument_id IS NULL \
     AND h.department_id = (SELECT lr.department_id FROM lab_request lr WHERE lr.id = res.request_id))) \
     AND (h.window_start IS NULL OR res.analysed_at > h.window_start) \
     AND (h.status = 'open' OR res.analysed_at <= (SELECT rel.run_at FROM qc_run rel WHERE rel.id = h.release_run_id))";

/// `FROM … WHERE …` of the promotion gaps of lot `$1`: target series in
/// force with a mean and SD on another current lot of its material, where
/// lot `$1` has no target with a mean and SD in force.
const PROMOTION_GAPS: &str = "FROM qc_target t JOIN qc_lot cl ON cl.id = t.lot_id \
     JOIN instrument i ON i.id = t.instrument_id JOIN investigation inv ON inv.id = t.investigation_id \
     WHERE cl.material_id = (SELECT material_id FROM qc_lot WHERE id = $1) AND cl.status = 'current' AND cl.id <> $1 \
     AND t.mean IS NOT NULL AND t.version = (SELECT MAX(t2.version) FROM qc_target t2 WHERE t2.lot_id = t.lot_id \
     AND t2.instrument_id = t.instrument_id AND t2.investigation_id = t.investigation_id) \
     AND NOT EXISTS (SELECT 1 FROM qc_target n WHERE n.lot_id = $1 AND n.instrument_id = t.instrument_id \
     AND n.investigation_id = t.investigation_id AND n.mean IS NOT NULL AND n.version = (SELECT MAX(n2.version) \
     FROM qc_target n2 WHERE n2.lot_id = $1 AND n2.instrument_id = t.instrument_id AND n2.investigation_id = t.investigation_id))";

impl Store {
    /// Adds a QC material level with its audit events. `Conflict` on
    /// `qc_material_unique` when the name and level exist in the department.
    pub async fn create_qc_material(
        &self,
        record: &QcMaterialRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_material (id, department_id, name, manufacturer, level, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(record.id.0)
            .bind(record.department_id.0)
            .bind(record.name.as_str())
            .bind(record.manufacturer.as_str())
            .bind(record.level)
            .bind(record.created_by.0)
            .bind(micros(record.created_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// A material of the viewer's departments.
    pub async fn get_qc_material(
        &self,
        id: QcMaterialId,
        viewer: UserId,
    ) -> StoreResult<QcMaterialRecord> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT m.id, m.department_id, m.name, m.manufacturer, m.level, m.created_by, m.created_at \
                 FROM qc_material m JOIN user_department scope ON scope.department_id = m.department_id \
                 AND scope.user_id = $1 WHERE m.id = $2",
            )
            .bind(viewer.0)
            .bind(id.0)
            .fetch_one(pool)
            .await?;
            material_from_row(&row)
        })
    }

    /// Adds a lot with its audit events. `Conflict` on `qc_lot_unique` for a
    /// lot number the material already has.
    pub async fn create_qc_lot(
        &self,
        record: &QcLotRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_lot (id, material_id, lot_number, expires_on, status, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(record.id.0)
            .bind(record.material_id.0)
            .bind(record.lot_number.as_str())
            .bind(record.expires_on.as_str())
            .bind(record.status.as_str())
            .bind(record.created_by.0)
            .bind(micros(record.created_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// A lot of the viewer's departments, with its material.
    pub async fn get_qc_lot(
        &self,
        id: QcLotId,
        viewer: UserId,
    ) -> StoreResult<(QcLotRecord, QcMaterialRecord)> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT l.id AS lot_id, l.lot_number, l.expires_on, l.status, l.created_by AS lot_created_by, \
                 l.created_at AS lot_created_at, m.id, m.department_id, m.name, m.manufacturer, m.level, \
                 m.created_by, m.created_at \
                 FROM qc_lot l JOIN qc_material m ON m.id = l.material_id \
                 JOIN user_department scope ON scope.department_id = m.department_id AND scope.user_id = $1 \
                 WHERE l.id = $2",
            )
            .bind(viewer.0)
            .bind(id.0)
            .fetch_one(pool)
            .await?;
            let material = material_from_row(&row)?;
            Ok((
                QcLotRecord {
                    id: QcLotId(row.uuid("lot_id")?),
                    material_id: material.id,
                    lot_number: row.text("lot_number")?,
                    expires_on: row.text("expires_on")?,
                    status: row.text("status")?,
                    created_by: UserId(row.uuid("lot_created_by")?),
                    created_at: row.at("lot_created_at")?,
                },
                material,
            ))
        })
    }

    /// The target in force for a lot on an instrument for an investigation.
    pub async fn current_qc_target(
        &self,
        lot: QcLotId,
        instrument: InstrumentId,
        investigation: InvestigationId,
    ) -> StoreResult<Option<QcTargetRecord>> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM qc_target t WHERE t.lot_id = $1 AND t.instrument_id = $2 \
             AND t.investigation_id = $3 AND t.mean IS NOT NULL AND t.sd IS NOT NULL ORDER BY t.version DESC LIMIT 1"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(lot.0)
                .bind(instrument.0)
                .bind(investigation.0)
                .fetch_optional(pool)
                .await?
                .map(|row| target_from_row(&row))
                .transpose()
        })
    }

    /// Adds a target version with its audit events. `Conflict` on
    /// `qc_target_version_unique` when someone added the same version
    /// meanwhile.
    pub async fn add_qc_target(
        &self,
        record: &QcTargetRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_target (id, lot_id, instrument_id, investigation_id, version, mean, sd, source, \
                 establish_n, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10)",
            )
            .bind(record.id.0)
            .bind(record.lot_id.0)
            .bind(record.instrument_id.0)
            .bind(record.investigation_id.0)
            .bind(record.version)
            .bind(record.mean)
            .bind(record.sd)
            .bind(record.source.as_str())
            .bind(record.set_by.0)
            .bind(micros(record.set_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The instrument × investigation pairs (instrument name, investigation
    /// code) where a current lot of `lot`'s material other than `lot` has a
    /// target with a mean and SD in force and `lot` has none: the gaps that
    /// keep `lot` from being made current.
    pub async fn qc_promotion_gaps(&self, lot: QcLotId) -> StoreResult<Vec<(String, String)>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT i.name, inv.code {PROMOTION_GAPS} ORDER BY i.name, inv.code"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(lot.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.text("name")?, row.text("code")?)))
                .collect()
        })
    }

    /// Makes a parallel lot current and retires the current lots of its
    /// material, with the audit events, in one transaction. `Conflict` when
    /// the lot is no longer parallel or has a gap ([`Self::qc_promotion_gaps`])
    /// at the time of writing.
    pub async fn promote_qc_lot(
        &self,
        lot: QcLotId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let gaps = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {PROMOTION_GAPS}"));
        in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE qc_lot SET status = 'current', updated_at = $2 WHERE id = $1 AND status = 'parallel'",
            )
            .bind(lot.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict {
                    constraint: "qc_lot.status".into(),
                });
            }
            let missing: i64 = sqlx::query_scalar(gaps)
                .bind(lot.0)
                .fetch_one(&mut *tx)
                .await?;
            if missing != 0 {
                return Err(StoreError::Conflict {
                    constraint: "qc_target.promotion".into(),
                });
            }
            sqlx::query(
                "UPDATE qc_lot SET status = 'retired', updated_at = $2 WHERE status = 'current' AND id <> $1 \
                 AND material_id = (SELECT material_id FROM qc_lot WHERE id = $1)",
            )
            .bind(lot.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Retires a lot that is not retired, with the audit events; `Conflict`
    /// when it already is.
    pub async fn retire_qc_lot(
        &self,
        lot: QcLotId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE qc_lot SET status = 'retired', updated_at = $2 WHERE id = $1 AND status <> 'retired'",
            )
            .bind(lot.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict {
                    constraint: "qc_lot.status".into(),
                });
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The highest target version of a lot on an instrument for an
    /// investigation, whatever its source (0 when none).
    pub async fn max_qc_target_version(
        &self,
        lot: QcLotId,
        instrument: InstrumentId,
        investigation: InvestigationId,
    ) -> StoreResult<i64> {
        let version: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(version) FROM qc_target WHERE lot_id = $1 AND instrument_id = $2 AND investigation_id = $3",
            )
            .bind(lot.0)
            .bind(instrument.0)
            .bind(investigation.0)
            .fetch_one(pool)
            .await?
        });
        Ok(version.unwrap_or(0))
    }

    /// Adds a target version being established from the first
    /// `target.establish_n` values, with its audit events. `Conflict` on
    /// `qc_target_version_unique` when someone added the same version.
    pub async fn add_qc_establishing_target(
        &self,
        target: &QcEstablishingTarget,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_target (id, lot_id, instrument_id, investigation_id, version, mean, sd, source, \
                 establish_n, set_by, set_at) VALUES ($1, $2, $3, $4, $5, NULL, NULL, 'establishing', $6, $7, $8)",
            )
            .bind(target.id.0)
            .bind(target.lot_id.0)
            .bind(target.instrument_id.0)
            .bind(target.investigation_id.0)
            .bind(target.version)
            .bind(target.establish_n)
            .bind(target.set_by.0)
            .bind(micros(target.set_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The values recorded against a target being established in accepted
    /// (or warning) runs, in the order they were run.
    pub async fn qc_establishing_values(&self, target: QcTargetId) -> StoreResult<Vec<f64>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT v.value FROM qc_value v JOIN qc_run r ON r.id = v.run_id WHERE v.target_id = $1 \
                 AND r.decision IN ('accepted', 'warning') ORDER BY r.run_at, r.id",
            )
            .bind(target.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| row.real("value"))
            .collect()
        })
    }

    /// The rules in force for an investigation on an instrument, if set.
    pub async fn current_qc_rules(
        &self,
        instrument: InstrumentId,
        investigation: InvestigationId,
    ) -> StoreResult<Option<QcRuleConfigRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT instrument_id, investigation_id, version, rules, set_by, set_at FROM qc_rule_config \
                 WHERE instrument_id = $1 AND investigation_id = $2 ORDER BY version DESC LIMIT 1",
            )
            .bind(instrument.0)
            .bind(investigation.0)
            .fetch_optional(pool)
            .await?
            .map(|row| {
                Ok(QcRuleConfigRecord {
                    instrument_id: InstrumentId(row.uuid("instrument_id")?),
                    investigation_id: InvestigationId(row.uuid("investigation_id")?),
                    version: row.int("version")?,
                    rules: row.text("rules")?,
                    set_by: UserId(row.uuid("set_by")?),
                    set_at: row.at("set_at")?,
                })
            })
            .transpose()
        })
    }

    /// Adds a rule-set version with its audit events.
    pub async fn add_qc_rules(
        &self,
        record: &QcRuleConfigRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_rule_config (instrument_id, investigation_id, version, rules, set_by, set_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(record.instrument_id.0)
            .bind(record.investigation_id.0)
            .bind(record.version)
            .bind(record.rules.as_str())
            .bind(record.set_by.0)
            .bind(micros(record.set_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The lots in use (current or parallel) of a department's materials
    /// used for the instrument and investigation (some lot of the material
    /// has a target for them), with the lot's own target in force, by level
    /// then status (current first).
    pub async fn qc_lots_in_use(
        &self,
        department: DepartmentId,
        instrument: InstrumentId,
        investigation: InvestigationId,
    ) -> StoreResult<Vec<QcLotInUse>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT l.id, l.material_id, l.lot_number, l.expires_on, l.status, l.created_by, l.created_at, \
             m.name AS material_name, m.level, {TARGET_COLUMNS}, t.establish_n AS t_establish_n, \
             (SELECT COUNT(*) FROM qc_value ev JOIN qc_run er ON er.id = ev.run_id WHERE ev.target_id = t.id \
             AND er.decision IN ('accepted', 'warning')) AS t_count \
             FROM qc_lot l JOIN qc_material m ON m.id = l.material_id \
             LEFT JOIN qc_target t ON t.lot_id = l.id AND t.instrument_id = $2 AND t.investigation_id = $3 \
             AND t.version = (SELECT MAX(t2.version) FROM qc_target t2 \
             WHERE t2.lot_id = l.id AND t2.instrument_id = $2 AND t2.investigation_id = $3) \
             WHERE m.department_id = $1 AND l.status IN ('current', 'parallel') \
             AND EXISTS (SELECT 1 FROM qc_target tx JOIN qc_lot lx ON lx.id = tx.lot_id \
             WHERE lx.material_id = l.material_id AND tx.instrument_id = $2 AND tx.investigation_id = $3) \
             ORDER BY m.level, CASE WHEN l.status = 'current' THEN 0 ELSE 1 END, l.lot_number"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(department.0)
                .bind(instrument.0)
                .bind(investigation.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    let (target, establishing) = match (
                        row.opt_uuid("t_id")?,
                        row.opt_real("t_mean")?,
                        row.opt_int("t_establish_n")?,
                    ) {
                        (Some(_), Some(_), _) => (Some(target_from_row(row)?), None),
                        (Some(id), None, Some(n)) => (
                            None,
                            Some((
                                QcEstablishingTarget {
                                    id: QcTargetId(id),
                                    lot_id: QcLotId(row.uuid("t_lot_id")?),
                                    instrument_id: InstrumentId(row.uuid("t_instrument_id")?),
                                    investigation_id: InvestigationId(
                                        row.uuid("t_investigation_id")?,
                                    ),
                                    version: row.int("t_version")?,
                                    establish_n: n,
                                    set_by: UserId(row.uuid("t_set_by")?),
                                    set_at: row.at("t_set_at")?,
                                },
                                row.int("t_count")?,
                            )),
                        ),
                        _ => (None, None),
                    };
                    Ok(QcLotInUse {
                        lot: QcLotRecord {
                            id: QcLotId(row.uuid("id")?),
                            material_id: QcMaterialId(row.uuid("material_id")?),
                            lot_number: row.text("lot_number")?,
                            expires_on: row.text("expires_on")?,
                            status: row.text("status")?,
                            created_by: UserId(row.uuid("created_by")?),
                            created_at: row.at("created_at")?,
                        },
                        material_name: row.text("material_name")?,
                        level: row.int("level")?,
                        target,
                        establishing,
                    })
                })
                .collect()
        })
    }

    /// The deciding z-scores of the last `limit` accepted or warning runs of
    /// an investigation on an instrument, oldest first: (run, [(level, z)]).
    /// Rejected runs are left out of the history (the lab's default).
    pub async fn qc_history(
        &self,
        instrument: InstrumentId,
        investigation: InvestigationId,
        limit: i64,
    ) -> StoreResult<Vec<QcHistoryRun>> {
        let rows = on_pool!(self, |pool| {
            sqlx::query(
                "SELECT r.id, r.run_at, v.level, v.z FROM qc_run r \
                 JOIN qc_value v ON v.run_id = r.id AND v.decides = 1 \
                 WHERE r.id IN (SELECT r2.id FROM qc_run r2 WHERE r2.instrument_id = $1 AND r2.investigation_id = $2 \
                 AND r2.decision IN ('accepted', 'warning') ORDER BY r2.run_at DESC, r2.id DESC LIMIT $3) \
                 ORDER BY r.run_at, r.id, v.level",
            )
            .bind(instrument.0)
            .bind(investigation.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok((QcRunId(row.uuid("id")?), row.int("level")?, row.opt_real("z")?)))
            .collect::<StoreResult<Vec<_>>>()?
        });
        let mut history: Vec<QcHistoryRun> = Vec::new();
        for (run, level, z) in rows {
            match history.last_mut() {
                Some((last, values)) if *last == run => values.push((level, z)),
                _ => history.push((run, vec![(level, z)])),
            }
        }
        Ok(history)
    }

    /// When the last accepted or warning run of the series before `before`
    /// ran.
    pub async fn last_accepting_qc_run_at(
        &self,
        instrument: InstrumentId,
        investigation: InvestigationId,
        before: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let at: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(run_at) FROM qc_run WHERE instrument_id = $1 AND investigation_id = $2 \
                 AND decision IN ('accepted', 'warning') AND run_at <= $3",
            )
            .bind(instrument.0)
            .bind(investigation.0)
            .bind(micros(before))
            .fetch_one(pool)
            .await?
        });
        at.map(crate::instant).transpose()
    }

    /// The open hold of a series, if any (read for the system's own
    /// decisions, not by id for a person).
    pub async fn open_qc_hold_unscoped(
        &self,
        instrument: InstrumentId,
        investigation: InvestigationId,
    ) -> StoreResult<Option<(QcHoldId, Option<(UserId, Timestamp)>)>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT id, corrective_by, corrective_at FROM qc_hold WHERE instrument_id = $1 AND investigation_id = $2 \
                 AND status = 'open' ORDER BY opened_at LIMIT 1",
            )
            .bind(instrument.0)
            .bind(investigation.0)
            .fetch_optional(pool)
            .await?
            .map(|row| {
                let corrective = match (row.opt_uuid("corrective_by")?, row.opt_at("corrective_at")?) {
                    (Some(by), Some(at)) => Some((UserId(by), at)),
                    _ => None,
                };
                Ok((QcHoldId(row.uuid("id")?), corrective))
            })
            .transpose()
        })
    }

    /// Stores a run, its values and violations, the hold it opens or
    /// releases, the notifications and the audit events, in one
    /// transaction. Releasing a hold that is no longer open with a
    /// corrective action is `Conflict`.
    pub async fn record_qc_run(
        &self,
        write: &QcRunWrite,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let run = &write.run;
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_run (id, department_id, instrument_id, investigation_id, run_at, operator_id, \
                 decision, rules, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $5)",
            )
            .bind(run.id.0)
            .bind(run.department_id.0)
            .bind(run.instrument_id.0)
            .bind(run.investigation_id.0)
            .bind(micros(run.run_at))
            .bind(run.operator_id.0)
            .bind(run.decision.as_str())
            .bind(run.rules.as_str())
            .bind(run.comment.as_str())
            .execute(&mut *tx)
            .await?;
            for value in &run.values {
                sqlx::query(
                    "INSERT INTO qc_value (run_id, level, lot_id, target_id, value, z, decides) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(run.id.0)
                .bind(value.level)
                .bind(value.lot_id.0)
                .bind(value.target_id.map(|id| id.0))
                .bind(value.value)
                .bind(value.z)
                .bind(i64::from(value.decides))
                .execute(&mut *tx)
                .await?;
            }
            for violation in &run.violations {
                sqlx::query(
                    "INSERT INTO qc_violation (run_id, position, rule, scope, points) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(run.id.0)
                .bind(violation.position)
                .bind(violation.rule.as_str())
                .bind(violation.scope.as_str())
                .bind(violation.points.as_str())
                .execute(&mut *tx)
                .await?;
            }
            if let Some((hold, window_start)) = write.hold {
                sqlx::query(
                    "INSERT INTO qc_hold (id, department_id, instrument_id, investigation_id, rejected_run_id, \
                     window_start, opened_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open')",
                )
                .bind(hold.0)
                .bind(run.department_id.0)
                .bind(run.instrument_id.0)
                .bind(run.investigation_id.0)
                .bind(run.id.0)
                .bind(window_start.map(micros))
                .bind(micros(run.run_at))
                .execute(&mut *tx)
                .await?;
            }
            if let Some((hold, by)) = write.release {
                let n = sqlx::query(
                    "UPDATE qc_hold SET status = 'released', release_run_id = $2, released_by = $3, released_at = $4 \
                     WHERE id = $1 AND status = 'open' AND corrective_at IS NOT NULL",
                )
                .bind(hold.0)
                .bind(run.id.0)
                .bind(by.0)
                .bind(micros(run.run_at))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::Conflict {
                        constraint: "qc_hold.status".into(),
                    });
                }
            }
            for (target, n) in &write.established {
                sqlx::query(
                    "INSERT INTO qc_target (id, lot_id, instrument_id, investigation_id, version, mean, sd, source, \
                     establish_n, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(target.id.0)
                .bind(target.lot_id.0)
                .bind(target.instrument_id.0)
                .bind(target.investigation_id.0)
                .bind(target.version)
                .bind(target.mean)
                .bind(target.sd)
                .bind(target.source.as_str())
                .bind(*n)
                .bind(target.set_by.0)
                .bind(micros(target.set_at))
                .execute(&mut *tx)
                .await?;
            }
            for notification in &write.notifications {
                sqlx::query(
                    "INSERT INTO notification (id, recipient_user_id, recipient_role, department_id, title, body, link, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(notification.id.0)
                .bind(notification.recipient_user_id.map(|id| id.0))
                .bind(notification.recipient_role.as_deref())
                .bind(notification.department_id.map(|id| id.0))
                .bind(notification.title.as_str())
                .bind(notification.body.as_str())
                .bind(notification.link.as_deref())
                .bind(micros(notification.created_at))
                .execute(&mut *tx)
                .await?;
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    async fn fill_run(&self, mut run: QcRunRecord) -> StoreResult<QcRunRecord> {
        let (values, violations) = on_pool!(self, |pool| {
            let values = sqlx::query(
                "SELECT v.level, v.lot_id, l.lot_number, v.target_id, t.mean, t.sd, v.value, v.z, v.decides \
                 FROM qc_value v JOIN qc_lot l ON l.id = v.lot_id LEFT JOIN qc_target t ON t.id = v.target_id \
                 WHERE v.run_id = $1 ORDER BY v.level, v.decides DESC, l.lot_number",
            )
            .bind(run.id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcValueRecord {
                    level: row.int("level")?,
                    lot_id: QcLotId(row.uuid("lot_id")?),
                    lot_number: row.text("lot_number")?,
                    target_id: row.opt_uuid("target_id")?.map(QcTargetId),
                    target: match (row.opt_real("mean")?, row.opt_real("sd")?) {
                        (Some(mean), Some(sd)) => Some((mean, sd)),
                        _ => None,
                    },
                    value: row.real("value")?,
                    z: row.opt_real("z")?,
                    decides: row.int("decides")? == 1,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
            let violations = sqlx::query(
                "SELECT position, rule, scope, points FROM qc_violation WHERE run_id = $1 ORDER BY position",
            )
            .bind(run.id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcViolationRecord {
                    position: row.int("position")?,
                    rule: row.text("rule")?,
                    scope: row.text("scope")?,
                    points: row.text("points")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
            (values, violations)
        });
        run.values = values;
        run.violations = violations;
        Ok(run)
    }

    /// A run of the viewer's departments, with its values and violations.
    pub async fn get_qc_run(&self, id: QcRunId, viewer: UserId) -> StoreResult<QcRunRecord> {
        let sql = sqlx::AssertSqlSafe(format!("{RUN_SELECT} WHERE r.id = $2"));
        let run = on_pool!(self, |pool| run_from_row(
            &sqlx::query(sql)
                .bind(viewer.0)
                .bind(id.0)
                .fetch_one(pool)
                .await?
        )?);
        self.fill_run(run).await
    }

    /// Runs of the viewer's departments, newest first, optionally of one
    /// instrument and investigation; with `latest_only`, the latest run of
    /// each instrument and investigation.
    pub async fn list_qc_runs(
        &self,
        viewer: UserId,
        instrument: Option<InstrumentId>,
        investigation: Option<InvestigationId>,
        latest_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<QcRunRecord>> {
        let latest = if latest_only {
            " AND r.run_at = (SELECT MAX(r2.run_at) FROM qc_run r2 WHERE r2.instrument_id = r.instrument_id \
             AND r2.investigation_id = r.investigation_id)"
        } else {
            ""
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE ($2 IS NULL OR r.instrument_id = $2) AND ($3 IS NULL OR r.investigation_id = $3){latest} \
             ORDER BY r.run_at DESC, r.id DESC LIMIT $4"
        ));
        let runs = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(viewer.0)
                .bind(instrument.map(|id| id.0))
                .bind(investigation.map(|id| id.0))
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(run_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        });
        let mut filled = Vec::with_capacity(runs.len());
        for run in runs {
            filled.push(self.fill_run(run).await?);
        }
        Ok(filled)
    }

    /// Holds of the viewer's departments, open first, newest first.
    pub async fn list_qc_holds(
        &self,
        viewer: UserId,
        limit: i64,
    ) -> StoreResult<Vec<QcHoldRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{HOLD_SELECT} ORDER BY CASE WHEN h.status = 'open' THEN 0 ELSE 1 END, h.opened_at DESC LIMIT $2"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(viewer.0)
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(hold_from_row)
                .collect()
        })
    }

    /// A hold of the viewer's departments.
    pub async fn get_qc_hold(&self, id: QcHoldId, viewer: UserId) -> StoreResult<QcHoldRecord> {
        let sql = sqlx::AssertSqlSafe(format!("{HOLD_SELECT} WHERE h.id = $2"));
        on_pool!(self, |pool| hold_from_row(
            &sqlx::query(sql)
                .bind(viewer.0)
                .bind(id.0)
                .fetch_one(pool)
                .await?
        ))
    }

    /// Records the corrective action of an open hold with its audit events;
    /// `Conflict` when the hold is no longer open.
    pub async fn record_qc_corrective_action(
        &self,
        hold: QcHoldId,
        corrective: (&str, &str, UserId, Timestamp),
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let (kind, text, by, at) = corrective;
        in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE qc_hold SET corrective_kind = $2, corrective_action = $3, corrective_by = $4, corrective_at = $5 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(hold.0)
            .bind(kind)
            .bind(text)
            .bind(by.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict {
                    constraint: "qc_hold.status".into(),
                });
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The patient results a hold covers, oldest first, with their review.
    pub async fn list_qc_hold_results(&self, hold: QcHoldId) -> StoreResult<Vec<HoldResultRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT res.id, r.accession, res.patient_id, p.family_name, p.given_name, res.value_text, res.unit, \
             res.analysed_at, res.status, rv.outcome, rv.reason, ru.display_name AS review_by, rv.at AS review_at \
             FROM qc_hold h JOIN result res ON {COVERS} \
             JOIN lab_request r ON r.id = res.request_id AND r.department_id = h.department_id \
             JOIN patient p ON p.id = res.patient_id \
             LEFT JOIN qc_hold_review rv ON rv.hold_id = h.id AND rv.result_id = res.id \
             LEFT JOIN app_user ru ON ru.id = rv.by_user \
             WHERE h.id = $1 ORDER BY res.analysed_at, r.accession"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(hold.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok(HoldResultRecord {
                        result_id: ResultId(row.uuid("id")?),
                        accession: row.text("accession")?,
                        patient_id: PatientId(row.uuid("patient_id")?),
                        patient_name: format!(
                            "{}, {}",
                            row.text("family_name")?.to_uppercase(),
                            row.text("given_name")?
                        ),
                        value_text: row.text("value_text")?,
                        unit: row.opt_text("unit")?,
                        analysed_at: row.at("analysed_at")?,
                        status: row.text("status")?,
                        review: match (
                            row.opt_text("outcome")?,
                            row.opt_text("reason")?,
                            row.opt_text("review_by")?,
                            row.opt_at("review_at")?,
                        ) {
                            (Some(outcome), Some(reason), Some(by), Some(at)) => {
                                Some((outcome, reason, by, at))
                            }
                            _ => None,
                        },
                    })
                })
                .collect()
        })
    }

    /// Records a review outcome with its audit events; `Conflict` on the
    /// primary key when the result already has one for this hold.
    pub async fn add_qc_hold_review(
        &self,
        review: &NewHoldReview,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO qc_hold_review (hold_id, result_id, outcome, reason, by_user, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(review.hold_id.0)
            .bind(review.result_id.0)
            .bind(review.outcome.as_str())
            .bind(review.reason.as_str())
            .bind(review.by.0)
            .bind(micros(review.at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The hold keeping a result from verification or release, if any: a
    /// hold covering it for which the result has no "released" review (a
    /// "withdrawn" review keeps it held for good).
    pub async fn qc_hold_blocking(&self, result: ResultId) -> StoreResult<Option<HoldBlock>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT h.id, h.status, h.rejected_run_id, rr.run_at, rv.outcome \
             FROM result res JOIN qc_hold h ON {COVERS} \
             JOIN qc_run rr ON rr.id = h.rejected_run_id \
             LEFT JOIN qc_hold_review rv ON rv.hold_id = h.id AND rv.result_id = res.id \
             WHERE res.id = $1 AND (rv.outcome IS NULL OR rv.outcome <> 'released') \
             ORDER BY h.opened_at LIMIT 1"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(result.0)
                .fetch_optional(pool)
                .await?
                .map(|row| {
                    Ok(HoldBlock {
                        hold_id: QcHoldId(row.uuid("id")?),
                        status: row.text("status")?,
                        rejected_run_id: QcRunId(row.uuid("rejected_run_id")?),
                        rejected_run_at: row.at("run_at")?,
                        outcome: row.opt_text("outcome")?,
                    })
                })
                .transpose()
        })
    }

    /// The results of a request withdrawn after a failed QC run.
    pub async fn withdrawn_results(&self, request: RequestId) -> StoreResult<Vec<ResultId>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT rv.result_id FROM qc_hold_review rv JOIN result res ON res.id = rv.result_id \
                 WHERE res.request_id = $1 AND rv.outcome = 'withdrawn'",
            )
            .bind(request.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok(ResultId(row.uuid("result_id")?)))
            .collect()
        })
    }
}
