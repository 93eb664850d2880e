//! The investigation catalogue: create, edit (each edit a new version, the
//! old one kept), list and read investigations with their version history,
//! and panels. Organisation-wide: everyone with `ViewCatalogue` reads it,
//! `EditCatalogue` holders change it, and every change is audited with the
//! definition before and after.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::calculation::CalculationFormula;
use benchwork_domain::catalogue::{
    Calculation, CatalogueCode, CatalogueError, Discipline, InvestigationDefinition,
    InvestigationId, InvestigationParts, LoincCode, PanelDefinition, PanelId, ReportableRange,
    ResultType, SnomedCode, SourcedCriticalLimits, SpecimenRequirement, Turnaround, format_age,
    parse_age,
};
use benchwork_domain::patient::ReferenceSex;
use benchwork_domain::reference::{AgeBand, CriticalLimits, DeltaRule, ReferenceInterval};
use benchwork_domain::staff::Permission;
use benchwork_store::{InvestigationVersionRecord, PanelRecord, StoreError};
use serde_json::{Value, json};

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// A reference interval as typed. A row left wholly empty is ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalInput {
    /// `male`, `female`, or empty (or `any`) for any sex.
    pub sex: String,
    /// The age the band starts at (`0d`, `28d`, `18y`); empty = birth.
    pub age_from: String,
    /// The age the band ends before; empty = no end.
    pub age_to: String,
    /// Lower limit; empty = none.
    pub low: String,
    /// Upper limit; empty = none.
    pub high: String,
    /// Where it comes from.
    pub source: String,
}

impl IntervalInput {
    fn is_empty(&self) -> bool {
        [
            &self.sex,
            &self.age_from,
            &self.age_to,
            &self.low,
            &self.high,
            &self.source,
        ]
        .iter()
        .all(|text| text.trim().is_empty() || text.trim() == "any")
    }
}

/// An investigation's definition as typed, before validation. Field names
/// are those of the form and the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvestigationInput {
    /// Short code (`K`); ignored on edit, where the code never changes.
    pub code: String,
    /// Name.
    pub name: String,
    /// LOINC code, optional.
    pub loinc: String,
    /// SNOMED CT code, optional.
    pub snomed: String,
    /// Discipline code.
    pub discipline: String,
    /// Method.
    pub method: String,
    /// `numeric` (default), `coded` or `text`.
    pub result_type: String,
    /// UCUM unit (numeric).
    pub unit: String,
    /// Decimal places (numeric).
    pub decimal_places: String,
    /// Allowed codes, one per line (coded).
    pub coded_values: String,
    /// Reportable range low limit (numeric, optional with the high one).
    pub reportable_low: String,
    /// Reportable range high limit.
    pub reportable_high: String,
    /// Specimen type; empty with the container for no specimen.
    pub specimen_type: String,
    /// Container.
    pub container: String,
    /// Routine turnaround target, minutes.
    pub tat_routine: String,
    /// Urgent turnaround target, minutes.
    pub tat_urgent: String,
    /// Whether consent must be recorded first.
    pub consent_required: bool,
    /// Competency code, optional.
    pub competency_code: String,
    /// SOP code, optional.
    pub sop_code: String,
    /// Reference intervals.
    pub intervals: Vec<IntervalInput>,
    /// Critical low limit, optional.
    pub critical_low: String,
    /// Critical high limit, optional.
    pub critical_high: String,
    /// Where the critical limits come from.
    pub critical_source: String,
    /// On edit, the version the change was made from; empty = the current
    /// one. A different current version means someone else edited it.
    pub based_on_version: String,
    /// The formula code of a calculated investigation
    /// (`egfr-ckd-epi-2009`, `adjusted-calcium-payne`); empty = not
    /// calculated.
    pub calculation: String,
    /// The input investigations' codes, in the formula's order, separated
    /// by commas or spaces.
    pub calculation_inputs: String,
    /// Delta check: the largest acceptable change in the result's unit;
    /// empty = no absolute limit. All three delta fields empty = the
    /// default rule (50 % within 365 days).
    pub delta_absolute: String,
    /// Delta check: the largest acceptable change in percent of the
    /// previous value; empty = no percentage limit.
    pub delta_percent: String,
    /// Delta check: how old a previous result may be, in days (1 to 3650).
    pub delta_window_days: String,
}

