//! The investigation catalogue: investigations and panels, each with
//! append-only versions. Organisation-wide, so not scoped to departments.
//!
//! A version row is never changed (triggers refuse it); an edit inserts the
//! next version and moves the investigation's `current_version`, checking
//! that no one else moved it meanwhile. Reference intervals and critical
//! limits are stored as JSON text in the version row and validated again by
//! the domain types when read, so a stored definition that no longer passes
//! the rules fails loudly instead of flagging results wrongly.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::calculation::CalculationFormula;
use benchwork_domain::catalogue::{
    Calculation, CatalogueCode, Discipline, InvestigationDefinition, InvestigationId,
    InvestigationParts, LoincCode, PanelDefinition, PanelId, ReportableRange, ResultType,
    SnomedCode, SourcedCriticalLimits, SpecimenRequirement, Turnaround,
};
use benchwork_domain::ids::UserId;
use benchwork_domain::patient::ReferenceSex;
use benchwork_domain::reference::{AgeBand, CriticalLimits, ReferenceInterval};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// One version of an investigation, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestigationVersionRecord {
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// This version's number, from 1.
    pub version: i64,
    /// The investigation's current version (equal to `version` for the
    /// current one).
    pub current_version: i64,
    /// The definition.
    pub definition: InvestigationDefinition,
    /// Who made this version.
    pub created_by: UserId,
    /// Their display name.
    pub created_by_name: String,
    /// When.
    pub created_at: Timestamp,
}

/// A panel's current version, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelRecord {
    /// The panel.
    pub id: PanelId,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Current version.
    pub version: i64,
    /// Members in report order: (code, current name).
    pub members: Vec<(String, String)>,
    /// When this version was made.
    pub created_at: Timestamp,
}

/// Reads a floating-point column the same way from either engine's rows.
trait FloatColumn {
    fn opt_float(&self, column: &str) -> StoreResult<Option<f64>>;
}

impl FloatColumn for sqlx::sqlite::SqliteRow {
    fn opt_float(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(sqlx::Row::try_get(self, column)?)
    }
}

impl FloatColumn for sqlx::postgres::PgRow {
    fn opt_float(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(sqlx::Row::try_get(self, column)?)
    }
}

macro_rules! select_version {
    () => {
        "SELECT i.id, i.code, i.current_version, v.version, v.name, v.loinc, v.snomed, v.discipline, v.method, \
         v.result_type, v.unit, v.decimal_places, v.coded_values, v.reportable_low, v.reportable_high, \
         v.reference_intervals, v.critical_limits, v.specimen_type, v.container, v.tat_routine_minutes, \
         v.tat_urgent_minutes, v.consent_required, v.competency_code, v.sop_code, v.calculation, v.calculation_inputs, v.delta_absolute, v.delta_percent, v.delta_window_days, v.created_by, \
         u.display_name AS created_by_name, v.created_at \
         FROM investigation i JOIN investigation_version v ON v.investigation_id = i.id \
         JOIN app_user u ON u.id = v.created_by"
    };
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "stored catalogue {what} is not valid: {error}"
    ))
}

fn intervals_json(intervals: &[ReferenceInterval]) -> String {
    Value::Array(
        intervals
            .iter()
            .map(|interval| {
                json!({
                    "sex": interval.sex().map(ReferenceSex::code),
                    "from_days": interval.age_band().from_days(),
                    "to_days": interval.age_band().to_days(),
                    "low": interval.low(),
                    "high": interval.high(),
                    "source": interval.source(),
                })
            })
            .collect(),
    )
    .to_string()
}

fn intervals_from_json(text: &str) -> StoreResult<Vec<ReferenceInterval>> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| corrupt("reference intervals", error))?;
    let items = value
        .as_array()
        .ok_or_else(|| corrupt("reference intervals", "not an array"))?;
    items
        .iter()
        .map(|item| {
            let sex = match item["sex"].as_str() {
                None => None,
                Some(code) => Some(
                    ReferenceSex::parse(code)
                        .map_err(|error| corrupt("reference interval sex", error))?,
                ),
            };
            let from_days = item["from_days"]
                .as_i64()
                .ok_or_else(|| corrupt("reference interval", "no from_days"))?;
            let age_band = AgeBand::new(from_days, item["to_days"].as_i64())
                .map_err(|error| corrupt("age band", error))?;
            ReferenceInterval::new(
                item["low"].as_f64(),
                item["high"].as_f64(),
                sex,
                age_band,
                item["source"].as_str().unwrap_or(""),
            )
            .map_err(|error| corrupt("reference interval", error))
        })
        .collect()
}

