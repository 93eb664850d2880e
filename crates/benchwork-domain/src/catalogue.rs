//! The investigation catalogue: what each investigation is, how it is
//! measured and reported, and the limits its results are judged against.
//!
//! An [`InvestigationDefinition`] is one version of an investigation's
//! definition; every edit makes a new version and never changes an old one,
//! so that a result keeps the definition (reference intervals, critical
//! limits, units) that applied when it was produced. Codes are checked here:
//! [`LoincCode`] with its mod-10 check digit (DOMAIN.md 3.7),
//! [`SnomedCode`] as 6 to 18 digits. Physiological measurements (ECG
//! intervals, spirometry) have no specimen ([`SpecimenRequirement::None`])
//! and are first-class investigations. A [`PanelDefinition`] groups
//! investigations requested together (U&E, LFT, FBC).

use std::fmt;

use crate::calculation::CalculationFormula;
use crate::incident::has_control_characters;
use crate::reference::{CriticalLimits, DeltaRule, ReferenceInterval};

id_type!(
    /// An investigation: the record whose versions hold its definition.
    InvestigationId
);

id_type!(
    /// A panel: the record whose versions hold its name and members.
    PanelId
);

/// Why catalogue input was refused. Messages are shown next to the field
/// that [`CatalogueError::field`] names.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogueError {
    /// The investigation or panel code has the wrong form.
    #[error(
        "enter a code of 1 to 20 capital letters, digits or hyphens, starting with a letter (for example K or NA)"
    )]
    InvalidCode,
    /// The name is empty, too long or holds control characters.
    #[error("enter the name (up to 100 characters)")]
    InvalidName,
    /// A LOINC code not of the form NNNNN-N.
    #[error("enter the LOINC code as digits, a hyphen and a check digit, for example 2823-3")]
    LoincFormat,
    /// A LOINC code whose check digit is wrong.
    #[error("the LOINC code's check digit is wrong: check the code")]
    LoincCheckDigit,
    /// A SNOMED CT code that is not 6 to 18 digits.
    #[error("enter the SNOMED CT code as 6 to 18 digits")]
    SnomedFormat,
    /// A discipline code that does not exist.
    #[error("select the discipline")]
    UnknownDiscipline,
    /// The method is too long or holds control characters.
    #[error("enter the method in up to 200 characters")]
    InvalidMethod,
    /// A result type code that does not exist.
    #[error("select numeric, coded or text")]
    UnknownResultType,
    /// A numeric result without a unit, or a unit that is not UCUM.
    #[error(
        "enter the unit in UCUM, for example mmol/L, umol/L, 10*9/L or mL/min/{{1.73_m2}} (up to 30 characters)"
    )]
    InvalidUnit,
    /// Decimal places that are not a whole number from 0 to 6.
    #[error("enter the decimal places as a whole number from 0 to 6")]
    InvalidDecimalPlaces,
    /// A coded result type without codes, or with a bad one.
    #[error("enter the allowed codes, one per line (1 to 50 codes of up to 40 characters each)")]
    InvalidCodedValues,
    /// A limit of the reportable range that is not a finite number.
    #[error("reportable range limits must be numbers")]
    ReportableRangeNotFinite,
    /// The reportable range's low limit is not below its high limit.
    #[error("the reportable range's low limit ({low}) must be below its high limit ({high})")]
    ReportableRangeLowNotBelowHigh {
        /// The low limit given.
        low: f64,
        /// The high limit given.
        high: f64,
    },
    /// Numeric limits on a coded or text investigation.
    #[error(
        "only numeric investigations have a reportable range, reference intervals or critical limits"
    )]
    LimitsNeedNumericResult,
    /// A delta rule on an investigation whose results are not numeric.
    #[error("only numeric investigations have a delta check rule: leave the delta fields empty")]
    DeltaNeedsNumericResult,
    /// Turnaround targets that are not positive whole minutes.
    #[error("enter turnaround targets as whole minutes from 1 to 525600 (one year)")]
    InvalidTurnaround,
    /// An urgent target longer than the routine one.
    #[error("the urgent turnaround target must not be longer than the routine one")]
    UrgentSlowerThanRoutine,
    /// A specimen type without a container or the other way round.
    #[error("enter both the specimen type and the container, or neither for no specimen")]
    IncompleteSpecimen,
    /// A specimen type or container that is too long.
    #[error("enter the specimen type and container in up to 100 characters each")]
    InvalidSpecimen,
    /// Critical limits without their source.
    #[error("enter where the critical limits come from (up to 200 characters)")]
    CriticalSourceRequired,
    /// A competency code with the wrong form.
    #[error("enter the competency code in up to 40 characters without spaces")]
    InvalidCompetencyCode,
    /// An SOP code with the wrong form.
    #[error("enter the SOP code in up to 40 characters without spaces")]
    InvalidSopCode,
    /// An age that is not a number of days, weeks or years.
    #[error("enter an age as days, weeks or years, for example 28d, 6w or 18y")]
    InvalidAge,
    /// A formula code that is not in the tested set.
    #[error("select a formula from the list")]
    UnknownFormula,
    /// A calculated investigation that is not numeric in the formula's unit.
    #[error("a calculated investigation must be numeric in the formula's unit ({unit})")]
    CalculationUnit {
        /// The unit the formula gives.
        unit: &'static str,
    },
    /// Inputs that do not match the formula.
    #[error(
        "enter the {expected} input investigation codes the formula needs ({what}), in that order, separated by commas"
    )]
    CalculationInputs {
        /// How many.
        expected: usize,
        /// What they are, in words.
        what: String,
    },
    /// An investigation calculated from itself.
    #[error("a calculated investigation cannot be one of its own inputs")]
    CalculationFromItself,
    /// A panel without members.
    #[error("a panel needs at least one investigation")]
    EmptyPanel,
    /// A panel that names an investigation twice.
    #[error("the panel names {0} twice")]
    DuplicateMember(String),
}

