//! Sign-in, sessions and API tokens.
//!
//! Passwords are hashed with argon2id. Session cookies and API tokens are
//! random 256-bit values; only their SHA-256 hashes are stored, so a copy of
//! the database does not let anyone sign in.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use benchwork_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use benchwork_domain::ids::{ApiTokenId, AuditEventId, UserId};
use benchwork_domain::staff::{AccountKind, Role};
use benchwork_store::{ApiTokenRecord, SessionRecord, StoreError, UserRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Actor, AppError, AppResult, Ctx, HashingParams, audit_event, new_uuid};

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(params: HashingParams, password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        hasher(params)?
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))
    })
    .await
    .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))?
    .map_err(AppError::Internal)
}

fn hasher(params: HashingParams) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a password against a stored PHC hash on a blocking thread. The
/// parameters are read from the hash itself.
async fn verify_password(hash: String, password: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|error| anyhow::anyhow!("stored password hash: {error}"))?;
        Ok::<bool, anyhow::Error>(
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(|error| anyhow::anyhow!("checking a password: {error}"))?
    .map_err(AppError::Internal)
}

/// A random 256-bit token, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Turns a stored account into an actor, or `None` when the account is
/// disabled or its roles are unreadable.
pub fn actor_from(user: &UserRecord, source_address: Option<String>) -> AppResult<Actor> {
    let roles = user
        .roles
        .iter()
        .map(|code| Role::parse(code))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| anyhow::anyhow!("account {}: {error}", user.username))?;
    let kind = AccountKind::parse(&user.kind)
        .map_err(|error| anyhow::anyhow!("account {}: {error}", user.username))?;
    Ok(Actor {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        kind,
        roles,
        departments: user.departments.clone(),
        source_address,
        must_change_password: user.must_change_password,
    })
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session token for the cookie (shown once, never stored).
    pub token: String,
    /// The anti-forgery token for the session's forms.
    pub csrf_token: String,
    /// Who signed in.
    pub actor: Actor,
}

const SIGN_IN_REFUSED: &str = "Enter a correct username and password";

fn anonymous_event(
    ctx: &Ctx,
    username: &str,
    source_address: &str,
    event_type: &str,
    detail: &str,
) -> AuditEvent {
    AuditEvent {
        id: AuditEventId(new_uuid()),
        recorded: ctx.now(),
        action: AuditAction::Execute,
        event_type: event_type.to_owned(),
        outcome: AuditOutcome::MinorFailure,
        actor_id: None,
        actor_name: username.chars().take(100).collect(),
        actor_roles: String::new(),
        source_address: Some(source_address.to_owned()),
        entity_type: None,
        entity_id: None,
        patient_id: None,
        department_id: None,
        detail: Some(detail.to_owned()),
        before: None,
        after: None,
    }
}

