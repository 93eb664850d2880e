//! Departments, staff accounts, roles, sessions, sign-in failures and API
//! tokens.

use std::collections::HashMap;

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::{ApiTokenId, DepartmentId, UserId};
use jiff::Timestamp;
use uuid::Uuid;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// A department as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRecord {
    /// Its id.
    pub id: DepartmentId,
    /// Short unique code, e.g. `BLOOD`.
    pub code: String,
    /// Name shown to people.
    pub name: String,
}

/// A staff account or system identity as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Its id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// `person` or `system`.
    pub kind: String,
    /// The argon2id PHC string; `None` for system identities.
    pub password_hash: Option<String>,
    /// Whether the person must choose a new password at next sign-in.
    pub must_change_password: bool,
    /// When the account was disabled, if it is.
    pub disabled_at: Option<Timestamp>,
    /// Role codes held.
    pub roles: Vec<String>,
    /// Departments the account belongs to.
    pub departments: Vec<DepartmentId>,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// A new account to store.
#[derive(Debug, Clone)]
pub struct NewUserRecord {
    /// Its id.
    pub id: UserId,
    /// Login name (unique).
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// `person` or `system`.
    pub kind: String,
    /// The argon2id PHC string, for people.
    pub password_hash: Option<String>,
    /// Whether the person must choose a new password at first sign-in.
    pub must_change_password: bool,
    /// Role codes.
    pub roles: Vec<String>,
    /// Department ids.
    pub departments: Vec<DepartmentId>,
    /// Creation instant.
    pub created_at: Timestamp,
}

/// A change to an account's name, roles and departments.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    /// The account.
    pub id: UserId,
    /// New display name.
    pub display_name: String,
    /// New role codes (replacing the old).
    pub roles: Vec<String>,
    /// New departments (replacing the old).
    pub departments: Vec<DepartmentId>,
    /// When.
    pub updated_at: Timestamp,
}

/// A signed-in browser session. The token itself is never stored, only its
/// SHA-256 hash, so a copy of the database does not let anyone sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session cookie's token.
    pub token_hash: Vec<u8>,
    /// Whose session.
    pub user_id: UserId,
    /// The anti-forgery token every form of this session carries.
    pub csrf_token: String,
    /// Where the sign-in came from.
    pub source_address: Option<String>,
    /// Sign-in instant.
    pub created_at: Timestamp,
    /// Last use.
    pub last_seen_at: Timestamp,
}

/// An API token as stored (its hash only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// Its id.
    pub id: ApiTokenId,
    /// Whose token.
    pub user_id: UserId,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// What it is for, e.g. "Analyser interface".
    pub label: String,
    /// Issue instant.
    pub created_at: Timestamp,
    /// Last use.
    pub last_used_at: Option<Timestamp>,
    /// When revoked, if it is.
    pub revoked_at: Option<Timestamp>,
}

fn department_from_row(row: &impl RowExt) -> StoreResult<DepartmentRecord> {
    Ok(DepartmentRecord {
        id: DepartmentId(row.uuid("id")?),
        code: row.text("code")?,
        name: row.text("name")?,
    })
}

fn user_from_row(row: &impl RowExt) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: UserId(row.uuid("id")?),
        username: row.text("username")?,
        display_name: row.text("display_name")?,
        kind: row.text("kind")?,
        password_hash: row.opt_text("password_hash")?,
        must_change_password: row.int("must_change_password")? != 0,
        disabled_at: row.opt_at("disabled_at")?,
        roles: Vec::new(),
        departments: Vec::new(),
        created_at: row.at("created_at")?,
    })
}

fn session_from_row(row: &impl RowExt) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        token_hash: row.opt_bytes("token_hash")?.unwrap_or_default(),
        user_id: UserId(row.uuid("user_id")?),
        csrf_token: row.text("csrf_token")?,
        source_address: row.opt_text("source_address")?,
        created_at: row.at("created_at")?,
        last_seen_at: row.at("last_seen_at")?,
    })
}