impl CatalogueError {
    /// The form or API field the problem belongs to.
    pub fn field(&self) -> &'static str {
        use CatalogueError::*;
        match self {
            InvalidCode => "code",
            InvalidName => "name",
            LoincFormat | LoincCheckDigit => "loinc",
            SnomedFormat => "snomed",
            UnknownDiscipline => "discipline",
            InvalidMethod => "method",
            UnknownResultType => "result_type",
            InvalidUnit => "unit",
            InvalidDecimalPlaces => "decimal_places",
            InvalidCodedValues => "coded_values",
            ReportableRangeNotFinite | ReportableRangeLowNotBelowHigh { .. } => "reportable_low",
            LimitsNeedNumericResult => "result_type",
            DeltaNeedsNumericResult => "delta_absolute",
            InvalidTurnaround => "tat_routine",
            UrgentSlowerThanRoutine => "tat_urgent",
            IncompleteSpecimen | InvalidSpecimen => "specimen_type",
            CriticalSourceRequired => "critical_source",
            InvalidCompetencyCode => "competency_code",
            InvalidSopCode => "sop_code",
            InvalidAge => "age",
            UnknownFormula | CalculationUnit { .. } => "calculation",
            CalculationInputs { .. } | CalculationFromItself => "calculation_inputs",
            EmptyPanel | DuplicateMember(_) => "members",
        }
    }
}

/// A LOINC code whose mod-10 check digit is right.
///
/// Invariant: 1 to 7 digits, a hyphen, and the check digit of those digits
/// (DOMAIN.md 3.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoincCode(String);

impl LoincCode {
    /// Validates a LOINC code as typed, such as `2823-3` (potassium).
    pub fn parse(text: &str) -> Result<LoincCode, CatalogueError> {
        let text = text.trim();
        let Some((number, check)) = text.split_once('-') else {
            return Err(CatalogueError::LoincFormat);
        };
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(number) && number.len() <= 7 && all_digits(check) && check.len() == 1) {
            return Err(CatalogueError::LoincFormat);
        }
        if loinc_check_digit(number) != u32::from(check.as_bytes()[0] - b'0') {
            return Err(CatalogueError::LoincCheckDigit);
        }
        Ok(LoincCode(text.to_owned()))
    }

    /// The code as written, `2823-3`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LoincCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The LOINC mod-10 check digit of the digits before the hyphen: from the
