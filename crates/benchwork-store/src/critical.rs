//! Critical-result communication tasks, their attempts and the escalation
//! chain (issue 6). Every change is a conditional update on the task row
//! (`WHERE status = 'open'`, `WHERE escalation_level = n`) written with its
//! audit events, notifications and follow-up job in one transaction, so
//! that a step fires once whatever the number of app servers.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::{DepartmentId, PatientId, UserId};
use benchwork_domain::request::RequestId;
use benchwork_domain::result::ResultId;
use benchwork_domain::result_state::VerifiedResult;
use jiff::Timestamp;
use uuid::Uuid;

use crate::audit::insert_events;
use crate::incidents::{NewIncidentRecord, insert_incident};
use crate::jobs::NewJob;
use crate::notifications::NewNotification;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// A task to open with a verification.
#[derive(Debug, Clone)]
pub struct NewCriticalTask {
    /// Its id.
    pub id: Uuid,
    /// The result.
    pub result_id: ResultId,
    /// Its request.
    pub request_id: RequestId,
    /// The request's department.
    pub department_id: DepartmentId,
    /// The patient.
    pub patient_id: PatientId,
    /// The result version verified.
    pub result_version: i64,
    /// Investigation code.
    pub code: String,
    /// Value as typed.
    pub value_text: String,
    /// Unit.
    pub unit: Option<String>,
    /// LL or HH.
    pub flag: String,
    /// Category code, if any.
    pub category: Option<String>,
    /// Verification time.
    pub opened_at: Timestamp,
    /// Communicate by.
    pub deadline_at: Timestamp,
}

/// A task as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalTaskRecord {
    /// Its id.
    pub id: Uuid,
    /// The result.
    pub result_id: ResultId,
    /// Its request.
    pub request_id: RequestId,
    /// Accession number.
    pub accession: String,
    /// Department.
    pub department_id: DepartmentId,
    /// Department name (the discipline).
    pub department_name: String,
    /// The patient.
    pub patient_id: PatientId,
    /// "FAMILY, Given".
    pub patient_name: String,
    /// NHS number.
    pub nhs_number: Option<String>,
    /// Result version.
    pub result_version: i64,
    /// Investigation code.
    pub code: String,
    /// Value as typed.
    pub value_text: String,
    /// Unit.
    pub unit: Option<String>,
    /// LL or HH.
    pub flag: String,
    /// Category.
    pub category: Option<String>,
    /// Opened (verification time).
    pub opened_at: Timestamp,
    /// Deadline.
    pub deadline_at: Timestamp,
    /// open, closed, cancelled.
    pub status: String,
    /// Steps fired so far.
    pub escalation_level: i64,
    /// Who is handling it.
    pub handler_id: Option<UserId>,
    /// Their name.
    pub handler_name: Option<String>,
    /// read-back, senior-decision, cancelled.
    pub closed_how: Option<String>,
    /// Reason (senior decision, cancellation).
    pub closed_reason: Option<String>,
    /// Who closed it.
    pub closed_by_name: Option<String>,
    /// When.
    pub closed_at: Option<Timestamp>,
    /// When the result was communicated.
    pub communicated_at: Option<Timestamp>,
}

/// An attempt to store.
#[derive(Debug, Clone)]
pub struct NewCriticalAttempt {
    /// Its id.
    pub id: Uuid,
    /// The task.
    pub task_id: Uuid,
    /// When.
    pub attempted_at: Timestamp,
    /// Recipient.
    pub recipient_name: String,
    /// Their role.
    pub recipient_role: String,
    /// Their location.
    pub recipient_location: String,
    /// Phone or in person.
    pub contact: String,
    /// Outcome code.
    pub outcome: String,
    /// Read back.
    pub read_back: bool,
    /// Note.
    pub note: String,
    /// Recorded by.
    pub recorded_by: UserId,
    /// Recorded at.
    pub recorded_at: Timestamp,
}

/// An attempt as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalAttemptRecord {
    /// Its id.
    pub id: Uuid,
    /// When.
    pub attempted_at: Timestamp,
    /// Recipient.
    pub recipient_name: String,
    /// Their role.
    pub recipient_role: String,
    /// Their location.
    pub recipient_location: String,
    /// Phone or in person.
    pub contact: String,
    /// Outcome code.
    pub outcome: String,
    /// Read back.
    pub read_back: bool,
    /// Note.
    pub note: String,
    /// Who recorded it.
    pub recorded_by_name: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// A stored escalation step: (level, after_minutes, role codes, raises incident).
