//! Alert (critical) limits: per investigation, population and requesting
//! setting, with a communication category, versioned and approved by a
//! clinical lead before use (issue 6 item 1; DOMAIN.md 4.x; design note
//! docs/design/2026-12-06-alert-limits.md).
//!
//! A limit set is a list of rules. At result entry, [`resolve`] picks, for
//! the patient's population (age at collection: under 16 years is a child)
//! and the request's setting, the critical low and the critical high that
//! apply: for each side separately, the most specific rule that sets it
//! (population and setting named beat `any`), and among equally specific
//! rules the more cautious limit (the higher low, the lower high). A high
//! limit written as a multiple of the upper reference limit (ALT ≥ 15 ×
//! ULN) is resolved against the interval that applies to the patient. Limits
//! are inclusive, as written in the policies (≤ low, ≥ high).

use crate::incident::has_control_characters;

/// Who a rule applies to, by age at collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Population {
    /// Everyone.
    Any,
    /// 16 years or older at collection.
    Adult,
    /// Under 16 years at collection.
    Child,
}

impl Population {
    /// Every population, in form order.
    pub const ALL: [Population; 3] = [Population::Any, Population::Adult, Population::Child];
    /// The age in whole years from which a patient is an adult.
    pub const ADULT_FROM_YEARS: i32 = 16;

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Population::Any => "any",
            Population::Adult => "adult",
            Population::Child => "child",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Population::Any => "Any age",
            Population::Adult => "Adults (16 years or older)",
            Population::Child => "Children (under 16 years)",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Population> {
        Population::ALL
            .into_iter()
            .find(|population| population.code() == code.trim())
    }

    /// The population of a patient aged `years` at collection.
    pub fn of_age(years: i32) -> Population {
        if years < Self::ADULT_FROM_YEARS {
            Population::Child
        } else {
            Population::Adult
        }
    }
}

/// Where a request comes from, as recorded on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestSetting {
    /// A hospital ward.
    Inpatient,
    /// A hospital clinic.
    Outpatient,
    /// The emergency department.
    Emergency,
    /// A GP practice or other primary-care service.
    PrimaryCare,
    /// Hospital, ward or clinic not stated (requests booked before the
    /// setting was recorded).
    Hospital,
}

impl RequestSetting {
    /// The settings offered when booking, in form order.
    pub const BOOKABLE: [RequestSetting; 4] = [
        RequestSetting::Inpatient,
        RequestSetting::Outpatient,
        RequestSetting::Emergency,
        RequestSetting::PrimaryCare,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            RequestSetting::Inpatient => "inpatient",
            RequestSetting::Outpatient => "outpatient",
            RequestSetting::Emergency => "emergency",
            RequestSetting::PrimaryCare => "primary-care",
            RequestSetting::Hospital => "hospital",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            RequestSetting::Inpatient => "Hospital inpatient",
            RequestSetting::Outpatient => "Hospital outpatient",
            RequestSetting::Emergency => "Emergency department",
            RequestSetting::PrimaryCare => "Primary care (GP)",
            RequestSetting::Hospital => "Hospital (not stated)",
        }
    }

    /// Parses a stored or typed code.
    pub fn parse(code: &str) -> Option<RequestSetting> {
        [
            RequestSetting::Inpatient,
            RequestSetting::Outpatient,
            RequestSetting::Emergency,
            RequestSetting::PrimaryCare,
            RequestSetting::Hospital,
        ]
        .into_iter()
        .find(|setting| setting.code() == code.trim())
    }
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitSetting {
    /// Every request.
    Any,
    /// Hospital requests: inpatient, outpatient, emergency or not stated.
    Hospital,
    /// Primary-care requests.
    PrimaryCare,
}

impl LimitSetting {
    /// Every limit setting, in form order.
    pub const ALL: [LimitSetting; 3] = [
        LimitSetting::Any,
        LimitSetting::Hospital,
        LimitSetting::PrimaryCare,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            LimitSetting::Any => "any",
            LimitSetting::Hospital => "hospital",
            LimitSetting::PrimaryCare => "primary-care",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            LimitSetting::Any => "Any setting",
            LimitSetting::Hospital => "Hospital requests",
            LimitSetting::PrimaryCare => "Primary-care requests",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<LimitSetting> {
        LimitSetting::ALL
            .into_iter()
            .find(|setting| setting.code() == code.trim())
    }

    /// Whether a rule for this setting applies to a request from `setting`.
    pub fn covers(self, setting: RequestSetting) -> bool {
        match self {
            LimitSetting::Any => true,
            LimitSetting::PrimaryCare => setting == RequestSetting::PrimaryCare,
            LimitSetting::Hospital => setting != RequestSetting::PrimaryCare,
        }
    }
}

/// How fast a critical result must reach a clinician: the communication
/// deadline of its critical-result task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CriticalCategory {
    /// Communicate within 1 hour (RCPath: "immediate" alerts).
    Urgent,
    /// Communicate within 4 hours, the same working day.
    SameDay,
}

