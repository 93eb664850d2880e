//! Incidents and nonconformities, scoped to departments in the query itself.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::{DepartmentId, IncidentId, UserId};

use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// A new incident to store.
#[derive(Debug, Clone)]
pub struct NewIncidentRecord {
    /// Its id.
    pub id: IncidentId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Kind code.
    pub kind: String,
    /// Category code.
    pub category: String,
    /// Severity code.
    pub severity: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Who raised it: a person or a system identity.
    pub raised_by: UserId,
    /// Records involved: (type, id, label).
    pub links: Vec<(String, String, String)>,
    /// When.
    pub created_at: Timestamp,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// Its id.
    pub id: IncidentId,
    /// Its number (shown as `INC-000042`).
    pub number: i64,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Department name.
    pub department_name: String,
    /// Kind code.
    pub kind: String,
    /// Category code.
    pub category: String,
    /// Severity code.
    pub severity: String,
    /// Status code.
    pub status: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Outcome, once closed.
    pub outcome: Option<String>,
    /// Who raised it.
    pub raised_by: UserId,
    /// Their display name.
    pub raised_by_name: String,
    /// Current owner.
    pub owner_id: Option<UserId>,
    /// Owner's display name.
    pub owner_name: Option<String>,
    /// When closed.
    pub closed_at: Option<Timestamp>,
    /// When raised.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A link from an incident to a record involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentLinkRecord {
    /// Record type, e.g. `Instrument`.
    pub record_type: String,
    /// Record id.
    pub record_id: String,
    /// Label shown to people.
    pub label: String,
}

/// Which incidents to list, within the viewer's departments.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only these statuses (all when empty).
    pub status: Option<String>,
    /// Only incidents owned by this person.
    pub owner_id: Option<UserId>,
}

macro_rules! select_incident {
    () => {
        "SELECT i.id, i.number, i.department_id, d.name AS department_name, i.kind, i.category, \
    i.severity, i.status, i.title, i.description, i.outcome, i.raised_by, r.display_name AS raised_by_name, i.owner_id, \
    o.display_name AS owner_name, i.closed_at, i.created_at, i.updated_at \
    FROM incident i JOIN department d ON d.id = i.department_id JOIN app_user r ON r.id = i.raised_by \
    LEFT JOIN app_user o ON o.id = i.owner_id"
    };
}

fn incident_from_row(row: &impl RowExt) -> StoreResult<IncidentRecord> {
    Ok(IncidentRecord {
        id: IncidentId(row.uuid("id")?),
        number: row.int("number")?,
        department_id: DepartmentId(row.uuid("department_id")?),
        department_name: row.text("department_name")?,
        kind: row.text("kind")?,
        category: row.text("category")?,
        severity: row.text("severity")?,
        status: row.text("status")?,
        title: row.text("title")?,
        description: row.text("description")?,
        outcome: row.opt_text("outcome")?,
        raised_by: UserId(row.uuid("raised_by")?),
        raised_by_name: row.text("raised_by_name")?,
        owner_id: row.opt_uuid("owner_id")?.map(UserId),
        owner_name: row.opt_text("owner_name")?,
        closed_at: row.opt_at("closed_at")?,
        created_at: row.at("created_at")?,
        updated_at: row.at("updated_at")?,
    })
}

/// Inserts an incident, its number from the yearly-free counter and its
/// links, inside the transaction `$tx`; evaluates to the number. Shared by
/// incidents raised by people and by the system (a critical-result task
/// that missed its final deadline).
macro_rules! insert_incident {
    ($tx:ident, $incident:expr) => {{
        let incident: &$crate::incidents::NewIncidentRecord = $incident;
            sqlx::query("INSERT INTO counter (name, value) VALUES ('incident', 0) ON CONFLICT (name) DO NOTHING")
            .execute(&mut *$tx)
            .await?;
        let number: i64 = sqlx::query_scalar(
            "UPDATE counter SET value = value + 1 WHERE name = 'incident' RETURNING value",
        )
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO incident (id, number, department_id, kind, category, severity, status, title, description, \
             raised_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $10)",
        )
        .bind(incident.id.0)
        .bind(number)
        .bind(incident.department_id.0)
        .bind(incident.kind.as_str())
        .bind(incident.category.as_str())
        .bind(incident.severity.as_str())
        .bind(incident.title.as_str())
        .bind(incident.description.as_str())
        .bind(incident.raised_by.0)
        .bind($crate::micros(incident.created_at))
        .execute(&mut *$tx)
        .await?;
        for (record_type, record_id, label) in &incident.links {
            sqlx::query(
                "INSERT INTO incident_link (incident_id, record_type, record_id, label, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(incident.id.0)
            .bind(record_type.as_str())
            .bind(record_id.as_str())
            .bind(label.as_str())
            .bind($crate::micros(incident.created_at))
            .execute(&mut *$tx)
            .await?;
        }
        number
    }};
}
pub(crate) use insert_incident;