pub type EscalationStepRow = (i64, i64, String, bool);

/// How a task is closed.
#[derive(Debug, Clone)]
pub struct TaskClosure {
    /// read-back or senior-decision.
    pub how: String,
    /// Reason (senior decision).
    pub reason: Option<String>,
    /// By whom.
    pub by: UserId,
    /// When recorded.
    pub at: Timestamp,
    /// When communicated.
    pub communicated_at: Timestamp,
}

/// An escalation step to record.
#[derive(Debug, Clone)]
pub struct EscalationWrite {
    /// The task.
    pub task_id: Uuid,
    /// The level it must still be at.
    pub from_level: i64,
    /// The level reached.
    pub to_level: i64,
    /// When.
    pub at: Timestamp,
    /// Notifications to each role of the step.
    pub notifications: Vec<NewNotification>,
    /// The next step's job.
    pub next_job: Option<NewJob>,
    /// The incident raised at the final step.
    pub incident: Option<NewIncidentRecord>,
}

const TASK_SELECT: &str = "SELECT t.id, t.result_id, t.request_id, r.accession, t.department_id, d.name AS department_name, \
     t.patient_id, p.family_name, p.given_name, p.nhs_number, t.result_version, t.code, t.value_text, t.unit, t.flag, \
     t.category, t.opened_at, t.deadline_at, t.status, t.escalation_level, t.handler_id, h.display_name AS handler_name, \
     t.closed_how, t.closed_reason, c.display_name AS closed_by_name, t.closed_at, t.communicated_at \
     FROM critical_task t JOIN lab_request r ON r.id = t.request_id JOIN department d ON d.id = t.department_id \
     JOIN patient p ON p.id = t.patient_id LEFT JOIN app_user h ON h.id = t.handler_id \
     LEFT JOIN app_user c ON c.id = t.closed_by";

fn task_from_row(row: &impl RowExt) -> StoreResult<CriticalTaskRecord> {
    Ok(CriticalTaskRecord {
        id: row.uuid("id")?,
        result_id: ResultId(row.uuid("result_id")?),
        request_id: RequestId(row.uuid("request_id")?),
        accession: row.text("accession")?,
        department_id: DepartmentId(row.uuid("department_id")?),
        department_name: row.text("department_name")?,
        patient_id: PatientId(row.uuid("patient_id")?),
        patient_name: format!(
            "{}, {}",
            row.text("family_name")?.to_uppercase(),
            row.text("given_name")?
        ),
        nhs_number: row.opt_text("nhs_number")?,
        result_version: row.int("result_version")?,
        code: row.text("code")?,
        value_text: row.text("value_text")?,
        unit: row.opt_text("unit")?,
        flag: row.text("flag")?,
        category: row.opt_text("category")?,
        opened_at: row.at("opened_at")?,
        deadline_at: row.at("deadline_at")?,
        status: row.text("status")?,
        escalation_level: row.int("escalation_level")?,
        handler_id: row.opt_uuid("handler_id")?.map(UserId),
        handler_name: row.opt_text("handler_name")?,
        closed_how: row.opt_text("closed_how")?,
        closed_reason: row.opt_text("closed_reason")?,
        closed_by_name: row.opt_text("closed_by_name")?,
        closed_at: row.opt_at("closed_at")?,
        communicated_at: row.opt_at("communicated_at")?,
    })
}

fn attempt_from_row(row: &impl RowExt) -> StoreResult<CriticalAttemptRecord> {
    Ok(CriticalAttemptRecord {
        id: row.uuid("id")?,
        attempted_at: row.at("attempted_at")?,
        recipient_name: row.text("recipient_name")?,
        recipient_role: row.text("recipient_role")?,
        recipient_location: row.text("recipient_location")?,
        contact: row.text("contact")?,
        outcome: row.text("outcome")?,
        read_back: row.int("read_back")? == 1,
        note: row.text("note")?,
        recorded_by_name: row.text("recorded_by_name")?,
        recorded_at: row.at("recorded_at")?,
    })
}