/// An investigation with every version, newest first.
#[derive(Debug, Clone)]
pub struct InvestigationView {
    /// The current version.
    pub current: InvestigationVersionRecord,
    /// Every version, newest first (the current one included).
    pub versions: Vec<InvestigationVersionRecord>,
}

fn number(text: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Some(value),
        _ => {
            errors.push(FieldError::new(field, "enter a number, for example 3.5"));
            None
        }
    }
}

fn whole(text: &str, field: &str, message: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    match text.trim().parse::<i64>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.push(FieldError::new(field, message));
            None
        }
    }
}

fn push(errors: &mut Vec<FieldError>, error: CatalogueError) {
    errors.push(FieldError::new(error.field(), error));
}

fn optional<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, CatalogueError>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match text.trim() {
        "" => None,
        text => parse(text).map_err(|error| push(errors, error)).ok(),
    }
}

/// The delta rule of the form: `None` when all three fields are empty (the
/// default rule applies), otherwise every problem next to its field.
fn parse_delta_rule(input: &InvestigationInput, errors: &mut Vec<FieldError>) -> Option<DeltaRule> {
    let (absolute_text, percent_text, window_text) = (
        input.delta_absolute.trim(),
        input.delta_percent.trim(),
        input.delta_window_days.trim(),
    );
    if absolute_text.is_empty() && percent_text.is_empty() && window_text.is_empty() {
        return None;
    }
    let before = errors.len();
    let mut limit = |text: &str, field: &str, example: &str| -> Option<f64> {
        if text.is_empty() {
            return None;
        }
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() && value > 0.0 => Some(value),
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("enter a number greater than 0, for example {example}"),
                ));
                None
            }
        }
    };
    let absolute = limit(absolute_text, "delta_absolute", "1.0");
    let percent = limit(percent_text, "delta_percent", "50");
    if absolute_text.is_empty() && percent_text.is_empty() {
        errors.push(FieldError::new(
            "delta_absolute",
            "enter an absolute or a percentage limit, or leave all three delta fields empty to use the default rule",
        ));
    }
    let window_message = "enter the window as whole days from 1 to 3650, for example 7";
    let window = match window_text.parse::<i64>() {
        Ok(days) if (1..=DeltaRule::MAX_WINDOW_DAYS).contains(&days) => Some(days),
        _ => {
            errors.push(FieldError::new("delta_window_days", window_message));
            None
        }
    };
    if errors.len() > before {
        return None;
    }
    match DeltaRule::new(absolute, percent, window?) {
        Ok(rule) => Some(rule),
        Err(error) => {
            errors.push(FieldError::new("delta_absolute", error));
            None
        }
    }
}

fn parse_interval(
    idx: usize,
    input: &IntervalInput,
    errors: &mut Vec<FieldError>,
) -> Option<ReferenceInterval> {
    let field = |name: &str| format!("interval_{idx}_{name}");
    let n_errors = errors.len();
    let sex = match input.sex.trim() {
        "" | "any" => None,
        code => match ReferenceSex::parse(code) {
            Ok(ReferenceSex::Unknown) | Err(_) => {
                errors.push(FieldError::new(
                    &field("sex"),
                    "select male, female or any sex",
                ));
                None
            }
            Ok(sex) => Some(sex),
        },
    };
    let mut age = |text: &str, name: &str| match text.trim() {
        "" => None,
        text => parse_age(text)
            .map_err(|error| errors.push(FieldError::new(&field(name), error)))
            .ok(),
    };
    let from_days = age(&input.age_from, "age_from").unwrap_or(0);
    let to_days = age(&input.age_to, "age_to");
    let low = number(&input.low, &field("low"), errors);
    let high = number(&input.high, &field("high"), errors);
    if errors.len() > n_errors {
        return None;
    }
    let age_band = AgeBand::new(from_days, to_days)
        .map_err(|error| errors.push(FieldError::new(&field("age_to"), error)))
        .ok()?;
    ReferenceInterval::new(low, high, sex, age_band, &input.source)
        .map_err(|error| {
            use benchwork_domain::reference::ReferenceError as E;
            let name = match error {
                E::InvalidSource => "source",
                E::LowAboveHigh { .. } | E::NoLimit => "low",
                _ => "high",
            };
            errors.push(FieldError::new(&field(name), error));
        })
        .ok()
}