fn critical_json(critical: &SourcedCriticalLimits) -> String {
    json!({
        "low": critical.limits.low(),
        "high": critical.limits.high(),
        "inclusive": critical.limits.inclusive(),
        "source": critical.source,
    })
    .to_string()
}

fn critical_from_json(text: &str) -> StoreResult<SourcedCriticalLimits> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| corrupt("critical limits", error))?;
    let limits = CriticalLimits::new(
        value["low"].as_f64(),
        value["high"].as_f64(),
        value["inclusive"].as_bool().unwrap_or(true),
    )
    .map_err(|error| corrupt("critical limits", error))?;
    Ok(SourcedCriticalLimits {
        limits,
        source: value["source"].as_str().unwrap_or("").to_owned(),
    })
}

fn version_from_row(row: &(impl RowExt + FloatColumn)) -> StoreResult<InvestigationVersionRecord> {
    let code = CatalogueCode::parse(&row.text("code")?).map_err(|error| corrupt("code", error))?;
    let loinc = row
        .opt_text("loinc")?
        .map(|text| LoincCode::parse(&text).map_err(|error| corrupt("LOINC code", error)))
        .transpose()?;
    let snomed = row
        .opt_text("snomed")?
        .map(|text| SnomedCode::parse(&text).map_err(|error| corrupt("SNOMED CT code", error)))
        .transpose()?;
    let discipline_code = row.text("discipline")?;
    let discipline = Discipline::parse(&discipline_code)
        .ok_or_else(|| corrupt("discipline", &discipline_code))?;
    let result_type = match row.text("result_type")?.as_str() {
        "numeric" => ResultType::numeric(
            &row.opt_text("unit")?.unwrap_or_default(),
            row.opt_int("decimal_places")?.unwrap_or(-1),
        )
        .map_err(|error| corrupt("result type", error))?,
        "coded" => {
            let codes: Vec<String> =
                serde_json::from_str(&row.opt_text("coded_values")?.unwrap_or_default())
                    .map_err(|error| corrupt("coded values", error))?;
            ResultType::coded(&codes).map_err(|error| corrupt("coded values", error))?
        }
        "text" => ResultType::Text,
        other => return Err(corrupt("result type", other)),
    };
    let reportable_range = match (
        row.opt_float("reportable_low")?,
        row.opt_float("reportable_high")?,
    ) {
        (Some(low), Some(high)) => Some(
            ReportableRange::new(low, high).map_err(|error| corrupt("reportable range", error))?,
        ),
        _ => None,
    };
    let critical_limits = row
        .opt_text("critical_limits")?
        .map(|text| critical_from_json(&text))
        .transpose()?;
    let specimen = SpecimenRequirement::new(
        &row.opt_text("specimen_type")?.unwrap_or_default(),
        &row.opt_text("container")?.unwrap_or_default(),
    )
    .map_err(|error| corrupt("specimen", error))?;
    let turnaround = Turnaround::new(
        row.int("tat_routine_minutes")?,
        row.int("tat_urgent_minutes")?,
    )
    .map_err(|error| corrupt("turnaround", error))?;
    let definition = InvestigationDefinition::new(InvestigationParts {
        code,
        name: row.text("name")?,
        loinc,
        snomed,
        discipline,
        method: row.text("method")?,
        result_type,
        reportable_range,
        reference_intervals: intervals_from_json(&row.text("reference_intervals")?)?,
        critical_limits,
        specimen,
        turnaround,
        consent_required: row.int("consent_required")? != 0,
        competency_code: row.opt_text("competency_code")?,
        sop_code: row.opt_text("sop_code")?,
        calculation: calculation_from_row(row)?,
        delta_rule: delta_rule_from_row(row)?,
    })
    .map_err(|errors| corrupt("definition", format!("{errors:?}")))?;
    Ok(InvestigationVersionRecord {
        investigation_id: InvestigationId(row.uuid("id")?),
        version: row.int("version")?,
        current_version: row.int("current_version")?,
        definition,
        created_by: UserId(row.uuid("created_by")?),
        created_by_name: row.text("created_by_name")?,
        created_at: row.at("created_at")?,
    })
}

