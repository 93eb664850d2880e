//! Verification, authorisation and amendment of results, the queues of
//! results awaiting them, and each result's version history. A result is
//! read through a join on the viewer's `user_department`; each transition is
//! a conditional update (the row must still be in the state the decision
//! was made on, otherwise `Conflict`) written with its audit event in one
//! transaction. An amendment first copies the version it replaces into
//! `result_version`: nothing is deleted.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::{DepartmentId, PatientId, UserId};
use benchwork_domain::request::RequestId;
use benchwork_domain::result::ResultId;
use benchwork_domain::result_state::{AmendedResult, AuthorisedResult, VerifiedResult};
use jiff::Timestamp;
use sqlx::Row;

use crate::audit::insert_events;
use crate::comments::{NewResultComment, insert_result_comments};
use crate::notifications::NewNotification;
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

/// A result with what verification, authorisation and amendment decide on.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultReviewRecord {
    /// The result.
    pub id: ResultId,
    /// Its request.
    pub request_id: RequestId,
    /// The request's accession number.
    pub accession: String,
    /// The request's department.
    pub department_id: DepartmentId,
    /// The patient.
    pub patient_id: PatientId,
    /// Investigation code.
    pub code: String,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// The catalogue version it was produced against.
    pub investigation_version: i64,
    /// The value as typed.
    pub value_text: String,
    /// Unit.
    pub unit: Option<String>,
    /// Flag code.
    pub flag: Option<String>,
    /// Interval low limit that applied.
    pub reference_low: Option<f64>,
    /// Interval high limit that applied.
    pub reference_high: Option<f64>,
    /// Its source.
    pub reference_source: Option<String>,
    /// The communication category of the alert limit the value reached.
    pub critical_category: Option<String>,
    /// The critical limits copied into the result when it was produced.
    pub critical_low: Option<f64>,
    /// See `critical_low`.
    pub critical_high: Option<f64>,
    /// Status code.
    pub status: String,
    /// Version.
    pub version: i64,
    /// Who produced it.
    pub produced_by: UserId,
    /// Who verified it and when.
    pub verified: Option<(UserId, Timestamp)>,
    /// Who authorised it and when.
    pub authorised: Option<(UserId, Timestamp)>,
}

/// The verification state of one result of a request, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultReviewState {
    /// The result.
    pub id: ResultId,
    /// Request line.
    pub position: i64,
    /// Status code.
    pub status: String,
    /// Version.
    pub version: i64,
    /// Who produced it.
    pub produced_by: UserId,
    /// Who verified it: id, name, when.
    pub verified: Option<(UserId, String, Timestamp)>,
    /// Who authorised it: id, name, when.
    pub authorised: Option<(UserId, String, Timestamp)>,
    /// The latest amendment: who, when, why.
    pub amended: Option<(String, Timestamp, String)>,
}

/// A version replaced by an amendment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultVersionRecord {
    /// The result.
    pub result_id: ResultId,
    /// The version.
    pub version: i64,
    /// Its value as typed.
    pub value_text: String,
    /// Its flag.
    pub flag: Option<String>,
    /// Its status when replaced.
    pub status: String,
    /// Who produced it.
    pub produced_by_name: String,
    /// Who authorised it.
    pub authorised_by_name: Option<String>,
    /// When it was replaced.
    pub superseded_at: Timestamp,
    /// By whom.
    pub superseded_by_name: String,
    /// Why.
    pub superseded_reason: String,
}

/// An amendment to store.
#[derive(Debug, Clone)]
pub struct AmendmentWrite {
    /// The decision.
    pub amended: AmendedResult,
    /// The request whose report is marked amended.
    pub request_id: RequestId,
    /// The new value as typed.
    pub value_text: String,
    /// As parsed.
    pub value_number: Option<f64>,
    /// The new flag.
    pub flag: Option<String>,
}

/// A result awaiting verification or authorisation.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRecord {
    /// The result.
    pub id: ResultId,
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
    /// The value as typed.
    pub value_text: String,
    /// Unit.
    pub unit: Option<String>,
    /// Flag code.
    pub flag: Option<String>,
    /// Who produced it.
    pub produced_by: UserId,
    /// Who verified it.
    pub verified_by: Option<UserId>,
}

