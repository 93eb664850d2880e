//! Instruments, results and worklists. Instruments and results belong to a
//! department (the result through its request) and are read through a join
//! on the viewer's `user_department`. A result row copies the interval and
//! limits that applied, so a later catalogue edit never changes it.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::{DepartmentId, PatientId, UserId};
use benchwork_domain::request::RequestId;
use benchwork_domain::result::{InstrumentId, ResultId};
use jiff::Timestamp;
use sqlx::Row;

use crate::audit::insert_events;
use crate::comments::{NewResultComment, insert_result_comments};
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// Reading nullable floating-point columns from either engine.
trait RealExt {
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>>;
}

impl RealExt for sqlx::sqlite::SqliteRow {
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(self.try_get(column)?)
    }
}

impl RealExt for sqlx::postgres::PgRow {
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(self.try_get(column)?)
    }
}

/// An instrument to store.
#[derive(Debug, Clone)]
pub struct NewInstrumentRecord {
    /// Its id.
    pub id: InstrumentId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Name, unique in the department.
    pub name: String,
    /// Discipline code.
    pub discipline: String,
    /// Where it stands.
    pub location: String,
    /// When.
    pub created_at: Timestamp,
}

/// An instrument as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentRecord {
    /// Its id.
    pub id: InstrumentId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Name.
    pub name: String,
    /// Discipline code.
    pub discipline: String,
    /// Location.
    pub location: String,
}

/// One line of a request, with what result entry needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultSlotRecord {
    /// Position in the request.
    pub position: i64,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// The catalogue version booked.
    pub investigation_version: i64,
    /// Investigation code.
    pub code: String,
    /// The specimen's printed id, if any.
    pub specimen_code: Option<String>,
    /// The specimen's status code, if any.
    pub specimen_status: Option<String>,
    /// Whether a result is already recorded.
    pub has_result: bool,
    /// When the specimen was collected (its first `collected` custody
    /// step), if it has one and it was recorded.
    pub collected_at: Option<Timestamp>,
}

/// A result to store.
#[derive(Debug, Clone)]
pub struct NewResultRecord {
    /// Its id.
    pub id: ResultId,
    /// The request.
    pub request_id: RequestId,
    /// The request line.
    pub position: i64,
    /// The patient.
    pub patient_id: PatientId,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// The catalogue version it was produced against.
    pub investigation_version: i64,
    /// As typed.
    pub value_text: String,
    /// As parsed (numeric results).
    pub value_number: Option<f64>,
    /// Unit (numeric results).
    pub unit: Option<String>,
    /// Reference interval low limit that applied.
    pub reference_low: Option<f64>,
    /// Reference interval high limit that applied.
    pub reference_high: Option<f64>,
    /// Where the interval comes from.
    pub reference_source: Option<String>,
    /// Critical low limit that applied.
    pub critical_low: Option<f64>,
    /// Critical high limit that applied.
    pub critical_high: Option<f64>,
    /// The version of the investigation's alert limits that applied, if
    /// any were in force.
    pub alert_limit_version: Option<i64>,
    /// The category of the critical limit the value reached (`urgent`,
    /// `same-day`), or none when it reached none.
    pub critical_category: Option<String>,
    /// Flag code, or none.
    pub flag: Option<String>,
    /// Why it is not flagged.
    pub flag_note: Option<String>,
    /// Delta check outcome code.
    pub delta_outcome: Option<String>,
    /// Delta check detail.
    pub delta_detail: Option<String>,
    /// Calculated comment.
    pub derived_comment: Option<String>,
    /// Instrument.
    pub instrument_id: Option<InstrumentId>,
    /// When analysed.
    pub analysed_at: Timestamp,
    /// Who produced it (a person or a system identity).
    pub produced_by: UserId,
    /// Status code (`measured`).
    pub status: String,
    /// Free-text comment.
    pub comment: String,
}