fn calculation_from_row(row: &impl RowExt) -> StoreResult<Option<Calculation>> {
    let Some(code) = row.opt_text("calculation")? else {
        return Ok(None);
    };
    let formula = CalculationFormula::parse(&code).ok_or_else(|| corrupt("calculation", &code))?;
    let inputs: Vec<String> =
        serde_json::from_str(&row.opt_text("calculation_inputs")?.unwrap_or_default())
            .map_err(|error| corrupt("calculation inputs", error))?;
    let inputs = inputs
        .iter()
        .map(|code| {
            CatalogueCode::parse(code).map_err(|error| corrupt("calculation inputs", error))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(Calculation { formula, inputs }))
}

fn delta_rule_from_row(
    row: &(impl RowExt + FloatColumn),
) -> StoreResult<Option<benchwork_domain::reference::DeltaRule>> {
    let Some(window_days) = row.opt_int("delta_window_days")? else {
        return Ok(None);
    };
    benchwork_domain::reference::DeltaRule::new(
        row.opt_float("delta_absolute")?,
        row.opt_float("delta_percent")?,
        window_days,
    )
    .map(Some)
    .map_err(|error| corrupt("delta rule", error))
}

/// Inserts one version row inside a transaction.
macro_rules! insert_version {
    ($tx:expr, $id:expr, $version:expr, $definition:expr, $by:expr, $at:expr) => {{
        let parts = $definition.parts();
        let (result_type, unit, decimal_places, coded_values) = match &parts.result_type {
            ResultType::Numeric {
                unit,
                decimal_places,
            } => ("numeric", Some(unit.clone()), Some(i64::from(*decimal_places)), None),
            ResultType::Coded { codes } => ("coded", None, None, Some(json!(codes).to_string())),
            ResultType::Text => ("text", None, None, None),
        };
        let (specimen_type, container) = match &parts.specimen {
            SpecimenRequirement::Specimen {
                specimen_type,
                container,
            } => (Some(specimen_type.as_str()), Some(container.as_str())),
            SpecimenRequirement::None => (None, None),
        };
        sqlx::query(
            "INSERT INTO investigation_version (investigation_id, version, name, loinc, snomed, discipline, method, \
             result_type, unit, decimal_places, coded_values, reportable_low, reportable_high, reference_intervals, \
             critical_limits, specimen_type, container, tat_routine_minutes, tat_urgent_minutes, consent_required, \
             competency_code, sop_code, created_by, created_at, calculation, calculation_inputs, \
             delta_absolute, delta_percent, delta_window_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
             $25, $26, $27, $28, $29)",
        )
        .bind($id.0)
        .bind($version)
        .bind(parts.name.as_str())
        .bind(parts.loinc.as_ref().map(|code| code.as_str().to_owned()))
        .bind(parts.snomed.as_ref().map(|code| code.as_str().to_owned()))
        .bind(parts.discipline.code())
        .bind(parts.method.as_str())
        .bind(result_type)
        .bind(unit)
        .bind(decimal_places)
        .bind(coded_values)
        .bind(parts.reportable_range.map(|range| range.low()))
        .bind(parts.reportable_range.map(|range| range.high()))
        .bind(intervals_json(&parts.reference_intervals))
        .bind(parts.critical_limits.as_ref().map(critical_json))
        .bind(specimen_type)
        .bind(container)
        .bind(i64::from(parts.turnaround.minutes(benchwork_domain::catalogue::Priority::Routine)))
        .bind(i64::from(parts.turnaround.minutes(benchwork_domain::catalogue::Priority::Urgent)))
        .bind(i64::from(parts.consent_required))
        .bind(parts.competency_code.as_deref())
        .bind(parts.sop_code.as_deref())
        .bind($by.0)
        .bind(micros($at))
        .bind(parts.calculation.as_ref().map(|calculation| calculation.formula.code()))
        .bind(parts.calculation.as_ref().map(|calculation| {
            json!(calculation.inputs.iter().map(|code| code.as_str()).collect::<Vec<_>>()).to_string()
        }))
        .bind(parts.delta_rule.and_then(|rule| rule.absolute()))
        .bind(parts.delta_rule.and_then(|rule| rule.percent()))
        .bind(parts.delta_rule.map(|rule| rule.window_days()))
        .execute(&mut *$tx)
        .await?;
    }};
}