/// rightmost digit, every second digit is doubled (rightmost, third from
/// right, ...), the digits of the products and the undoubled digits are
/// summed, and the check is `(10 - sum mod 10) mod 10`.
fn loinc_check_digit(number: &str) -> u32 {
    let sum: u32 = number
        .bytes()
        .rev()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(position, digit)| {
            if position % 2 == 0 {
                let doubled = digit * 2;
                doubled / 10 + doubled % 10
            } else {
                digit
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A SNOMED CT concept id: 6 to 18 digits. Its Verhoeff check digit and
/// whether the concept exists are checked against the terminology server,
/// not here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnomedCode(String);

impl SnomedCode {
    /// Validates a SNOMED CT concept id.
    pub fn parse(text: &str) -> Result<SnomedCode, CatalogueError> {
        let text = text.trim();
        if (6..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(SnomedCode(text.to_owned()))
        } else {
            Err(CatalogueError::SnomedFormat)
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short code people and messages use for an investigation or panel:
/// `K`, `NA`, `HB`, `QTC`, `UE`.
///
/// Invariant: 1 to 20 ASCII capital letters, digits or hyphens, starting
/// with a letter; typed lower case is raised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CatalogueCode(String);

impl CatalogueCode {
    /// Validates a code.
    pub fn parse(text: &str) -> Result<CatalogueCode, CatalogueError> {
        let code = text.trim().to_ascii_uppercase();
        let valid = (1..=20).contains(&code.len())
            && code.starts_with(|c: char| c.is_ascii_uppercase())
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(CatalogueCode(code))
        } else {
            Err(CatalogueError::InvalidCode)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CatalogueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

coded_enum!(
    /// The area of healthcare science an investigation belongs to.
    Discipline {
        /// Clinical biochemistry and immunology.
        BloodSciences => ("blood-sciences", "Blood sciences"),
        /// Haematology and coagulation.
        Haematology => ("haematology", "Haematology"),
        /// Microbiology.
        Microbiology => ("microbiology", "Microbiology"),
        /// Histopathology and cytology.
        CellularPathology => ("cellular-pathology", "Cellular pathology"),
        /// ECG, echocardiography, ambulatory monitoring.
        CardiacPhysiology => ("cardiac-physiology", "Cardiac physiology"),
        /// Spirometry, lung function.
        RespiratoryPhysiology => ("respiratory-physiology", "Respiratory physiology"),
        /// Audiometry, tympanometry.
        Audiology => ("audiology", "Audiology"),
        /// Anything else.
        Other => ("other", "Other"),
    }
);

coded_enum!(
    /// How urgently a request is wanted.
    Priority {
        /// The normal pace of the service.
        Routine => ("routine", "Routine"),
        /// Wanted as soon as possible.
        Urgent => ("urgent", "Urgent"),
    }
);

/// What a result of the investigation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultType {
    /// A number in a UCUM unit, shown with a fixed number of decimal places.
    Numeric {
        /// The UCUM unit: `mmol/L`, `10*9/L`, `ms`, `L`, `%`.
        unit: String,
        /// Decimal places shown, 0 to 6.
        decimal_places: u8,
    },
    /// One of a list of codes (`POS`, `NEG`; `DETECTED`).
    Coded {
        /// The allowed codes, in display order.
        codes: Vec<String>,
    },
    /// Free text (a film comment, a culture report).
    Text,
}

impl ResultType {
    /// The stable code of the kind: `numeric`, `coded` or `text`.
    pub fn code(&self) -> &'static str {
        match self {
            ResultType::Numeric { .. } => "numeric",
            ResultType::Coded { .. } => "coded",
            ResultType::Text => "text",
        }
    }

    /// Validates a numeric result type.
    pub fn numeric(unit: &str, decimal_places: i64) -> Result<ResultType, CatalogueError> {
        if unit.trim().chars().count() > 30 {
            return Err(CatalogueError::InvalidUnit);
        }
        let unit = crate::units::Unit::parse(unit).map_err(|_| CatalogueError::InvalidUnit)?;
        let unit = unit.as_str();
        let decimal_places = u8::try_from(decimal_places)
            .ok()
            .filter(|places| *places <= 6)
            .ok_or(CatalogueError::InvalidDecimalPlaces)?;
        Ok(ResultType::Numeric {
            unit: unit.to_owned(),
            decimal_places,
        })
    }

    /// Validates a coded result type: 1 to 50 distinct codes of 1 to 40
    /// characters without control characters.
    pub fn coded(codes: &[String]) -> Result<ResultType, CatalogueError> {
        let codes: Vec<String> = codes
            .iter()
            .map(|code| code.trim().to_owned())
            .filter(|code| !code.is_empty())
            .collect();
        let valid = (1..=50).contains(&codes.len())
            && codes
                .iter()
                .all(|code| code.chars().count() <= 40 && !has_control_characters(code, false))
            && codes
                .iter()
                .enumerate()
                .all(|(idx, code)| !codes[..idx].contains(code));
        if valid {
            Ok(ResultType::Coded { codes })
        } else {
            Err(CatalogueError::InvalidCodedValues)
        }
    }
}

/// The interval over which the method gives valid results without dilution.
///
/// Invariant: both limits finite, `low < high`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportableRange {
    low: f64,
    high: f64,
}

impl ReportableRange {
    /// Validates a reportable range.
    pub fn new(low: f64, high: f64) -> Result<ReportableRange, CatalogueError> {
        if !(low.is_finite() && high.is_finite()) {
            return Err(CatalogueError::ReportableRangeNotFinite);
        }
        if low >= high {
            return Err(CatalogueError::ReportableRangeLowNotBelowHigh { low, high });
        }
        Ok(ReportableRange { low, high })
    }

    /// The lowest reportable value.
    pub fn low(&self) -> f64 {
        self.low
    }

    /// The highest reportable value.
    pub fn high(&self) -> f64 {
        self.high
    }

    /// Whether `value` can be reported as measured.
    pub fn contains(&self, value: f64) -> bool {
        value >= self.low && value <= self.high
    }
}

/// Turnaround targets, in minutes from receipt to authorisation, per
/// priority.
///
/// Invariant: 1 to [`Turnaround::MAX_MINUTES`] minutes each; urgent no
/// longer than routine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turnaround {
    routine_minutes: u32,
    urgent_minutes: u32,
}

impl Turnaround {
    /// The longest target accepted: one year.
    pub const MAX_MINUTES: i64 = 525_600;

    /// Validates turnaround targets.
    pub fn new(routine_minutes: i64, urgent_minutes: i64) -> Result<Turnaround, CatalogueError> {
        let check = |minutes: i64| {
            u32::try_from(minutes)
                .ok()
                .filter(|minutes| (1..=Self::MAX_MINUTES).contains(&i64::from(*minutes)))
                .ok_or(CatalogueError::InvalidTurnaround)
        };
        let routine_minutes = check(routine_minutes)?;
        let urgent_minutes = check(urgent_minutes)?;
        if urgent_minutes > routine_minutes {
            return Err(CatalogueError::UrgentSlowerThanRoutine);
        }
        Ok(Turnaround {
            routine_minutes,
            urgent_minutes,
        })
    }

    /// The target for a priority, in minutes.
    pub fn minutes(&self, priority: Priority) -> u32 {
        match priority {
            Priority::Routine => self.routine_minutes,
            Priority::Urgent => self.urgent_minutes,
        }
    }
}

/// What must be collected for the investigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecimenRequirement {
    /// A specimen of a type in a container (serum in a gold-top gel tube).
    Specimen {
        /// Specimen type: serum, plasma, whole blood, urine, swab.
        specimen_type: String,
        /// Container: "Serum gel (gold top)", "EDTA (lavender top)".
        container: String,
    },
    /// A physiological measurement made on the patient (an ECG interval,
    /// spirometry): the "specimen" is the recording.
    None,
}

impl SpecimenRequirement {
    /// Validates a requirement from the specimen type and container as
    /// typed: both empty is no specimen; one without the other is refused.
    pub fn new(
        specimen_type: &str,
        container: &str,
    ) -> Result<SpecimenRequirement, CatalogueError> {
        let (specimen_type, container) = (specimen_type.trim(), container.trim());
        match (specimen_type.is_empty(), container.is_empty()) {
            (true, true) => Ok(SpecimenRequirement::None),
            (false, false) => {
                let valid = |text: &str| {
                    text.chars().count() <= 100 && !has_control_characters(text, false)
                };
                if valid(specimen_type) && valid(container) {
                    Ok(SpecimenRequirement::Specimen {
                        specimen_type: specimen_type.to_owned(),
                        container: container.to_owned(),
                    })
                } else {
                    Err(CatalogueError::InvalidSpecimen)
                }
            }
            _ => Err(CatalogueError::IncompleteSpecimen),
        }
    }
}

/// How a calculated investigation is produced: a formula of the tested set
/// ([`CalculationFormula`]) and the investigations whose results are its
/// inputs, by catalogue code, in the formula's order. A calculated
/// investigation is never entered by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calculation {
    /// The formula.
    pub formula: CalculationFormula,
    /// The input investigations' codes, in the order of
    /// [`CalculationFormula::inputs`].
    pub inputs: Vec<CatalogueCode>,
}

/// Critical limits with the document they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedCriticalLimits {
    /// The limits.
    pub limits: CriticalLimits,
    /// Where they come from, with version (for example "RCPath G158
    /// (2017)").
    pub source: String,
}

/// What a new version of an investigation is made of, once each part has
/// been validated on its own. [`InvestigationDefinition::new`] checks the
/// rules between parts.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestigationParts {
    /// Unique short code.
    pub code: CatalogueCode,
    /// The name shown on worklists and reports.
    pub name: String,
    /// LOINC code, if one is used.
    pub loinc: Option<LoincCode>,
    /// SNOMED CT code, where the UK pathology catalogue uses one.
    pub snomed: Option<SnomedCode>,
    /// Discipline.
    pub discipline: Discipline,
    /// Method (analyser principle, manual method), free text.
    pub method: String,
    /// What a result is.
    pub result_type: ResultType,
    /// Reportable range (numeric results only).
    pub reportable_range: Option<ReportableRange>,
    /// Reference intervals by sex and age band (numeric results only).
    pub reference_intervals: Vec<ReferenceInterval>,
    /// Critical limits and their source (numeric results only).
    pub critical_limits: Option<SourcedCriticalLimits>,
    /// What must be collected.
    pub specimen: SpecimenRequirement,
    /// Turnaround targets.
    pub turnaround: Turnaround,
    /// Whether consent must be recorded before the work.
    pub consent_required: bool,
    /// The competency the work requires (used by the competence module).
    pub competency_code: Option<String>,
    /// The SOP the work follows.
    pub sop_code: Option<String>,
    /// For a calculated investigation, its formula and inputs; `None` for
    /// one whose results are measured or typed.
    pub calculation: Option<Calculation>,
    /// The delta check against the patient's previous result (numeric
    /// results only); `None` = the default rule
    /// (`crate::result::default_delta_rule`).
    pub delta_rule: Option<DeltaRule>,
}

