//! Persistence for Benchwork: [`Store`] over SQLite or PostgreSQL.
//!
//! The engine is chosen once, from the database URL, by [`Store::connect`].
//! SQL common to both engines is written once: the [`on_pool!`] and
//! [`in_tx!`] macros expand a query body for each engine's concrete pool or
//! transaction type, so sqlx checks types per engine without the `Any`
//! driver. What differs between the engines lives in `sqlite.rs` and
//! `postgres.rs` (pragmas and start-up checks, the job-claim query with or
//! without `SKIP LOCKED`, the advisory-lock key, online backup); the one
//! other place that matches on the engine is the audit sealer in `audit.rs`,
//! which takes the write lock (`BEGIN IMMEDIATE`) or the advisory lock before
//! its shared body.
//!
//! Architecture invariant: this is the only crate with SQL. Every state
//! change writes its audit event in the same transaction.
//!
//! Conventions: instants are `BIGINT` microseconds since the Unix epoch (UTC)
//! on both engines; identifiers are UUIDs (`UUID` on PostgreSQL, 16-byte
//! `BLOB` on SQLite); integers are read as `i64`.

use jiff::Timestamp;
use sqlx::{PgPool, SqlitePool};

mod audit;
mod catalogue;
mod comments;
mod cumulative;
mod incidents;
mod jobs;
mod notifications;
mod patients;
mod postgres;
mod request_status;
mod requests;
mod results;
mod row;
mod sqlite;
mod users;
mod verification;
// Issue 3 administration: instrument corrections, panel versions.
mod instruments;
mod panels;
mod qc_charts;
// Issue 4: internal quality control.
mod qc;
mod qc_setup;
// Issue 6 item 1: alert (critical) limits.
mod alert_limits;
// Issue 6: critical-result communication.
mod critical;

pub use alert_limits::{AlertLimitSetRecord, NewAlertLimitSet};
pub use audit::{AuditFilter, AuditPage};
pub use catalogue::{InvestigationVersionRecord, PanelRecord};
pub use comments::{
    CommentCodeRecord, NewCommentCodeRecord, NewResultComment, ResultCommentRecord,
};
pub use critical::{
    CriticalAttemptRecord, CriticalTaskRecord, EscalationStepRow, EscalationWrite,
    NewCriticalAttempt, NewCriticalTask, TaskClosure,
};
pub use cumulative::{CumulativeRecord, InvestigationSummaryRecord};
pub use incidents::{IncidentFilter, IncidentLinkRecord, IncidentRecord, NewIncidentRecord};
pub use instruments::{INSTRUMENT_CHANGED, InstrumentUpdate};
pub use jobs::{ClaimedJob, JobRecord, NewJob};
pub use notifications::{NewNotification, NotificationRecord};
pub use patients::{PatientRecord, PatientSearch, PatientWrite};
pub use qc::{
    HoldBlock, HoldResultRecord, NewHoldReview, QcEstablishingTarget, QcHoldRecord, QcLotInUse,
    QcLotRecord, QcMaterialRecord, QcRuleConfigRecord, QcRunRecord, QcRunWrite, QcTargetRecord,
    QcValueRecord, QcViolationRecord,
};
pub use qc_charts::{
    QcChartViolationRecord, QcCorrectiveRecord, QcPointFilter, QcPointRecord, QcSeriesRecord,
};
pub use qc_setup::{QcSetupEstablishingRow, QcSetupMaterialRow, QcSetupRulesRow, QcSetupTargetRow};
pub use request_status::{RequestStatusEventRecord, TurnaroundLineRecord, TurnaroundLines};
pub use requests::RequestFilter;
pub use requests::{
    ConsentRecord, NewConsentRecord, NewRequestItem, NewRequestRecord, NewSpecimenRecord,
    RejectionRateRecord, RequestItemRecord, RequestRecord, SpecimenEventRecord, SpecimenRecord,
    SpecimenStep,
};
pub use results::{
    InstrumentRecord, NewInstrumentRecord, NewResultRecord, ResultRecord, ResultSlotRecord,
    WorklistFilter, WorklistRecord,
};
pub use users::{
    ApiTokenRecord, DepartmentRecord, NewUserRecord, SessionRecord, UserRecord, UserUpdate,
};
pub use verification::{
    AmendmentWrite, QueueRecord, ResultReviewRecord, ResultReviewState, ResultVersionRecord,
};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or is outside the caller's scope).
    #[error("record not found")]
    NotFound,
    /// A uniqueness or integrity rule was broken.
    #[error("conflicts with an existing record ({constraint})")]
    Conflict {
        /// The constraint or column that was violated.
        constraint: String,
    },
    /// Anything else: connection lost, disk full, a bug.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db_error) if db_error.is_unique_violation() => {
                StoreError::Conflict {
                    constraint: db_error
                        .constraint()
                        .map(str::to_owned)
                        .unwrap_or_else(|| db_error.message().to_owned()),
                }
            }
            other => StoreError::Other(anyhow::Error::new(other)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(anyhow::Error::new(error))
    }
}

