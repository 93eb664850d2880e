//! The audit trail: appending events, sealing them into the hash chain,
//! streaming the chain for verification, and searching it.

use benchwork_domain::audit::{
    AuditAction, AuditEvent, AuditOutcome, ChainHead, Hash, SealedEvent,
};
use benchwork_domain::ids::{AuditEventId, DepartmentId, PatientId, UserId};
use futures::TryStreamExt;
use jiff::Timestamp;

use crate::row::RowExt;
use crate::{Db, Store, StoreError, StoreResult, in_tx, micros, on_pool};

pub(crate) const INSERT_EVENT: &str = "INSERT INTO audit_event \
    (id, recorded, action, event_type, outcome, actor_id, actor_name, actor_roles, source_address, \
     entity_type, entity_id, patient_id, department_id, detail, before_json, after_json) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

/// Inserts audit events with the executor `$tx` (a transaction of either
/// engine), so that they commit or roll back with the change they describe.
macro_rules! insert_events {
    ($tx:expr, $events:expr) => {
        for event in $events {
            sqlx::query($crate::audit::INSERT_EVENT)
                .bind(event.id.0)
                .bind($crate::micros(event.recorded))
                .bind(event.action.code())
                .bind(event.event_type.as_str())
                .bind(i64::from(event.outcome.code()))
                .bind(event.actor_id.map(|id| id.0))
                .bind(event.actor_name.as_str())
                .bind(event.actor_roles.as_str())
                .bind(event.source_address.as_deref())
                .bind(event.entity_type.as_deref())
                .bind(event.entity_id.as_deref())
                .bind(event.patient_id.map(|id| id.0))
                .bind(event.department_id.map(|id| id.0))
                .bind(event.detail.as_deref())
                .bind(event.before.as_deref())
                .bind(event.after.as_deref())
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(crate) use insert_events;

macro_rules! event_columns {
    () => {
        "id, seq, prev_hash, hash, recorded, action, event_type, outcome, actor_id, actor_name, \
    actor_roles, source_address, entity_type, entity_id, patient_id, department_id, detail, before_json, after_json"
    };
}

fn event_from_row(row: &impl RowExt) -> StoreResult<AuditEvent> {
    let action = row.text("action")?;
    let outcome = row.int("outcome")?;
    Ok(AuditEvent {
        id: AuditEventId(row.uuid("id")?),
        recorded: row.at("recorded")?,
        action: AuditAction::parse(&action)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown audit action {action:?}")))?,
        event_type: row.text("event_type")?,
        outcome: i16::try_from(outcome)
            .ok()
            .and_then(AuditOutcome::parse)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown audit outcome {outcome}")))?,
        actor_id: row.opt_uuid("actor_id")?.map(UserId),
        actor_name: row.text("actor_name")?,
        actor_roles: row.text("actor_roles")?,
        source_address: row.opt_text("source_address")?,
        entity_type: row.opt_text("entity_type")?,
        entity_id: row.opt_text("entity_id")?,
        patient_id: row.opt_uuid("patient_id")?.map(PatientId),
        department_id: row.opt_uuid("department_id")?.map(DepartmentId),
        detail: row.opt_text("detail")?,
        before: row.opt_text("before_json")?,
        after: row.opt_text("after_json")?,
    })
}

fn hash_from(bytes: Option<Vec<u8>>) -> Hash {
    // A missing or malformed hash on a sealed row is tampering, not a
    // storage failure: it becomes a hash no event can have, which fails the
    // chain check at this row and is reported as such.
    bytes
        .and_then(|bytes| bytes.try_into().ok())
        .unwrap_or([0xff; 32])
}

fn sealed_from_row(row: &impl RowExt) -> StoreResult<SealedEvent> {
    let seq = row.int("seq")?;
    Ok(SealedEvent {
        seq: u64::try_from(seq).unwrap_or(0),
        prev_hash: hash_from(row.opt_bytes("prev_hash")?),
        hash: hash_from(row.opt_bytes("hash")?),
        event: event_from_row(row)?,
    })
}

/// Filters for searching the audit trail. Every field narrows the search.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Events by this person.
    pub actor_id: Option<UserId>,
    /// Events whose actor name (username) is exactly this.
    pub actor_name: Option<String>,
    /// Events about this patient.
    pub patient_id: Option<PatientId>,
    /// Events about records of this type.
    pub entity_type: Option<String>,
    /// Events about the record with this id.
    pub entity_id: Option<String>,
    /// Events at or after this instant.
    pub from: Option<Timestamp>,
    /// Events before this instant.
    pub to: Option<Timestamp>,
}

/// One page of search results, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The events with their sequence numbers (`None` until sealed).
    pub events: Vec<(Option<u64>, AuditEvent)>,
    /// Whether there are more events after this page.
    pub has_more: bool,
}

const SEARCH_SQL: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_event \
    WHERE ($1 IS NULL OR actor_id = $1) \
      AND ($2 IS NULL OR actor_name = $2) \
      AND ($3 IS NULL OR patient_id = $3) \
      AND ($4 IS NULL OR entity_type = $4) \
      AND ($5 IS NULL OR entity_id = $5) \
      AND ($6 IS NULL OR recorded >= $6) \
      AND ($7 IS NULL OR recorded < $7) \
    ORDER BY recorded DESC, id DESC \
    LIMIT $8 OFFSET $9"
);