fn closed_meanwhile() -> StoreError {
    StoreError::Conflict {
        constraint: "critical_task.status".into(),
    }
}

/// Inserts a job inside a transaction (ignored when its dedupe key exists).
macro_rules! insert_job {
    ($tx:expr, $job:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO job (id, kind, payload, status, run_at, attempts, interval_secs, dedupe_key, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind($job.kind.as_str())
        .bind($job.payload.as_str())
        .bind(micros($job.run_at))
        .bind($job.interval_secs)
        .bind($job.dedupe_key.as_deref())
        .bind(micros($at))
        .execute(&mut *$tx)
        .await?
    };
}

macro_rules! insert_notifications {
    ($tx:expr, $notifications:expr) => {
        for notification in $notifications {
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
            .execute(&mut *$tx)
            .await?;
        }
    };
}

/// Closes an open task inside a transaction; `Conflict` when it is not open.
macro_rules! close_task {
    ($tx:expr, $task:expr, $closure:expr) => {{
        let n = sqlx::query(
            "UPDATE critical_task SET status = 'closed', closed_how = $2, closed_reason = $3, closed_by = $4, \
             closed_at = $5, communicated_at = $6, updated_at = $5 WHERE id = $1 AND status = 'open'",
        )
        .bind($task)
        .bind($closure.how.as_str())
        .bind($closure.reason.as_deref())
        .bind($closure.by.0)
        .bind(micros($closure.at))
        .bind(micros($closure.communicated_at))
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(closed_meanwhile());
        }
    }};
}

/// Opens a task (unless one is open for the result) and queues its first
/// job, inside a transaction.
macro_rules! insert_task {
    ($tx:expr, $task:expr, $first_job:expr) => {{
        let task = $task;
        let first_job = $first_job;
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM critical_task WHERE result_id = $1 AND status = 'open'",
            )
            .bind(task.result_id.0)
            .fetch_one(&mut *$tx)
            .await?;
            if open == 0 {
                sqlx::query(
                    "INSERT INTO critical_task (id, result_id, request_id, department_id, patient_id, result_version, code, \
                     value_text, unit, flag, category, opened_at, deadline_at, status, escalation_level, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'open', 0, $12)",
                )
                .bind(task.id)
                .bind(task.result_id.0)
                .bind(task.request_id.0)
                .bind(task.department_id.0)
                .bind(task.patient_id.0)
                .bind(task.result_version)
                .bind(task.code.as_str())
                .bind(task.value_text.as_str())
                .bind(task.unit.as_deref())
                .bind(task.flag.as_str())
                .bind(task.category.as_deref())
                .bind(micros(task.opened_at))
                .bind(micros(task.deadline_at))
                .execute(&mut *$tx)
                .await?;
                if let Some(job) = first_job {
                    insert_job!($tx, job, task.opened_at);
                }
            }
    }};
}