fn token_from_row(row: &impl RowExt) -> StoreResult<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: ApiTokenId(row.uuid("id")?),
        user_id: UserId(row.uuid("user_id")?),
        token_hash: row.opt_bytes("token_hash")?.unwrap_or_default(),
        label: row.text("label")?,
        created_at: row.at("created_at")?,
        last_used_at: row.opt_at("last_used_at")?,
        revoked_at: row.opt_at("revoked_at")?,
    })
}

/// Writes the role and department rows of an account inside a transaction.
macro_rules! insert_memberships {
    ($tx:expr, $user_id:expr, $roles:expr, $departments:expr, $at:expr) => {
        for role in $roles {
            sqlx::query("INSERT INTO user_role (user_id, role, created_at) VALUES ($1, $2, $3)")
                .bind($user_id.0)
                .bind(role.as_str())
                .bind(micros($at))
                .execute(&mut *$tx)
                .await?;
        }
        for department in $departments {
            sqlx::query(
                "INSERT INTO user_department (user_id, department_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind($user_id.0)
            .bind(department.0)
            .bind(micros($at))
            .execute(&mut *$tx)
            .await?;
        }
    };
}

/// Role rows and department rows: (user id, role code), (user id, department id).
type Memberships = (Vec<(Uuid, String)>, Vec<(Uuid, Uuid)>);

impl Store {
    /// Creates a department.
    pub async fn create_department(
        &self,
        department: &DepartmentRecord,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO department (id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(department.id.0)
            .bind(department.code.as_str())
            .bind(department.name.as_str())
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Every department, by name.
    pub async fn list_departments(&self) -> StoreResult<Vec<DepartmentRecord>> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT id, code, name FROM department ORDER BY name")
                .fetch_all(pool)
                .await?
                .iter()
                .map(department_from_row)
                .collect()
        })
    }

    /// Creates an account with its roles and departments.
    pub async fn create_user(
        &self,
        user: &NewUserRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO app_user (id, username, display_name, kind, password_hash, must_change_password, \
                 password_changed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)",
            )
            .bind(user.id.0)
            .bind(user.username.as_str())
            .bind(user.display_name.as_str())
            .bind(user.kind.as_str())
            .bind(user.password_hash.as_deref())
            .bind(i64::from(user.must_change_password))
            .bind(micros(user.created_at))
            .execute(&mut *tx)
            .await?;
            insert_memberships!(tx, user.id, &user.roles, &user.departments, user.created_at);
            insert_events!(tx, events);
        });
        Ok(())
    }

    async fn load_memberships(&self, users: &mut [UserRecord]) -> StoreResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let single = (users.len() == 1).then(|| users[0].id.0);
        let (roles, departments): Memberships = on_pool!(self, |pool| {
            let role_rows = sqlx::query(
                "SELECT user_id, role FROM user_role WHERE ($1 IS NULL OR user_id = $1) ORDER BY role",
            )
            .bind(single)
            .fetch_all(pool)
            .await?;
            let department_rows = sqlx::query(
                "SELECT user_id, department_id FROM user_department WHERE ($1 IS NULL OR user_id = $1)",
            )
            .bind(single)
            .fetch_all(pool)
            .await?;
            (
                role_rows
                    .iter()
                    .map(|row| Ok((row.uuid("user_id")?, row.text("role")?)))
                    .collect::<StoreResult<Vec<_>>>()?,
                department_rows
                    .iter()
                    .map(|row| Ok((row.uuid("user_id")?, row.uuid("department_id")?)))
                    .collect::<StoreResult<Vec<_>>>()?,
            )
        });
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        for (idx, user) in users.iter().enumerate() {
            index.insert(user.id.0, idx);
        }
        for (user_id, role) in roles {
            if let Some(&idx) = index.get(&user_id) {
                users[idx].roles.push(role);
            }
        }
        for (user_id, department_id) in departments {
            if let Some(&idx) = index.get(&user_id) {
                users[idx].departments.push(DepartmentId(department_id));
            }
        }
        Ok(())
    }

    /// The account with this id.
    pub async fn get_user(&self, id: UserId) -> StoreResult<UserRecord> {
        let sql = "SELECT id, username, display_name, kind, password_hash, must_change_password, disabled_at, created_at \
                   FROM app_user WHERE id = $1";
        let user = on_pool!(self, |pool| user_from_row(
            &sqlx::query(sql).bind(id.0).fetch_one(pool).await?
        )?);
        let mut users = [user];
        self.load_memberships(&mut users).await?;
        let [user] = users;
        Ok(user)
    }

    /// The account with this username.
    pub async fn get_user_by_username(&self, username: &str) -> StoreResult<UserRecord> {
        let sql = "SELECT id, username, display_name, kind, password_hash, must_change_password, disabled_at, created_at \
                   FROM app_user WHERE username = $1";
        let user = on_pool!(self, |pool| user_from_row(
            &sqlx::query(sql).bind(username).fetch_one(pool).await?
        )?);
        let mut users = [user];
        self.load_memberships(&mut users).await?;
        let [user] = users;
        Ok(user)
    }

    /// Every account, by display name.
    pub async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        let sql = "SELECT id, username, display_name, kind, password_hash, must_change_password, disabled_at, created_at \
                   FROM app_user ORDER BY display_name, username";
        let mut users = on_pool!(self, |pool| {
            sqlx::query(sql)
                .fetch_all(pool)
                .await?
                .iter()
                .map(user_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        });
        self.load_memberships(&mut users).await?;
        Ok(users)
    }

    /// Replaces an account's display name, roles and departments.
    pub async fn update_user(&self, update: &UserUpdate, events: &[AuditEvent]) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated =
                sqlx::query("UPDATE app_user SET display_name = $1, updated_at = $2 WHERE id = $3")
                    .bind(update.display_name.as_str())
                    .bind(micros(update.updated_at))
                    .bind(update.id.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM user_role WHERE user_id = $1")
                .bind(update.id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM user_department WHERE user_id = $1")
                .bind(update.id.0)
                .execute(&mut *tx)
                .await?;
            insert_memberships!(
                tx,
                update.id,
                &update.roles,
                &update.departments,
                update.updated_at
            );
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Disables (`Some(at)`) or re-enables (`None`) an account. Disabling
    /// ends every session of that account in the same transaction.
    pub async fn set_user_disabled(
        &self,
        id: UserId,
        disabled_at: Option<Timestamp>,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated =
                sqlx::query("UPDATE app_user SET disabled_at = $1, updated_at = $2 WHERE id = $3")
                    .bind(disabled_at.map(micros))
                    .bind(micros(at))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::NotFound);
            }
            if disabled_at.is_some() {
                sqlx::query("DELETE FROM web_session WHERE user_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Sets a new password hash and ends every session of that account in
    /// the same transaction. `keep_session` (the token hash of the session
    /// that changed its own password) survives.
    pub async fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
        keep_session: Option<&[u8]>,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE app_user SET password_hash = $1, must_change_password = $2, password_changed_at = $3, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(password_hash)
            .bind(i64::from(must_change_password))
            .bind(micros(at))
            .bind(id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "DELETE FROM web_session WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
            )
            .bind(id.0)
            .bind(keep_session)
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Stores a new session together with the sign-in event.
    pub async fn create_session(
        &self,
        session: &SessionRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO web_session (token_hash, user_id, csrf_token, source_address, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(session.token_hash.as_slice())
            .bind(session.user_id.0)
            .bind(session.csrf_token.as_str())
            .bind(session.source_address.as_deref())
            .bind(micros(session.created_at))
            .bind(micros(session.last_seen_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The session whose token hashes to `token_hash`.
    pub async fn get_session(&self, token_hash: &[u8]) -> StoreResult<SessionRecord> {
        let sql = "SELECT token_hash, user_id, csrf_token, source_address, created_at, last_seen_at \
                   FROM web_session WHERE token_hash = $1";
        on_pool!(self, |pool| session_from_row(
            &sqlx::query(sql).bind(token_hash).fetch_one(pool).await?
        ))
    }

    /// Records that a session was used.
    pub async fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query("UPDATE web_session SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(micros(at))
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends a session (sign-out or expiry) with its audit event.
    pub async fn delete_session(
        &self,
        token_hash: &[u8],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query("DELETE FROM web_session WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Removes sessions idle since before `idle_before` or created before
    /// `created_before`. Returns how many were removed.
    pub async fn purge_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> StoreResult<u64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query("DELETE FROM web_session WHERE last_seen_at < $1 OR created_at < $2")
                .bind(micros(idle_before))
                .bind(micros(created_before))
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// How many sessions an account has open.
    pub async fn count_sessions(&self, user_id: UserId) -> StoreResult<i64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM web_session WHERE user_id = $1")
                .bind(user_id.0)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Records a failed sign-in with its audit event.
    pub async fn record_sign_in_failure(
        &self,
        username: &str,
        source_address: &str,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO sign_in_failure (id, username, source_address, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(Uuid::now_v7())
            .bind(username)
            .bind(source_address)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Failures since `since` for this username and for this source
    /// address: (count, latest) for each.
    pub async fn recent_sign_in_failures(
        &self,
        username: &str,
        source_address: &str,
        since: Timestamp,
    ) -> StoreResult<((i64, Option<Timestamp>), (i64, Option<Timestamp>))> {
        let (by_user, by_source) = on_pool!(self, |pool| {
            let by_user = sqlx::query(
                "SELECT COUNT(*) AS n, MAX(created_at) AS latest FROM sign_in_failure WHERE username = $1 AND created_at >= $2",
            )
            .bind(username)
            .bind(micros(since))
            .fetch_one(pool)
            .await?;
            let by_source = sqlx::query(
                "SELECT COUNT(*) AS n, MAX(created_at) AS latest FROM sign_in_failure WHERE source_address = $1 AND created_at >= $2",
            )
            .bind(source_address)
            .bind(micros(since))
            .fetch_one(pool)
            .await?;
            (
                (by_user.int("n")?, by_user.opt_at("latest")?),
                (by_source.int("n")?, by_source.opt_at("latest")?),
            )
        });
        Ok((by_user, by_source))
    }

    /// Forgets failures for a username after a successful sign-in.
    pub async fn clear_sign_in_failures(&self, username: &str) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sign_in_failure WHERE username = $1")
                .bind(username)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a new API token (its hash) with its audit event.
    pub async fn create_api_token(
        &self,
        token: &ApiTokenRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO api_token (id, user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.id.0)
            .bind(token.user_id.0)
            .bind(token.token_hash.as_slice())
            .bind(token.label.as_str())
            .bind(micros(token.created_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The token whose value hashes to `token_hash`.
    pub async fn get_api_token(&self, token_hash: &[u8]) -> StoreResult<ApiTokenRecord> {
        let sql = "SELECT id, user_id, token_hash, label, created_at, last_used_at, revoked_at FROM api_token WHERE token_hash = $1";
        on_pool!(self, |pool| token_from_row(
            &sqlx::query(sql).bind(token_hash).fetch_one(pool).await?
        ))
    }

    /// The tokens issued to an account, newest first.
    pub async fn list_api_tokens(&self, user_id: UserId) -> StoreResult<Vec<ApiTokenRecord>> {
        let sql = "SELECT id, user_id, token_hash, label, created_at, last_used_at, revoked_at FROM api_token \
                   WHERE user_id = $1 ORDER BY created_at DESC";
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(user_id.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(token_from_row)
                .collect()
        })
    }

    /// Records that a token was used.
    pub async fn touch_api_token(&self, id: ApiTokenId, at: Timestamp) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2")
                .bind(micros(at))
                .bind(id.0)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Revokes a token of `user_id`.
    pub async fn revoke_api_token(
        &self,
        id: ApiTokenId,
        user_id: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(micros(at))
            .bind(id.0)
            .bind(user_id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::NotFound);
            }
            insert_events!(tx, events);
        });
        Ok(())
    }
}
