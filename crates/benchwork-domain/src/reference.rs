//! Reference intervals, critical limits, the flags they give a numeric
//! result, and delta checks against the patient's previous result.
//!
//! The interval for a result is chosen by explicit keys, the sex used for
//! reference ranges and the age in days at collection ([`select_interval`]).
//! When a key is missing or the catalogue cannot say which interval applies,
//! selection fails with a reason and the result stays unflagged: a wrong
//! "normal" is worse than no flag (hazard H05). Critical limits are defined
//! once per test, and both the flags here and critical-result communication
//! read them.

use jiff::{SignedDuration, Timestamp};

use crate::incident::has_control_characters;
use crate::patient::ReferenceSex;

/// Why a reference interval, critical limit or delta rule was refused.
/// Messages are shown next to the catalogue field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReferenceError {
    /// Neither a low nor a high limit.
    #[error("enter a low limit, a high limit or both")]
    NoLimit,
    /// A limit is NaN or infinite.
    #[error("limits must be numbers: check the low and high limits")]
    LimitNotFinite,
    /// The reference interval's low limit is above its high limit.
    #[error("the low limit ({low}) is above the high limit ({high}): correct the limits")]
    LowAboveHigh {
        /// The low limit given.
        low: f64,
        /// The high limit given.
        high: f64,
    },
    /// The critical low limit is not below the critical high limit.
    #[error(
        "the critical low limit ({low}) must be below the critical high limit ({high}): correct the limits"
    )]
    CriticalLowNotBelowHigh {
        /// The critical low limit given.
        low: f64,
        /// The critical high limit given.
        high: f64,
    },
    /// The age band starts before birth.
    #[error("the age band must start at 0 days or later")]
    AgeBandBeforeBirth,
    /// The age band ends where it starts or earlier.
    #[error("the age band must end after it starts (from {from_days} days, to {to_days} days)")]
    EmptyAgeBand {
        /// The first day of the band.
        from_days: i64,
        /// The first day after the band.
        to_days: i64,
    },
    /// An interval was defined for `unknown` sex.
    #[error("a reference interval applies to male, female or any sex: choose one")]
    IntervalForUnknownSex,
    /// The source is empty, too long or holds control characters.
    #[error("enter where the interval comes from (up to 200 characters)")]
    InvalidSource,
    /// A delta rule without any limit.
    #[error("enter an absolute limit, a percentage limit or both")]
    NoDeltaLimit,
    /// A delta limit that is not a positive number.
    #[error("delta limits must be numbers greater than zero")]
    DeltaLimitNotPositive,
    /// A delta window outside 1 to [`DeltaRule::MAX_WINDOW_DAYS`] days.
    #[error("the delta check window must be 1 to 3650 days")]
    InvalidDeltaWindow,
}

/// A range of ages in whole days at collection: from `from_days` (inclusive)
/// to `to_days` (exclusive), or without end.
///
/// Invariant: `0 <= from_days` and, when there is an end, `from_days <
/// to_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgeBand {
    from_days: i64,
    to_days: Option<i64>,
}

impl AgeBand {
    /// Every age, from birth on.
    pub const ALL_AGES: AgeBand = AgeBand {
        from_days: 0,
        to_days: None,
    };

    /// Validates an age band.
    pub fn new(from_days: i64, to_days: Option<i64>) -> Result<AgeBand, ReferenceError> {
        if from_days < 0 {
            return Err(ReferenceError::AgeBandBeforeBirth);
        }
        if let Some(to_days) = to_days
            && to_days <= from_days
        {
            return Err(ReferenceError::EmptyAgeBand { from_days, to_days });
        }
        Ok(AgeBand { from_days, to_days })
    }

    /// The first day of age the band covers.
    pub fn from_days(self) -> i64 {
        self.from_days
    }

    /// The first day of age the band no longer covers; `None` for no end.
    pub fn to_days(self) -> Option<i64> {
        self.to_days
    }

    /// Whether a patient `age_days` old falls in the band: the start day is
    /// in, the end day is out, so adjacent bands never share a day.
    pub fn contains(self, age_days: i64) -> bool {
        age_days >= self.from_days && self.to_days.is_none_or(|to_days| age_days < to_days)
    }
}

/// The range expected in a healthy reference population for one sex and age
/// band, with where it comes from.
///
/// Invariant: at least one limit; both finite; `low <= high` when both are
/// given; the sex is male, female or any (`None`), never unknown; a source of
/// 1 to 200 characters.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceInterval {
    low: Option<f64>,
    high: Option<f64>,
    sex: Option<ReferenceSex>,
    age_band: AgeBand,
    source: String,
}