fn parse_calculation(
    input: &InvestigationInput,
    errors: &mut Vec<FieldError>,
) -> Option<Calculation> {
    let code = input.calculation.trim();
    if code.is_empty() {
        if !input.calculation_inputs.trim().is_empty() {
            errors.push(FieldError::new(
                "calculation",
                "select the formula, or clear the inputs",
            ));
        }
        return None;
    }
    let Some(formula) = CalculationFormula::parse(code) else {
        push(errors, CatalogueError::UnknownFormula);
        return None;
    };
    let mut inputs = Vec::new();
    for text in input
        .calculation_inputs
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|text| !text.is_empty())
    {
        match CatalogueCode::parse(text) {
            Ok(code) => inputs.push(code),
            Err(error) => {
                errors.push(FieldError::new("calculation_inputs", error));
                return None;
            }
        }
    }
    Some(Calculation { formula, inputs })
}

/// Checks that a calculated investigation's inputs are numeric
/// investigations of the catalogue in the units the formula needs.
async fn check_calculation_inputs(
    ctx: &Ctx,
    definition: &InvestigationDefinition,
) -> AppResult<()> {
    let Some(calculation) = &definition.parts().calculation else {
        return Ok(());
    };
    for (code, needed) in calculation.inputs.iter().zip(calculation.formula.inputs()) {
        let found = match ctx.store.get_investigation_by_code(code.as_str()).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => {
                return Err(AppError::invalid(
                    "calculation_inputs",
                    format!(
                        "{code} is not an investigation of the catalogue: enter the code of the {} investigation",
                        needed.what
                    ),
                ));
            }
            Err(error) => return Err(error.into()),
        };
        let parts = found.definition.parts();
        let unit_ok =
            matches!(&parts.result_type, ResultType::Numeric { unit, .. } if unit == needed.unit);
        if !unit_ok {
            return Err(AppError::invalid(
                "calculation_inputs",
                format!(
                    "{code} must be numeric in {} to be the formula's {}",
                    needed.unit, needed.what
                ),
            ));
        }
        if parts.calculation.is_some() {
            return Err(AppError::invalid(
                "calculation_inputs",
                format!("{code} is itself calculated: use measured investigations as inputs"),
            ));
        }
    }
    Ok(())
}