/// A result as stored, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRecord {
    /// Its id.
    pub id: ResultId,
    /// The request line.
    pub position: i64,
    /// Investigation code.
    pub code: String,
    /// Investigation name in the version used.
    pub name: String,
    /// The catalogue version used.
    pub investigation_version: i64,
    /// As typed.
    pub value_text: String,
    /// As parsed.
    pub value_number: Option<f64>,
    /// Decimal places of the version used.
    pub decimal_places: Option<i64>,
    /// Unit.
    pub unit: Option<String>,
    /// Interval low limit that applied.
    pub reference_low: Option<f64>,
    /// Interval high limit that applied.
    pub reference_high: Option<f64>,
    /// Its source.
    pub reference_source: Option<String>,
    /// Critical low limit that applied.
    pub critical_low: Option<f64>,
    /// Critical high limit that applied.
    pub critical_high: Option<f64>,
    /// The version of the investigation's alert limits that applied, if
    /// any were in force.
    pub alert_limit_version: Option<i64>,
    /// The category of the critical limit the value reached (`urgent`,
    /// `same-day`), or none when it reached none.
    pub critical_category: Option<String>,
    /// Flag code.
    pub flag: Option<String>,
    /// Why not flagged.
    pub flag_note: Option<String>,
    /// Delta outcome code.
    pub delta_outcome: Option<String>,
    /// Delta detail.
    pub delta_detail: Option<String>,
    /// Calculated comment.
    pub derived_comment: Option<String>,
    /// Instrument name.
    pub instrument_name: Option<String>,
    /// When analysed.
    pub analysed_at: Timestamp,
    /// Who produced it.
    pub produced_by_name: String,
    /// Status code.
    pub status: String,
    /// Comment.
    pub comment: String,
}

/// Which request lines a worklist shows.
#[derive(Debug, Clone, Default)]
pub struct WorklistFilter {
    /// Only this department (one of the viewer's).
    pub department_id: Option<DepartmentId>,
    /// Only this discipline code.
    pub discipline: Option<String>,
}

/// One request line awaiting a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistRecord {
    /// Accession number.
    pub accession: String,
    /// Priority code.
    pub priority: String,
    /// When booked.
    pub booked_at: Timestamp,
    /// Department name.
    pub department_name: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Investigation code.
    pub code: String,
    /// Investigation name.
    pub name: String,
    /// Discipline code.
    pub discipline: String,
    /// Specimen id, if any.
    pub specimen_code: Option<String>,
    /// Specimen status code, if any.
    pub specimen_status: Option<String>,
}

fn result_from_row(row: &(impl RowExt + RealExt)) -> StoreResult<ResultRecord> {
    Ok(ResultRecord {
        id: ResultId(row.uuid("id")?),
        position: row.int("position")?,
        code: row.text("code")?,
        name: row.text("name")?,
        investigation_version: row.int("investigation_version")?,
        value_text: row.text("value_text")?,
        value_number: row.opt_real("value_number")?,
        decimal_places: row.opt_int("decimal_places")?,
        unit: row.opt_text("unit")?,
        reference_low: row.opt_real("reference_low")?,
        reference_high: row.opt_real("reference_high")?,
        reference_source: row.opt_text("reference_source")?,
        critical_low: row.opt_real("critical_low")?,
        critical_high: row.opt_real("critical_high")?,
        alert_limit_version: row.opt_int("alert_limit_version")?,
        critical_category: row.opt_text("critical_category")?,
        flag: row.opt_text("flag")?,
        flag_note: row.opt_text("flag_note")?,
        delta_outcome: row.opt_text("delta_outcome")?,
        delta_detail: row.opt_text("delta_detail")?,
        derived_comment: row.opt_text("derived_comment")?,
        instrument_name: row.opt_text("instrument_name")?,
        analysed_at: row.at("analysed_at")?,
        produced_by_name: row.text("produced_by_name")?,
        status: row.text("status")?,
        comment: row.text("comment")?,
    })
}