impl ReferenceInterval {
    /// Validates a reference interval. `sex` is `None` for an interval that
    /// applies to any sex.
    pub fn new(
        low: Option<f64>,
        high: Option<f64>,
        sex: Option<ReferenceSex>,
        age_band: AgeBand,
        source: &str,
    ) -> Result<ReferenceInterval, ReferenceError> {
        check_limits(low, high)?;
        if let (Some(low), Some(high)) = (low, high)
            && low > high
        {
            return Err(ReferenceError::LowAboveHigh { low, high });
        }
        if sex == Some(ReferenceSex::Unknown) {
            return Err(ReferenceError::IntervalForUnknownSex);
        }
        let source = source.trim();
        if source.is_empty()
            || source.chars().count() > 200
            || has_control_characters(source, false)
        {
            return Err(ReferenceError::InvalidSource);
        }
        Ok(ReferenceInterval {
            low,
            high,
            sex,
            age_band,
            source: source.to_owned(),
        })
    }

    /// The lower limit, if any.
    pub fn low(&self) -> Option<f64> {
        self.low
    }

    /// The upper limit, if any.
    pub fn high(&self) -> Option<f64> {
        self.high
    }

    /// The sex the interval is for; `None` for any sex.
    pub fn sex(&self) -> Option<ReferenceSex> {
        self.sex
    }

    /// The ages the interval is for.
    pub fn age_band(&self) -> AgeBand {
        self.age_band
    }

    /// Where the interval comes from (publication, manufacturer insert,
    /// local study).
    pub fn source(&self) -> &str {
        &self.source
    }
}

fn check_limits(low: Option<f64>, high: Option<f64>) -> Result<(), ReferenceError> {
    if low.is_none() && high.is_none() {
        return Err(ReferenceError::NoLimit);
    }
    if [low, high]
        .into_iter()
        .flatten()
        .any(|limit| !limit.is_finite())
    {
        return Err(ReferenceError::LimitNotFinite);
    }
    Ok(())
}

/// Why no reference interval could be chosen for a result. The result is
/// then left unflagged and the message shown as a warning beside it
/// (hazard H05).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// The age at collection is before birth.
    #[error(
        "the patient's age at collection is negative: check the date of birth and collection time; the result is not flagged"
    )]
    NegativeAge {
        /// The age given, in days.
        age_days: i64,
    },
    /// The test has no reference intervals.
    #[error("this test has no reference intervals: the result is not flagged")]
    NoIntervals,
    /// Intervals cover the age only for a given sex, and the sex used for
    /// reference ranges is unknown.
    #[error(
        "the sex used for reference ranges is unknown and this test's intervals depend on it: record it to flag the result"
    )]
    SexRequired,
    /// Intervals cover the age, but none for this sex or for any sex.
    #[error(
        "no reference interval covers a {} patient aged {age_days} days: the result is not flagged; check the catalogue",
        .sex.label().to_lowercase()
    )]
    NoIntervalForSex {
        /// The sex used for reference ranges.
        sex: ReferenceSex,
        /// The age at collection, in days.
        age_days: i64,
    },
    /// No interval covers the age.
    #[error(
        "no reference interval covers age {age_days} days: the result is not flagged; check the catalogue"
    )]
    NoIntervalForAge {
        /// The age at collection, in days.
        age_days: i64,
    },
    /// Several intervals apply equally: the catalogue has overlapping bands.
    #[error(
        "{n_matching} reference intervals apply equally to this patient: the result is not flagged until the catalogue is corrected"
    )]
    Ambiguous {
        /// How many intervals apply.
        n_matching: usize,
    },
}

/// Chooses the reference interval for a patient of `sex` aged `age_days` at
/// collection, from a test's `intervals`.
///
/// Only intervals whose age band contains the age apply (start day in, end
/// day out). An interval for the patient's sex wins over one for any sex.
/// Never guesses: an unknown sex where only sex-specific intervals cover the
/// age, an age no band covers, or two equally specific intervals that both
/// apply all give an error. Overlaps are checked among the intervals at the
/// level that decides (sex-specific, else any-sex) only.
pub fn select_interval(
    intervals: &[ReferenceInterval],
    sex: ReferenceSex,
    age_days: i64,
) -> Result<&ReferenceInterval, SelectError> {
    if age_days < 0 {
        return Err(SelectError::NegativeAge { age_days });
    }
    if intervals.is_empty() {
        return Err(SelectError::NoIntervals);
    }
    let covering: Vec<&ReferenceInterval> = intervals
        .iter()
        .filter(|interval| interval.age_band.contains(age_days))
        .collect();
    if covering.is_empty() {
        return Err(SelectError::NoIntervalForAge { age_days });
    }
    // An interval is never for unknown sex, so an unknown-sex patient never
    // matches a sex-specific one.
    for wanted in [Some(sex), None] {
        let matching: Vec<&ReferenceInterval> = covering
            .iter()
            .copied()
            .filter(|interval| interval.sex == wanted)
            .collect();
        match matching.as_slice() {
            [] => continue,
            [interval] => return Ok(interval),
            several => {
                return Err(SelectError::Ambiguous {
                    n_matching: several.len(),
                });
            }
        }
    }
    if sex == ReferenceSex::Unknown {
        Err(SelectError::SexRequired)
    } else {
        Err(SelectError::NoIntervalForSex { sex, age_days })
    }
}