/// Signs a person in. Refuses, with the same message whatever the reason,
/// unknown usernames, wrong passwords, disabled accounts and system
/// identities; refuses everything for a while after repeated failures from
/// the same username or address. Every attempt is audited.
pub async fn sign_in(
    ctx: &Ctx,
    username: &str,
    password: &str,
    source_address: &str,
) -> AppResult<SignedIn> {
    let now = ctx.now();
    let typed = username
        .trim()
        .to_ascii_lowercase()
        .replace('\0', "\u{fffd}");
    if typed.is_empty() || password.is_empty() {
        let mut errors = Vec::new();
        if typed.is_empty() {
            errors.push(crate::FieldError::new("username", "Enter your username"));
        }
        if password.is_empty() {
            errors.push(crate::FieldError::new("password", "Enter your password"));
        }
        return Err(AppError::Invalid(errors));
    }
    let policy = ctx.settings.throttle;
    let ((n_user, latest_user), (n_source, latest_source)) = ctx
        .store
        .recent_sign_in_failures(&typed, source_address, policy.window_start(now))
        .await?;
    // The per-address limit is wider: several people may share one bench PC
    // or a hospital's address translation.
    let locked = policy
        .locked_until(u32::try_from(n_user).unwrap_or(u32::MAX), latest_user, now)
        .or_else(|| {
            policy.locked_until(
                u32::try_from(n_source / 4).unwrap_or(u32::MAX),
                latest_source,
                now,
            )
        });
    if let Some(until) = locked {
        let event = anonymous_event(
            ctx,
            &typed,
            source_address,
            "session.sign-in",
            "refused: too many failed attempts",
        );
        ctx.store.append_audit_events(&[event]).await?;
        return Err(AppError::TooManyAttempts { until });
    }

    let user = match ctx.store.get_user_by_username(&typed).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(error) => return Err(error.into()),
    };
    let usable = user.as_ref().filter(|user| {
        user.disabled_at.is_none()
            && user.kind == AccountKind::Person.code()
            && user.password_hash.is_some()
    });
    // Always run one hash check so that response time does not tell whether
    // the username exists.
    let hash = usable
        .and_then(|user| user.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_owned());
    let password_ok = verify_password(hash, password.to_owned()).await? && usable.is_some();
    let user = match (usable, password_ok) {
        (Some(user), true) => user.clone(),
        _ => {
            let reason = match &user {
                None => "refused: unknown username",
                Some(user) if user.disabled_at.is_some() => "refused: account disabled",
                Some(user) if user.kind != AccountKind::Person.code() => {
                    "refused: system identities cannot sign in"
                }
                Some(_) => "refused: wrong password",
            };
            let mut event = anonymous_event(ctx, &typed, source_address, "session.sign-in", reason);
            if let Some(user) = &user {
                event.actor_id = Some(user.id);
                event.actor_roles = user.roles.join(",");
            }
            ctx.store
                .record_sign_in_failure(&typed, source_address, now, &[event])
                .await?;
            return Err(AppError::Unauthenticated(SIGN_IN_REFUSED.into()));
        }
    };

    let actor = actor_from(&user, Some(source_address.to_owned()))?;
    let token = random_token();
    let csrf_token = random_token();
    let session = SessionRecord {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: csrf_token.clone(),
        source_address: Some(source_address.to_owned()),
        created_at: now,
        last_seen_at: now,
    };
    let mut event = audit_event(&actor, now, AuditAction::Execute, "session.sign-in");
    event.entity_type = Some("User".into());
    event.entity_id = Some(user.id.to_string());
    ctx.store.create_session(&session, &[event]).await?;
    ctx.store.clear_sign_in_failures(&typed).await?;
    Ok(SignedIn {
        token,
        csrf_token,
        actor,
    })
}

/// An argon2id hash of a random password, checked when the username does
/// not exist so that both paths cost the same.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0QSAn2RaSLtp0mHf0mH6VtLqTnL2kzQv1d8G1m9SXgk";

/// A signed-in person's live session.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    /// Who.
    pub actor: Actor,
    /// The session's anti-forgery token.
    pub csrf_token: String,
    /// The stored hash of the cookie token.
    pub token_hash: Vec<u8>,
}

/// Why a session cookie did not give a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionProblem {
    /// No such session (signed out, or ended by a password change or
    /// disabling).
    Unknown,
    /// It timed out.
    Expired(benchwork_domain::session::SessionExpiry),
}

/// Looks up the session for a cookie token, enforcing the idle and absolute
/// time-outs and the account's state. An expired session is deleted and the
/// expiry audited.
pub async fn resolve_session(
    ctx: &Ctx,
    token: &str,
    source_address: &str,
) -> AppResult<Result<ActiveSession, SessionProblem>> {
    let now = ctx.now();
    let hash = token_hash(token);
    let session = match ctx.store.get_session(&hash).await {
        Ok(session) => session,
        Err(StoreError::NotFound) => return Ok(Err(SessionProblem::Unknown)),
        Err(error) => return Err(error.into()),
    };
    let user = ctx.store.get_user(session.user_id).await?;
    let actor = actor_from(&user, Some(source_address.to_owned()))?;
    if user.disabled_at.is_some() {
        ctx.store.delete_session(&hash, &[]).await?;
        return Ok(Err(SessionProblem::Unknown));
    }
    if let Err(expiry) = ctx
        .settings
        .session
        .check(session.created_at, session.last_seen_at, now)
    {
        let mut event = audit_event(&actor, now, AuditAction::Execute, "session.expire");
        event.detail = Some(expiry.to_string());
        ctx.store.delete_session(&hash, &[event]).await?;
        return Ok(Err(SessionProblem::Expired(expiry)));
    }
    // Record use at most once a minute: the idle time-out does not need
    // more precision, and it spares a write on every page.
    if now.duration_since(session.last_seen_at) >= jiff::SignedDuration::from_secs(60) {
        ctx.store.touch_session(&hash, now).await?;
    }
    Ok(Ok(ActiveSession {
        actor,
        csrf_token: session.csrf_token,
        token_hash: hash,
    }))
}

