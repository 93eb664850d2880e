//! Reads for the Levey–Jennings charts and the QC statistics (issue 4
//! items 4 and 6): QC values with their run, lot and the target they were
//! judged against, the rules that fired, and corrective actions. Scoped by
//! a join of the run's instrument on the viewer's `user_department`, so
//! another department's instrument reads as nothing, like one that does
//! not exist. QC values are not patient data: no read is audited.

use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::UserId;
use benchwork_domain::result::InstrumentId;
use jiff::Timestamp;
use sqlx::Row;
use uuid::Uuid;

use crate::row::RowExt;
use crate::{Store, StoreResult, micros, on_pool};

/// Reading floating-point columns from either engine.
trait RealExt {
    fn real(&self, column: &str) -> StoreResult<f64>;
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>>;
}

impl RealExt for sqlx::sqlite::SqliteRow {
    fn real(&self, column: &str) -> StoreResult<f64> {
        Ok(self.try_get(column)?)
    }
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(self.try_get(column)?)
    }
}

impl RealExt for sqlx::postgres::PgRow {
    fn real(&self, column: &str) -> StoreResult<f64> {
        Ok(self.try_get(column)?)
    }
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(self.try_get(column)?)
    }
}

/// An instrument × investigation × level with QC values, for the chart's
/// choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcSeriesRecord {
    /// The instrument.
    pub instrument_id: InstrumentId,
    /// Its name.
    pub instrument_name: String,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// Its code.
    pub investigation_code: String,
    /// Its current name.
    pub investigation_name: String,
    /// Level, 1 to 3.
    pub level: i64,
}

/// One QC value with its run and the target it was judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct QcPointRecord {
    /// The run.
    pub run_id: Uuid,
    /// When it was run.
    pub run_at: Timestamp,
    /// accepted, warning or rejected.
    pub decision: String,
    /// The instrument's name.
    pub instrument_name: String,
    /// Level, 1 to 3.
    pub level: i64,
    /// The lot.
    pub lot_id: Uuid,
    /// Its number.
    pub lot_number: String,
    /// The value.
    pub value: f64,
    /// Its z-score; `None` while the lot's target was being established.
    pub z: Option<f64>,
    /// The target's mean and SD, when the value had an established target.
    pub target_mean: Option<f64>,
    /// See `target_mean`.
    pub target_sd: Option<f64>,
}

/// A rule that fired on a run, with its points as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcChartViolationRecord {
    /// The run.
    pub run_id: Uuid,
    /// Rule code.
    pub rule: String,
    /// Scope, as stored.
    pub scope: String,
    /// `[{"run": "<qc_run id>", "level": 1}, ...]`.
    pub points: String,
}

/// A corrective action recorded on a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcCorrectiveRecord {
    /// When it was recorded.
    pub at: Timestamp,
    /// recalibration, new-reagent, maintenance, new-qc-material or other.
    pub kind: String,
    /// What was done.
    pub action: String,
}

/// Which QC values [`Store::qc_points`] returns.
#[derive(Debug, Clone, Copy)]
pub struct QcPointFilter {
    /// One instrument, or every instrument of the viewer's departments.
    pub instrument: Option<InstrumentId>,
    /// The investigation.
    pub investigation: InvestigationId,
    /// One level, or all.
    pub level: Option<i64>,
    /// Runs at or after this instant.
    pub from: Timestamp,
    /// Runs before this instant.
    pub to: Timestamp,
}