/// The values at or beyond which a result must be communicated at once
/// (DOMAIN.md 4.1).
///
/// Invariant: at least one limit; both finite; `low < high` when both are
/// given. With `inclusive`, a value equal to a limit is critical (`≤ 2.5`,
/// `≥ 6.5`, as the RCPath list writes them); without, only values strictly
/// beyond it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriticalLimits {
    low: Option<f64>,
    high: Option<f64>,
    inclusive: bool,
}

impl CriticalLimits {
    /// Validates critical limits.
    pub fn new(
        low: Option<f64>,
        high: Option<f64>,
        inclusive: bool,
    ) -> Result<CriticalLimits, ReferenceError> {
        check_limits(low, high)?;
        if let (Some(low), Some(high)) = (low, high)
            && low >= high
        {
            return Err(ReferenceError::CriticalLowNotBelowHigh { low, high });
        }
        Ok(CriticalLimits {
            low,
            high,
            inclusive,
        })
    }

    /// The critical low limit, if any.
    pub fn low(&self) -> Option<f64> {
        self.low
    }

    /// The critical high limit, if any.
    pub fn high(&self) -> Option<f64> {
        self.high
    }

    /// Whether a value equal to a limit is critical.
    pub fn inclusive(&self) -> bool {
        self.inclusive
    }

    /// Whether `value` is critically low.
    pub fn is_critical_low(&self, value: f64) -> bool {
        self.low.is_some_and(|low| {
            if self.inclusive {
                value <= low
            } else {
                value < low
            }
        })
    }

    /// Whether `value` is critically high.
    pub fn is_critical_high(&self, value: f64) -> bool {
        self.high.is_some_and(|high| {
            if self.inclusive {
                value >= high
            } else {
                value > high
            }
        })
    }
}

/// The interpretation flag of a numeric result (HL7 v2 table 0078 in OBX-8,
/// FHIR `ObservationInterpretation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Within the reference interval.
    Normal,
    /// Below the reference interval.
    Low,
    /// Above the reference interval.
    High,
    /// At or beyond the critical low limit.
    CriticalLow,
    /// At or beyond the critical high limit.
    CriticalHigh,
    /// No interval applied, so no judgement is made. Not the same as
    /// [`Flag::Normal`]: the reason is shown beside the result.
    Unflagged,
}

impl Flag {
    /// Every value, in display order.
    pub const ALL: [Flag; 6] = [
        Flag::Normal,
        Flag::Low,
        Flag::High,
        Flag::CriticalLow,
        Flag::CriticalHigh,
        Flag::Unflagged,
    ];

    /// The HL7/FHIR interpretation code, `N`, `L`, `H`, `LL` or `HH`, also
    /// stored in the database; `None` for [`Flag::Unflagged`], which is sent
    /// and stored as no code at all.
    pub fn code(self) -> Option<&'static str> {
        match self {
            Flag::Normal => Some("N"),
            Flag::Low => Some("L"),
            Flag::High => Some("H"),
            Flag::CriticalLow => Some("LL"),
            Flag::CriticalHigh => Some("HH"),
            Flag::Unflagged => None,
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Flag::Normal => "Normal",
            Flag::Low => "Low",
            Flag::High => "High",
            Flag::CriticalLow => "Critical low",
            Flag::CriticalHigh => "Critical high",
            Flag::Unflagged => "Not flagged",
        }
    }

    /// Parses a stored code; no code at all is [`Flag::Unflagged`].
    pub fn parse(code: Option<&str>) -> Option<Flag> {
        let code = code.map(str::trim);
        Flag::ALL.into_iter().find(|flag| flag.code() == code)
    }

    /// Whether the flag calls for critical-result communication.
    pub fn is_critical(self) -> bool {
        matches!(self, Flag::CriticalLow | Flag::CriticalHigh)
    }
}

/// Flags a numeric result.
///
/// Critical limits are checked first and override the reference interval.
/// Against the interval, a value equal to a limit is normal: intervals are
/// written as the lowest and highest normal values. With no interval the
/// result is [`Flag::Unflagged`], even when critical limits exist and are not
/// reached, because "not critical" is not "normal". A value that is not a
/// finite number is unflagged too (result entry refuses it earlier).
pub fn flag(
    value: f64,
    interval: Option<&ReferenceInterval>,
    critical: Option<&CriticalLimits>,
) -> Flag {
    if !value.is_finite() {
        return Flag::Unflagged;
    }
    if let Some(critical) = critical {
        if critical.is_critical_low(value) {
            return Flag::CriticalLow;
        }
        if critical.is_critical_high(value) {
            return Flag::CriticalHigh;
        }
    }
    let Some(interval) = interval else {
        return Flag::Unflagged;
    };
    if interval.low.is_some_and(|low| value < low) {
        Flag::Low
    } else if interval.high.is_some_and(|high| value > high) {
        Flag::High
    } else {
        Flag::Normal
    }
}

/// When a change from the previous result is large enough to question.
///
/// Invariant: at least one limit; every limit finite and positive; a window
/// of 1 to [`DeltaRule::MAX_WINDOW_DAYS`] days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeltaRule {
    absolute: Option<f64>,
    percent: Option<f64>,
    window_days: i64,
}