impl CriticalCategory {
    /// Every category, most urgent first.
    pub const ALL: [CriticalCategory; 2] = [CriticalCategory::Urgent, CriticalCategory::SameDay];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            CriticalCategory::Urgent => "urgent",
            CriticalCategory::SameDay => "same-day",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            CriticalCategory::Urgent => "Urgent: communicate within 1 hour",
            CriticalCategory::SameDay => "Same working day: communicate within 4 hours",
        }
    }

    /// The communication deadline in minutes from technical verification.
    pub fn deadline_minutes(self) -> i64 {
        match self {
            CriticalCategory::Urgent => 60,
            CriticalCategory::SameDay => 240,
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<CriticalCategory> {
        CriticalCategory::ALL
            .into_iter()
            .find(|category| category.code() == code.trim())
    }
}

/// Why an alert limit set was refused. Messages are shown next to the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertLimitError {
    /// A rule without any limit.
    #[error(
        "limit {row}: enter a critical low, a critical high or a multiple of the upper reference limit"
    )]
    NoLimit {
        /// The rule's position, from 1.
        row: usize,
    },
    /// A limit that is not a finite number.
    #[error("limit {row}: limits must be numbers")]
    NotFinite {
        /// The rule's position, from 1.
        row: usize,
    },
    /// Critical low not below critical high.
    #[error(
        "limit {row}: the critical low ({low}) must be below the critical high ({high}): correct the limits"
    )]
    LowAboveHigh {
        /// The rule's position, from 1.
        row: usize,
        /// The low given.
        low: f64,
        /// The high given.
        high: f64,
    },
    /// Both a critical high and a multiple of the upper limit.
    #[error(
        "limit {row}: give either a critical high or a multiple of the upper reference limit, not both"
    )]
    HighAndMultiple {
        /// The rule's position, from 1.
        row: usize,
    },
    /// A multiple of the upper limit that is not above 1.
    #[error("limit {row}: the multiple of the upper reference limit must be greater than 1")]
    MultipleNotAboveOne {
        /// The rule's position, from 1.
        row: usize,
    },
    /// A multiple of the upper limit for an investigation without one.
    #[error(
        "limit {row}: this investigation has no upper reference limit, so a multiple of it cannot be used: enter the critical high as a value"
    )]
    MultipleWithoutUpperLimit {
        /// The rule's position, from 1.
        row: usize,
    },
    /// Two rules for the same population and setting.
    #[error("limit {row}: another limit already covers this population and setting")]
    DuplicateRule {
        /// The rule's position, from 1.
        row: usize,
    },
    /// No rule at all.
    #[error("enter at least one limit")]
    NoRules,
    /// The source document is missing, too long or has control characters.
    #[error("enter the source document the limits come from (up to 200 characters)")]
    InvalidSource,
    /// The source document's version is missing or too long.
    #[error("enter the version or date of the source document (up to 100 characters)")]
    InvalidSourceVersion,
}

impl AlertLimitError {
    /// The form or API field the problem belongs to.
    pub fn field(&self) -> String {
        use AlertLimitError::*;
        match self {
            NoLimit { row } | NotFinite { row } | LowAboveHigh { row, .. } => {
                format!("low-{row}")
            }
            HighAndMultiple { row }
            | MultipleNotAboveOne { row }
            | MultipleWithoutUpperLimit { row } => format!("uln_multiple-{row}"),
            DuplicateRule { row } => format!("population-{row}"),
            NoRules => "low-1".into(),
            InvalidSource => "source".into(),
            InvalidSourceVersion => "source_version".into(),
        }
    }
}

/// One alert limit: for a population and setting, critical low and/or high
/// (inclusive), or a high as a multiple of the upper reference limit, with
/// the category that sets the communication deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertLimit {
    /// Who it applies to.
    pub population: Population,
    /// Which requests it applies to.
    pub setting: LimitSetting,
    /// Critical when the value is at or below this.
    pub low: Option<f64>,
    /// Critical when the value is at or above this.
    pub high: Option<f64>,
    /// Critical when the value is at or above this multiple of the upper
    /// reference limit that applies to the patient.
    pub high_uln_multiple: Option<f64>,
    /// How fast a value reaching it must be communicated.
    pub category: CriticalCategory,
}

