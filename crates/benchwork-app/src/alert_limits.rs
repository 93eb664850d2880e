//! Alert (critical) limits: propose a version of an investigation's limits,
//! approve it as a clinical lead (not the proposer), list them, and choose
//! the limits that apply to a result at entry (issue 6 item 1; design note
//! docs/design/2026-12-06-alert-limits.md; hazard H-log "critical limit
//! wrong or unapproved").
//!
//! The version in force is the highest approved one: a proposal changes
//! nothing at entry until approved, and an investigation without an approved
//! version has no critical limits at all (its page says so).

use benchwork_domain::alert_limits::{
    AlertLimit, AlertLimitSet, AppliedLimits, CriticalCategory, LimitSetting, Population,
    RequestSetting, resolve,
};
use benchwork_domain::audit::AuditAction;
use benchwork_domain::catalogue::{CatalogueCode, ResultType};
use benchwork_domain::staff::Permission;
use benchwork_store::{
    AlertLimitSetRecord, InvestigationVersionRecord, NewAlertLimitSet, StoreError,
};
use serde_json::json;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, require};

/// How many limit rows the proposal form offers.
pub const FORM_ROWS: usize = 6;

/// One typed limit row of a proposal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleInput {
    /// Population code (`any`, `adult`, `child`).
    pub population: String,
    /// Limit setting code (`any`, `hospital`, `primary-care`).
    pub setting: String,
    /// Critical low, or empty.
    pub low: String,
    /// Critical high, or empty.
    pub high: String,
    /// Critical high as a multiple of the upper reference limit, or empty.
    pub uln_multiple: String,
    /// Category code (`urgent`, `same-day`).
    pub category: String,
}

impl RuleInput {
    fn is_blank(&self) -> bool {
        self.low.trim().is_empty()
            && self.high.trim().is_empty()
            && self.uln_multiple.trim().is_empty()
    }
}

/// A proposed version as typed on the form or sent to the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProposalInput {
    /// The unit the limits are written in: must be the investigation's.
    pub unit: String,
    /// The limit rows; rows without any limit are ignored.
    pub rules: Vec<RuleInput>,
    /// The source document.
    pub source: String,
    /// Its version or date.
    pub source_version: String,
    /// What changed, or what a local lead must confirm.
    pub note: String,
}

/// An investigation with its alert limit versions, newest first.
#[derive(Debug, Clone)]
pub struct InvestigationLimits {
    /// The investigation's current catalogue version.
    pub investigation: InvestigationVersionRecord,
    /// Every version of its alert limits, newest first.
    pub versions: Vec<AlertLimitSetRecord>,
}

impl InvestigationLimits {
    /// The version in force: the highest approved one.
    pub fn in_force(&self) -> Option<&AlertLimitSetRecord> {
        self.versions
            .iter()
            .find(|version| version.approved_at.is_some())
    }

    /// Versions proposed after the one in force and not yet approved.
    pub fn pending(&self) -> Vec<&AlertLimitSetRecord> {
        let in_force = self.in_force().map(|version| version.version).unwrap_or(0);
        self.versions
            .iter()
            .filter(|version| version.approved_at.is_none() && version.version > in_force)
            .collect()
    }
}

fn numeric_unit(record: &InvestigationVersionRecord) -> Option<&str> {
    match &record.definition.parts().result_type {
        ResultType::Numeric { unit, .. } => Some(unit.as_str()),
        _ => None,
    }
}

/// Every numeric investigation with its alert limits.
pub async fn list(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<InvestigationLimits>> {
    require(ctx, actor, Permission::ViewCatalogue).await?;
    let sets = ctx.store.list_alert_limit_sets().await?;
    Ok(ctx
        .store
        .list_investigations(None)
        .await?
        .into_iter()
        .filter(|investigation| numeric_unit(investigation).is_some())
        .map(|investigation| InvestigationLimits {
            versions: sets
                .iter()
                .filter(|set| set.investigation_id == investigation.investigation_id)
                .cloned()
                .collect(),
            investigation,
        })
        .collect())
}

/// One numeric investigation with every version of its alert limits.
pub async fn get(ctx: &Ctx, actor: &Actor, code: &str) -> AppResult<InvestigationLimits> {
    require(ctx, actor, Permission::ViewCatalogue).await?;
    let code = CatalogueCode::parse(code).map_err(|_| AppError::NotFound)?;
    let investigation = ctx.store.get_investigation_by_code(code.as_str()).await?;
    if numeric_unit(&investigation).is_none() {
        return Err(AppError::NotFound);
    }
    let versions = ctx
        .store
        .alert_limit_sets_of(investigation.investigation_id)
        .await?;
    Ok(InvestigationLimits {
        investigation,
        versions,
    })
}

fn number(text: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Some(value),
        _ => {
            errors.push(FieldError::new(
                field,
                format!("'{text}' is not a number: enter digits, with a decimal point if needed"),
            ));
            None
        }
    }
}