impl DeltaRule {
    /// The longest window accepted, in days.
    pub const MAX_WINDOW_DAYS: i64 = 3650;

    /// Validates a delta rule: the largest acceptable change in the result's
    /// unit (`absolute`) and in percent of the previous value (`percent`),
    /// compared with previous results up to `window_days` days old.
    pub fn new(
        absolute: Option<f64>,
        percent: Option<f64>,
        window_days: i64,
    ) -> Result<DeltaRule, ReferenceError> {
        if absolute.is_none() && percent.is_none() {
            return Err(ReferenceError::NoDeltaLimit);
        }
        if [absolute, percent]
            .into_iter()
            .flatten()
            .any(|limit| !(limit.is_finite() && limit > 0.0))
        {
            return Err(ReferenceError::DeltaLimitNotPositive);
        }
        if !(1..=Self::MAX_WINDOW_DAYS).contains(&window_days) {
            return Err(ReferenceError::InvalidDeltaWindow);
        }
        Ok(DeltaRule {
            absolute,
            percent,
            window_days,
        })
    }

    /// The largest acceptable change in the result's unit, if limited.
    pub fn absolute(&self) -> Option<f64> {
        self.absolute
    }

    /// The largest acceptable change in percent of the previous value, if
    /// limited.
    pub fn percent(&self) -> Option<f64> {
        self.percent
    }

    /// How old, in days of 24 hours, a previous result may be.
    pub fn window_days(&self) -> i64 {
        self.window_days
    }
}

/// What a delta check found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeltaOutcome {
    /// No previous result to compare with: none, not earlier than this one,
    /// older than the window, or a value that is not a finite number.
    NotApplicable,
    /// The change is within every limit.
    Passed,
    /// The change exceeds a limit: possible misidentification, interference
    /// or real clinical change, for a person to decide.
    Failed {
        /// Current minus previous, in the result's unit.
        change: f64,
        /// The change in percent of the previous value; `None` when the
        /// previous value was zero.
        percent: Option<f64>,
    },
}