/// A validated set of alert limits with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLimitSet {
    rules: Vec<AlertLimit>,
    source: String,
    source_version: String,
}

impl AlertLimitSet {
    /// Validates a set. `has_upper_limit` says whether the investigation has
    /// an upper reference limit a multiple could be resolved against. Every
    /// problem is reported, not just the first.
    pub fn new(
        rules: Vec<AlertLimit>,
        source: &str,
        source_version: &str,
        has_upper_limit: bool,
    ) -> Result<AlertLimitSet, Vec<AlertLimitError>> {
        let mut errors = Vec::new();
        if rules.is_empty() {
            errors.push(AlertLimitError::NoRules);
        }
        for (index, rule) in rules.iter().enumerate() {
            let row = index + 1;
            if rule.low.is_none() && rule.high.is_none() && rule.high_uln_multiple.is_none() {
                errors.push(AlertLimitError::NoLimit { row });
                continue;
            }
            if [rule.low, rule.high, rule.high_uln_multiple]
                .into_iter()
                .flatten()
                .any(|limit| !limit.is_finite())
            {
                errors.push(AlertLimitError::NotFinite { row });
                continue;
            }
            if let (Some(low), Some(high)) = (rule.low, rule.high)
                && low >= high
            {
                errors.push(AlertLimitError::LowAboveHigh { row, low, high });
            }
            if rule.high.is_some() && rule.high_uln_multiple.is_some() {
                errors.push(AlertLimitError::HighAndMultiple { row });
            }
            if let Some(multiple) = rule.high_uln_multiple {
                if multiple <= 1.0 {
                    errors.push(AlertLimitError::MultipleNotAboveOne { row });
                } else if !has_upper_limit {
                    errors.push(AlertLimitError::MultipleWithoutUpperLimit { row });
                }
            }
            if rules[..index].iter().any(|earlier| {
                earlier.population == rule.population && earlier.setting == rule.setting
            }) {
                errors.push(AlertLimitError::DuplicateRule { row });
            }
        }
        let source = source.trim();
        if source.is_empty()
            || source.chars().count() > 200
            || has_control_characters(source, false)
        {
            errors.push(AlertLimitError::InvalidSource);
        }
        let source_version = source_version.trim();
        if source_version.is_empty()
            || source_version.chars().count() > 100
            || has_control_characters(source_version, false)
        {
            errors.push(AlertLimitError::InvalidSourceVersion);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AlertLimitSet {
            rules,
            source: source.to_owned(),
            source_version: source_version.to_owned(),
        })
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[AlertLimit] {
        &self.rules
    }

    /// The source document.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The source document's version or date.
    pub fn source_version(&self) -> &str {
        &self.source_version
    }
}

/// The critical limits that apply to one result.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AppliedLimits {
    /// Critical low, with the category of the rule that set it.
    pub low: Option<(f64, CriticalCategory)>,
    /// Critical high (a multiple already resolved), with its category.
    pub high: Option<(f64, CriticalCategory)>,
    /// A multiple of the upper limit applied but no upper limit was
    /// available for this patient: say so beside the result.
    pub unresolved_multiple: bool,
}

impl AppliedLimits {
    /// The category of the limit `value` reaches, if any (inclusive).
    pub fn category_reached(&self, value: f64) -> Option<CriticalCategory> {
        match (self.low, self.high) {
            (Some((low, category)), _) if value <= low => Some(category),
            (_, Some((high, category))) if value >= high => Some(category),
            _ => None,
        }
    }
}