/// One version of an investigation's definition.
///
/// Invariant: a name of 1 to 100 characters and a method of up to 200, both
/// without control characters; only numeric investigations carry a
/// reportable range, reference intervals or critical limits; critical
/// limits always name their source; competency and SOP codes are 1 to 40
/// characters without spaces.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestigationDefinition(InvestigationParts);

impl InvestigationDefinition {
    /// Validates a definition, reporting every problem found.
    pub fn new(parts: InvestigationParts) -> Result<InvestigationDefinition, Vec<CatalogueError>> {
        let mut errors = Vec::new();
        let mut parts = parts;
        parts.name = parts.name.trim().to_owned();
        if parts.name.is_empty()
            || parts.name.chars().count() > 100
            || has_control_characters(&parts.name, false)
        {
            errors.push(CatalogueError::InvalidName);
        }
        parts.method = parts.method.trim().to_owned();
        if parts.method.chars().count() > 200 || has_control_characters(&parts.method, false) {
            errors.push(CatalogueError::InvalidMethod);
        }
        let is_numeric = matches!(parts.result_type, ResultType::Numeric { .. });
        if !is_numeric
            && (parts.reportable_range.is_some()
                || !parts.reference_intervals.is_empty()
                || parts.critical_limits.is_some())
        {
            errors.push(CatalogueError::LimitsNeedNumericResult);
        }
        if !is_numeric && parts.delta_rule.is_some() {
            errors.push(CatalogueError::DeltaNeedsNumericResult);
        }
        if let Some(calculation) = &parts.calculation {
            let formula = calculation.formula;
            let unit_matches = matches!(
                &parts.result_type,
                ResultType::Numeric { unit, .. } if unit == formula.unit()
            );
            if !unit_matches {
                errors.push(CatalogueError::CalculationUnit {
                    unit: formula.unit(),
                });
            }
            let expected = formula.inputs();
            let distinct = calculation
                .inputs
                .iter()
                .enumerate()
                .all(|(idx, code)| !calculation.inputs[..idx].contains(code));
            if calculation.inputs.len() != expected.len() || !distinct {
                errors.push(CatalogueError::CalculationInputs {
                    expected: expected.len(),
                    what: expected
                        .iter()
                        .map(|input| format!("{} in {}", input.what, input.unit))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            } else if calculation.inputs.contains(&parts.code) {
                errors.push(CatalogueError::CalculationFromItself);
            }
        }
        if let Some(critical) = &mut parts.critical_limits {
            critical.source = critical.source.trim().to_owned();
            if critical.source.is_empty()
                || critical.source.chars().count() > 200
                || has_control_characters(&critical.source, false)
            {
                errors.push(CatalogueError::CriticalSourceRequired);
            }
        }
        for (code, invalid) in [
            (
                &mut parts.competency_code,
                CatalogueError::InvalidCompetencyCode,
            ),
            (&mut parts.sop_code, CatalogueError::InvalidSopCode),
        ] {
            if let Some(text) = code {
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    *code = None;
                } else if trimmed.chars().count() > 40
                    || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    errors.push(invalid);
                } else {
                    *text = trimmed.to_owned();
                }
            }
        }
        if errors.is_empty() {
            Ok(InvestigationDefinition(parts))
        } else {
            Err(errors)
        }
    }