/// Validates typed input into a definition, every problem named by field.
pub fn parse_input(input: &InvestigationInput) -> Result<InvestigationDefinition, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = CatalogueCode::parse(&input.code)
        .map_err(|error| push(&mut errors, error))
        .ok();
    let loinc = optional(&input.loinc, LoincCode::parse, &mut errors);
    let snomed = optional(&input.snomed, SnomedCode::parse, &mut errors);
    let discipline = Discipline::parse(&input.discipline);
    if discipline.is_none() {
        push(&mut errors, CatalogueError::UnknownDiscipline);
    }
    let result_type = match input.result_type.trim() {
        "" | "numeric" => whole(
            &input.decimal_places,
            "decimal_places",
            "enter the decimal places as a whole number from 0 to 6",
            &mut errors,
        )
        .and_then(|places| {
            ResultType::numeric(&input.unit, places)
                .map_err(|error| push(&mut errors, error))
                .ok()
        }),
        "coded" => {
            let codes: Vec<String> = input.coded_values.lines().map(str::to_owned).collect();
            ResultType::coded(&codes)
                .map_err(|error| push(&mut errors, error))
                .ok()
        }
        "text" => Some(ResultType::Text),
        _ => {
            push(&mut errors, CatalogueError::UnknownResultType);
            None
        }
    };
    let reportable_low = number(&input.reportable_low, "reportable_low", &mut errors);
    let reportable_high = number(&input.reportable_high, "reportable_high", &mut errors);
    let reportable_range = match (reportable_low, reportable_high) {
        (Some(low), Some(high)) => ReportableRange::new(low, high)
            .map_err(|error| push(&mut errors, error))
            .ok(),
        (None, None) => None,
        (Some(_), None) => {
            errors.push(FieldError::new(
                "reportable_high",
                "enter the reportable range's high limit too",
            ));
            None
        }
        (None, Some(_)) => {
            errors.push(FieldError::new(
                "reportable_low",
                "enter the reportable range's low limit too",
            ));
            None
        }
    };
    let reference_intervals: Vec<ReferenceInterval> = input
        .intervals
        .iter()
        .enumerate()
        .filter(|(_, interval)| !interval.is_empty())
        .filter_map(|(idx, interval)| parse_interval(idx, interval, &mut errors))
        .collect();
    let critical_low = number(&input.critical_low, "critical_low", &mut errors);
    let critical_high = number(&input.critical_high, "critical_high", &mut errors);
    let critical_limits = match (critical_low, critical_high) {
        (None, None) => {
            if !input.critical_source.trim().is_empty()
                && !errors
                    .iter()
                    .any(|error| error.field.starts_with("critical_"))
            {
                errors.push(FieldError::new(
                    "critical_low",
                    "enter a critical low limit, a critical high limit or both, or clear the source",
                ));
            }
            None
        }
        (low, high) => CriticalLimits::new(low, high, true)
            .map_err(|error| errors.push(FieldError::new("critical_low", error)))
            .ok()
            .map(|limits| SourcedCriticalLimits {
                limits,
                source: input.critical_source.clone(),
            }),
    };
    let specimen = SpecimenRequirement::new(&input.specimen_type, &input.container)
        .map_err(|error| push(&mut errors, error))
        .ok();
    let tat_message = "enter the turnaround target in whole minutes, for example 240";
    let tat_routine = whole(&input.tat_routine, "tat_routine", tat_message, &mut errors);
    let tat_urgent = whole(&input.tat_urgent, "tat_urgent", tat_message, &mut errors);
    let turnaround = match (tat_routine, tat_urgent) {
        (Some(routine), Some(urgent)) => Turnaround::new(routine, urgent)
            .map_err(|error| push(&mut errors, error))
            .ok(),
        _ => None,
    };
    let calculation = parse_calculation(input, &mut errors);
    let delta_rule = parse_delta_rule(input, &mut errors);
    let (Some(code), Some(discipline), Some(result_type), Some(specimen), Some(turnaround), true) = (
        code,
        discipline,
        result_type,
        specimen,
        turnaround,
        errors.is_empty(),
    ) else {
        // The cross-field rules are checked too when the parts are valid.
        return Err(errors);
    };
    InvestigationDefinition::new(InvestigationParts {
        code,
        name: input.name.clone(),
        loinc,
        snomed,
        discipline,
        method: input.method.clone(),
        result_type,
        reportable_range,
        reference_intervals,
        critical_limits,
        specimen,
        turnaround,
        consent_required: input.consent_required,
        competency_code: Some(input.competency_code.clone()),
        sop_code: Some(input.sop_code.clone()),
        calculation,
        delta_rule,
    })
    .map_err(|errors| {
        errors
            .into_iter()
            .map(|error| FieldError::new(error.field(), error))
            .collect()
    })
}

