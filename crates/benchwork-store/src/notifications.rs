//! The in-app notification inbox, per person and per role.

use benchwork_domain::ids::{DepartmentId, NotificationId, UserId};
use jiff::Timestamp;

use crate::row::RowExt;
use crate::{Store, StoreResult, micros, on_pool};

/// A notification to deliver: to one person, or to everyone holding a role
/// (optionally only in one department).
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// Its id.
    pub id: NotificationId,
    /// One person.
    pub recipient_user_id: Option<UserId>,
    /// Everyone with this role code.
    pub recipient_role: Option<String>,
    /// Restricts a role notification to one department.
    pub department_id: Option<DepartmentId>,
    /// Headline.
    pub title: String,
    /// Details.
    pub body: String,
    /// Where to go to act on it (a path in the web app).
    pub link: Option<String>,
    /// When.
    pub created_at: Timestamp,
}

/// A notification as one person sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// Its id.
    pub id: NotificationId,
    /// Headline.
    pub title: String,
    /// Details.
    pub body: String,
    /// Where to act on it.
    pub link: Option<String>,
    /// The role it was sent to, if it was sent to a role.
    pub recipient_role: Option<String>,
    /// When.
    pub created_at: Timestamp,
    /// When this person marked it read.
    pub read_at: Option<Timestamp>,
}

// A person sees notifications addressed to them, and those addressed to a
// role they hold, either organisation-wide or for a department they belong to.
const INBOX_SQL: &str = "SELECT n.id, n.title, n.body, n.link, n.recipient_role, n.created_at, r.read_at \
    FROM notification n \
    LEFT JOIN notification_read r ON r.notification_id = n.id AND r.user_id = $1 \
    WHERE (n.recipient_user_id = $1 \
       OR (n.recipient_role IN (SELECT role FROM user_role WHERE user_id = $1) \
           AND (n.department_id IS NULL \
                OR n.department_id IN (SELECT department_id FROM user_department WHERE user_id = $1)))) \
      AND ($2 = 0 OR r.read_at IS NULL) \
    ORDER BY n.created_at DESC LIMIT $3";

// Whether notification $1 is in person $2's inbox (same rule as INBOX_SQL).
const VISIBLE_SQL: &str = "SELECT COUNT(*) FROM notification n WHERE n.id = $1 \
    AND (n.recipient_user_id = $2 \
       OR (n.recipient_role IN (SELECT role FROM user_role WHERE user_id = $2) \
           AND (n.department_id IS NULL \
                OR n.department_id IN (SELECT department_id FROM user_department WHERE user_id = $2))))";

impl Store {
    /// Delivers notifications.
    pub async fn create_notifications(&self, notifications: &[NewNotification]) -> StoreResult<()> {
        crate::in_tx!(self, |tx| {
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
        });
        Ok(())
    }

    /// A person's inbox, newest first.
    pub async fn list_notifications(
        &self,
        user_id: UserId,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(INBOX_SQL)
                .bind(user_id.0)
                .bind(i64::from(unread_only))
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok(NotificationRecord {
                        id: NotificationId(row.uuid("id")?),
                        title: row.text("title")?,
                        body: row.text("body")?,
                        link: row.opt_text("link")?,
                        recipient_role: row.opt_text("recipient_role")?,
                        created_at: row.at("created_at")?,
                        read_at: row.opt_at("read_at")?,
                    })
                })
                .collect()
        })
    }

    /// Marks a notification read for one person. Returns `false` when the
    /// notification is not in their inbox.
    pub async fn mark_notification_read(
        &self,
        id: NotificationId,
        user_id: UserId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let n_visible: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(VISIBLE_SQL)
                .bind(id.0)
                .bind(user_id.0)
                .fetch_one(pool)
                .await?
        });
        let visible = n_visible > 0;
        if !visible {
            return Ok(false);
        }
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO notification_read (notification_id, user_id, read_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (notification_id, user_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(user_id.0)
            .bind(micros(at))
            .execute(pool)
            .await?;
        });
        Ok(true)
    }
}
