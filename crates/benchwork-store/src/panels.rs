//! Panel editing: one panel by code, and its next version. As for
//! investigations, an edit inserts a new `panel_version` with its own
//! `panel_member` rows and moves `current_version`; the old version and its
//! members stay as they were (triggers refuse changing a version row).

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::catalogue::{PanelDefinition, PanelId};
use benchwork_domain::ids::UserId;
use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{PanelRecord, Store, StoreError, StoreResult, in_tx, micros, on_pool};

impl Store {
    /// The current version of the panel with this code, with its members in
    /// report order.
    pub async fn get_panel_by_code(&self, code: &str) -> StoreResult<PanelRecord> {
        let mut panel = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT p.id, p.code, p.current_version, v.name, v.created_at FROM panel p \
                 JOIN panel_version v ON v.panel_id = p.id AND v.version = p.current_version WHERE p.code = $1",
            )
            .bind(code)
            .fetch_one(pool)
            .await?;
            PanelRecord {
                id: PanelId(row.uuid("id")?),
                code: row.text("code")?,
                name: row.text("name")?,
                version: row.int("current_version")?,
                members: Vec::new(),
                created_at: row.at("created_at")?,
            }
        });
        panel.members = self.panel_members(panel.id, panel.version).await?;
        Ok(panel)
    }

    /// The members of one version of a panel, in report order: (code,
    /// current name).
    pub async fn panel_members(
        &self,
        id: PanelId,
        version: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT i.code, v.name FROM panel_member m JOIN investigation i ON i.id = m.investigation_id \
                 JOIN investigation_version v ON v.investigation_id = i.id AND v.version = i.current_version \
                 WHERE m.panel_id = $1 AND m.version = $2 ORDER BY m.position",
            )
            .bind(id.0)
            .bind(version)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| Ok((row.text("code")?, row.text("name")?)))
            .collect()
        })
    }

    /// Adds version `based_on + 1` of a panel with its members and makes it
    /// current. `Conflict` when the current version is no longer
    /// `based_on` (someone else edited it meanwhile); `NotFound` when a
    /// member is not in the catalogue. Older versions are never touched.
    pub async fn add_panel_version(
        &self,
        id: PanelId,
        based_on: i64,
        panel: &PanelDefinition,
        created_by: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<i64> {
        let version = based_on + 1;
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE panel SET current_version = $1, updated_at = $2 \
                 WHERE id = $3 AND current_version = $4 AND code = $5",
            )
            .bind(version)
            .bind(micros(at))
            .bind(id.0)
            .bind(based_on)
            .bind(panel.code().as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::Conflict {
                    constraint: "panel.current_version".into(),
                });
            }
            sqlx::query(
                "INSERT INTO panel_version (panel_id, version, name, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.0)
            .bind(version)
            .bind(panel.name())
            .bind(created_by.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
            for (position, member) in panel.members().iter().enumerate() {
                let investigation: uuid::Uuid =
                    sqlx::query_scalar("SELECT id FROM investigation WHERE code = $1")
                        .bind(member.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                sqlx::query(
                    "INSERT INTO panel_member (panel_id, version, position, investigation_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id.0)
                .bind(version)
                .bind(position as i64)
                .bind(investigation)
                .bind(micros(at))
                .execute(&mut *tx)
                .await?;
            }
            insert_events!(tx, events);
        });
        Ok(version)
    }
}
