//! The request status and its history, and the request lines that
//! turnaround is measured on.
//!
//! [`recompute`] runs inside the transaction of every change that can move
//! a request's status (booking, a custody step, results recorded, an
//! authorisation, an amendment): it locks the request row, reads the lines,
//! asks `benchwork_domain::request_status::derive_status` and, when the
//! status changes, updates `lab_request.status` and appends a
//! `request_status_event` row. Locking the row first means two changes to
//! one request made at once (two results authorised together on
//! PostgreSQL) are derived one after the other, each seeing the other's
//! committed change.

use benchwork_domain::ids::{DepartmentId, PatientId, UserId};
use benchwork_domain::request::{RequestId, SpecimenId, SpecimenStatus};
use benchwork_domain::request_status::{LineProgress, LineSpecimen, RequestStatus, derive_status};
use benchwork_domain::result::ResultId;
use benchwork_domain::result_state::ResultStatus;
use jiff::Timestamp;

use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, micros, on_pool};

/// A connection (inside a transaction) on which a status can be recomputed.
pub(crate) trait StatusConnection {
    /// Recomputes `request`'s status; records a change by `by` at `at`.
    async fn recompute_status(
        &mut self,
        request: RequestId,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Appends one row to the request's status history.
    async fn insert_status_event(
        &mut self,
        request: RequestId,
        from: Option<&str>,
        to: RequestStatus,
        by: UserId,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// The request a specimen belongs to.
    async fn request_of_specimen(&mut self, specimen: SpecimenId) -> StoreResult<RequestId>;

    /// The request a result belongs to.
    async fn request_of_result(&mut self, result: ResultId) -> StoreResult<RequestId>;
}

fn corrupt(what: &str, code: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} {code:?} is not known"))
}

macro_rules! impl_status_connection {
    ($connection:ty) => {
        impl StatusConnection for $connection {
            async fn recompute_status(
                &mut self,
                request: RequestId,
                by: UserId,
                at: Timestamp,
            ) -> StoreResult<()> {
                // Lock the request row before reading its lines.
                sqlx::query("UPDATE lab_request SET status = status WHERE id = $1")
                    .bind(request.0)
                    .execute(&mut *self)
                    .await?;
                let current: String =
                    sqlx::query_scalar("SELECT status FROM lab_request WHERE id = $1")
                        .bind(request.0)
                        .fetch_one(&mut *self)
                        .await?;
                let rows = sqlx::query(
                    "SELECT s.status AS specimen_status, \
                     CAST(CASE WHEN s.rejection_reason IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_rejected, \
                     res.status AS result_status \
                     FROM request_item ri LEFT JOIN specimen s ON s.id = ri.specimen_id \
                     LEFT JOIN result res ON res.request_id = ri.request_id AND res.position = ri.position \
                     WHERE ri.request_id = $1 ORDER BY ri.position",
                )
                .bind(request.0)
                .fetch_all(&mut *self)
                .await?;
                let mut lines = Vec::with_capacity(rows.len());
                for row in &rows {
                    let specimen = row
                        .opt_text("specimen_status")?
                        .map(|code| {
                            SpecimenStatus::parse(&code).ok_or_else(|| corrupt("specimen status", &code))
                        })
                        .transpose()?;
                    let result = row
                        .opt_text("result_status")?
                        .map(|code| {
                            ResultStatus::parse(&code).ok_or_else(|| corrupt("result status", &code))
                        })
                        .transpose()?;
                    lines.push(LineProgress {
                        specimen: LineSpecimen::from_stored(specimen, row.int("was_rejected")? == 1),
                        result,
                    });
                }
                let derived = derive_status(&lines);
                if derived.code() == current {
                    return Ok(());
                }
                sqlx::query("UPDATE lab_request SET status = $2, updated_at = $3 WHERE id = $1")
                    .bind(request.0)
                    .bind(derived.code())
                    .bind(micros(at))
                    .execute(&mut *self)
                    .await?;
                self.insert_status_event(request, Some(current.as_str()), derived, by, at)
                    .await?;
                Ok(())
            }

            async fn insert_status_event(
                &mut self,
                request: RequestId,
                from: Option<&str>,
                to: RequestStatus,
                by: UserId,
                at: Timestamp,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO request_status_event (id, request_id, from_status, to_status, by_user, at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(uuid::Uuid::now_v7())
                .bind(request.0)
                .bind(from)
                .bind(to.code())
                .bind(by.0)
                .bind(micros(at))
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn request_of_specimen(&mut self, specimen: SpecimenId) -> StoreResult<RequestId> {
                let id: uuid::Uuid = sqlx::query_scalar("SELECT request_id FROM specimen WHERE id = $1")
                    .bind(specimen.0)
                    .fetch_one(&mut *self)
                    .await?;
                Ok(RequestId(id))
            }

            async fn request_of_result(&mut self, result: ResultId) -> StoreResult<RequestId> {
                let id: uuid::Uuid = sqlx::query_scalar("SELECT request_id FROM result WHERE id = $1")
                    .bind(result.0)
                    .fetch_one(&mut *self)
                    .await?;
                Ok(RequestId(id))
            }
        }
    };
}

impl_status_connection!(sqlx::SqliteConnection);
impl_status_connection!(sqlx::PgConnection);

/// Recomputes a request's status inside the caller's transaction.
pub(crate) async fn recompute(
    connection: &mut impl StatusConnection,
    request: RequestId,
    by: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    connection.recompute_status(request, by, at).await
}

/// Recomputes the status of a specimen's request.
pub(crate) async fn recompute_for_specimen(
    connection: &mut impl StatusConnection,
    specimen: SpecimenId,
    by: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    let request = connection.request_of_specimen(specimen).await?;
    connection.recompute_status(request, by, at).await
}

/// Recomputes the status of a result's request.
pub(crate) async fn recompute_for_result(
    connection: &mut impl StatusConnection,
    result: ResultId,
    by: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    let request = connection.request_of_result(result).await?;
    connection.recompute_status(request, by, at).await
}

/// Records the booking as the first status of a new request.
pub(crate) async fn record_booking(
    connection: &mut impl StatusConnection,
    request: RequestId,
    by: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    connection
        .insert_status_event(request, None, RequestStatus::Registered, by, at)
        .await
}

/// One change of a request's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStatusEventRecord {
    /// The status before (none for the booking).
    pub from_status: Option<String>,
    /// The status after.
    pub to_status: String,
    /// Who made the change that moved it.
    pub by_name: String,
    /// When.
    pub at: Timestamp,
}

/// A request line for turnaround: when its clock started and when its
/// result was first authorised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnaroundLineRecord {
    /// Accession number.
    pub accession: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Investigation code.
    pub code: String,
    /// Its name in the booked version.
    pub name: String,
    /// Priority code.
    pub priority: String,
    /// Routine and urgent targets of the booked version, minutes.
    pub target_routine_minutes: i64,
    /// Urgent target, minutes.
    pub target_urgent_minutes: i64,
    /// The specimen's first receipt, or the booking for a line without
    /// specimen.
    pub started_at: Timestamp,
    /// The result's first authorisation, if released.
    pub authorised_at: Option<Timestamp>,
}

/// Which lines [`Store::turnaround_lines`] returns.
#[derive(Debug, Clone, Copy)]
pub enum TurnaroundLines {
    /// Lines whose clock started in `[from, to)`, released or not.
    StartedBetween(Timestamp, Timestamp),
    /// Lines started, not released and whose specimen is not rejected.
    Open,
}

impl Store {
    /// A request's status history, oldest first.
    pub async fn list_request_status_events(
        &self,
        request: RequestId,
    ) -> StoreResult<Vec<RequestStatusEventRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT e.from_status, e.to_status, u.display_name AS by_name, e.at FROM request_status_event e \
                 JOIN app_user u ON u.id = e.by_user WHERE e.request_id = $1 ORDER BY e.at, e.id",
            )
            .bind(request.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RequestStatusEventRecord {
                    from_status: row.opt_text("from_status")?,
                    to_status: row.text("to_status")?,
                    by_name: row.text("by_name")?,
                    at: row.at("at")?,
                })
            })
            .collect()
        })
    }

    /// Request lines of `department` (which must be one of the viewer's,
    /// otherwise nothing), oldest start first.
    pub async fn turnaround_lines(
        &self,
        viewer: UserId,
        department: DepartmentId,
        which: TurnaroundLines,
    ) -> StoreResult<Vec<TurnaroundLineRecord>> {
        let (open, from, to) = match which {
            TurnaroundLines::StartedBetween(from, to) => (0_i64, micros(from), micros(to)),
            TurnaroundLines::Open => (1_i64, i64::MIN, i64::MAX),
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT * FROM (SELECT r.accession, r.patient_id, i.code, v.name, r.priority, \
                 v.tat_routine_minutes, v.tat_urgent_minutes, \
                 CASE WHEN ri.specimen_id IS NULL THEN r.created_at ELSE \
                 (SELECT MIN(e.at) FROM specimen_event e WHERE e.specimen_id = ri.specimen_id AND e.status = 'received') END \
                 AS started_at, \
                 CASE WHEN res.status IN ('final', 'amended') THEN res.authorised_at ELSE NULL END AS authorised_at, \
                 CAST(CASE WHEN s.rejection_reason IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_rejected, ri.position \
                 FROM request_item ri JOIN lab_request r ON r.id = ri.request_id \
                 JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1 \
                 JOIN investigation i ON i.id = ri.investigation_id \
                 JOIN investigation_version v ON v.investigation_id = ri.investigation_id AND v.version = ri.investigation_version \
                 LEFT JOIN specimen s ON s.id = ri.specimen_id \
                 LEFT JOIN result res ON res.request_id = ri.request_id AND res.position = ri.position \
                 WHERE r.department_id = $2) line \
                 WHERE line.started_at IS NOT NULL \
                 AND (($3 = 0 AND line.started_at >= $4 AND line.started_at < $5) \
                 OR ($3 = 1 AND line.authorised_at IS NULL AND line.was_rejected = 0)) \
                 ORDER BY line.started_at, line.accession, line.position",
            )
            .bind(viewer.0)
            .bind(department.0)
            .bind(open)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(TurnaroundLineRecord {
                    accession: row.text("accession")?,
                    patient_id: PatientId(row.uuid("patient_id")?),
                    code: row.text("code")?,
                    name: row.text("name")?,
                    priority: row.text("priority")?,
                    target_routine_minutes: row.int("tat_routine_minutes")?,
                    target_urgent_minutes: row.int("tat_urgent_minutes")?,
                    started_at: row.at("started_at")?,
                    authorised_at: row.opt_at("authorised_at")?,
                })
            })
            .collect()
        })
    }
}
