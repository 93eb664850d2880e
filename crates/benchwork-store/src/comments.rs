//! The department comment library (`comment_code`) and the comments added
//! to results (`result_comment`). Library entries belong to a department
//! and are read through a join on the viewer's `user_department`; they are
//! deactivated, never deleted. Result comments are written inside the
//! transaction that records or amends the result (see
//! [`insert_result_comments`]).

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::comment::{CommentCodeId, ResultCommentId};
use benchwork_domain::ids::{DepartmentId, UserId};
use benchwork_domain::request::RequestId;
use benchwork_domain::result::ResultId;
use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// A library comment to store.
#[derive(Debug, Clone)]
pub struct NewCommentCodeRecord {
    /// Its id.
    pub id: CommentCodeId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Code, unique in the department.
    pub code: String,
    /// Text.
    pub text: String,
    /// Who added it.
    pub created_by: UserId,
    /// When.
    pub created_at: Timestamp,
}

/// A library comment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentCodeRecord {
    /// Its id.
    pub id: CommentCodeId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Department name.
    pub department_name: String,
    /// Code.
    pub code: String,
    /// Text.
    pub text: String,
    /// Whether it may be chosen at entry.
    pub active: bool,
}

/// A comment to add to a result.
#[derive(Debug, Clone)]
pub struct NewResultComment {
    /// Its id.
    pub id: ResultCommentId,
    /// The result.
    pub result_id: ResultId,
    /// The result's version it was added to.
    pub result_version: i64,
    /// The library code, or `None` for free text.
    pub code: Option<String>,
    /// The text (the library's text copied for a coded comment).
    pub text: String,
    /// Who added it.
    pub created_by: UserId,
    /// When.
    pub created_at: Timestamp,
}

/// A comment on a result, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCommentRecord {
    /// The result.
    pub result_id: ResultId,
    /// The result's version it was added to.
    pub result_version: i64,
    /// The library code, or `None` for free text.
    pub code: Option<String>,
    /// The text.
    pub text: String,
    /// Who added it.
    pub created_by_name: String,
    /// When.
    pub created_at: Timestamp,
}

/// Inserts result comments inside a transaction.
macro_rules! insert_result_comments {
    ($tx:expr, $comments:expr) => {
        for comment in $comments {
            sqlx::query(
                "INSERT INTO result_comment (id, result_id, result_version, code, text, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(comment.id.0)
            .bind(comment.result_id.0)
            .bind(comment.result_version)
            .bind(comment.code.as_deref())
            .bind(comment.text.as_str())
            .bind(comment.created_by.0)
            .bind(micros(comment.created_at))
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_result_comments;

fn code_from_row(row: &impl RowExt) -> StoreResult<CommentCodeRecord> {
    Ok(CommentCodeRecord {
        id: CommentCodeId(row.uuid("id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        department_name: row.text("department_name")?,
        code: row.text("code")?,
        text: row.text("text")?,
        active: row.int("active")? != 0,
    })
}

impl Store {
    /// Adds a library comment with its audit event. A code already used in
    /// the department is `Conflict`.
    pub async fn create_comment_code(
        &self,
        record: &NewCommentCodeRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO comment_code (id, department_id, code, text, active, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
            )
            .bind(record.id.0)
            .bind(record.department_id.0)
            .bind(record.code.as_str())
            .bind(record.text.as_str())
            .bind(record.created_by.0)
            .bind(micros(record.created_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The library comments of the viewer's departments, by department and
    /// code, inactive ones included.
    pub async fn list_comment_codes(&self, viewer: UserId) -> StoreResult<Vec<CommentCodeRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT c.id, c.department_id, d.name AS department_name, c.code, c.text, c.active \
                 FROM comment_code c JOIN department d ON d.id = c.department_id \
                 JOIN user_department scope ON scope.department_id = c.department_id AND scope.user_id = $1 \
                 ORDER BY d.name, c.code",
            )
            .bind(viewer.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(code_from_row)
            .collect()
        })
    }

    /// The active library comments of one department, by code.
    pub async fn active_comment_codes(
        &self,
        department: DepartmentId,
    ) -> StoreResult<Vec<CommentCodeRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT c.id, c.department_id, d.name AS department_name, c.code, c.text, c.active \
                 FROM comment_code c JOIN department d ON d.id = c.department_id \
                 WHERE c.department_id = $1 AND c.active = 1 ORDER BY c.code",
            )
            .bind(department.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(code_from_row)
            .collect()
        })
    }

    /// Deactivates a library comment of one of the viewer's departments,
    /// with its audit event. `NotFound` outside the viewer's departments;
    /// `Conflict` when it is already inactive.
    pub async fn deactivate_comment_code(
        &self,
        id: CommentCodeId,
        viewer: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let active: i64 = sqlx::query_scalar(
                "SELECT c.active FROM comment_code c \
                 JOIN user_department scope ON scope.department_id = c.department_id AND scope.user_id = $2 \
                 WHERE c.id = $1",
            )
            .bind(id.0)
            .bind(viewer.0)
            .fetch_one(&mut *tx)
            .await?;
            if active == 0 {
                return Err(StoreError::Conflict {
                    constraint: "comment_code.active".into(),
                });
            }
            sqlx::query("UPDATE comment_code SET active = 0, updated_at = $2 WHERE id = $1")
                .bind(id.0)
                .bind(micros(at))
                .execute(&mut *tx)
                .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The comments on a request's results, oldest first.
    pub async fn list_result_comments(
        &self,
        request: RequestId,
    ) -> StoreResult<Vec<ResultCommentRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT rc.result_id, rc.result_version, rc.code, rc.text, u.display_name, rc.created_at \
                 FROM result_comment rc JOIN result res ON res.id = rc.result_id \
                 JOIN app_user u ON u.id = rc.created_by \
                 WHERE res.request_id = $1 ORDER BY rc.created_at, rc.id",
            )
            .bind(request.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ResultCommentRecord {
                    result_id: ResultId(row.uuid("result_id")?),
                    result_version: row.int("result_version")?,
                    code: row.opt_text("code")?,
                    text: row.text("text")?,
                    created_by_name: row.text("display_name")?,
                    created_at: row.at("created_at")?,
                })
            })
            .collect()
        })
    }
}