    /// The parts, for reading every field.
    pub fn parts(&self) -> &InvestigationParts {
        &self.0
    }

    /// The parts, to start the next version from.
    pub fn into_parts(self) -> InvestigationParts {
        self.0
    }

    /// The code.
    pub fn code(&self) -> &CatalogueCode {
        &self.0.code
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

/// A named group of investigations requested together.
///
/// Invariant: a name of 1 to 100 characters; 1 to 100 members, each named
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelDefinition {
    code: CatalogueCode,
    name: String,
    members: Vec<CatalogueCode>,
}

impl PanelDefinition {
    /// Validates a panel.
    pub fn new(
        code: CatalogueCode,
        name: &str,
        members: Vec<CatalogueCode>,
    ) -> Result<PanelDefinition, CatalogueError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || has_control_characters(name, false) {
            return Err(CatalogueError::InvalidName);
        }
        if members.is_empty() || members.len() > 100 {
            return Err(CatalogueError::EmptyPanel);
        }
        for (idx, member) in members.iter().enumerate() {
            if members[..idx].contains(member) {
                return Err(CatalogueError::DuplicateMember(member.to_string()));
            }
        }
        Ok(PanelDefinition {
            code,
            name: name.to_owned(),
            members,
        })
    }

    /// The code.
    pub fn code(&self) -> &CatalogueCode {
        &self.code
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The member investigations' codes, in report order.
    pub fn members(&self) -> &[CatalogueCode] {
        &self.members
    }
}

/// Quarter days in a year for age bands: a year is 365.25 days, so that
/// leap years average out (18 years is day 6574).
const QUARTER_DAYS_PER_YEAR: i64 = 1461;

/// Parses an age as typed for an age band: a whole number followed by `d`
/// (days), `w` (weeks) or `y` (years), such as `28d`, `6w` or `18y`, into
/// days. A year is 365.25 days, rounded down to a whole day, so a band may
/// start up to a day before the birthday in a year with an extra leap day.
pub fn parse_age(text: &str) -> Result<i64, CatalogueError> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or(CatalogueError::InvalidAge)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| CatalogueError::InvalidAge)?;
    if number > 150 * 366 {
        return Err(CatalogueError::InvalidAge);
    }
    match unit.trim() {
        "d" => Ok(number),
        "w" => Ok(number * 7),
        "y" if number <= 150 => Ok(number * QUARTER_DAYS_PER_YEAR / 4),
        _ => Err(CatalogueError::InvalidAge),
    }
}