fn pair(
    user: Option<uuid::Uuid>,
    at: Option<Timestamp>,
) -> StoreResult<Option<(UserId, Timestamp)>> {
    match (user, at) {
        (Some(user), Some(at)) => Ok(Some((UserId(user), at))),
        (None, None) => Ok(None),
        _ => Err(StoreError::Other(anyhow::anyhow!(
            "a result has a verifier or authoriser without a time"
        ))),
    }
}

fn review_from_row(row: &(impl RowExt + RealExt)) -> StoreResult<ResultReviewRecord> {
    Ok(ResultReviewRecord {
        id: ResultId(row.uuid("id")?),
        request_id: RequestId(row.uuid("request_id")?),
        accession: row.text("accession")?,
        department_id: DepartmentId(row.uuid("department_id")?),
        patient_id: PatientId(row.uuid("patient_id")?),
        code: row.text("code")?,
        investigation_id: InvestigationId(row.uuid("investigation_id")?),
        investigation_version: row.int("investigation_version")?,
        value_text: row.text("value_text")?,
        unit: row.opt_text("unit")?,
        flag: row.opt_text("flag")?,
        reference_low: row.opt_real("reference_low")?,
        reference_high: row.opt_real("reference_high")?,
        reference_source: row.opt_text("reference_source")?,
        critical_category: row.opt_text("critical_category")?,
        critical_low: row.opt_real("critical_low")?,
        critical_high: row.opt_real("critical_high")?,
        status: row.text("status")?,
        version: row.int("version")?,
        produced_by: UserId(row.uuid("produced_by")?),
        verified: pair(row.opt_uuid("verified_by")?, row.opt_at("verified_at")?)?,
        authorised: pair(row.opt_uuid("authorised_by")?, row.opt_at("authorised_at")?)?,
    })
}

fn named(
    user: Option<uuid::Uuid>,
    name: Option<String>,
    at: Option<Timestamp>,
) -> Option<(UserId, String, Timestamp)> {
    Some((UserId(user?), name?, at?))
}

fn conflict() -> StoreError {
    StoreError::Conflict {
        constraint: "result.status".into(),
    }
}

