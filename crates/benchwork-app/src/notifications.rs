//! The in-app notification inbox.

use benchwork_domain::ids::{DepartmentId, NotificationId, UserId};
use benchwork_domain::staff::Role;
use benchwork_store::{NewNotification, NotificationRecord};

use crate::{Actor, AppError, AppResult, Ctx, new_uuid};

/// What to say and where to act on it.
#[derive(Debug, Clone)]
pub struct Message {
    /// Headline.
    pub title: String,
    /// Details.
    pub body: String,
    /// A path in the web app.
    pub link: Option<String>,
}

/// Sends a notification to one person.
pub async fn notify_person(
    ctx: &Ctx,
    user_id: UserId,
    message: Message,
) -> AppResult<NotificationId> {
    let id = NotificationId(new_uuid());
    ctx.store
        .create_notifications(&[NewNotification {
            id,
            recipient_user_id: Some(user_id),
            recipient_role: None,
            department_id: None,
            title: message.title,
            body: message.body,
            link: message.link,
            created_at: ctx.now(),
        }])
        .await?;
    Ok(id)
}

/// Sends a notification to everyone holding `role`, in `department` only
/// when one is given.
pub async fn notify_role(
    ctx: &Ctx,
    role: Role,
    department: Option<DepartmentId>,
    message: Message,
) -> AppResult<NotificationId> {
    let id = NotificationId(new_uuid());
    ctx.store
        .create_notifications(&[NewNotification {
            id,
            recipient_user_id: None,
            recipient_role: Some(role.code().to_owned()),
            department_id: department,
            title: message.title,
            body: message.body,
            link: message.link,
            created_at: ctx.now(),
        }])
        .await?;
    Ok(id)
}

/// The actor's inbox, newest first.
pub async fn inbox(
    ctx: &Ctx,
    actor: &Actor,
    unread_only: bool,
) -> AppResult<Vec<NotificationRecord>> {
    Ok(ctx
        .store
        .list_notifications(actor.id, unread_only, 200)
        .await?)
}

/// Marks one of the actor's notifications read.
pub async fn mark_read(ctx: &Ctx, actor: &Actor, id: NotificationId) -> AppResult<()> {
    if ctx
        .store
        .mark_notification_read(id, actor.id, ctx.now())
        .await?
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