/// Shows a number of days as [`parse_age`] reads it: whole years as `18y`,
/// otherwise days, `28d`.
pub fn format_age(days: i64) -> String {
    let years = (days * 4 + 3) / QUARTER_DAYS_PER_YEAR;
    if years > 0 && years * QUARTER_DAYS_PER_YEAR / 4 == days {
        format!("{years}y")
    } else {
        format!("{days}d")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::ReferenceSex;
    use crate::reference::AgeBand;

    fn check_loinc(text: &str, expected: Result<&str, CatalogueError>) {
        assert_eq!(
            LoincCode::parse(text).as_ref().map(LoincCode::as_str),
            expected.as_ref().map(|code| *code),
            "{text:?}"
        );
    }

    #[test]
    fn real_loinc_codes_pass_their_check_digit() {
        for code in [
            "2823-3", "2951-2", "2160-0", "3094-0", "4548-4", "1988-5", "718-7", "6690-2", "777-3",
            "1742-6", "6768-6", "1975-2", "17861-6", "1751-7", "2345-7", "2601-3", "2777-1",
            "2157-6", "1798-8", "3016-3", "6301-6", "5902-2", "3173-2", "19911-7", "19926-5",
            "8625-6", "8633-0", "8636-3", "20150-9", "19868-9",
        ] {
            check_loinc(code, Ok(code));
        }
    }
    #[test]
    fn the_worked_example_of_the_check_digit_gives_3() {
        assert_eq!(loinc_check_digit("2823"), 3);
    }
    #[test]
    fn a_wrong_loinc_check_digit_is_refused() {
        check_loinc("2823-4", Err(CatalogueError::LoincCheckDigit));
        check_loinc("2951-3", Err(CatalogueError::LoincCheckDigit));
        check_loinc("718-8", Err(CatalogueError::LoincCheckDigit));
    }
    #[test]
    fn swapped_loinc_digits_are_caught() {
        check_loinc("2283-3", Err(CatalogueError::LoincCheckDigit));
    }
    #[test]
    fn a_loinc_code_without_a_hyphen_is_refused() {
        check_loinc("28233", Err(CatalogueError::LoincFormat));
    }
    #[test]
    fn a_loinc_code_with_letters_or_two_check_digits_is_refused() {
        check_loinc("28a3-3", Err(CatalogueError::LoincFormat));
        check_loinc("2823-33", Err(CatalogueError::LoincFormat));
        check_loinc("-3", Err(CatalogueError::LoincFormat));
        check_loinc("12345678-9", Err(CatalogueError::LoincFormat));
    }
    #[test]
    fn a_loinc_code_is_trimmed() {
        check_loinc(" 2823-3 ", Ok("2823-3"));
    }

    #[test]
    fn snomed_codes_are_six_to_eighteen_digits() {
        assert!(SnomedCode::parse("1000661000000107").is_ok());
        assert!(SnomedCode::parse("123456").is_ok());
        assert_eq!(
            SnomedCode::parse("12345"),
            Err(CatalogueError::SnomedFormat)
        );
        assert_eq!(
            SnomedCode::parse(&"1".repeat(19)),
            Err(CatalogueError::SnomedFormat)
        );
        assert_eq!(
            SnomedCode::parse("12345X"),
            Err(CatalogueError::SnomedFormat)
        );
    }

    #[test]
    fn catalogue_codes_are_raised_to_capitals() {
        assert_eq!(CatalogueCode::parse(" na ").unwrap().as_str(), "NA");
        assert_eq!(CatalogueCode::parse("QTC").unwrap().as_str(), "QTC");
        assert_eq!(
            CatalogueCode::parse("FEV1-FVC").unwrap().as_str(),
            "FEV1-FVC"
        );
    }
    #[test]
    fn a_catalogue_code_must_start_with_a_letter_and_have_no_spaces() {
        for bad in ["", "1K", "K K", "K;", &"K".repeat(21)] {
            assert_eq!(
                CatalogueCode::parse(bad),
                Err(CatalogueError::InvalidCode),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn discipline_and_priority_codes_parse_back() {
        for discipline in Discipline::ALL {
            assert_eq!(Discipline::parse(discipline.code()), Some(*discipline));
        }
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.code()), Some(*priority));
        }
        assert_eq!(Discipline::parse("astrology"), None);
        assert_eq!(Discipline::ALL.len(), 8);
    }

    #[test]
    fn a_numeric_result_needs_a_unit() {
        assert_eq!(
            ResultType::numeric(" ", 1),
            Err(CatalogueError::InvalidUnit)
        );
        assert_eq!(
            ResultType::numeric("mmol / L", 1),
            Err(CatalogueError::InvalidUnit)
        );
    }

    #[test]
    fn a_numeric_unit_must_be_ucum() {
        assert_eq!(
            ResultType::numeric("millimoles", 1),
            Err(CatalogueError::InvalidUnit)
        );
        assert_eq!(
            ResultType::numeric("µmol/L", 0),
            Ok(ResultType::Numeric {
                unit: "umol/L".into(),
                decimal_places: 0
            })
        );
    }
    #[test]
    fn decimal_places_are_zero_to_six() {
        assert!(ResultType::numeric("mmol/L", 0).is_ok());
        assert!(ResultType::numeric("mmol/L", 6).is_ok());
        assert_eq!(
            ResultType::numeric("mmol/L", -1),
            Err(CatalogueError::InvalidDecimalPlaces)
        );
        assert_eq!(
            ResultType::numeric("mmol/L", 7),
            Err(CatalogueError::InvalidDecimalPlaces)
        );
    }
    #[test]
    fn a_coded_result_needs_distinct_codes() {
        let codes = |list: &[&str]| {
            list.iter()
                .map(|code| (*code).to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ResultType::coded(&codes(&["POS", " NEG ", ""])),
            Ok(ResultType::Coded {
                codes: codes(&["POS", "NEG"])
            })
        );
        assert_eq!(
            ResultType::coded(&codes(&[])),
            Err(CatalogueError::InvalidCodedValues)
        );
        assert_eq!(
            ResultType::coded(&codes(&["POS", "POS"])),
            Err(CatalogueError::InvalidCodedValues)
        );
    }

    #[test]
    fn a_reportable_range_needs_low_below_high() {
        assert!(ReportableRange::new(1.0, 10.0).is_ok());
        assert_eq!(
            ReportableRange::new(10.0, 1.0),
            Err(CatalogueError::ReportableRangeLowNotBelowHigh {
                low: 10.0,
                high: 1.0
            })
        );
        assert_eq!(
            ReportableRange::new(1.0, f64::NAN),
            Err(CatalogueError::ReportableRangeNotFinite)
        );
    }
    #[test]
    fn the_reportable_range_includes_its_limits() {
        let range = ReportableRange::new(1.5, 10.0).unwrap();
        assert!(range.contains(1.5));
        assert!(range.contains(10.0));
        assert!(!range.contains(10.01));
    }

    #[test]
    fn turnaround_targets_are_per_priority() {
        let turnaround = Turnaround::new(240, 60).unwrap();
        assert_eq!(turnaround.minutes(Priority::Routine), 240);
        assert_eq!(turnaround.minutes(Priority::Urgent), 60);
    }
    #[test]
    fn an_urgent_target_longer_than_routine_is_refused() {
        assert_eq!(
            Turnaround::new(60, 240),
            Err(CatalogueError::UrgentSlowerThanRoutine)
        );
    }
    #[test]
    fn turnaround_targets_must_be_positive_and_at_most_a_year() {
        assert_eq!(
            Turnaround::new(0, 0),
            Err(CatalogueError::InvalidTurnaround)
        );
        assert_eq!(
            Turnaround::new(525_601, 60),
            Err(CatalogueError::InvalidTurnaround)
        );
        assert_eq!(
            Turnaround::new(60, -5),
            Err(CatalogueError::InvalidTurnaround)
        );
    }

    #[test]
    fn no_specimen_type_and_no_container_is_a_physiological_measurement() {
        assert_eq!(
            SpecimenRequirement::new(" ", ""),
            Ok(SpecimenRequirement::None)
        );
    }
    #[test]
    fn a_specimen_needs_its_container() {
        assert_eq!(
            SpecimenRequirement::new("Serum", ""),
            Err(CatalogueError::IncompleteSpecimen)
        );
        assert!(matches!(
            SpecimenRequirement::new("Serum", "Serum gel (gold top)"),
            Ok(SpecimenRequirement::Specimen { .. })
        ));
    }

    fn potassium() -> InvestigationParts {
        InvestigationParts {
            code: CatalogueCode::parse("K").unwrap(),
            name: "Potassium".into(),
            loinc: Some(LoincCode::parse("2823-3").unwrap()),
            snomed: None,
            discipline: Discipline::BloodSciences,
            method: "Indirect ion-selective electrode".into(),
            result_type: ResultType::numeric("mmol/L", 1).unwrap(),
            reportable_range: Some(ReportableRange::new(1.0, 10.0).unwrap()),
            reference_intervals: vec![
                ReferenceInterval::new(
                    Some(3.5),
                    Some(5.3),
                    None,
                    AgeBand::new(6574, None).unwrap(),
                    "Pathology Harmony",
                )
                .unwrap(),
            ],
            critical_limits: Some(SourcedCriticalLimits {
                limits: CriticalLimits::new(Some(2.5), Some(6.5), true).unwrap(),
                source: "RCPath G158 (2017)".into(),
            }),
            specimen: SpecimenRequirement::new("Serum", "Serum gel (gold top)").unwrap(),
            turnaround: Turnaround::new(240, 60).unwrap(),
            consent_required: false,
            competency_code: Some("BS-CHEM-01".into()),
            sop_code: Some("SOP-BS-014".into()),
            calculation: None,
            delta_rule: Some(DeltaRule::new(Some(1.0), None, 7).unwrap()),
        }
    }

    fn egfr() -> InvestigationParts {
        InvestigationParts {
            code: CatalogueCode::parse("EGFR").unwrap(),
            name: "eGFR".into(),
            loinc: Some(LoincCode::parse("62238-1").unwrap()),
            result_type: ResultType::numeric("mL/min/{1.73_m2}", 0).unwrap(),
            reportable_range: None,
            reference_intervals: Vec::new(),
            critical_limits: None,
            calculation: Some(Calculation {
                formula: CalculationFormula::EgfrCkdEpi2009,
                inputs: vec![CatalogueCode::parse("CREA").unwrap()],
            }),
            ..potassium()
        }
    }

    #[test]
    fn a_calculated_investigation_with_its_inputs_is_accepted() {
        assert!(InvestigationDefinition::new(egfr()).is_ok());
    }
    #[test]
    fn a_calculated_investigation_needs_the_formulas_unit() {
        let mut parts = egfr();
        parts.result_type = ResultType::numeric("mL/min", 0).unwrap();
        assert_eq!(
            InvestigationDefinition::new(parts).unwrap_err(),
            vec![CatalogueError::CalculationUnit {
                unit: "mL/min/{1.73_m2}"
            }]
        );
    }
    #[test]
    fn a_calculated_investigation_needs_as_many_inputs_as_its_formula() {
        let mut parts = egfr();
        parts.calculation = Some(Calculation {
            formula: CalculationFormula::EgfrCkdEpi2009,
            inputs: vec![
                CatalogueCode::parse("CREA").unwrap(),
                CatalogueCode::parse("ALB").unwrap(),
            ],
        });
        let errors = InvestigationDefinition::new(parts).unwrap_err();
        assert_eq!(errors[0].field(), "calculation_inputs");
        assert!(errors[0].to_string().contains("creatinine in umol/L"));
    }
    #[test]
    fn a_calculated_investigation_cannot_be_its_own_input() {
        let mut parts = egfr();
        parts.calculation = Some(Calculation {
            formula: CalculationFormula::EgfrCkdEpi2009,
            inputs: vec![CatalogueCode::parse("EGFR").unwrap()],
        });
        assert_eq!(
            InvestigationDefinition::new(parts).unwrap_err(),
            vec![CatalogueError::CalculationFromItself]
        );
    }

    #[test]
    fn a_complete_definition_is_accepted() {
        let definition = InvestigationDefinition::new(potassium()).unwrap();
        assert_eq!(definition.code().as_str(), "K");
        assert_eq!(definition.name(), "Potassium");
    }
    #[test]
    fn a_blank_name_is_refused() {
        let mut parts = potassium();
        parts.name = "  ".into();
        assert_eq!(
            InvestigationDefinition::new(parts),
            Err(vec![CatalogueError::InvalidName])
        );
    }
    #[test]
    fn critical_limits_need_their_source() {
        let mut parts = potassium();
        if let Some(critical) = &mut parts.critical_limits {
            critical.source = " ".into();
        }
        assert_eq!(
            InvestigationDefinition::new(parts),
            Err(vec![CatalogueError::CriticalSourceRequired])
        );
    }
    #[test]
    fn a_text_result_cannot_have_numeric_limits() {
        let mut parts = potassium();
        parts.result_type = ResultType::Text;
        parts.delta_rule = None;
        assert_eq!(
            InvestigationDefinition::new(parts),
            Err(vec![CatalogueError::LimitsNeedNumericResult])
        );
    }
    #[test]
    fn a_text_result_without_limits_is_accepted() {
        let mut parts = potassium();
        parts.result_type = ResultType::Text;
        parts.reportable_range = None;
        parts.reference_intervals.clear();
        parts.critical_limits = None;
        parts.delta_rule = None;
        assert!(InvestigationDefinition::new(parts).is_ok());
    }
    #[test]
    fn a_physiological_measurement_has_no_specimen() {
        let mut parts = potassium();
        parts.code = CatalogueCode::parse("QTC").unwrap();
        parts.discipline = Discipline::CardiacPhysiology;
        parts.result_type = ResultType::numeric("ms", 0).unwrap();
        parts.specimen = SpecimenRequirement::None;
        parts.critical_limits = None;
        parts.reference_intervals = vec![
            ReferenceInterval::new(
                None,
                Some(450.0),
                Some(ReferenceSex::Male),
                AgeBand::ALL_AGES,
                "local",
            )
            .unwrap(),
        ];
        let definition = InvestigationDefinition::new(parts).unwrap();
        assert_eq!(definition.parts().specimen, SpecimenRequirement::None);
    }
    #[test]
    fn empty_competency_and_sop_codes_are_none_and_spaces_are_refused() {
        let mut parts = potassium();
        parts.competency_code = Some(" ".into());
        parts.sop_code = Some(" SOP-1 ".into());
        let definition = InvestigationDefinition::new(parts).unwrap();
        assert_eq!(definition.parts().competency_code, None);
        assert_eq!(definition.parts().sop_code.as_deref(), Some("SOP-1"));
        let mut parts = potassium();
        parts.sop_code = Some("SOP 1".into());
        assert_eq!(
            InvestigationDefinition::new(parts),
            Err(vec![CatalogueError::InvalidSopCode])
        );
    }

    fn codes(list: &[&str]) -> Vec<CatalogueCode> {
        list.iter()
            .map(|code| CatalogueCode::parse(code).unwrap())
            .collect()
    }

    #[test]
    fn a_panel_lists_its_members_in_order() {
        let panel = PanelDefinition::new(
            CatalogueCode::parse("UE").unwrap(),
            "Urea and electrolytes",
            codes(&["NA", "K", "UREA", "CREA"]),
        )
        .unwrap();
        assert_eq!(panel.members()[1].as_str(), "K");
    }
    #[test]
    fn a_panel_without_members_is_refused() {
        assert_eq!(
            PanelDefinition::new(CatalogueCode::parse("UE").unwrap(), "U&E", vec![]),
            Err(CatalogueError::EmptyPanel)
        );
    }
    #[test]
    fn a_panel_naming_an_investigation_twice_is_refused() {
        assert_eq!(
            PanelDefinition::new(
                CatalogueCode::parse("UE").unwrap(),
                "U&E",
                codes(&["NA", "K", "NA"])
            ),
            Err(CatalogueError::DuplicateMember("NA".into()))
        );
    }

    fn check_age(text: &str, expected: Result<i64, CatalogueError>) {
        assert_eq!(parse_age(text), expected, "{text:?}");
    }

    #[test]
    fn ages_are_read_in_days_weeks_or_years() {
        check_age("28d", Ok(28));
        check_age("6w", Ok(42));
        check_age("1y", Ok(365));
        check_age("18y", Ok(6574));
        check_age(" 16 Y ", Ok(5844));
        check_age("0d", Ok(0));
    }
    #[test]
    fn an_age_without_a_unit_or_negative_is_refused() {
        check_age("18", Err(CatalogueError::InvalidAge));
        check_age("-1y", Err(CatalogueError::InvalidAge));
        check_age("y", Err(CatalogueError::InvalidAge));
        check_age("2m", Err(CatalogueError::InvalidAge));
        check_age("200y", Err(CatalogueError::InvalidAge));
    }
    #[test]
    fn ages_are_shown_as_they_are_read() {
        for text in ["18y", "1y", "16y", "28d", "0d", "100d"] {
            assert_eq!(format_age(parse_age(text).unwrap()), text);
        }
    }

    #[test]
    fn a_numeric_investigation_keeps_its_delta_rule() {
        let definition = InvestigationDefinition::new(potassium()).unwrap();
        let rule = definition.parts().delta_rule.unwrap();
        assert_eq!(rule.absolute(), Some(1.0));
        assert_eq!(rule.window_days(), 7);
    }

    #[test]
    fn a_delta_rule_on_a_text_investigation_is_refused_at_the_delta_fields() {
        let mut parts = potassium();
        parts.result_type = ResultType::Text;
        parts.reportable_range = None;
        parts.reference_intervals = Vec::new();
        parts.critical_limits = None;
        let errors = InvestigationDefinition::new(parts).unwrap_err();
        assert_eq!(errors, vec![CatalogueError::DeltaNeedsNumericResult]);
        assert_eq!(errors[0].field(), "delta_absolute");
    }
}
