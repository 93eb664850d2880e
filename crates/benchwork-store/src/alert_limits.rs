//! Alert (critical) limit sets: one row per version of an investigation's
//! limits, the rules as JSON text (see migration 0015). A version is added
//! unapproved; approval sets who and when once, by someone other than the
//! proposer, and only while no later version has been approved. The version
//! in force is the highest approved one.

use benchwork_domain::alert_limits::{
    AlertLimit, AlertLimitSet, CriticalCategory, LimitSetting, Population,
};
use benchwork_domain::audit::AuditEvent;
use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::UserId;
use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// One version of an investigation's alert limits, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLimitSetRecord {
    /// Its id.
    pub id: uuid::Uuid,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// The investigation's code.
    pub code: String,
    /// The version, from 1.
    pub version: i64,
    /// The unit the limits are written in.
    pub unit: String,
    /// The rules.
    pub rules: Vec<AlertLimit>,
    /// The source document.
    pub source: String,
    /// The source document's version or date.
    pub source_version: String,
    /// A note (what changed, what a local lead must confirm).
    pub note: String,
    /// Who proposed it.
    pub proposed_by: UserId,
    /// Their name.
    pub proposed_by_name: String,
    /// When.
    pub proposed_at: Timestamp,
    /// Who approved it, if anyone.
    pub approved_by: Option<UserId>,
    /// Their name.
    pub approved_by_name: Option<String>,
    /// When.
    pub approved_at: Option<Timestamp>,
}

/// A new version to store.
#[derive(Debug, Clone)]
pub struct NewAlertLimitSet<'a> {
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// The version it must become (the latest plus one).
    pub version: i64,
    /// The unit.
    pub unit: &'a str,
    /// The validated set.
    pub set: &'a AlertLimitSet,
    /// A note.
    pub note: &'a str,
    /// Who proposes it.
    pub proposed_by: UserId,
    /// When.
    pub proposed_at: Timestamp,
}

fn rules_json(rules: &[AlertLimit]) -> String {
    serde_json::Value::Array(
        rules
            .iter()
            .map(|rule| {
                serde_json::json!({
                    "population": rule.population.code(),
                    "setting": rule.setting.code(),
                    "low": rule.low,
                    "high": rule.high,
                    "high_uln_multiple": rule.high_uln_multiple,
                    "category": rule.category.code(),
                })
            })
            .collect(),
    )
    .to_string()
}

fn corrupt(detail: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "stored alert limits are not valid: {detail}"
    ))
}

fn rules_from_json(text: &str) -> StoreResult<Vec<AlertLimit>> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(corrupt)?;
    values
        .iter()
        .map(|value| {
            let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
            Ok(AlertLimit {
                population: Population::parse(&text("population"))
                    .ok_or_else(|| corrupt("population"))?,
                setting: LimitSetting::parse(&text("setting")).ok_or_else(|| corrupt("setting"))?,
                low: value["low"].as_f64(),
                high: value["high"].as_f64(),
                high_uln_multiple: value["high_uln_multiple"].as_f64(),
                category: CriticalCategory::parse(&text("category"))
                    .ok_or_else(|| corrupt("category"))?,
            })
        })
        .collect()
}

const SELECT: &str = "SELECT s.id, s.investigation_id, i.code, s.version, s.unit, s.rules, s.source, \
     s.source_version, s.note, s.proposed_by, p.display_name AS proposed_by_name, s.proposed_at, \
     s.approved_by, a.display_name AS approved_by_name, s.approved_at \
     FROM alert_limit_set s JOIN investigation i ON i.id = s.investigation_id \
     JOIN app_user p ON p.id = s.proposed_by LEFT JOIN app_user a ON a.id = s.approved_by";

fn set_from_row(row: &impl RowExt) -> StoreResult<AlertLimitSetRecord> {
    Ok(AlertLimitSetRecord {
        id: row.uuid("id")?,
        investigation_id: InvestigationId(row.uuid("investigation_id")?),
        code: row.text("code")?,
        version: row.int("version")?,
        unit: row.text("unit")?,
        rules: rules_from_json(&row.text("rules")?)?,
        source: row.text("source")?,
        source_version: row.text("source_version")?,
        note: row.text("note")?,
        proposed_by: UserId(row.uuid("proposed_by")?),
        proposed_by_name: row.text("proposed_by_name")?,
        proposed_at: row.at("proposed_at")?,
        approved_by: row.opt_uuid("approved_by")?.map(UserId),
        approved_by_name: row.opt_text("approved_by_name")?,
        approved_at: row.opt_at("approved_at")?,
    })
}

impl Store {
    /// Every version of every investigation's alert limits, by code then
    /// newest version first.
    pub async fn list_alert_limit_sets(&self) -> StoreResult<Vec<AlertLimitSetRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY i.code, s.version DESC"));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .fetch_all(pool)
                .await?
                .iter()
                .map(set_from_row)
                .collect()
        })
    }

    /// Every version of one investigation's alert limits, newest first.
    pub async fn alert_limit_sets_of(
        &self,
        investigation_id: InvestigationId,
    ) -> StoreResult<Vec<AlertLimitSetRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE s.investigation_id = $1 ORDER BY s.version DESC"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(investigation_id.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(set_from_row)
                .collect()
        })
    }

    /// The version in force: the highest approved one, if any.
    pub async fn alert_limits_in_force(
        &self,
        investigation_id: InvestigationId,
    ) -> StoreResult<Option<AlertLimitSetRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE s.investigation_id = $1 AND s.approved_at IS NOT NULL \
             ORDER BY s.version DESC LIMIT 1"
        ));
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(investigation_id.0)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(set_from_row)
                .transpose()
        })
    }

    /// Adds a version, unapproved, with its audit events. `Conflict` when
    /// that version number exists already (someone proposed meanwhile).
    pub async fn add_alert_limit_set(
        &self,
        new: &NewAlertLimitSet<'_>,
        events: &[AuditEvent],
    ) -> StoreResult<uuid::Uuid> {
        let id = uuid::Uuid::now_v7();
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO alert_limit_set (id, investigation_id, version, unit, rules, source, source_version, \
                 note, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(new.investigation_id.0)
            .bind(new.version)
            .bind(new.unit)
            .bind(rules_json(new.set.rules()))
            .bind(new.set.source())
            .bind(new.set.source_version())
            .bind(new.note)
            .bind(new.proposed_by.0)
            .bind(micros(new.proposed_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(id)
    }

    /// Approves a version, with its audit events: only while unapproved, by
    /// someone other than its proposer, and while no later version is
    /// approved. `Conflict` otherwise (nothing is written).
    pub async fn approve_alert_limit_set(
        &self,
        investigation_id: InvestigationId,
        version: i64,
        approver: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE alert_limit_set SET approved_by = $1, approved_at = $2 \
                 WHERE investigation_id = $3 AND version = $4 AND approved_by IS NULL AND proposed_by <> $1 \
                 AND NOT EXISTS (SELECT 1 FROM alert_limit_set later WHERE later.investigation_id = $3 \
                 AND later.version > $4 AND later.approved_by IS NOT NULL)",
            )
            .bind(approver.0)
            .bind(micros(at))
            .bind(investigation_id.0)
            .bind(version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::Conflict {
                    constraint: "alert_limit_set.approved_by".into(),
                });
            }
            insert_events!(tx, events);
        });
        Ok(())
    }
}