impl Store {
    /// Adds an investigation with its first version and audit events.
    /// `Conflict` when the code is taken.
    pub async fn create_investigation(
        &self,
        id: InvestigationId,
        definition: &InvestigationDefinition,
        created_by: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO investigation (id, code, current_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)",
            )
            .bind(id.0)
            .bind(definition.code().as_str())
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
            insert_version!(tx, id, 1_i64, definition, created_by, at);
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Adds version `based_on + 1` of an investigation and makes it current.
    /// `Conflict` when the current version is no longer `based_on` (someone
    /// else edited it meanwhile); older versions are never touched.
    pub async fn add_investigation_version(
        &self,
        id: InvestigationId,
        based_on: i64,
        definition: &InvestigationDefinition,
        created_by: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<i64> {
        let version = based_on + 1;
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE investigation SET current_version = $1, updated_at = $2 \
                 WHERE id = $3 AND current_version = $4 AND code = $5",
            )
            .bind(version)
            .bind(micros(at))
            .bind(id.0)
            .bind(based_on)
            .bind(definition.code().as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::Conflict {
                    constraint: "investigation.current_version".into(),
                });
            }
            insert_version!(tx, id, version, definition, created_by, at);
            insert_events!(tx, events);
        });
        Ok(version)
    }

    /// The current version of every investigation, optionally of one
    /// discipline, by discipline and code.
    pub async fn list_investigations(
        &self,
        discipline: Option<Discipline>,
    ) -> StoreResult<Vec<InvestigationVersionRecord>> {
        let sql = concat!(
            select_version!(),
            " WHERE v.version = i.current_version AND ($1 IS NULL OR v.discipline = $1)",
            " ORDER BY v.discipline, i.code"
        );
        let records = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(discipline.map(Discipline::code))
                .fetch_all(pool)
                .await?
                .iter()
                .map(version_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        });
        Ok(records)
    }

    /// The current version of the investigation with this code.
    pub async fn get_investigation_by_code(
        &self,
        code: &str,
    ) -> StoreResult<InvestigationVersionRecord> {
        let sql = concat!(
            select_version!(),
            " WHERE i.code = $1 AND v.version = i.current_version"
        );
        let record = on_pool!(self, |pool| version_from_row(
            &sqlx::query(sql).bind(code).fetch_one(pool).await?
        )?);
        Ok(record)
    }

    /// One version of an investigation (for a result that keeps the version
    /// that applied).
    pub async fn get_investigation_version(
        &self,
        id: InvestigationId,
        version: i64,
    ) -> StoreResult<InvestigationVersionRecord> {
        let sql = concat!(select_version!(), " WHERE i.id = $1 AND v.version = $2");
        let record = on_pool!(self, |pool| version_from_row(
            &sqlx::query(sql)
                .bind(id.0)
                .bind(version)
                .fetch_one(pool)
                .await?
        )?);
        Ok(record)
    }

    /// Every version of an investigation, newest first.
    pub async fn list_investigation_versions(
        &self,
        id: InvestigationId,
    ) -> StoreResult<Vec<InvestigationVersionRecord>> {
        let sql = concat!(
            select_version!(),
            " WHERE i.id = $1 ORDER BY v.version DESC"
        );
        let records = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(id.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(version_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        });
        Ok(records)
    }

    /// Adds a panel with its first version, members and audit events.
    /// `Conflict` when the code is taken; `NotFound` when a member is not
    /// in the catalogue.
    pub async fn create_panel(
        &self,
        id: PanelId,
        panel: &PanelDefinition,
        created_by: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO panel (id, code, current_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)",
            )
            .bind(id.0)
            .bind(panel.code().as_str())
            .bind(micros(at))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO panel_version (panel_id, version, name, created_by, created_at) VALUES ($1, 1, $2, $3, $4)",
            )
            .bind(id.0)
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
                     VALUES ($1, 1, $2, $3, $4)",
                )
                .bind(id.0)
                .bind(position as i64)
                .bind(investigation)
                .bind(micros(at))
                .execute(&mut *tx)
                .await?;
            }
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The current version of every panel, by code, with its members.
    pub async fn list_panels(&self) -> StoreResult<Vec<PanelRecord>> {
        let mut panels = on_pool!(self, |pool| {
            sqlx::query(
                "SELECT p.id, p.code, p.current_version, v.name, v.created_at FROM panel p \
                 JOIN panel_version v ON v.panel_id = p.id AND v.version = p.current_version ORDER BY p.code",
            )
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(PanelRecord {
                    id: PanelId(row.uuid("id")?),
                    code: row.text("code")?,
                    name: row.text("name")?,
                    version: row.int("current_version")?,
                    members: Vec::new(),
                    created_at: row.at("created_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?
        });
        for panel in &mut panels {
            let members = on_pool!(self, |pool| {
                sqlx::query(
                    "SELECT i.code, v.name FROM panel_member m JOIN investigation i ON i.id = m.investigation_id \
                     JOIN investigation_version v ON v.investigation_id = i.id AND v.version = i.current_version \
                     WHERE m.panel_id = $1 AND m.version = $2 ORDER BY m.position",
                )
                .bind(panel.id.0)
                .bind(panel.version)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.text("code")?, row.text("name")?)))
                .collect::<StoreResult<Vec<_>>>()?
            });
            panel.members = members;
        }
        Ok(panels)
    }
}