/// The typed input that shows a definition again (to start an edit from).
pub fn input_of(definition: &InvestigationDefinition) -> InvestigationInput {
    let parts = definition.parts();
    let text = |value: Option<f64>| value.map(|value| value.to_string()).unwrap_or_default();
    let (result_type, unit, decimal_places, coded_values) = match &parts.result_type {
        ResultType::Numeric {
            unit,
            decimal_places,
        } => (
            "numeric",
            unit.clone(),
            decimal_places.to_string(),
            String::new(),
        ),
        ResultType::Coded { codes } => ("coded", String::new(), String::new(), codes.join("\n")),
        ResultType::Text => ("text", String::new(), String::new(), String::new()),
    };
    let (specimen_type, container) = match &parts.specimen {
        SpecimenRequirement::Specimen {
            specimen_type,
            container,
        } => (specimen_type.clone(), container.clone()),
        SpecimenRequirement::None => (String::new(), String::new()),
    };
    InvestigationInput {
        code: parts.code.to_string(),
        name: parts.name.clone(),
        loinc: parts
            .loinc
            .as_ref()
            .map(|code| code.to_string())
            .unwrap_or_default(),
        snomed: parts
            .snomed
            .as_ref()
            .map(|code| code.as_str().to_owned())
            .unwrap_or_default(),
        discipline: parts.discipline.code().to_owned(),
        method: parts.method.clone(),
        result_type: result_type.to_owned(),
        unit,
        decimal_places,
        coded_values,
        reportable_low: text(parts.reportable_range.map(|range| range.low())),
        reportable_high: text(parts.reportable_range.map(|range| range.high())),
        specimen_type,
        container,
        tat_routine: parts
            .turnaround
            .minutes(benchwork_domain::catalogue::Priority::Routine)
            .to_string(),
        tat_urgent: parts
            .turnaround
            .minutes(benchwork_domain::catalogue::Priority::Urgent)
            .to_string(),
        consent_required: parts.consent_required,
        competency_code: parts.competency_code.clone().unwrap_or_default(),
        sop_code: parts.sop_code.clone().unwrap_or_default(),
        intervals: parts
            .reference_intervals
            .iter()
            .map(|interval| IntervalInput {
                sex: interval
                    .sex()
                    .map(|sex| sex.code().to_owned())
                    .unwrap_or_default(),
                age_from: format_age(interval.age_band().from_days()),
                age_to: interval
                    .age_band()
                    .to_days()
                    .map(format_age)
                    .unwrap_or_default(),
                low: text(interval.low()),
                high: text(interval.high()),
                source: interval.source().to_owned(),
            })
            .collect(),
        critical_low: text(parts.critical_limits.as_ref().and_then(|c| c.limits.low())),
        critical_high: text(parts.critical_limits.as_ref().and_then(|c| c.limits.high())),
        critical_source: parts
            .critical_limits
            .as_ref()
            .map(|critical| critical.source.clone())
            .unwrap_or_default(),
        based_on_version: String::new(),
        calculation: parts
            .calculation
            .as_ref()
            .map(|calculation| calculation.formula.code().to_owned())
            .unwrap_or_default(),
        calculation_inputs: parts
            .calculation
            .as_ref()
            .map(|calculation| {
                calculation
                    .inputs
                    .iter()
                    .map(|code| code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        delta_absolute: text(parts.delta_rule.and_then(|rule| rule.absolute())),
        delta_percent: text(parts.delta_rule.and_then(|rule| rule.percent())),
        delta_window_days: parts
            .delta_rule
            .map(|rule| rule.window_days().to_string())
            .unwrap_or_default(),
    }
}

/// The definition as JSON, for the audit trail's before and after.
pub fn definition_json(definition: &InvestigationDefinition) -> Value {
    let input = input_of(definition);
    json!({
        "code": input.code,
        "name": input.name,
        "loinc": input.loinc,
        "snomed": input.snomed,
        "discipline": input.discipline,
        "method": input.method,
        "result_type": input.result_type,
        "unit": input.unit,
        "decimal_places": input.decimal_places,
        "coded_values": input.coded_values,
        "reportable_low": input.reportable_low,
        "reportable_high": input.reportable_high,
        "specimen_type": input.specimen_type,
        "container": input.container,
        "tat_routine_minutes": input.tat_routine,
        "tat_urgent_minutes": input.tat_urgent,
        "consent_required": input.consent_required,
        "competency_code": input.competency_code,
        "sop_code": input.sop_code,
        "reference_intervals": input.intervals.iter().map(|interval| json!({
            "sex": interval.sex, "age_from": interval.age_from, "age_to": interval.age_to,
            "low": interval.low, "high": interval.high, "source": interval.source,
        })).collect::<Vec<_>>(),
        "critical_low": input.critical_low,
        "critical_high": input.critical_high,
        "critical_source": input.critical_source,
        "calculation": input.calculation,
        "calculation_inputs": input.calculation_inputs,
        "delta_absolute": input.delta_absolute,
        "delta_percent": input.delta_percent,
        "delta_window_days": input.delta_window_days,
    })
}

fn code_taken(code: &str) -> AppError {
    AppError::invalid(
        "code",
        format!("an investigation or panel with code {code} already exists: choose another code"),
    )
}

/// Adds an investigation to the catalogue as version 1.
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    input: &InvestigationInput,
) -> AppResult<InvestigationVersionRecord> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let definition = parse_input(input).map_err(AppError::Invalid)?;
    check_calculation_inputs(ctx, &definition).await?;
    let id = InvestigationId(new_uuid());
    let now = ctx.now();
    let mut event = audit_event(
        actor,
        now,
        AuditAction::Create,
        "catalogue.investigation.create",
    );
    event.entity_type = Some("Investigation".into());
    event.entity_id = Some(id.to_string());
    event.detail = Some(format!("{} version 1", definition.code()));
    event.after = Some(definition_json(&definition).to_string());
    match ctx
        .store
        .create_investigation(id, &definition, actor.id, now, &[event])
        .await
    {
        Ok(()) => Ok(ctx
            .store
            .get_investigation_by_code(definition.code().as_str())
            .await?),
        Err(StoreError::Conflict { .. }) => Err(code_taken(definition.code().as_str())),
        Err(error) => Err(error.into()),
    }
}

/// Changes an investigation: the new definition becomes the next version,
/// and every older version stays as it was. Refused when nothing changed,
/// or when someone else made a version since `based_on_version`.
pub async fn edit(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    input: &InvestigationInput,
) -> AppResult<InvestigationVersionRecord> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let current = ctx.store.get_investigation_by_code(code.trim()).await?;
    let mut input = input.clone();
    input.code = current.definition.code().to_string();
    let definition = parse_input(&input).map_err(AppError::Invalid)?;
    check_calculation_inputs(ctx, &definition).await?;
    let based_on = match input.based_on_version.trim() {
        "" => current.version,
        text => text.parse::<i64>().map_err(|_| {
            AppError::invalid("based_on_version", "the version edited is not a number")
        })?,
    };
    let stale = || {
        AppError::Conflict(
            "someone else changed this investigation while you were editing it: open it again and repeat your change".into(),
        )
    };
    if based_on != current.version {
        return Err(stale());
    }
    if definition == current.definition {
        return Err(AppError::invalid(
            "name",
            "nothing was changed: change a field to make a new version",
        ));
    }
    let now = ctx.now();
    let version = current.version + 1;
    let mut event = audit_event(
        actor,
        now,
        AuditAction::Update,
        "catalogue.investigation.edit",
    );
    event.entity_type = Some("Investigation".into());
    event.entity_id = Some(current.investigation_id.to_string());
    event.detail = Some(format!(
        "{} version {} replaced by version {version}",
        definition.code(),
        current.version
    ));
    event.before = Some(definition_json(&current.definition).to_string());
    event.after = Some(definition_json(&definition).to_string());
    match ctx
        .store
        .add_investigation_version(
            current.investigation_id,
            current.version,
            &definition,
            actor.id,
            now,
            &[event],
        )
        .await
    {
        Ok(version) => Ok(ctx
            .store
            .get_investigation_version(current.investigation_id, version)
            .await?),
        Err(StoreError::Conflict { .. }) => Err(stale()),
        Err(error) => Err(error.into()),
    }
}

