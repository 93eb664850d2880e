//! A patient's results over time (the cumulative view, issue 3 item 7).
//! A patient's history includes the records merged into it, at any depth
//! (a recursive query over `patient.merged_into`): a merge keeps both
//! histories. Results are scoped by a join on the viewer's
//! `user_department` through the result's request, as a request is.
//! Reads use the index `result_patient_investigation`
//! `(patient_id, investigation_id, analysed_at)`.

use benchwork_domain::ids::{PatientId, UserId};
use benchwork_domain::result::ResultId;
use jiff::Timestamp;
use sqlx::Row;

use crate::row::RowExt;
use crate::{Store, StoreResult, on_pool};

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

/// The patient and every record merged into it, directly or through
/// another merged record.
macro_rules! family_cte {
    () => {
        "WITH RECURSIVE family (id) AS (SELECT id FROM patient WHERE id = $1 \
         UNION SELECT p.id FROM patient p JOIN family f ON p.merged_into = f.id) "
    };
}

/// An investigation a patient has results for, within the viewer's
/// departments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestigationSummaryRecord {
    /// Investigation code.
    pub code: String,
    /// Its current name in the catalogue.
    pub name: String,
    /// How many results.
    pub n_results: i64,
    /// When the latest was analysed.
    pub latest_at: Timestamp,
}

/// One result in a patient's cumulative view.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeRecord {
    /// The result.
    pub id: ResultId,
    /// The record it was filed under (this patient or a merged duplicate).
    pub patient_id: PatientId,
    /// The request's accession number.
    pub accession: String,
    /// The request's department.
    pub department_name: String,
    /// Investigation code.
    pub code: String,
    /// Investigation name in the version used.
    pub name: String,
    /// The value as typed.
    pub value_text: String,
    /// As parsed (numeric results).
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
    /// Flag code.
    pub flag: Option<String>,
    /// Why not flagged.
    pub flag_note: Option<String>,
    /// Delta outcome code.
    pub delta_outcome: Option<String>,
    /// Delta detail.
    pub delta_detail: Option<String>,
    /// When analysed.
    pub analysed_at: Timestamp,
    /// Status code.
    pub status: String,
    /// Version.
    pub version: i64,
}

fn cumulative_from_row(row: &(impl RowExt + RealExt)) -> StoreResult<CumulativeRecord> {
    Ok(CumulativeRecord {
        id: ResultId(row.uuid("id")?),
        patient_id: PatientId(row.uuid("patient_id")?),
        accession: row.text("accession")?,
        department_name: row.text("department_name")?,
        code: row.text("code")?,
        name: row.text("name")?,
        value_text: row.text("value_text")?,
        value_number: row.opt_real("value_number")?,
        decimal_places: row.opt_int("decimal_places")?,
        unit: row.opt_text("unit")?,
        reference_low: row.opt_real("reference_low")?,
        reference_high: row.opt_real("reference_high")?,
        reference_source: row.opt_text("reference_source")?,
        critical_low: row.opt_real("critical_low")?,
        critical_high: row.opt_real("critical_high")?,
        flag: row.opt_text("flag")?,
        flag_note: row.opt_text("flag_note")?,
        delta_outcome: row.opt_text("delta_outcome")?,
        delta_detail: row.opt_text("delta_detail")?,
        analysed_at: row.at("analysed_at")?,
        status: row.text("status")?,
        version: row.int("version")?,
    })
}

impl Store {
    /// The investigations `patient` (with the records merged into it) has
    /// results for in the viewer's departments, by name, with how many
    /// and when the latest was analysed.
    pub async fn list_patient_investigations(
        &self,
        patient: PatientId,
        viewer: UserId,
    ) -> StoreResult<Vec<InvestigationSummaryRecord>> {
        let sql = concat!(
            family_cte!(),
            "SELECT i.code, v.name, CAST(COUNT(*) AS BIGINT) AS n_results, MAX(res.analysed_at) AS latest_at \
             FROM family f JOIN result res ON res.patient_id = f.id \
             JOIN lab_request r ON r.id = res.request_id \
             JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $2 \
             JOIN investigation i ON i.id = res.investigation_id \
             JOIN investigation_version v ON v.investigation_id = i.id AND v.version = i.current_version \
             GROUP BY i.code, v.name ORDER BY v.name, i.code"
        );
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(patient.0)
                .bind(viewer.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok(InvestigationSummaryRecord {
                        code: row.text("code")?,
                        name: row.text("name")?,
                        n_results: row.int("n_results")?,
                        latest_at: row.at("latest_at")?,
                    })
                })
                .collect()
        })
    }

    /// The results of `patient` (with the records merged into it) for the
    /// investigation `code` in the viewer's departments, newest first, at
    /// most `limit`.
    pub async fn cumulative_results(
        &self,
        patient: PatientId,
        code: &str,
        viewer: UserId,
        limit: i64,
    ) -> StoreResult<Vec<CumulativeRecord>> {
        let sql = concat!(
            family_cte!(),
            "SELECT res.id, res.patient_id, r.accession, d.name AS department_name, i.code, v.name, res.value_text, \
             res.value_number, v.decimal_places, res.unit, res.reference_low, res.reference_high, res.reference_source, \
             res.critical_low, res.critical_high, res.flag, res.flag_note, res.delta_outcome, res.delta_detail, \
             res.analysed_at, res.status, res.version \
             FROM investigation i CROSS JOIN family f \
             JOIN result res ON res.patient_id = f.id AND res.investigation_id = i.id \
             JOIN lab_request r ON r.id = res.request_id \
             JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $3 \
             JOIN department d ON d.id = r.department_id \
             JOIN investigation_version v ON v.investigation_id = res.investigation_id AND v.version = res.investigation_version \
             WHERE i.code = $2 \
             ORDER BY res.analysed_at DESC, res.id DESC LIMIT $4"
        );
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(patient.0)
                .bind(code)
                .bind(viewer.0)
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(cumulative_from_row)
                .collect()
        })
    }
}
