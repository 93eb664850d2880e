//! A patient's results over time (the cumulative view, issue 3 item 7).
//! A patient's history includes the records merged into it, at any depth
//! ([`Store::patient_family`], a recursive query over `patient.merged_into`):
//! a merge keeps both histories. The results are then read one record at a
//! time, so that each read is a range of the index (a join with the
//! recursive query made SQLite's plan several times slower). Results are scoped by a join on the viewer's
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
    /// The investigations any of `records` has results for in the
    /// viewer's departments, by name, with how many and when the latest
    /// was analysed. One indexed query per record, combined here.
    pub async fn list_patient_investigations(
        &self,
        records: &[PatientId],
        viewer: UserId,
    ) -> StoreResult<Vec<InvestigationSummaryRecord>> {
        let sql = "SELECT i.code, v.name, CAST(COUNT(*) AS BIGINT) AS n_results, MAX(res.analysed_at) AS latest_at \
             FROM result res \
             JOIN lab_request r ON r.id = res.request_id \
             JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $2 \
             JOIN investigation i ON i.id = res.investigation_id \
             JOIN investigation_version v ON v.investigation_id = i.id AND v.version = i.current_version \
             WHERE res.patient_id = $1 \
             GROUP BY i.code, v.name";
        let mut summaries: Vec<InvestigationSummaryRecord> = Vec::new();
        for record in records {
            let found = on_pool!(self, |pool| {
                sqlx::query(sql)
                    .bind(record.0)
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
                    .collect::<StoreResult<Vec<_>>>()?
            });
            for summary in found {
                match summaries
                    .iter_mut()
                    .find(|known| known.code == summary.code)
                {
                    Some(known) => {
                        known.n_results += summary.n_results;
                        known.latest_at = known.latest_at.max(summary.latest_at);
                    }
                    None => summaries.push(summary),
                }
            }
        }
        summaries.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.code.cmp(&b.code)));
        Ok(summaries)
    }

    /// `patient` and every record merged into it, directly or through
    /// another merged record (a merge keeps both histories).
    pub async fn patient_family(&self, patient: PatientId) -> StoreResult<Vec<PatientId>> {
        let sql = concat!(family_cte!(), "SELECT id FROM family");
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(patient.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok(PatientId(row.uuid("id")?)))
                .collect()
        })
    }

    /// The results filed under any of `records` for the investigation
    /// `code` in the viewer's departments, newest first, at most `limit`.
    /// One indexed query per record (a patient has one record, or a few
    /// after merges), merged here.
    pub async fn cumulative_results(
        &self,
        records: &[PatientId],
        code: &str,
        viewer: UserId,
        limit: i64,
    ) -> StoreResult<Vec<CumulativeRecord>> {
        let sql = "SELECT res.id, res.patient_id, r.accession, d.name AS department_name, i.code, v.name, res.value_text, \
             res.value_number, v.decimal_places, res.unit, res.reference_low, res.reference_high, res.reference_source, \
             res.critical_low, res.critical_high, res.flag, res.flag_note, res.delta_outcome, res.delta_detail, \
             res.analysed_at, res.status, res.version \
             FROM investigation i \
             JOIN result res ON res.patient_id = $1 AND res.investigation_id = i.id \
             JOIN lab_request r ON r.id = res.request_id \
             JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $3 \
             JOIN department d ON d.id = r.department_id \
             JOIN investigation_version v ON v.investigation_id = res.investigation_id AND v.version = res.investigation_version \
             WHERE i.code = $2 \
             ORDER BY res.analysed_at DESC, res.id DESC LIMIT $4";
        let mut results = Vec::new();
        for record in records {
            let mut found = on_pool!(self, |pool| {
                sqlx::query(sql)
                    .bind(record.0)
                    .bind(code)
                    .bind(viewer.0)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(cumulative_from_row)
                    .collect::<StoreResult<Vec<_>>>()?
            });
            results.append(&mut found);
        }
        if records.len() > 1 {
            results.sort_by(|a, b| {
                b.analysed_at
                    .cmp(&a.analysed_at)
                    .then_with(|| b.id.0.cmp(&a.id.0))
            });
            results.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(results)
    }
}
