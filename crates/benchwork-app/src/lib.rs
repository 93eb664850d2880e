//! Use cases shared by the web, the CLI, jobs and (later) interfaces.
//!
//! Main types: [`Ctx`] (the store, the clock and the settings every action
//! needs), [`Actor`] (who is acting, with roles and departments), and
//! [`AppError`]. Actions are plain async functions in the modules:
//! [`auth`] (sign-in, sessions, API tokens), [`staff`] (accounts and
//! departments), [`audit`] (recording reads, sealing, verifying, searching),
//! [`jobs`] (the job runner), [`notifications`], [`incidents`], [`requests`]
//! (consent, requests and specimens), [`results`] (instruments, worklists
//! and result entry), [`verification`] (verification, authorisation and
//! amendment of results, and their queues) and [`demo`].
//!
//! Architecture invariant: no SQL and no HTTP here; every action takes the
//! time from `ctx.clock`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use benchwork_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use benchwork_domain::ids::{AuditEventId, DepartmentId, UserId};
use benchwork_domain::session::{SessionPolicy, ThrottlePolicy};
use benchwork_domain::staff::{AccountKind, Permission, Role, permissions_of};
use benchwork_store::{Store, StoreError};
use jiff::Timestamp;
use uuid::Uuid;

pub mod audit;
pub mod auth;
pub mod calculated;
pub mod catalogue;
pub mod comments;
pub mod cumulative;
pub mod demo;
pub mod incidents;
pub mod jobs;
pub mod notifications;
pub mod patients;
pub mod qc_charts;
pub mod reports;
pub mod requests;
pub mod results;
pub mod staff;
pub mod turnaround;
pub mod verification;
// Issue 3 administration: instruments, panel editing, filtered lists.
pub mod instruments;
pub mod lists;
pub mod panels;
// Issue 4: internal quality control.
pub mod qc;
pub mod qc_holds;
pub mod qc_setup;
// Issue 6 item 1: alert (critical) limits.
pub mod alert_limits;
// Issue 6: critical-result communication.
pub mod critical;

/// The source of the current time. Production uses [`SystemClock`]; tests
/// use [`ManualClock`] and move time forward themselves.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant, truncated to microseconds.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        benchwork_domain::time::truncate_to_micros(Timestamp::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(benchwork_domain::time::truncate_to_micros(at)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: jiff::SignedDuration) {
        if let Ok(mut now) = self.0.lock() {
            *now = now.checked_add(by).unwrap_or(*now);
        }
    }

    /// Sets the clock.
    pub fn set(&self, at: Timestamp) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|now| *now).unwrap_or_default()
    }
}

/// Parameters of the argon2id password hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashingParams {
    /// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        HashingParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The settings actions need (a subset of the binary's configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Session time-outs.
    pub session: SessionPolicy,
    /// Sign-in throttling.
    pub throttle: ThrottlePolicy,
    /// Password hashing cost.
    pub hashing: HashingParams,
    /// Where the audit chain head is written after each seal, outside the
    /// database.
    pub audit_head_file: Option<PathBuf>,
    /// This app server's name, for job leases.
    pub node_id: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            hashing: HashingParams::default(),
            audit_head_file: None,
            node_id: format!("node-{}", Uuid::new_v4().simple()),
        }
    }
}

/// Everything an action needs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The database.
    pub store: Store,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// The group-committing writer for read events.
    pub audit_reads: audit::ReadEventWriter,
}

impl Ctx {
    /// Builds a context and starts its read-event writer on the current
    /// tokio runtime.
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: Settings) -> Ctx {
        let audit_reads = audit::ReadEventWriter::spawn(store.clone());
        Ctx {
            store,
            clock,
            settings: Arc::new(settings),
            audit_reads,
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// Who is acting: a signed-in person, a machine client with an API token,
/// or the system itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Account id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Person or system identity.
    pub kind: AccountKind,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Departments belonged to.
    pub departments: Vec<DepartmentId>,
    /// Where the request came from.
    pub source_address: Option<String>,
    /// Whether the person must choose a new password before doing anything.
    pub must_change_password: bool,
}

impl Actor {
    /// Whether the actor holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        permissions_of(&self.roles).contains(&permission)
    }

    /// Refuses with [`AppError::Forbidden`] unless the actor holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "your role does not allow this; ask your line manager or an administrator if you need it".into(),
            ))
        }
    }

    /// Role codes joined with commas, as the audit trail records them.
    pub fn role_codes(&self) -> String {
        self.roles
            .iter()
            .map(|role| role.code())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether the actor belongs to `department`.
    pub fn in_department(&self, department: DepartmentId) -> bool {
        self.departments.contains(&department)
    }

    /// The actor's first role's label, for the header.
    pub fn main_role_label(&self) -> &'static str {
        self.roles
            .first()
            .map(|role| role.label())
            .unwrap_or("No role")
    }
}

/// A new audit event by `actor` at `at`; the caller fills in the entity,
/// detail and before/after.
pub fn audit_event(
    actor: &Actor,
    at: Timestamp,
    action: AuditAction,
    event_type: &str,
) -> AuditEvent {
    AuditEvent {
        id: AuditEventId(Uuid::now_v7()),
        recorded: at,
        action,
        event_type: event_type.to_owned(),
        outcome: AuditOutcome::Success,
        actor_id: Some(actor.id),
        actor_name: actor.username.clone(),
        actor_roles: actor.role_codes(),
        source_address: actor.source_address.clone(),
        entity_type: None,
        entity_id: None,
        patient_id: None,
        department_id: None,
        detail: None,
        before: None,
        after: None,
    }
}

/// Refuses with [`AppError::Forbidden`] unless `actor` holds `permission`,
/// and records the refusal in the audit trail (`access.denied`), so that
/// someone probing for what they may not see leaves a trace.
pub async fn require(ctx: &Ctx, actor: &Actor, permission: Permission) -> AppResult<()> {
    let Err(refused) = actor.require(permission) else {
        return Ok(());
    };
    let mut event = audit_event(actor, ctx.now(), AuditAction::Execute, "access.denied");
    event.outcome = AuditOutcome::MinorFailure;
    event.detail = Some(format!("refused: needs permission {permission:?}"));
    ctx.audit_reads.write(event).await?;
    Err(refused)
}

/// One problem with one field of a form or request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the form or API calls it.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl std::fmt::Display) -> FieldError {
        FieldError {
            field: field.to_owned(),
            message: message.to_string(),
        }
    }
}

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is wrong; each problem names its field.
    #[error("the input is not valid")]
    Invalid(Vec<FieldError>),
    /// No such record, or not one the actor may see.
    #[error("not found")]
    NotFound,
    /// Not allowed for this actor.
    #[error("{0}")]
    Forbidden(String),
    /// Not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many failed sign-ins.
    #[error("too many failed attempts: try again after {until}")]
    TooManyAttempts {
        /// When sign-in will be allowed again.
        until: Timestamp,
    },
    /// The record changed or already exists.
    #[error("{0}")]
    Conflict(String),
    /// A failure that is not the user's doing.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict { constraint } => AppError::Conflict(format!(
                "this conflicts with an existing record ({constraint})"
            )),
            StoreError::Other(error) => AppError::Internal(error),
        }
    }
}

/// Shorthand for action results.
pub type AppResult<T> = Result<T, AppError>;

/// A new identifier (UUID v7, time-ordered).
pub fn new_uuid() -> Uuid {
    Uuid::now_v7()
}