fn instrument_from_row(row: &impl RowExt) -> StoreResult<InstrumentRecord> {
    Ok(InstrumentRecord {
        id: InstrumentId(row.uuid("id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        name: row.text("name")?,
        discipline: row.text("discipline")?,
        location: row.text("location")?,
    })
}

impl Store {
    /// Stores an instrument with its audit event. A name already used in
    /// the department is `Conflict`.
    pub async fn create_instrument(
        &self,
        instrument: &NewInstrumentRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO instrument (id, department_id, name, discipline, location, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(instrument.id.0)
            .bind(instrument.department_id.0)
            .bind(instrument.name.as_str())
            .bind(instrument.discipline.as_str())
            .bind(instrument.location.as_str())
            .bind(micros(instrument.created_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The instruments of the viewer's departments, by name.
    pub async fn list_instruments(&self, viewer: UserId) -> StoreResult<Vec<InstrumentRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT i.id, i.department_id, i.name, i.discipline, i.location FROM instrument i \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 ORDER BY i.name, i.id",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(instrument_from_row)
            .collect()
        })
    }

    /// The lines of a request with their specimen's status and whether a
    /// result exists, in the order booked.
    pub async fn list_result_slots(&self, id: RequestId) -> StoreResult<Vec<ResultSlotRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT ri.position, ri.investigation_id, ri.investigation_version, i.code, s.specimen_code, \
                 s.status AS specimen_status, CAST(CASE WHEN res.id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_result, \
                 (SELECT MIN(e.at) FROM specimen_event e WHERE e.specimen_id = s.id AND e.status = 'collected') AS collected_at \
                 FROM request_item ri JOIN investigation i ON i.id = ri.investigation_id \
                 LEFT JOIN specimen s ON s.id = ri.specimen_id \
                 LEFT JOIN result res ON res.request_id = ri.request_id AND res.position = ri.position \
                 WHERE ri.request_id = $1 ORDER BY ri.position",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ResultSlotRecord {
                    position: row.int("position")?,
                    investigation_id: InvestigationId(row.uuid("investigation_id")?),
                    investigation_version: row.int("investigation_version")?,
                    code: row.text("code")?,
                    specimen_code: row.opt_text("specimen_code")?,
                    specimen_status: row.opt_text("specimen_status")?,
                    has_result: row.int("has_result")? == 1,
                    collected_at: row.opt_at("collected_at")?,
                })
            })
            .collect()
        })
    }

    /// Stores results with their audit events in one transaction. Each
    /// line's specimen must still be in one of `allowed_statuses` (checked
    /// inside the transaction), and a line that already has a result is
    /// `Conflict`: nothing is written unless everything is.
    pub async fn record_results(
        &self,
        results: &[NewResultRecord],
        allowed_statuses: &[&str],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        self.record_results_with_comments(results, &[], allowed_statuses, events)
            .await
    }

    /// [`Store::record_results`], adding comments to the new results in the
    /// same transaction.
    pub async fn record_results_with_comments(
        &self,
        results: &[NewResultRecord],
        comments: &[NewResultComment],
        allowed_statuses: &[&str],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            for result in results {
                let status: Option<String> = sqlx::query_scalar(
                    "SELECT s.status FROM request_item ri LEFT JOIN specimen s ON s.id = ri.specimen_id \
                     WHERE ri.request_id = $1 AND ri.position = $2",
                )
                .bind(result.request_id.0)
                .bind(result.position)
                .fetch_one(&mut *tx)
                .await?;
                if status.is_some_and(|status| !allowed_statuses.contains(&status.as_str())) {
                    return Err(StoreError::Conflict {
                        constraint: "specimen.status".into(),
                    });
                }
                sqlx::query(
                    "INSERT INTO result (id, request_id, position, patient_id, investigation_id, investigation_version, \
                     value_text, value_number, unit, reference_low, reference_high, reference_source, critical_low, \
                     critical_high, flag, flag_note, delta_outcome, delta_detail, derived_comment, instrument_id, \
                     analysed_at, produced_by, status, comment, created_at, alert_limit_version, critical_category) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                     $20, $21, $22, $23, $24, $21, $25, $26)",
                )
                .bind(result.id.0)
                .bind(result.request_id.0)
                .bind(result.position)
                .bind(result.patient_id.0)
                .bind(result.investigation_id.0)
                .bind(result.investigation_version)
                .bind(result.value_text.as_str())
                .bind(result.value_number)
                .bind(result.unit.as_deref())
                .bind(result.reference_low)
                .bind(result.reference_high)
                .bind(result.reference_source.as_deref())
                .bind(result.critical_low)
                .bind(result.critical_high)
                .bind(result.flag.as_deref())
                .bind(result.flag_note.as_deref())
                .bind(result.delta_outcome.as_deref())
                .bind(result.delta_detail.as_deref())
                .bind(result.derived_comment.as_deref())
                .bind(result.instrument_id.map(|id| id.0))
                .bind(micros(result.analysed_at))
                .bind(result.produced_by.0)
                .bind(result.status.as_str())
                .bind(result.comment.as_str())
                .bind(result.alert_limit_version)
                .bind(result.critical_category.as_deref())
                .execute(&mut *tx)
                .await?;
                crate::request_status::recompute(
                    &mut *tx,
                    result.request_id,
                    result.produced_by,
                    result.analysed_at,
                )
                .await?;
            }
            insert_result_comments!(tx, comments);
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The results of a request, in the order booked.
    pub async fn list_results(&self, id: RequestId) -> StoreResult<Vec<ResultRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT res.id, res.position, i.code, v.name, res.investigation_version, res.value_text, res.value_number, \
                 v.decimal_places, res.unit, res.reference_low, res.reference_high, res.reference_source, res.critical_low, \
                 res.critical_high, res.alert_limit_version, res.critical_category, res.flag, res.flag_note, res.delta_outcome, res.delta_detail, res.derived_comment, \
                 ins.name AS instrument_name, res.analysed_at, u.display_name AS produced_by_name, res.status, res.comment \
                 FROM result res JOIN investigation i ON i.id = res.investigation_id \
                 JOIN investigation_version v ON v.investigation_id = res.investigation_id AND v.version = res.investigation_version \
                 JOIN app_user u ON u.id = res.produced_by \
                 LEFT JOIN instrument ins ON ins.id = res.instrument_id \
                 WHERE res.request_id = $1 ORDER BY res.position",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(result_from_row)
            .collect()
        })
    }

    /// The patient's latest numeric result for an investigation analysed
    /// before `before`: its value and analysis time.
    pub async fn previous_numeric_result(
        &self,
        patient: PatientId,
        investigation: InvestigationId,
        before: Timestamp,
    ) -> StoreResult<Option<(f64, Timestamp)>> {
        let row = on_pool!(self, |pool| {
            sqlx::query(
                "SELECT value_number, analysed_at FROM result \
                 WHERE patient_id = $1 AND investigation_id = $2 AND analysed_at < $3 AND value_number IS NOT NULL \
                 ORDER BY analysed_at DESC, id DESC LIMIT 1",
            )
            .bind(patient.0)
            .bind(investigation.0)
            .bind(micros(before))
            .fetch_optional(pool)
            .await?
            .map(|row| -> StoreResult<Option<(f64, Timestamp)>> {
                Ok(row.opt_real("value_number")?.zip(Some(row.at("analysed_at")?)))
            })
            .transpose()?
        });
        Ok(row.flatten())
    }

    /// Request lines of the viewer's departments awaiting a result whose
    /// specimen is in one of `statuses` (or that have no specimen): urgent
    /// first, then oldest first. Calculated lines are left out: they are
    /// produced from their inputs, never entered.
    pub async fn worklist(
        &self,
        viewer: UserId,
        filter: &WorklistFilter,
        statuses: &[&str],
        limit: i64,
    ) -> StoreResult<Vec<WorklistRecord>> {
        let statuses = statuses.join(",");
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT r.accession, r.priority, r.created_at, d.name AS department_name, r.patient_id, i.code, v.name, \
                 v.discipline, s.specimen_code, s.status AS specimen_status \
                 FROM request_item ri JOIN lab_request r ON r.id = ri.request_id \
                 JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1 \
                 JOIN department d ON d.id = r.department_id \
                 JOIN investigation i ON i.id = ri.investigation_id \
                 JOIN investigation_version v ON v.investigation_id = ri.investigation_id AND v.version = ri.investigation_version \
                 LEFT JOIN specimen s ON s.id = ri.specimen_id \
                 LEFT JOIN result res ON res.request_id = ri.request_id AND res.position = ri.position \
                 WHERE r.status IN ('registered', 'in-progress', 'partially-reported') \
                 AND res.id IS NULL AND v.calculation IS NULL \
                 AND (s.id IS NULL OR ',' || $2 || ',' LIKE '%,' || s.status || ',%') \
                 AND ($3 = '' OR r.department_id = $4) \
                 AND ($5 = '' OR v.discipline = $5) \
                 ORDER BY CASE WHEN r.priority = 'urgent' THEN 0 ELSE 1 END, r.created_at, r.accession, ri.position \
                 LIMIT $6",
            )
            .bind(viewer.0)
            .bind(statuses.as_str())
            .bind(if filter.department_id.is_some() { "yes" } else { "" })
            .bind(filter.department_id.map(|id| id.0).unwrap_or_default())
            .bind(filter.discipline.as_deref().unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(WorklistRecord {
                    accession: row.text("accession")?,
                    priority: row.text("priority")?,
                    booked_at: row.at("created_at")?,
                    department_name: row.text("department_name")?,
                    patient_id: PatientId(row.uuid("patient_id")?),
                    code: row.text("code")?,
                    name: row.text("name")?,
                    discipline: row.text("discipline")?,
                    specimen_code: row.opt_text("specimen_code")?,
                    specimen_status: row.opt_text("specimen_status")?,
                })
            })
            .collect()
        })
    }
}