/// Which limits apply to a result: `age_years` at collection (`None` when
/// unknown: then adult and child rules are weighed like `any` ones and the
/// more cautious wins), the request's `setting`, and the upper reference
/// limit that applies to the patient (`None` when none does).
pub fn resolve(
    rules: &[AlertLimit],
    age_years: Option<i32>,
    setting: RequestSetting,
    upper_reference_limit: Option<f64>,
) -> AppliedLimits {
    let population = age_years.map(Population::of_age);
    let mut applied = AppliedLimits::default();
    let mut low: Option<(u8, f64, CriticalCategory)> = None;
    let mut high: Option<(u8, f64, CriticalCategory)> = None;
    for rule in rules {
        let population_score = match (rule.population, population) {
            (Population::Any, _) => 0,
            (named, Some(patient)) if named == patient => 1,
            (_, Some(_)) => continue,
            (_, None) => 0,
        };
        if !rule.setting.covers(setting) {
            continue;
        }
        let score = population_score + u8::from(rule.setting != LimitSetting::Any);
        if let Some(limit) = rule.low {
            let better = match low {
                None => true,
                Some((best, current, _)) => score > best || (score == best && limit > current),
            };
            if better {
                low = Some((score, limit, rule.category));
            }
        }
        let rule_high = match (rule.high, rule.high_uln_multiple) {
            (Some(high), _) => Some(high),
            (None, Some(multiple)) => match upper_reference_limit {
                Some(uln) => Some(multiple * uln),
                None => {
                    applied.unresolved_multiple = true;
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(limit) = rule_high {
            let better = match high {
                None => true,
                Some((best, current, _)) => score > best || (score == best && limit < current),
            };
            if better {
                high = Some((score, limit, rule.category));
            }
        }
    }
    applied.low = low.map(|(_, limit, category)| (limit, category));
    applied.high = high.map(|(_, limit, category)| (limit, category));
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        population: Population,
        setting: LimitSetting,
        low: Option<f64>,
        high: Option<f64>,
    ) -> AlertLimit {
        AlertLimit {
            population,
            setting,
            low,
            high,
            high_uln_multiple: None,
            category: CriticalCategory::Urgent,
        }
    }

    fn sodium() -> Vec<AlertLimit> {
        vec![
            rule(Population::Adult, LimitSetting::Any, Some(120.0), None),
            rule(Population::Child, LimitSetting::Any, Some(130.0), None),
            rule(Population::Any, LimitSetting::Any, None, Some(160.0)),
        ]
    }

    #[test]
    fn the_population_decides_the_sodium_low() {
        let child = resolve(&sodium(), Some(10), RequestSetting::Inpatient, Some(146.0));
        assert_eq!(child.low.map(|(low, _)| low), Some(130.0));
        assert_eq!(child.high.map(|(high, _)| high), Some(160.0));
        let adult = resolve(&sodium(), Some(16), RequestSetting::Inpatient, Some(146.0));
        assert_eq!(adult.low.map(|(low, _)| low), Some(120.0));
        assert_eq!(adult.category_reached(125.0), None);
        assert_eq!(
            child.category_reached(125.0),
            Some(CriticalCategory::Urgent)
        );
    }

    #[test]
    fn an_unknown_age_takes_the_more_cautious_limit() {
        let unknown = resolve(&sodium(), None, RequestSetting::Inpatient, None);
        assert_eq!(unknown.low.map(|(low, _)| low), Some(130.0));
    }

    #[test]
    fn a_primary_care_rule_applies_to_primary_care_only() {
        let crp = vec![rule(
            Population::Any,
            LimitSetting::PrimaryCare,
            None,
            Some(300.0),
        )];
        assert!(
            resolve(&crp, Some(40), RequestSetting::PrimaryCare, None)
                .high
                .is_some()
        );
        for setting in [
            RequestSetting::Inpatient,
            RequestSetting::Emergency,
            RequestSetting::Hospital,
        ] {
            assert!(resolve(&crp, Some(40), setting, None).high.is_none());
        }
    }

    #[test]
    fn a_multiple_of_the_upper_limit_is_resolved_for_the_patient() {
        let mut alt = rule(Population::Any, LimitSetting::Any, None, None);
        alt.high_uln_multiple = Some(15.0);
        let applied = resolve(&[alt], Some(40), RequestSetting::Inpatient, Some(40.0));
        assert_eq!(applied.high.map(|(high, _)| high), Some(600.0));
        assert_eq!(
            applied.category_reached(600.0),
            Some(CriticalCategory::Urgent)
        );
        assert_eq!(applied.category_reached(599.0), None);
        let without = resolve(&[alt], Some(40), RequestSetting::Inpatient, None);
        assert!(without.high.is_none() && without.unresolved_multiple);
    }

    #[test]
    fn bad_sets_are_refused_with_every_reason() {
        let mut multiple = rule(Population::Child, LimitSetting::Any, None, None);
        multiple.high_uln_multiple = Some(5.0);
        let errors = AlertLimitSet::new(
            vec![
                rule(Population::Any, LimitSetting::Any, Some(7.0), Some(2.0)),
                rule(Population::Any, LimitSetting::Any, Some(1.0), None),
                multiple,
            ],
            " ",
            "2017",
            false,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                AlertLimitError::LowAboveHigh {
                    row: 1,
                    low: 7.0,
                    high: 2.0
                },
                AlertLimitError::DuplicateRule { row: 2 },
                AlertLimitError::MultipleWithoutUpperLimit { row: 3 },
                AlertLimitError::InvalidSource,
            ]
        );
        assert!(AlertLimitSet::new(sodium(), "RCPath G158", "2017", false).is_ok());
    }
}