impl Store {
    /// A result of one of the viewer's departments, with its state.
    pub async fn get_result_for_review(
        &self,
        id: ResultId,
        viewer: UserId,
    ) -> StoreResult<ResultReviewRecord> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT res.id, res.request_id, r.accession, r.department_id, res.patient_id, i.code, \
                 res.investigation_id, res.investigation_version, res.value_text, res.unit, res.flag, \
                 res.reference_low, res.reference_high, res.reference_source, res.status, res.version, \
                 res.produced_by, res.verified_by, res.verified_at, res.authorised_by, res.authorised_at, \
                 res.critical_category, res.critical_low, res.critical_high \
                 FROM result res JOIN lab_request r ON r.id = res.request_id \
                 JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $2 \
                 JOIN investigation i ON i.id = res.investigation_id \
                 WHERE res.id = $1",
            )
            .bind(id.0)
            .bind(viewer.0)
            .fetch_one(pool)
            .await?;
            review_from_row(&row)
        })
    }

    /// Records a technical verification with its audit event. The result
    /// must still be measured at the same version, otherwise `Conflict`.
    pub async fn save_verification(
        &self,
        verified: &VerifiedResult,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE result SET status = 'verified', verified_by = $2, verified_at = $3 \
                 WHERE id = $1 AND status = 'measured' AND version = $4",
            )
            .bind(verified.id.0)
            .bind(verified.verified_by.0)
            .bind(micros(verified.verified_at))
            .bind(verified.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(conflict());
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Records an authorisation (the result is released) with its audit
    /// event. The result must still be verified by the same person at the
    /// same version, otherwise `Conflict`.
    pub async fn save_authorisation(
        &self,
        authorised: &AuthorisedResult,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        // The QC hold is checked again here, in the statement that releases
        // the result, so a hold committed after the application's own check
        // (a rejected run saved at the same moment) still stops it.
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE result AS res SET status = 'final', authorised_by = $2, authorised_at = $3 \
             WHERE res.id = $1 AND res.status = 'verified' AND res.verified_by = $4 AND res.version = $5 \
             AND NOT EXISTS (SELECT 1 FROM qc_hold h \
             LEFT JOIN qc_hold_review rv ON rv.hold_id = h.id AND rv.result_id = res.id \
             WHERE {} AND (rv.outcome IS NULL OR rv.outcome <> 'released'))",
            crate::qc::COVERS
        ));
        in_tx!(self, |tx| {
            let n = sqlx::query(sql)
                .bind(authorised.id.0)
                .bind(authorised.authorised_by.0)
                .bind(micros(authorised.authorised_at))
                .bind(authorised.verified_by.0)
                .bind(authorised.version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != 1 {
                return Err(conflict());
            }
            crate::request_status::recompute_for_result(
                &mut *tx,
                authorised.id,
                authorised.authorised_by,
                authorised.authorised_at,
            )
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Records an amendment in one transaction: copies the version replaced
    /// into `result_version`, writes the new version, marks the request's
    /// report amended, delivers the notifications and writes the audit
    /// events. The result must still be released at the previous version,
    /// otherwise `Conflict`.
    pub async fn save_amendment(
        &self,
        amendment: &AmendmentWrite,
        notifications: &[NewNotification],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        self.save_amendments(std::slice::from_ref(amendment), &[], notifications, events)
            .await
    }

    /// [`Store::save_amendment`] for several results at once (an input and
    /// the calculated results recalculated from it), with comments added to
    /// the new versions, all in one transaction: nothing is written unless
    /// every result is still released at its previous version.
    pub async fn save_amendments(
        &self,
        amendments: &[AmendmentWrite],
        comments: &[NewResultComment],
        notifications: &[NewNotification],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            for amendment in amendments {
                let amended = &amendment.amended;
                let n = sqlx::query(
                "INSERT INTO result_version (result_id, version, value_text, value_number, flag, status, produced_by, \
                 analysed_at, verified_by, verified_at, authorised_by, authorised_at, amended_by, amended_at, \
                 amendment_reason, superseded_at, superseded_by, superseded_reason) \
                 SELECT id, version, value_text, value_number, flag, status, produced_by, analysed_at, verified_by, \
                 verified_at, authorised_by, authorised_at, amended_by, amended_at, amendment_reason, $3, $4, $5 \
                 FROM result WHERE id = $1 AND version = $2 AND status IN ('final', 'amended')",
            )
            .bind(amended.id.0)
            .bind(amended.previous_version)
            .bind(micros(amended.amended_at))
            .bind(amended.amended_by.0)
            .bind(amended.reason.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
                if n != 1 {
                    return Err(conflict());
                }
                sqlx::query(
                "UPDATE result SET value_text = $3, value_number = $4, flag = $5, status = 'amended', version = $6, \
                 amended_by = $7, amended_at = $8, amendment_reason = $9 WHERE id = $1 AND version = $2",
            )
            .bind(amended.id.0)
            .bind(amended.previous_version)
            .bind(amendment.value_text.as_str())
            .bind(amendment.value_number)
            .bind(amendment.flag.as_deref())
            .bind(amended.version)
            .bind(amended.amended_by.0)
            .bind(micros(amended.amended_at))
            .bind(amended.reason.as_str())
            .execute(&mut *tx)
            .await?;
                sqlx::query(
                    "UPDATE lab_request SET report_amended_at = $2, updated_at = $2 WHERE id = $1",
                )
                .bind(amendment.request_id.0)
                .bind(micros(amended.amended_at))
                .execute(&mut *tx)
                .await?;
            }
            insert_result_comments!(tx, comments);
            for notification in notifications {
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
            for amendment in amendments {
                crate::request_status::recompute(
                    &mut *tx,
                    amendment.request_id,
                    amendment.amended.amended_by,
                    amendment.amended.amended_at,
                )
                .await?;
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// When the request's report was last amended, if ever.
    pub async fn report_amended_at(&self, request: RequestId) -> StoreResult<Option<Timestamp>> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT report_amended_at FROM lab_request WHERE id = $1")
                .bind(request.0)
                .fetch_one(pool)
                .await?;
            row.opt_at("report_amended_at")
        })
    }

    /// The verification state of each result of a request, in the order
    /// booked.
    pub async fn list_result_reviews(
        &self,
        request: RequestId,
    ) -> StoreResult<Vec<ResultReviewState>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT res.id, res.position, res.status, res.version, res.produced_by, res.verified_by, \
                 vu.display_name AS verified_by_name, res.verified_at, res.authorised_by, \
                 au.display_name AS authorised_by_name, res.authorised_at, mu.display_name AS amended_by_name, \
                 res.amended_at, res.amendment_reason \
                 FROM result res LEFT JOIN app_user vu ON vu.id = res.verified_by \
                 LEFT JOIN app_user au ON au.id = res.authorised_by \
                 LEFT JOIN app_user mu ON mu.id = res.amended_by \
                 WHERE res.request_id = $1 ORDER BY res.position",
            )
            .bind(request.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ResultReviewState {
                    id: ResultId(row.uuid("id")?),
                    position: row.int("position")?,
                    status: row.text("status")?,
                    version: row.int("version")?,
                    produced_by: UserId(row.uuid("produced_by")?),
                    verified: named(
                        row.opt_uuid("verified_by")?,
                        row.opt_text("verified_by_name")?,
                        row.opt_at("verified_at")?,
                    ),
                    authorised: named(
                        row.opt_uuid("authorised_by")?,
                        row.opt_text("authorised_by_name")?,
                        row.opt_at("authorised_at")?,
                    ),
                    amended: match (
                        row.opt_text("amended_by_name")?,
                        row.opt_at("amended_at")?,
                        row.opt_text("amendment_reason")?,
                    ) {
                        (Some(name), Some(at), Some(reason)) => Some((name, at, reason)),
                        _ => None,
                    },
                })
            })
            .collect()
        })
    }

    /// The versions of a request's results replaced by amendments, oldest
    /// first within each result.
    pub async fn list_result_versions(
        &self,
        request: RequestId,
    ) -> StoreResult<Vec<ResultVersionRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT rv.result_id, rv.version, rv.value_text, rv.flag, rv.status, pu.display_name AS produced_by_name, \
                 au.display_name AS authorised_by_name, rv.superseded_at, su.display_name AS superseded_by_name, \
                 rv.superseded_reason \
                 FROM result_version rv JOIN result res ON res.id = rv.result_id \
                 JOIN app_user pu ON pu.id = rv.produced_by \
                 LEFT JOIN app_user au ON au.id = rv.authorised_by \
                 JOIN app_user su ON su.id = rv.superseded_by \
                 WHERE res.request_id = $1 ORDER BY res.position, rv.version",
            )
            .bind(request.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ResultVersionRecord {
                    result_id: ResultId(row.uuid("result_id")?),
                    version: row.int("version")?,
                    value_text: row.text("value_text")?,
                    flag: row.opt_text("flag")?,
                    status: row.text("status")?,
                    produced_by_name: row.text("produced_by_name")?,
                    authorised_by_name: row.opt_text("authorised_by_name")?,
                    superseded_at: row.at("superseded_at")?,
                    superseded_by_name: row.text("superseded_by_name")?,
                    superseded_reason: row.text("superseded_reason")?,
                })
            })
            .collect()
        })
    }

    /// Results of the viewer's departments with status `status`
    /// (`measured`: to verify; `verified`: to authorise), urgent first,
    /// then oldest first. Results withdrawn after a failed QC run are left
    /// out: they can never be released.
    pub async fn result_queue(
        &self,
        viewer: UserId,
        status: &str,
        limit: i64,
    ) -> StoreResult<Vec<QueueRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT res.id, r.accession, r.priority, r.created_at, d.name AS department_name, res.patient_id, \
                 i.code, res.value_text, res.unit, res.flag, res.produced_by, res.verified_by \
                 FROM result res JOIN lab_request r ON r.id = res.request_id \
                 JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1 \
                 JOIN department d ON d.id = r.department_id \
                 JOIN investigation i ON i.id = res.investigation_id \
                 WHERE res.status = $2 \
                 AND NOT EXISTS (SELECT 1 FROM qc_hold_review rv WHERE rv.result_id = res.id AND rv.outcome = 'withdrawn') \
                 ORDER BY CASE WHEN r.priority = 'urgent' THEN 0 ELSE 1 END, r.created_at, r.accession, res.position \
                 LIMIT $3",
            )
            .bind(viewer.0)
            .bind(status)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(QueueRecord {
                    id: ResultId(row.uuid("id")?),
                    accession: row.text("accession")?,
                    priority: row.text("priority")?,
                    booked_at: row.at("created_at")?,
                    department_name: row.text("department_name")?,
                    patient_id: PatientId(row.uuid("patient_id")?),
                    code: row.text("code")?,
                    value_text: row.text("value_text")?,
                    unit: row.opt_text("unit")?,
                    flag: row.opt_text("flag")?,
                    produced_by: UserId(row.uuid("produced_by")?),
                    verified_by: row.opt_uuid("verified_by")?.map(UserId),
                })
            })
            .collect()
        })
    }
}