impl Store {
    /// Records a technical verification (as [`Store::save_verification`])
    /// and, in the same transaction, opens the critical-result task and
    /// queues its first escalation job. The result must still be measured
    /// at the same version, otherwise `Conflict`; a task already open for
    /// the result is left as it is (one open task per result).
    pub async fn save_verification_opening_task(
        &self,
        verified: &VerifiedResult,
        events: &[AuditEvent],
        task: &NewCriticalTask,
        first_job: Option<&NewJob>,
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
                return Err(StoreError::Conflict {
                    constraint: "result.status".into(),
                });
            }
            insert_task!(tx, task, first_job);
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Opens a task outside a verification (an amendment to a critical
    /// value when no task is open), with its first job and events.
    pub async fn open_critical_task(
        &self,
        task: &NewCriticalTask,
        first_job: Option<&NewJob>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            insert_task!(tx, task, first_job);
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// A task of one of the viewer's departments.
    pub async fn get_critical_task(
        &self,
        id: Uuid,
        viewer: UserId,
    ) -> StoreResult<CriticalTaskRecord> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} JOIN user_department scope ON scope.department_id = t.department_id AND scope.user_id = $2 \
             WHERE t.id = $1"
        ));
        on_pool!(self, |pool| {
            let row = sqlx::query(sql)
                .bind(id)
                .bind(viewer.0)
                .fetch_one(pool)
                .await?;
            task_from_row(&row)
        })
    }

    /// A task by id alone (for jobs).
    pub async fn get_critical_task_unscoped(&self, id: Uuid) -> StoreResult<CriticalTaskRecord> {
        let sql = sqlx::AssertSqlSafe(format!("{TASK_SELECT} WHERE t.id = $1"));
        on_pool!(self, |pool| {
            let row = sqlx::query(sql).bind(id).fetch_one(pool).await?;
            task_from_row(&row)
        })
    }

    /// Tasks of the viewer's departments: the open ones (most urgent
    /// first) when `open`, otherwise those closed or cancelled since
    /// `since` (newest first).
    pub async fn list_critical_tasks(
        &self,
        viewer: UserId,
        open: bool,
        since: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<CriticalTaskRecord>> {
        let filter = if open {
            "t.status = 'open' ORDER BY t.deadline_at, t.id"
        } else {
            "t.status <> 'open' AND t.closed_at >= $2 ORDER BY t.closed_at DESC, t.id"
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} JOIN user_department scope ON scope.department_id = t.department_id AND scope.user_id = $1 \
             WHERE {filter} LIMIT $3"
        ));
        on_pool!(self, |pool| {
            let rows = sqlx::query(sql)
                .bind(viewer.0)
                .bind(micros(since))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(task_from_row).collect()
        })
    }

    /// Tasks (any status) of the viewer's departments opened in
    /// `[from, to)`, for compliance.
    pub async fn list_critical_tasks_opened(
        &self,
        viewer: UserId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<CriticalTaskRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} JOIN user_department scope ON scope.department_id = t.department_id AND scope.user_id = $1 \
             WHERE t.opened_at >= $2 AND t.opened_at < $3 ORDER BY t.opened_at"
        ));
        on_pool!(self, |pool| {
            let rows = sqlx::query(sql)
                .bind(viewer.0)
                .bind(micros(from))
                .bind(micros(to))
                .fetch_all(pool)
                .await?;
            rows.iter().map(task_from_row).collect()
        })
    }

    /// Every task of a request or of a patient (newest first), for the
    /// report and the patient's results.
    pub async fn list_critical_tasks_of(
        &self,
        request: Option<RequestId>,
        patient: Option<PatientId>,
    ) -> StoreResult<Vec<CriticalTaskRecord>> {
        let (column, id) = match (request, patient) {
            (Some(request), _) => ("t.request_id", request.0),
            (None, Some(patient)) => ("t.patient_id", patient.0),
            (None, None) => return Ok(Vec::new()),
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} WHERE {column} = $1 ORDER BY t.opened_at DESC, t.id"
        ));
        on_pool!(self, |pool| {
            let rows = sqlx::query(sql).bind(id).fetch_all(pool).await?;
            rows.iter().map(task_from_row).collect()
        })
    }

    /// The open task of a result, if any.
    pub async fn open_critical_task_of_result(
        &self,
        result: ResultId,
    ) -> StoreResult<Option<CriticalTaskRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} WHERE t.result_id = $1 AND t.status = 'open'"
        ));
        let task = on_pool!(self, |pool| {
            match sqlx::query(sql).bind(result.0).fetch_optional(pool).await? {
                Some(row) => Some(task_from_row(&row)?),
                None => None,
            }
        });
        Ok(task)
    }

    /// A task's attempts, oldest first.
    pub async fn list_critical_attempts(
        &self,
        task: Uuid,
    ) -> StoreResult<Vec<CriticalAttemptRecord>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT a.id, a.attempted_at, a.recipient_name, a.recipient_role, a.recipient_location, a.contact, \
                 a.outcome, a.read_back, a.note, u.display_name AS recorded_by_name, a.recorded_at \
                 FROM critical_attempt a JOIN app_user u ON u.id = a.recorded_by \
                 WHERE a.task_id = $1 ORDER BY a.attempted_at, a.recorded_at, a.id",
            )
            .bind(task)
            .fetch_all(pool)
            .await?;
            rows.iter().map(attempt_from_row).collect()
        })
    }

    /// Records an attempt on an open task and, when `closure` is given,
    /// closes it, in one transaction. `Conflict` when the task is no
    /// longer open.
    pub async fn save_critical_attempt(
        &self,
        attempt: &NewCriticalAttempt,
        closure: Option<&TaskClosure>,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            // Touching the row first takes its lock, so that a concurrent
            // closure or cancellation is seen.
            let n = sqlx::query(
                "UPDATE critical_task SET updated_at = $2 WHERE id = $1 AND status = 'open'",
            )
            .bind(attempt.task_id)
            .bind(micros(attempt.recorded_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(closed_meanwhile());
            }
            sqlx::query(
                "INSERT INTO critical_attempt (id, task_id, attempted_at, recipient_name, recipient_role, recipient_location, \
                 contact, outcome, read_back, note, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(attempt.id)
            .bind(attempt.task_id)
            .bind(micros(attempt.attempted_at))
            .bind(attempt.recipient_name.as_str())
            .bind(attempt.recipient_role.as_str())
            .bind(attempt.recipient_location.as_str())
            .bind(attempt.contact.as_str())
            .bind(attempt.outcome.as_str())
            .bind(i64::from(attempt.read_back))
            .bind(attempt.note.as_str())
            .bind(attempt.recorded_by.0)
            .bind(micros(attempt.recorded_at))
            .execute(&mut *tx)
            .await?;
            if let Some(closure) = closure {
                close_task!(tx, attempt.task_id, closure);
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Closes an open task without an attempt (a senior decision).
    pub async fn close_critical_task(
        &self,
        task: Uuid,
        closure: &TaskClosure,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            close_task!(tx, task, closure);
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Makes `user` the handler of an open task.
    pub async fn take_critical_task(
        &self,
        task: Uuid,
        user: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE critical_task SET handler_id = $2, handler_since = $3, updated_at = $3 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(task)
            .bind(user.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(closed_meanwhile());
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Cancels the open task `task` (its result was withdrawn, recalled or
    /// amended to a non-critical value), with notifications and events.
    /// Returns whether this call cancelled it.
    pub async fn cancel_critical_task(
        &self,
        task: Uuid,
        by: UserId,
        at: Timestamp,
        reason: &str,
        notifications: &[NewNotification],
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let cancelled = in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE critical_task SET status = 'cancelled', closed_how = 'cancelled', closed_reason = $2, \
                 closed_by = $3, closed_at = $4, updated_at = $4 WHERE id = $1 AND status = 'open'",
            )
            .bind(task)
            .bind(reason)
            .bind(by.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                insert_notifications!(tx, notifications);
                insert_events!(tx, events);
            }
            n == 1
        });
        Ok(cancelled)
    }

    /// Updates the open task of a result amended to another critical value.
    pub async fn update_critical_task_value(
        &self,
        task: Uuid,
        value_text: &str,
        flag: &str,
        version: i64,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE critical_task SET value_text = $2, flag = $3, result_version = $4, updated_at = $5 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(task)
            .bind(value_text)
            .bind(flag)
            .bind(version)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(closed_meanwhile());
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Fires one escalation step: moves the task from `from_level` to
    /// `to_level` if it is still open at `from_level`, and in the same
    /// transaction delivers the notifications, queues the next step and
    /// raises the incident of a final step. Returns whether this call won
    /// (false: the task closed meanwhile or another server fired the step).
    pub async fn escalate_critical_task(
        &self,
        step: &EscalationWrite,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let won = in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE critical_task SET escalation_level = $3, updated_at = $4 \
                 WHERE id = $1 AND status = 'open' AND escalation_level = $2",
            )
            .bind(step.task_id)
            .bind(step.from_level)
            .bind(step.to_level)
            .bind(micros(step.at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                insert_notifications!(tx, &step.notifications);
                if let Some(job) = &step.next_job {
                    insert_job!(tx, job, step.at);
                }
                if let Some(incident) = &step.incident {
                    insert_incident!(tx, incident);
                }
                insert_events!(tx, events);
            }
            n == 1
        });
        Ok(won)
    }

    /// A department's stored escalation chain, by level.
    pub async fn list_critical_escalation_steps(
        &self,
        department: DepartmentId,
    ) -> StoreResult<Vec<EscalationStepRow>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT level, after_minutes, roles, raises_incident FROM critical_escalation_step \
                 WHERE department_id = $1 ORDER BY level",
            )
            .bind(department.0)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        row.int("level")?,
                        row.int("after_minutes")?,
                        row.text("roles")?,
                        row.int("raises_incident")? == 1,
                    ))
                })
                .collect()
        })
    }
}