/// Compares a result with the same test's previous result for the patient.
/// Each is a value with the time the specimen was collected.
///
/// The previous result counts when it is no later than the current one and
/// at most [`DeltaRule::window_days`] days (of 24 hours) before it: exactly
/// at the window's end is in. The check fails when the change is beyond any
/// limit given; a change exactly at a limit passes, and differences within
/// a billionth of the limit count as at it, so that decimal values binary
/// floating point cannot hold exactly (1.3 − 1.0) do not flip the outcome.
/// From a previous value of zero, any change fails a percentage limit.
pub fn delta_check(
    previous: Option<(f64, Timestamp)>,
    current: (f64, Timestamp),
    rule: &DeltaRule,
) -> DeltaOutcome {
    let Some((previous_value, previous_at)) = previous else {
        return DeltaOutcome::NotApplicable;
    };
    let (current_value, current_at) = current;
    if !(previous_value.is_finite() && current_value.is_finite()) {
        return DeltaOutcome::NotApplicable;
    }
    let elapsed = current_at.duration_since(previous_at);
    let window = SignedDuration::from_hours(rule.window_days * 24);
    if elapsed.is_negative() || elapsed > window {
        return DeltaOutcome::NotApplicable;
    }
    let change = current_value - previous_value;
    let percent = (previous_value != 0.0).then(|| change * 100.0 / previous_value.abs());
    let beyond = |amount: f64, limit: f64| amount.abs() > limit * (1.0 + 1e-9);
    let absolute_failed = rule.absolute.is_some_and(|limit| beyond(change, limit));
    let percent_failed = rule.percent.is_some_and(|limit| match percent {
        Some(percent) => beyond(percent, limit),
        None => change != 0.0,
    });
    if absolute_failed || percent_failed {
        DeltaOutcome::Failed { change, percent }
    } else {
        DeltaOutcome::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Interval selection (hazard H05). A creatinine-like catalogue: one band
    // for neonates, one for children, and sex-specific adult bands from
    // 6575 days.

    const ADULT_DAYS: i64 = 6575;

    fn interval(
        low: f64,
        high: f64,
        sex: Option<ReferenceSex>,
        from_days: i64,
        to_days: Option<i64>,
        source: &str,
    ) -> ReferenceInterval {
        let age_band = AgeBand::new(from_days, to_days).unwrap();
        ReferenceInterval::new(Some(low), Some(high), sex, age_band, source).unwrap()
    }

    fn catalogue() -> Vec<ReferenceInterval> {
        vec![
            interval(27.0, 77.0, None, 0, Some(28), "neonate"),
            interval(15.0, 70.0, None, 28, Some(ADULT_DAYS), "child"),
            interval(
                59.0,
                104.0,
                Some(ReferenceSex::Male),
                ADULT_DAYS,
                None,
                "adult male",
            ),
            interval(
                45.0,
                84.0,
                Some(ReferenceSex::Female),
                ADULT_DAYS,
                None,
                "adult female",
            ),
        ]
    }

    fn check_select_in(
        intervals: &[ReferenceInterval],
        sex: ReferenceSex,
        age_days: i64,
        expected: Result<&str, SelectError>,
    ) {
        assert_eq!(
            select_interval(intervals, sex, age_days).map(ReferenceInterval::source),
            expected,
            "{sex:?} aged {age_days} days"
        );
    }

    fn check_select(sex: ReferenceSex, age_days: i64, expected: Result<&str, SelectError>) {
        check_select_in(&catalogue(), sex, age_days, expected);
    }

    use ReferenceSex::{Female, Male, Unknown};

    #[test]
    fn a_baby_on_the_day_of_birth_gets_the_neonatal_interval() {
        check_select(Male, 0, Ok("neonate"));
    }
    #[test]
    fn the_last_day_of_a_band_is_in_it() {
        check_select(Female, 27, Ok("neonate"));
    }
    #[test]
    fn the_end_day_of_a_band_belongs_to_the_next_band() {
        check_select(Female, 28, Ok("child"));
    }
    #[test]
    fn the_day_before_adulthood_gets_the_child_interval() {
        check_select(Male, ADULT_DAYS - 1, Ok("child"));
    }
    #[test]
    fn the_first_adult_day_gets_the_adult_interval_for_the_sex() {
        check_select(Male, ADULT_DAYS, Ok("adult male"));
        check_select(Female, ADULT_DAYS, Ok("adult female"));
    }
    #[test]
    fn unknown_sex_uses_an_any_sex_interval_when_one_applies() {
        check_select(Unknown, 100, Ok("child"));
    }
    #[test]
    fn unknown_sex_with_only_sex_specific_intervals_is_not_guessed() {
        check_select(Unknown, ADULT_DAYS, Err(SelectError::SexRequired));
    }
    #[test]
    fn a_negative_age_is_refused() {
        check_select(Male, -1, Err(SelectError::NegativeAge { age_days: -1 }));
    }
    #[test]
    fn a_test_without_intervals_gives_no_interval() {
        check_select_in(&[], Male, 100, Err(SelectError::NoIntervals));
    }
    #[test]
    fn an_age_no_band_covers_gives_no_interval() {
        let intervals = [interval(1.0, 2.0, None, 0, Some(365), "infant")];
        check_select_in(
            &intervals,
            Male,
            365,
            Err(SelectError::NoIntervalForAge { age_days: 365 }),
        );
    }
    #[test]
    fn a_sex_with_no_interval_of_its_own_or_for_any_sex_gives_no_interval() {
        let intervals = [interval(0.0, 5.0, Some(Female), 0, None, "female only")];
        check_select_in(
            &intervals,
            Male,
            10_000,
            Err(SelectError::NoIntervalForSex {
                sex: Male,
                age_days: 10_000,
            }),
        );
    }
    #[test]
    fn a_sex_specific_interval_wins_over_an_any_sex_one() {
        let intervals = [
            interval(0.0, 10.0, None, 0, None, "any sex"),
            interval(1.0, 9.0, Some(Male), 0, None, "male"),
        ];
        check_select_in(&intervals, Male, 10_000, Ok("male"));
        check_select_in(&intervals, Female, 10_000, Ok("any sex"));
        check_select_in(&intervals, Unknown, 10_000, Ok("any sex"));
    }
    #[test]
    fn two_overlapping_intervals_for_the_same_sex_are_ambiguous() {
        let intervals = [
            interval(1.0, 9.0, Some(Male), 0, Some(7000), "male to 7000 days"),
            interval(2.0, 8.0, Some(Male), 6000, None, "male from 6000 days"),
        ];
        check_select_in(&intervals, Male, 5999, Ok("male to 7000 days"));
        check_select_in(
            &intervals,
            Male,
            6000,
            Err(SelectError::Ambiguous { n_matching: 2 }),
        );
        check_select_in(&intervals, Male, 7000, Ok("male from 6000 days"));
    }
    #[test]
    fn two_overlapping_any_sex_intervals_are_ambiguous() {
        let intervals = [
            interval(1.0, 9.0, None, 0, None, "one"),
            interval(2.0, 8.0, None, 0, None, "two"),
        ];
        check_select_in(
            &intervals,
            Female,
            0,
            Err(SelectError::Ambiguous { n_matching: 2 }),
        );
    }
    #[test]
    fn selection_errors_say_the_result_is_not_flagged() {
        assert_eq!(
            SelectError::NoIntervalForSex {
                sex: Male,
                age_days: 40
            }
            .to_string(),
            "no reference interval covers a male patient aged 40 days: the result is not flagged; check the catalogue"
        );
    }

    // Interval, age band and critical limit validation.

    fn check_interval(
        low: Option<f64>,
        high: Option<f64>,
        sex: Option<ReferenceSex>,
        source: &str,
        expected: Result<(), ReferenceError>,
    ) {
        assert_eq!(
            ReferenceInterval::new(low, high, sex, AgeBand::ALL_AGES, source).map(|_| ()),
            expected,
            "{low:?}-{high:?} {sex:?} {source:?}"
        );
    }

    #[test]
    fn an_interval_with_one_limit_is_accepted() {
        check_interval(None, Some(5.0), None, "local", Ok(()));
        check_interval(Some(60.0), None, None, "local", Ok(()));
    }
    #[test]
    fn an_interval_with_equal_limits_is_accepted() {
        check_interval(Some(5.0), Some(5.0), None, "local", Ok(()));
    }
    #[test]
    fn an_interval_without_limits_is_refused() {
        check_interval(None, None, None, "local", Err(ReferenceError::NoLimit));
    }
    #[test]
    fn an_interval_with_low_above_high_is_refused() {
        check_interval(
            Some(5.3),
            Some(3.5),
            None,
            "local",
            Err(ReferenceError::LowAboveHigh {
                low: 5.3,
                high: 3.5,
            }),
        );
    }
    #[test]
    fn an_interval_with_a_limit_that_is_not_a_number_is_refused() {
        check_interval(
            Some(f64::NAN),
            Some(5.0),
            None,
            "local",
            Err(ReferenceError::LimitNotFinite),
        );
        check_interval(
            Some(1.0),
            Some(f64::INFINITY),
            None,
            "local",
            Err(ReferenceError::LimitNotFinite),
        );
    }
    #[test]
    fn an_interval_for_unknown_sex_is_refused() {
        check_interval(
            Some(1.0),
            Some(2.0),
            Some(Unknown),
            "local",
            Err(ReferenceError::IntervalForUnknownSex),
        );
    }
    #[test]
    fn an_interval_without_a_source_is_refused() {
        check_interval(
            Some(1.0),
            Some(2.0),
            None,
            "  ",
            Err(ReferenceError::InvalidSource),
        );
        check_interval(
            Some(1.0),
            Some(2.0),
            None,
            "a\u{0}b",
            Err(ReferenceError::InvalidSource),
        );
    }

    #[test]
    fn age_bands_must_start_at_birth_or_later_and_end_after_they_start() {
        assert_eq!(
            AgeBand::new(-1, None),
            Err(ReferenceError::AgeBandBeforeBirth)
        );
        assert_eq!(
            AgeBand::new(28, Some(28)),
            Err(ReferenceError::EmptyAgeBand {
                from_days: 28,
                to_days: 28
            })
        );
        assert!(AgeBand::new(0, Some(1)).is_ok());
    }

    #[test]
    fn critical_limits_need_a_limit_and_low_below_high() {
        assert_eq!(
            CriticalLimits::new(None, None, true),
            Err(ReferenceError::NoLimit)
        );
        assert_eq!(
            CriticalLimits::new(Some(6.5), Some(6.5), true),
            Err(ReferenceError::CriticalLowNotBelowHigh {
                low: 6.5,
                high: 6.5
            })
        );
        assert_eq!(
            CriticalLimits::new(Some(f64::NAN), None, true),
            Err(ReferenceError::LimitNotFinite)
        );
        assert!(CriticalLimits::new(None, Some(354.0), true).is_ok());
    }

    // Flags: potassium, reference 3.5-5.3 mmol/L, critical <= 2.5 and >= 6.5
    // (RCPath, inclusive).

    fn potassium_interval() -> ReferenceInterval {
        ReferenceInterval::new(Some(3.5), Some(5.3), None, AgeBand::ALL_AGES, "demo").unwrap()
    }

    fn potassium_critical(inclusive: bool) -> CriticalLimits {
        CriticalLimits::new(Some(2.5), Some(6.5), inclusive).unwrap()
    }

    fn check_flag(value: f64, expected: Flag) {
        let flagged = flag(
            value,
            Some(&potassium_interval()),
            Some(&potassium_critical(true)),
        );
        assert_eq!(flagged, expected, "{value}");
    }

    #[test]
    fn below_the_critical_low_limit_is_critical_low() {
        check_flag(2.4, Flag::CriticalLow);
    }
    #[test]
    fn at_an_inclusive_critical_low_limit_is_critical_low() {
        check_flag(2.5, Flag::CriticalLow);
    }
    #[test]
    fn just_above_the_critical_low_limit_is_low() {
        check_flag(2.51, Flag::Low);
    }
    #[test]
    fn just_below_the_reference_low_limit_is_low() {
        check_flag(3.49, Flag::Low);
    }
    #[test]
    fn at_the_reference_low_limit_is_normal() {
        check_flag(3.5, Flag::Normal);
    }
    #[test]
    fn at_the_reference_high_limit_is_normal() {
        check_flag(5.3, Flag::Normal);
    }
    #[test]
    fn just_above_the_reference_high_limit_is_high() {
        check_flag(5.31, Flag::High);
    }
    #[test]
    fn just_below_the_critical_high_limit_is_high() {
        check_flag(6.49, Flag::High);
    }
    #[test]
    fn at_an_inclusive_critical_high_limit_is_critical_high() {
        check_flag(6.5, Flag::CriticalHigh);
    }
    #[test]
    fn above_the_critical_high_limit_is_critical_high() {
        check_flag(9.0, Flag::CriticalHigh);
    }
    #[test]
    fn at_an_exclusive_critical_limit_is_only_abnormal() {
        let critical = potassium_critical(false);
        let interval = potassium_interval();
        assert_eq!(flag(2.5, Some(&interval), Some(&critical)), Flag::Low);
        assert_eq!(flag(6.5, Some(&interval), Some(&critical)), Flag::High);
        assert_eq!(
            flag(2.49, Some(&interval), Some(&critical)),
            Flag::CriticalLow
        );
        assert_eq!(
            flag(6.51, Some(&interval), Some(&critical)),
            Flag::CriticalHigh
        );
    }
    #[test]
    fn without_interval_or_critical_limits_a_result_is_unflagged_not_normal() {
        assert_eq!(flag(4.0, None, None), Flag::Unflagged);
    }
    #[test]
    fn without_an_interval_a_result_short_of_the_critical_limits_is_unflagged() {
        assert_eq!(
            flag(4.0, None, Some(&potassium_critical(true))),
            Flag::Unflagged
        );
    }
    #[test]
    fn without_an_interval_a_critical_result_is_still_critical() {
        assert_eq!(
            flag(7.0, None, Some(&potassium_critical(true))),
            Flag::CriticalHigh
        );
    }
    #[test]
    fn without_critical_limits_the_interval_alone_flags() {
        assert_eq!(flag(1.0, Some(&potassium_interval()), None), Flag::Low);
        assert_eq!(flag(4.0, Some(&potassium_interval()), None), Flag::Normal);
    }
    #[test]
    fn an_interval_with_only_a_high_limit_flags_only_high() {
        let crp = ReferenceInterval::new(None, Some(5.0), None, AgeBand::ALL_AGES, "demo").unwrap();
        assert_eq!(flag(0.0, Some(&crp), None), Flag::Normal);
        assert_eq!(flag(5.0, Some(&crp), None), Flag::Normal);
        assert_eq!(flag(5.1, Some(&crp), None), Flag::High);
    }
    #[test]
    fn an_interval_with_only_a_low_limit_flags_only_low() {
        let egfr =
            ReferenceInterval::new(Some(90.0), None, None, AgeBand::ALL_AGES, "demo").unwrap();
        assert_eq!(flag(89.9, Some(&egfr), None), Flag::Low);
        assert_eq!(flag(150.0, Some(&egfr), None), Flag::Normal);
    }
    #[test]
    fn a_value_that_is_not_a_number_is_unflagged() {
        let interval = potassium_interval();
        let critical = potassium_critical(true);
        assert_eq!(
            flag(f64::NAN, Some(&interval), Some(&critical)),
            Flag::Unflagged
        );
        assert_eq!(
            flag(f64::INFINITY, Some(&interval), Some(&critical)),
            Flag::Unflagged
        );
    }
    #[test]
    fn flags_use_the_hl7_and_fhir_interpretation_codes() {
        let codes: Vec<Option<&str>> = Flag::ALL.iter().map(|flag| flag.code()).collect();
        assert_eq!(
            codes,
            [
                Some("N"),
                Some("L"),
                Some("H"),
                Some("LL"),
                Some("HH"),
                None
            ]
        );
        for flag in Flag::ALL {
            assert_eq!(Flag::parse(flag.code()), Some(flag));
        }
        assert_eq!(Flag::parse(Some("A")), None);
        assert!(Flag::CriticalLow.is_critical() && !Flag::Low.is_critical());
    }

    // Delta checks.

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn check_delta(
        previous: Option<(f64, &str)>,
        current: (f64, &str),
        rule: DeltaRule,
        expected: DeltaOutcome,
    ) {
        let outcome = delta_check(
            previous.map(|(value, time)| (value, at(time))),
            (current.0, at(current.1)),
            &rule,
        );
        assert_eq!(
            outcome, expected,
            "{previous:?} -> {current:?} with {rule:?}"
        );
    }

    fn absolute(limit: f64) -> DeltaRule {
        DeltaRule::new(Some(limit), None, 7).unwrap()
    }

    fn percent(limit: f64) -> DeltaRule {
        DeltaRule::new(None, Some(limit), 7).unwrap()
    }

    const MONDAY: &str = "2026-03-02T09:00:00Z";
    const TUESDAY: &str = "2026-03-03T09:00:00Z";

    #[test]
    fn without_a_previous_result_the_delta_check_does_not_apply() {
        check_delta(
            None,
            (5.0, TUESDAY),
            absolute(0.5),
            DeltaOutcome::NotApplicable,
        );
    }
    #[test]
    fn a_previous_result_exactly_at_the_window_end_is_compared() {
        check_delta(
            Some((5.0, "2026-02-23T09:00:00Z")),
            (6.0, MONDAY),
            absolute(0.5),
            DeltaOutcome::Failed {
                change: 1.0,
                percent: Some(20.0),
            },
        );
    }
    #[test]
    fn a_previous_result_a_second_older_than_the_window_is_not_compared() {
        check_delta(
            Some((5.0, "2026-02-23T08:59:59Z")),
            (6.0, MONDAY),
            absolute(0.5),
            DeltaOutcome::NotApplicable,
        );
    }
    #[test]
    fn a_previous_result_later_than_the_current_one_is_not_compared() {
        check_delta(
            Some((5.0, TUESDAY)),
            (6.0, MONDAY),
            absolute(0.5),
            DeltaOutcome::NotApplicable,
        );
    }
    #[test]
    fn a_change_exactly_at_the_absolute_limit_passes() {
        check_delta(
            Some((5.0, MONDAY)),
            (5.5, TUESDAY),
            absolute(0.5),
            DeltaOutcome::Passed,
        );
    }
    #[test]
    fn a_change_at_a_decimal_limit_passes_despite_binary_rounding() {
        check_delta(
            Some((1.0, MONDAY)),
            (1.3, TUESDAY),
            absolute(0.3),
            DeltaOutcome::Passed,
        );
    }
    #[test]
    fn a_change_just_beyond_the_absolute_limit_fails() {
        let outcome = delta_check(Some((5.0, at(MONDAY))), (5.51, at(TUESDAY)), &absolute(0.5));
        let DeltaOutcome::Failed { change, .. } = outcome else {
            panic!("expected a failure, got {outcome:?}");
        };
        assert!((change - 0.51).abs() < 1e-9);
    }
    #[test]
    fn a_fall_beyond_the_limit_fails_with_a_negative_change() {
        check_delta(
            Some((100.0, MONDAY)),
            (80.0, TUESDAY),
            percent(10.0),
            DeltaOutcome::Failed {
                change: -20.0,
                percent: Some(-20.0),
            },
        );
    }
    #[test]
    fn a_change_exactly_at_the_percentage_limit_passes() {
        check_delta(
            Some((80.0, MONDAY)),
            (88.0, TUESDAY),
            percent(10.0),
            DeltaOutcome::Passed,
        );
    }
    #[test]
    fn a_change_just_beyond_the_percentage_limit_fails() {
        check_delta(
            Some((100.0, MONDAY)),
            (110.5, TUESDAY),
            percent(10.0),
            DeltaOutcome::Failed {
                change: 10.5,
                percent: Some(10.5),
            },
        );
    }
    #[test]
    fn with_both_limits_exceeding_either_fails() {
        let rule = DeltaRule::new(Some(26.0), Some(50.0), 7).unwrap();
        check_delta(
            Some((100.0, MONDAY)),
            (130.0, TUESDAY),
            rule,
            DeltaOutcome::Failed {
                change: 30.0,
                percent: Some(30.0),
            },
        );
        check_delta(
            Some((40.0, MONDAY)),
            (61.0, TUESDAY),
            rule,
            DeltaOutcome::Failed {
                change: 21.0,
                percent: Some(52.5),
            },
        );
        check_delta(
            Some((100.0, MONDAY)),
            (120.0, TUESDAY),
            rule,
            DeltaOutcome::Passed,
        );
    }
    #[test]
    fn any_change_from_zero_fails_a_percentage_limit() {
        check_delta(
            Some((0.0, MONDAY)),
            (0.1, TUESDAY),
            percent(50.0),
            DeltaOutcome::Failed {
                change: 0.1,
                percent: None,
            },
        );
        check_delta(
            Some((0.0, MONDAY)),
            (0.0, TUESDAY),
            percent(50.0),
            DeltaOutcome::Passed,
        );
    }
    #[test]
    fn a_value_that_is_not_a_number_is_not_compared() {
        check_delta(
            Some((5.0, MONDAY)),
            (f64::NAN, TUESDAY),
            absolute(0.5),
            DeltaOutcome::NotApplicable,
        );
    }

    fn check_rule(
        absolute: Option<f64>,
        percent: Option<f64>,
        window_days: i64,
        expected: Result<(), ReferenceError>,
    ) {
        assert_eq!(
            DeltaRule::new(absolute, percent, window_days).map(|_| ()),
            expected,
            "{absolute:?} {percent:?} {window_days}"
        );
    }

    #[test]
    fn a_delta_rule_needs_a_limit() {
        check_rule(None, None, 7, Err(ReferenceError::NoDeltaLimit));
    }
    #[test]
    fn a_delta_rule_refuses_zero_negative_or_non_numeric_limits() {
        check_rule(
            Some(0.0),
            None,
            7,
            Err(ReferenceError::DeltaLimitNotPositive),
        );
        check_rule(
            None,
            Some(-5.0),
            7,
            Err(ReferenceError::DeltaLimitNotPositive),
        );
        check_rule(
            Some(f64::NAN),
            None,
            7,
            Err(ReferenceError::DeltaLimitNotPositive),
        );
    }
    #[test]
    fn a_delta_window_is_one_to_3650_days() {
        check_rule(Some(1.0), None, 0, Err(ReferenceError::InvalidDeltaWindow));
        check_rule(Some(1.0), None, 1, Ok(()));
        check_rule(Some(1.0), None, 3650, Ok(()));
        check_rule(
            Some(1.0),
            None,
            3651,
            Err(ReferenceError::InvalidDeltaWindow),
        );
    }
}