/// Signs out: the session ends on the server, not just in the browser.
pub async fn sign_out(ctx: &Ctx, session: &ActiveSession) -> AppResult<()> {
    let event = audit_event(
        &session.actor,
        ctx.now(),
        AuditAction::Execute,
        "session.sign-out",
    );
    ctx.store
        .delete_session(&session.token_hash, &[event])
        .await?;
    Ok(())
}

/// A newly issued API token; the only time its value is visible.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token's id.
    pub id: ApiTokenId,
    /// The secret value, for the `Authorization: Bearer` header.
    pub token: String,
}

/// Issues an API token for `user_id` (a person, or a system identity for an
/// interface or instrument). Only administrators may issue tokens.
pub async fn issue_api_token(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    label: &str,
) -> AppResult<IssuedToken> {
    crate::require(ctx, actor, benchwork_domain::staff::Permission::ManageStaff).await?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "label",
            "Enter what the token is for (up to 100 characters)",
        ));
    }
    let user = ctx.store.get_user(user_id).await?;
    if user.disabled_at.is_some() {
        return Err(AppError::Conflict(
            "the account is disabled; enable it before issuing a token".into(),
        ));
    }
    let now = ctx.now();
    let token = format!("bwk_{}", random_token());
    let record = ApiTokenRecord {
        id: ApiTokenId(new_uuid()),
        user_id,
        token_hash: token_hash(&token),
        label: label.to_owned(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let mut event = audit_event(actor, now, AuditAction::Create, "api-token.issue");
    event.entity_type = Some("ApiToken".into());
    event.entity_id = Some(record.id.to_string());
    event.detail = Some(format!("token '{label}' for {}", user.username));
    ctx.store.create_api_token(&record, &[event]).await?;
    Ok(IssuedToken {
        id: record.id,
        token,
    })
}

/// Revokes an API token.
pub async fn revoke_api_token(
    ctx: &Ctx,
    actor: &Actor,
    user_id: UserId,
    token_id: ApiTokenId,
) -> AppResult<()> {
    crate::require(ctx, actor, benchwork_domain::staff::Permission::ManageStaff).await?;
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Update, "api-token.revoke");
    event.entity_type = Some("ApiToken".into());
    event.entity_id = Some(token_id.to_string());
    ctx.store
        .revoke_api_token(token_id, user_id, now, &[event])
        .await?;
    Ok(())
}

/// The actor behind a bearer token, or `Unauthenticated`.
pub async fn authenticate_token(ctx: &Ctx, token: &str, source_address: &str) -> AppResult<Actor> {
    let refused = || AppError::Unauthenticated("the API token is not valid".into());
    let record = match ctx.store.get_api_token(&token_hash(token.trim())).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Err(refused()),
        Err(error) => return Err(error.into()),
    };
    if record.revoked_at.is_some() {
        return Err(refused());
    }
    let user = ctx.store.get_user(record.user_id).await?;
    if user.disabled_at.is_some() {
        return Err(refused());
    }
    let now = ctx.now();
    if record
        .last_used_at
        .is_none_or(|last| now.duration_since(last) >= jiff::SignedDuration::from_secs(60))
    {
        ctx.store.touch_api_token(record.id, now).await?;
    }
    let mut actor = actor_from(&user, Some(source_address.to_owned()))?;
    // A token is for a machine client; it never forces a password change.
    actor.must_change_password = false;
    Ok(actor)
}

/// Checks a password against a stored hash (for a person confirming their
/// current password).
pub async fn check_password(hash: String, password: String) -> AppResult<bool> {
    verify_password(hash, password).await
}