/// Reads the head and a batch of unsealed events, seals them, and writes the
/// sequence numbers and hashes back, all on `$conn` inside the caller's
/// transaction. Evaluates to `StoreResult<(Option<ChainHead>, usize)>`.
macro_rules! seal_batch {
    ($conn:expr, $limit:expr, $sealed_at:expr) => {
        async {
            let head_row = sqlx::query(
                "SELECT seq, hash FROM audit_event WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(&mut *$conn)
            .await?;
            let head = match head_row {
                Some(row) => {
                    let seq = row.int("seq")?;
                    Some(ChainHead {
                        seq: u64::try_from(seq).unwrap_or(0),
                        hash: hash_from(row.opt_bytes("hash")?),
                    })
                }
                None => None,
            };
            let sql = concat!("SELECT ", event_columns!(), " FROM audit_event WHERE seq IS NULL ORDER BY recorded, id LIMIT $1");
            let rows = sqlx::query(sql).bind($limit).fetch_all(&mut *$conn).await?;
            let pending = rows
                .iter()
                .map(event_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
            let n_sealed = pending.len();
            let sealed = benchwork_domain::audit::seal(head.as_ref(), pending);
            for event in &sealed {
                sqlx::query(
                    "UPDATE audit_event SET seq = $1, prev_hash = $2, hash = $3, sealed_at = $4 WHERE id = $5 AND seq IS NULL",
                )
                .bind(i64::try_from(event.seq).unwrap_or(i64::MAX))
                .bind(event.prev_hash.as_slice())
                .bind(event.hash.as_slice())
                .bind(micros($sealed_at))
                .bind(event.event.id.0)
                .execute(&mut *$conn)
                .await?;
            }
            let new_head = sealed
                .last()
                .map(|event| ChainHead { seq: event.seq, hash: event.hash })
                .or(head);
            Ok::<_, StoreError>((new_head, n_sealed))
        }
        .await
    };
}

impl Store {
    /// Appends events that describe no stored change of their own (reads,
    /// refused actions), in one transaction. Group-committed by the caller.
    pub async fn append_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        in_tx!(self, |tx| {
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The last sealed event's position and hash, or `None` for an empty chain.
    pub async fn audit_head(&self) -> StoreResult<Option<ChainHead>> {
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT seq, hash FROM audit_event WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => Some((row.int("seq")?, row.opt_bytes("hash")?)),
                None => None,
            }
        });
        Ok(row.map(|(seq, hash)| ChainHead {
            seq: u64::try_from(seq).unwrap_or(0),
            hash: hash_from(hash),
        }))
    }

    /// Seals up to `limit` committed, unsealed events in (recorded, id)
    /// order, continuing the chain from its head. Only one sealer runs at a
    /// time across every app server (an advisory lock on PostgreSQL, the
    /// single writer on SQLite). Returns the new head and the number sealed.
    pub async fn seal_audit_events(
        &self,
        limit: i64,
        sealed_at: Timestamp,
    ) -> StoreResult<(Option<ChainHead>, usize)> {
        let (head, n_sealed) = match &self.db {
            Db::Sqlite(pool) => {
                // BEGIN IMMEDIATE: take the write lock before reading the
                // head, so that no other connection seals in between.
                let mut conn = pool.acquire().await?;
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
                let result = seal_batch!(conn, limit, sealed_at);
                match result {
                    Ok(value) => {
                        sqlx::query("COMMIT").execute(&mut *conn).await?;
                        value
                    }
                    Err(error) => {
                        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                        return Err(error);
                    }
                }
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(crate::postgres::AUDIT_SEAL_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let value = seal_batch!(tx, limit, sealed_at)?;
                tx.commit().await?;
                value
            }
        };
        Ok((head, n_sealed))
    }

    /// The chain hash of the sealed event at `seq`, if there is one.
    pub async fn audit_hash_at(&self, seq: u64) -> StoreResult<Option<Hash>> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let bytes = on_pool!(self, |pool| {
            match sqlx::query("SELECT hash FROM audit_event WHERE seq = $1")
                .bind(seq)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Some(row.opt_bytes("hash")?),
                None => None,
            }
        });
        Ok(bytes.map(hash_from))
    }

    /// The number of sealed events and the highest sequence number.
    pub async fn sealed_audit_extent(&self) -> StoreResult<(i64, u64)> {
        let (count, max_seq): (i64, Option<i64>) = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, MAX(seq) AS max_seq FROM audit_event WHERE seq IS NOT NULL",
            )
            .fetch_one(pool)
            .await?;
            (row.int("n")?, row.opt_int("max_seq")?)
        });
        Ok((
            count,
            max_seq.and_then(|seq| u64::try_from(seq).ok()).unwrap_or(0),
        ))
    }

    /// Checks the sealed events with `from <= seq < to` as one stretch of
    /// the chain (see `SegmentVerifier`). Several stretches can be checked
    /// at once, each on its own connection.
    pub async fn verify_sealed_audit_range(
        &self,
        from: u64,
        to: u64,
        expected_seq: Option<u64>,
    ) -> StoreResult<benchwork_domain::audit::Segment> {
        match (&self.db, &self.sqlite_file) {
            (Db::Sqlite(_), Some(file)) => {
                let file = file.clone();
                tokio::task::spawn_blocking(move || {
                    crate::sqlite::verify_sealed_range(&file, from, to, expected_seq)
                })
                .await
                .map_err(|error| {
                    StoreError::Other(anyhow::anyhow!("verifying the audit trail: {error}"))
                })?
            }
            (Db::Postgres(pool), _) => {
                crate::postgres::verify_sealed_range(pool, from, to, expected_seq).await
            }
            (Db::Sqlite(_), None) => Err(StoreError::Other(anyhow::anyhow!(
                "the SQLite database has no file to verify from"
            ))),
        }
    }

    /// How many events are waiting to be sealed.
    pub async fn count_unsealed_audit_events(&self) -> StoreResult<i64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_event WHERE seq IS NULL")
                .fetch_one(pool)
                .await?
        }))
    }

    /// Streams every sealed event in sequence order to `visit`, stopping at
    /// the first error `visit` returns.
    pub async fn for_each_sealed_audit_event<E>(
        &self,
        mut visit: impl FnMut(SealedEvent) -> Result<(), E> + Send,
    ) -> StoreResult<Result<(), E>> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM audit_event WHERE seq IS NOT NULL ORDER BY seq"
        );
        let outcome = on_pool!(self, |pool| {
            let mut rows = sqlx::query(sql).fetch(pool);
            let mut outcome = Ok(());
            while let Some(row) = rows.try_next().await? {
                if let Err(error) = visit(sealed_from_row(&row)?) {
                    outcome = Err(error);
                    break;
                }
            }
            outcome
        });
        Ok(outcome)
    }

    /// Searches the audit trail, newest first.
    pub async fn search_audit_events(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<AuditPage> {
        let mut events = on_pool!(self, |pool| {
            let rows = sqlx::query(SEARCH_SQL)
                .bind(filter.actor_id.map(|id| id.0))
                .bind(filter.actor_name.as_deref())
                .bind(filter.patient_id.map(|id| id.0))
                .bind(filter.entity_type.as_deref())
                .bind(filter.entity_id.as_deref())
                .bind(filter.from.map(micros))
                .bind(filter.to.map(micros))
                .bind(limit + 1)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| {
                    let seq = row.opt_int("seq")?.and_then(|seq| u64::try_from(seq).ok());
                    Ok((seq, event_from_row(row)?))
                })
                .collect::<StoreResult<Vec<_>>>()?
        });
        let has_more = events.len() as i64 > limit;
        events.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(AuditPage { events, has_more })
    }

    /// The event with this id, with its sequence number once sealed.
    pub async fn get_audit_event(
        &self,
        id: AuditEventId,
    ) -> StoreResult<(Option<u64>, AuditEvent)> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM audit_event WHERE id = $1"
        );
        Ok(on_pool!(self, |pool| {
            let row = sqlx::query(sql).bind(id.0).fetch_one(pool).await?;
            let seq = row.opt_int("seq")?.and_then(|seq| u64::try_from(seq).ok());
            (seq, event_from_row(&row)?)
        }))
    }
}