impl Store {
    /// Stores a new incident with its links and audit event. The number is
    /// allocated in the same transaction.
    pub async fn create_incident(
        &self,
        incident: &NewIncidentRecord,
        events: &[AuditEvent],
    ) -> StoreResult<i64> {
        let number = in_tx!(self, |tx| {
            let number = insert_incident!(tx, incident);
            insert_events!(tx, events);
            number
        });
        Ok(number)
    }

    /// The incident with this id if it belongs to a department `viewer`
    /// is a member of; `NotFound` otherwise, so that another department's
    /// records cannot be read, or even confirmed to exist, by id. The scope
    /// is a join in the query itself, not a check after loading.
    pub async fn get_incident(
        &self,
        id: IncidentId,
        viewer: UserId,
    ) -> StoreResult<IncidentRecord> {
        let sql = concat!(
            select_incident!(),
            " JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $2",
            " WHERE i.id = $1"
        );
        on_pool!(self, |pool| {
            incident_from_row(
                &sqlx::query(sql)
                    .bind(id.0)
                    .bind(viewer.0)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    /// The incident with this id whatever its department: for the system's
    /// own use after raising one, never for answering a person.
    pub async fn get_incident_unscoped(&self, id: IncidentId) -> StoreResult<IncidentRecord> {
        let sql = concat!(select_incident!(), " WHERE i.id = $1");
        on_pool!(self, |pool| incident_from_row(
            &sqlx::query(sql).bind(id.0).fetch_one(pool).await?
        ))
    }

    /// The records linked to an incident.
    pub async fn list_incident_links(
        &self,
        id: IncidentId,
    ) -> StoreResult<Vec<IncidentLinkRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT record_type, record_id, label FROM incident_link WHERE incident_id = $1 ORDER BY created_at, record_type",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(IncidentLinkRecord {
                    record_type: row.text("record_type")?,
                    record_id: row.text("record_id")?,
                    label: row.text("label")?,
                })
            })
            .collect()
        })
    }

    /// Incidents of the departments `viewer` belongs to, newest first.
    pub async fn list_incidents(
        &self,
        viewer: UserId,
        filter: &IncidentFilter,
        limit: i64,
    ) -> StoreResult<Vec<IncidentRecord>> {
        let sql = concat!(
            select_incident!(),
            " JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1",
            " WHERE ($2 IS NULL OR i.status = $2) AND ($3 IS NULL OR i.owner_id = $3)",
            " ORDER BY i.created_at DESC LIMIT $4"
        );
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(viewer.0)
                .bind(filter.status.as_deref())
                .bind(filter.owner_id.map(|id| id.0))
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(incident_from_row)
                .collect()
        })
    }

    /// Changes status, owner and outcome, checking that the incident is
    /// still in `expected_status` (so two people closing at once cannot
    /// overwrite each other: the second gets `Conflict`).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_incident(
        &self,
        id: IncidentId,
        expected_status: &str,
        status: &str,
        owner_id: Option<UserId>,
        outcome: Option<&str>,
        closed_at: Option<Timestamp>,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE incident SET status = $1, owner_id = $2, outcome = $3, closed_at = $4, updated_at = $5                  WHERE id = $6 AND status = $7",
            )
            .bind(status)
            .bind(owner_id.map(|id| id.0))
            .bind(outcome)
            .bind(closed_at.map(micros))
            .bind(micros(at))
            .bind(id.0)
            .bind(expected_status)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::Conflict {
                    constraint: "incident.status".into(),
                });
            }
            insert_events!(tx, events);
        });
        Ok(())
    }
}
