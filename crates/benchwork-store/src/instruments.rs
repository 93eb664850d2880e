//! The instrument register's administration: one instrument by id within
//! the viewer's departments, and corrections of its name, discipline and
//! location. Creation and the list are in `results.rs`, beside the
//! results that name an instrument.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::{DepartmentId, UserId};
use benchwork_domain::result::InstrumentId;
use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{InstrumentRecord, Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// The constraint reported when an instrument changed between reading it
/// and saving a correction.
pub const INSTRUMENT_CHANGED: &str = "instrument.changed";

/// A correction of an instrument: what it was when read, and what it
/// becomes.
#[derive(Debug, Clone)]
pub struct InstrumentUpdate {
    /// The instrument as read before the change.
    pub before: InstrumentRecord,
    /// New name, unique in the department.
    pub name: String,
    /// New discipline code.
    pub discipline: String,
    /// New location.
    pub location: String,
    /// When.
    pub at: Timestamp,
}

impl Store {
    /// One instrument of the viewer's departments; another department's is
    /// `NotFound`.
    pub async fn get_instrument(
        &self,
        id: InstrumentId,
        viewer: UserId,
    ) -> StoreResult<InstrumentRecord> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT i.id, i.department_id, i.name, i.discipline, i.location FROM instrument i \
                 JOIN user_department scope ON scope.department_id = i.department_id AND scope.user_id = $1 \
                 WHERE i.id = $2",
            )
            .bind(viewer.0)
            .bind(id.0)
            .fetch_one(pool)
            .await?;
            Ok(InstrumentRecord {
                id: InstrumentId(row.uuid("id")?),
                department_id: DepartmentId(row.uuid("department_id")?),
                name: row.text("name")?,
                discipline: row.text("discipline")?,
                location: row.text("location")?,
            })
        })
    }

    /// Saves a correction with its audit events. `Conflict` with
    /// [`INSTRUMENT_CHANGED`] when the instrument no longer holds the values
    /// read before (someone else corrected it meanwhile), or with the
    /// uniqueness constraint when the new name is taken in the department.
    pub async fn update_instrument(
        &self,
        update: &InstrumentUpdate,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let before = &update.before;
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE instrument SET name = $1, discipline = $2, location = $3, updated_at = $4 \
                 WHERE id = $5 AND department_id = $6 AND name = $7 AND discipline = $8 AND location = $9",
            )
            .bind(update.name.as_str())
            .bind(update.discipline.as_str())
            .bind(update.location.as_str())
            .bind(micros(update.at))
            .bind(before.id.0)
            .bind(before.department_id.0)
            .bind(before.name.as_str())
            .bind(before.discipline.as_str())
            .bind(before.location.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::Conflict {
                    constraint: INSTRUMENT_CHANGED.into(),
                });
            }
            insert_events!(tx, events);
        });
        Ok(())
    }
}