/// Migration (version, description) pairs.
pub type MigrationList = Vec<(i64, String)>;

/// Shorthand for results of this crate.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite, one file.
    Sqlite,
    /// PostgreSQL 15 or later, shared by several app servers.
    Postgres,
}

#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// The SQLite database file, for the verifier's direct reader.
    sqlite_file: Option<std::path::PathBuf>,
}

/// Expands `$body` once per engine with `$pool` bound to that engine's pool.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` in one transaction per engine, with `$tx` bound to it, and
/// commits when the body succeeds. An early return (`?`) rolls back.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                let value = $body;
                $tx.commit().await?;
                value
            }
            $crate::Db::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                let value = $body;
                $tx.commit().await?;
                value
            }
        }
    };
}
pub(crate) use in_tx;

/// Microseconds since the epoch, as stored.
pub(crate) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// The instant stored as `micros`.
pub(crate) fn instant(micros: i64) -> StoreResult<Timestamp> {
    Timestamp::from_microsecond(micros).map_err(|error| {
        StoreError::Other(anyhow::anyhow!(
            "stored instant {micros} out of range: {error}"
        ))
    })
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://...`),
    /// checks the engine's safety settings, and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let store = Store::open(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without migrating (for `benchwork migrate` and
    /// read-only checks).
    pub async fn open(url: &str) -> StoreResult<Store> {
        let mut sqlite_file = None;
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Db::Postgres(postgres::connect(url).await?)
        } else if url.starts_with("sqlite:") {
            let (pool, file) = sqlite::connect(url).await?;
            sqlite_file = Some(file);
            Db::Sqlite(pool)
        } else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "unsupported database URL: expected sqlite://PATH or postgres://..."
            )));
        };
        Ok(Store { db, sqlite_file })
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        match self.db {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite(pool) => sqlite::MIGRATOR.run(pool).await?,
            Db::Postgres(pool) => postgres::MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// The migration versions this build carries for the current engine.
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        let migrator = match self.engine() {
            Engine::Sqlite => &sqlite::MIGRATOR,
            Engine::Postgres => &postgres::MIGRATOR,
        };
        migrator
            .iter()
            .map(|migration| (migration.version, migration.description.to_string()))
            .collect()
    }

    /// Migration versions and names for both engines, for the test that
    /// checks they match.
    pub fn migration_lists() -> (MigrationList, MigrationList) {
        let list = |migrator: &sqlx::migrate::Migrator| {
            migrator
                .iter()
                .map(|migration| (migration.version, migration.description.to_string()))
                .collect()
        };
        (list(&sqlite::MIGRATOR), list(&postgres::MIGRATOR))
    }

    /// Whether the database is reachable and every known migration has been
    /// applied (for `/readyz`).
    pub async fn is_ready(&self) -> StoreResult<bool> {
        let n_known = self.known_migrations().len() as i64;
        let n_applied: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(pool)
                .await?
        });
        Ok(n_applied >= n_known)
    }

    /// A description of the engine's safety settings as found, for start-up
    /// logs and `config check`.
    pub async fn describe_settings(&self) -> StoreResult<String> {
        match &self.db {
            Db::Sqlite(pool) => sqlite::describe_settings(pool).await,
            Db::Postgres(pool) => postgres::describe_settings(pool).await,
        }
    }

    /// Writes a consistent online copy of an SQLite database to `target`.
    /// PostgreSQL is backed up with its own tools; see [`Store::backup_hint`].
    pub async fn backup_to(&self, target: &std::path::Path) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite(pool) => sqlite::backup(pool, target).await,
            Db::Postgres(_) => Err(StoreError::Other(anyhow::anyhow!(
                "{}",
                Store::backup_hint()
            ))),
        }
    }

    /// How to back up a PostgreSQL database.
    pub fn backup_hint() -> &'static str {
        "PostgreSQL databases are backed up with PostgreSQL's own tools: \
         `pg_dump --format=custom --file=benchwork.dump DATABASE_URL` for a consistent logical copy, \
         or continuous archiving with pg_basebackup and WAL archiving for point-in-time recovery. \
         Keep the audit head file (see `benchwork audit head`) with the backup."
    }

    /// Closes every connection.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    /// Next value of a named counter (incident numbers, later accession
    /// numbers), allocated in its own transaction.
    pub async fn next_counter(&self, name: &str) -> StoreResult<i64> {
        let value = in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO counter (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .execute(&mut *tx)
            .await?;
            let value: i64 = sqlx::query_scalar(
                "UPDATE counter SET value = value + 1 WHERE name = $1 RETURNING value",
            )
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            value
        });
        Ok(value)
    }

    /// Runs raw SQL, for tests that simulate someone editing the database
    /// behind the application's back. Never called by the application.
    #[doc(hidden)]
    pub async fn execute_raw_for_tests(&self, sql: &str) -> StoreResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let result = on_pool!(self, |pool| sqlx::raw_sql(sql)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(result)
    }
}