impl Store {
    /// The instrument × investigation × level series with QC values on the
    /// viewer's departments' instruments, by instrument name, code, level.
    pub async fn list_qc_series(&self, viewer: UserId) -> StoreResult<Vec<QcSeriesRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT DISTINCT i.id AS instrument_id, i.name AS instrument_name, \
                 inv.id AS investigation_id, inv.code, iv.name AS investigation_name, \
                 CAST(v.level AS BIGINT) AS level \
                 FROM qc_run r JOIN qc_value v ON v.run_id = r.id \
                 JOIN instrument i ON i.id = r.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 JOIN investigation inv ON inv.id = r.investigation_id \
                 JOIN investigation_version iv ON iv.investigation_id = inv.id AND iv.version = inv.current_version \
                 ORDER BY i.name, inv.code, level",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcSeriesRecord {
                    instrument_id: InstrumentId(row.uuid("instrument_id")?),
                    instrument_name: row.text("instrument_name")?,
                    investigation_id: InvestigationId(row.uuid("investigation_id")?),
                    investigation_code: row.text("code")?,
                    investigation_name: row.text("investigation_name")?,
                    level: row.int("level")?,
                })
            })
            .collect()
        })
    }

    /// QC values of the viewer's departments' instruments, in run order
    /// (then level and lot number).
    pub async fn qc_points(
        &self,
        viewer: UserId,
        filter: QcPointFilter,
    ) -> StoreResult<Vec<QcPointRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT r.id AS run_id, r.run_at, r.decision, i.name AS instrument_name, \
                 CAST(v.level AS BIGINT) AS level, v.lot_id, l.lot_number, v.value, v.z, \
                 t.mean AS target_mean, t.sd AS target_sd \
                 FROM qc_run r JOIN qc_value v ON v.run_id = r.id \
                 JOIN instrument i ON i.id = r.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 JOIN qc_lot l ON l.id = v.lot_id \
                 LEFT JOIN qc_target t ON t.id = v.target_id \
                 WHERE r.investigation_id = $2 AND ($3 IS NULL OR r.instrument_id = $3) \
                 AND ($4 = 0 OR v.level = $4) AND r.run_at >= $5 AND r.run_at < $6 \
                 ORDER BY r.run_at, r.id, v.level, l.lot_number",
            )
            .bind(viewer.0)
            .bind(filter.investigation.0)
            .bind(filter.instrument.map(|id| id.0))
            .bind(filter.level.unwrap_or(0))
            .bind(micros(filter.from))
            .bind(micros(filter.to))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcPointRecord {
                    run_id: row.uuid("run_id")?,
                    run_at: row.at("run_at")?,
                    decision: row.text("decision")?,
                    instrument_name: row.text("instrument_name")?,
                    level: row.int("level")?,
                    lot_id: row.uuid("lot_id")?,
                    lot_number: row.text("lot_number")?,
                    value: row.real("value")?,
                    z: row.opt_real("z")?,
                    target_mean: row.opt_real("target_mean")?,
                    target_sd: row.opt_real("target_sd")?,
                })
            })
            .collect()
        })
    }

    /// The rules that fired on the runs of one instrument (of the viewer's
    /// departments) for one investigation in `[from, to)`, in run order.
    pub async fn qc_violations(
        &self,
        viewer: UserId,
        instrument: InstrumentId,
        investigation: InvestigationId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<QcChartViolationRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT q.run_id, q.rule, q.scope, q.points FROM qc_violation q \
                 JOIN qc_run r ON r.id = q.run_id \
                 JOIN instrument i ON i.id = r.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 WHERE r.instrument_id = $2 AND r.investigation_id = $3 \
                 AND r.run_at >= $4 AND r.run_at < $5 \
                 ORDER BY r.run_at, r.id, q.position",
            )
            .bind(viewer.0)
            .bind(instrument.0)
            .bind(investigation.0)
            .bind(micros(from))
            .bind(micros(to))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcChartViolationRecord {
                    run_id: row.uuid("run_id")?,
                    rule: row.text("rule")?,
                    scope: row.text("scope")?,
                    points: row.text("points")?,
                })
            })
            .collect()
        })
    }

    /// Corrective actions recorded in `[from, to)` on holds of one
    /// instrument (of the viewer's departments) and investigation.
    pub async fn qc_corrective_actions(
        &self,
        viewer: UserId,
        instrument: InstrumentId,
        investigation: InvestigationId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<QcCorrectiveRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT h.corrective_at, h.corrective_kind, h.corrective_action FROM qc_hold h \
                 JOIN instrument i ON i.id = h.instrument_id \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 WHERE h.instrument_id = $2 AND h.investigation_id = $3 \
                 AND h.corrective_at IS NOT NULL AND h.corrective_at >= $4 AND h.corrective_at < $5 \
                 ORDER BY h.corrective_at",
            )
            .bind(viewer.0)
            .bind(instrument.0)
            .bind(investigation.0)
            .bind(micros(from))
            .bind(micros(to))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QcCorrectiveRecord {
                    at: row.at("corrective_at")?,
                    kind: row.opt_text("corrective_kind")?.unwrap_or_default(),
                    action: row.opt_text("corrective_action")?.unwrap_or_default(),
                })
            })
            .collect()
        })
    }
}