/// The current version of every investigation, optionally of one
/// discipline (by code; an unknown code is refused).
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    discipline: &str,
) -> AppResult<Vec<InvestigationVersionRecord>> {
    require(ctx, actor, Permission::ViewCatalogue).await?;
    let discipline =
        match discipline.trim() {
            "" => None,
            code => Some(Discipline::parse(code).ok_or_else(|| {
                AppError::invalid("discipline", CatalogueError::UnknownDiscipline)
            })?),
        };
    Ok(ctx.store.list_investigations(discipline).await?)
}

/// An investigation by code, with every version.
pub async fn get(ctx: &Ctx, actor: &Actor, code: &str) -> AppResult<InvestigationView> {
    require(ctx, actor, Permission::ViewCatalogue).await?;
    let code = CatalogueCode::parse(code).map_err(|_| AppError::NotFound)?;
    let current = ctx.store.get_investigation_by_code(code.as_str()).await?;
    let versions = ctx
        .store
        .list_investigation_versions(current.investigation_id)
        .await?;
    Ok(InvestigationView { current, versions })
}

/// Every panel with its members.
pub async fn list_panels(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<PanelRecord>> {
    require(ctx, actor, Permission::ViewCatalogue).await?;
    Ok(ctx.store.list_panels().await?)
}

/// Adds a panel of investigations already in the catalogue.
pub async fn create_panel(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    name: &str,
    members: &[String],
) -> AppResult<PanelRecord> {
    require(ctx, actor, Permission::EditCatalogue).await?;
    let mut errors = Vec::new();
    let code = CatalogueCode::parse(code)
        .map_err(|error| push(&mut errors, error))
        .ok();
    let mut member_codes = Vec::new();
    for member in members {
        match CatalogueCode::parse(member) {
            Ok(member_code) => match ctx
                .store
                .get_investigation_by_code(member_code.as_str())
                .await
            {
                Ok(_) => member_codes.push(member_code),
                Err(StoreError::NotFound) => errors.push(FieldError::new(
                    "members",
                    format!("{member_code} is not in the catalogue: add it first"),
                )),
                Err(error) => return Err(error.into()),
            },
            Err(_) => errors.push(FieldError::new(
                "members",
                format!("{} is not an investigation code", member.trim()),
            )),
        }
    }
    let Some(code) = code.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let panel = PanelDefinition::new(code, name, member_codes)
        .map_err(|error| AppError::invalid(error.field(), error))?;
    let id = PanelId(new_uuid());
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Create, "catalogue.panel.create");
    event.entity_type = Some("Panel".into());
    event.entity_id = Some(id.to_string());
    event.detail = Some(format!("{} version 1", panel.code()));
    event.after = Some(
        json!({
            "code": panel.code().as_str(),
            "name": panel.name(),
            "members": panel.members().iter().map(CatalogueCode::as_str).collect::<Vec<_>>(),
        })
        .to_string(),
    );
    match ctx
        .store
        .create_panel(id, &panel, actor.id, now, &[event])
        .await
    {
        Ok(()) => ctx
            .store
            .list_panels()
            .await?
            .into_iter()
            .find(|record| record.id == id)
            .ok_or(AppError::NotFound),
        Err(StoreError::Conflict { .. }) => Err(code_taken(panel.code().as_str())),
        Err(error) => Err(error.into()),
    }
}