fn rules_json(rules: &[AlertLimit]) -> serde_json::Value {
    rules
        .iter()
        .map(|rule| {
            json!({
                "population": rule.population.code(),
                "setting": rule.setting.code(),
                "low": rule.low,
                "high": rule.high,
                "high_uln_multiple": rule.high_uln_multiple,
                "category": rule.category.code(),
            })
        })
        .collect()
}

/// Proposes the next version of an investigation's alert limits
/// (`EditCatalogue`). Nothing changes at entry until a clinical lead
/// approves it. Returns the new version number.
pub async fn propose(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    input: &ProposalInput,
) -> AppResult<i64> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let current = get(ctx, actor, code).await?;
    let investigation = &current.investigation;
    let unit = numeric_unit(investigation).unwrap_or_default().to_owned();
    let mut errors = Vec::new();
    let typed_unit = input.unit.trim();
    if typed_unit.is_empty() {
        errors.push(FieldError::new(
            "unit",
            format!("enter the unit the limits are written in ({unit})"),
        ));
    } else if typed_unit != unit {
        errors.push(FieldError::new(
            "unit",
            format!(
                "the limits are in {typed_unit} but {} is reported in {unit}: write the limits in {unit}",
                investigation.definition.parts().code.as_str()
            ),
        ));
    }
    let mut rules = Vec::new();
    for (index, rule) in input.rules.iter().enumerate() {
        let row = index + 1;
        if rule.is_blank() {
            continue;
        }
        let population = Population::parse(&rule.population);
        if population.is_none() {
            errors.push(FieldError::new(
                &format!("population-{row}"),
                "choose who the limit applies to: any age, adults or children",
            ));
        }
        let setting = LimitSetting::parse(&rule.setting);
        if setting.is_none() {
            errors.push(FieldError::new(
                &format!("setting-{row}"),
                "choose which requests the limit applies to",
            ));
        }
        let category = CriticalCategory::parse(&rule.category);
        if category.is_none() {
            errors.push(FieldError::new(
                &format!("category-{row}"),
                "choose how fast a result reaching the limit must be communicated",
            ));
        }
        let low = number(&rule.low, &format!("low-{row}"), &mut errors);
        let high = number(&rule.high, &format!("high-{row}"), &mut errors);
        let multiple = number(
            &rule.uln_multiple,
            &format!("uln_multiple-{row}"),
            &mut errors,
        );
        if let (Some(population), Some(setting), Some(category)) = (population, setting, category) {
            rules.push((
                row,
                AlertLimit {
                    population,
                    setting,
                    low,
                    high,
                    high_uln_multiple: multiple,
                    category,
                },
            ));
        }
    }
    let note = input.note.trim();
    if note.chars().count() > 500 {
        errors.push(FieldError::new("note", "enter at most 500 characters"));
    }
    let has_upper_limit = investigation
        .definition
        .parts()
        .reference_intervals
        .iter()
        .any(|interval| interval.high().is_some());
    let rows: Vec<usize> = rules.iter().map(|(row, _)| *row).collect();
    let set = match AlertLimitSet::new(
        rules.into_iter().map(|(_, rule)| rule).collect(),
        &input.source,
        &input.source_version,
        has_upper_limit,
    ) {
        Ok(set) => Some(set),
        Err(problems) => {
            for problem in problems {
                // The domain numbers the rows it was given; the form's row
                // numbers skip blank rows, so map them back.
                let field = problem.field();
                let field = match field.rsplit_once('-') {
                    Some((name, n)) => {
                        match n.parse::<usize>().ok().and_then(|n| rows.get(n - 1)) {
                            Some(row) => format!("{name}-{row}"),
                            None => field.clone(),
                        }
                    }
                    None => field.clone(),
                };
                errors.push(FieldError::new(&field, problem));
            }
            None
        }
    };
    let (Some(set), true) = (set, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let version = current
        .versions
        .first()
        .map(|latest| latest.version)
        .unwrap_or(0)
        + 1;
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Create, "alert_limits.proposed");
    event.entity_type = Some("AlertLimits".into());
    event.entity_id = Some(format!(
        "{}/{version}",
        investigation.definition.parts().code.as_str()
    ));
    event.after = Some(
        json!({
            "investigation": investigation.definition.parts().code.as_str(),
            "version": version,
            "unit": unit,
            "rules": rules_json(set.rules()),
            "source": set.source(),
            "source_version": set.source_version(),
            "note": note,
        })
        .to_string(),
    );
    match ctx
        .store
        .add_alert_limit_set(
            &NewAlertLimitSet {
                investigation_id: investigation.investigation_id,
                version,
                unit: &unit,
                set: &set,
                note,
                proposed_by: actor.id,
                proposed_at: now,
            },
            &[event],
        )
        .await
    {
        Ok(_) => Ok(version),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "someone else proposed alert limits for this investigation meanwhile: reload the page and check".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// Approves a proposed version (`ApproveAlertLimits`, a clinical lead):
/// from now on result entry uses it. Refused for the proposer, for a
/// version already approved, and for one older than the version in force.
pub async fn approve(ctx: &Ctx, actor: &Actor, code: &str, version: i64) -> AppResult<()> {
    require(ctx, actor, Permission::ApproveAlertLimits).await?;
    let current = get(ctx, actor, code).await?;
    let Some(record) = current
        .versions
        .iter()
        .find(|record| record.version == version)
    else {
        return Err(AppError::NotFound);
    };
    if record.proposed_by == actor.id {
        return Err(AppError::Forbidden(
            "you proposed these limits: another clinical lead must approve them".into(),
        ));
    }
    if record.approved_at.is_some() {
        return Err(AppError::Conflict(format!(
            "version {version} was approved already by {}",
            record.approved_by_name.as_deref().unwrap_or("someone else")
        )));
    }
    if current
        .in_force()
        .is_some_and(|in_force| in_force.version > version)
    {
        return Err(AppError::Conflict(format!(
            "a later version is in force already: version {version} can no longer be approved"
        )));
    }
    let now = ctx.now();
    let code = current
        .investigation
        .definition
        .parts()
        .code
        .as_str()
        .to_owned();
    let mut event = audit_event(actor, now, AuditAction::Update, "alert_limits.approved");
    event.entity_type = Some("AlertLimits".into());
    event.entity_id = Some(format!("{code}/{version}"));
    event.after = Some(
        json!({
            "investigation": code,
            "version": version,
            "proposed_by": record.proposed_by_name,
            "rules": rules_json(&record.rules),
            "source": record.source,
            "source_version": record.source_version,
        })
        .to_string(),
    );
    match ctx
        .store
        .approve_alert_limit_set(
            current.investigation.investigation_id,
            version,
            actor.id,
            now,
            &[event],
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "these limits were approved or superseded meanwhile: reload the page and check".into(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// The alert limits that apply to one numeric result at entry: the version
/// in force (if any) and the limits for the patient's age at collection,
/// the request's setting and the upper reference limit that applies.
pub(crate) async fn for_entry(
    ctx: &Ctx,
    investigation_id: benchwork_domain::catalogue::InvestigationId,
    age_years: Option<i32>,
    setting: &str,
    upper_reference_limit: Option<f64>,
) -> AppResult<Option<(i64, AppliedLimits)>> {
    let Some(set) = ctx.store.alert_limits_in_force(investigation_id).await? else {
        return Ok(None);
    };
    // A setting that cannot be read is treated as hospital (not stated):
    // the booking refuses unknown codes, so this is stored data only.
    let setting = RequestSetting::parse(setting).unwrap_or(RequestSetting::Hospital);
    Ok(Some((
        set.version,
        resolve(&set.rules, age_years, setting, upper_reference_limit),
    )))
}

/// Fills a numeric result's critical limits, alert limit version and the
/// category of the limit its value reaches from the approved alert limits,
/// and returns the limits for flagging (inclusive, as written). Without an
/// approved version the result has no critical limits.
pub(crate) async fn critical_for_result(
    ctx: &Ctx,
    record: &mut benchwork_store::NewResultRecord,
    age_years: Option<i32>,
    setting: &str,
    upper_reference_limit: Option<f64>,
    value: f64,
) -> AppResult<Option<benchwork_domain::reference::CriticalLimits>> {
    record.critical_low = None;
    record.critical_high = None;
    record.alert_limit_version = None;
    record.critical_category = None;
    let Some((version, applied)) = for_entry(
        ctx,
        record.investigation_id,
        age_years,
        setting,
        upper_reference_limit,
    )
    .await?
    else {
        return Ok(None);
    };
    record.alert_limit_version = Some(version);
    record.critical_low = applied.low.map(|(low, _)| low);
    record.critical_high = applied.high.map(|(high, _)| high);
    record.critical_category = applied
        .category_reached(value)
        .map(|category| category.code().to_owned());
    if applied.unresolved_multiple {
        let note = "the critical high is a multiple of the upper reference limit and no upper limit applies to this patient: check the value against the alert limits by hand";
        record.flag_note = Some(match record.flag_note.take() {
            Some(existing) => format!("{existing}; {note}"),
            None => note.to_owned(),
        });
    }
    Ok(benchwork_domain::reference::CriticalLimits::new(
        record.critical_low,
        record.critical_high,
        true,
    )
    .ok())
}
