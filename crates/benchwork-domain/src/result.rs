//! Result entry: what a typed value may be, how it is shown, and the
//! default used for delta checks (issue 3 item 5).
//!
//! A numeric value is kept exactly as typed alongside the number parsed from
//! it; display rounds to the catalogue's decimal places. Values the method
//! cannot report as measured (outside the reportable range) and values no
//! sample can have (a negative concentration) are refused with what to do,
//! never stored.

use crate::catalogue::{ReportableRange, ResultType};
use crate::incident::has_control_characters;
use crate::reference::{DeltaRule, ReferenceError};

id_type!(
    /// An instrument (analyser, ECG cart, spirometer).
    InstrumentId
);
id_type!(
    /// One result of one request line.
    ResultId
);

/// The longest value or comment accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// The delta limit used when the catalogue defines none: a change of more
/// than this percentage of the previous value is questioned.
pub const DEFAULT_DELTA_PERCENT: f64 = 50.0;

/// How old a previous result may be for the default delta check, in days.
pub const DEFAULT_DELTA_WINDOW_DAYS: i64 = 365;

/// Why a typed result was refused. Messages are shown next to the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResultError {
    /// Nothing typed.
    #[error("enter a result")]
    Empty,
    /// Text where a number is expected.
    #[error(
        "enter a number, for example 4.2 (\"{typed}\" is not a number); values beyond the measuring range are reported as \"<\" or \">\" later"
    )]
    NotANumber {
        /// What was typed.
        typed: String,
    },
    /// A negative value for a quantity that cannot be negative.
    #[error("a result in {unit} cannot be negative: check the value and re-enter it")]
    Negative {
        /// The unit.
        unit: String,
    },
    /// Below the reportable range.
    #[error(
        "{value} is below the reportable range (lowest {low}): re-run the sample, or report it as \"<{low}\" when that is supported"
    )]
    BelowReportable {
        /// The value typed.
        value: String,
        /// The lowest reportable value.
        low: f64,
    },
    /// Above the reportable range.
    #[error(
        "{value} is above the reportable range (highest {high}): dilute and re-run the sample, or report it as \">{high}\" when that is supported"
    )]
    AboveReportable {
        /// The value typed.
        value: String,
        /// The highest reportable value.
        high: f64,
    },
    /// A code not in the catalogue's list.
    #[error("choose one of: {allowed}")]
    UnknownCode {
        /// The allowed codes, comma-separated.
        allowed: String,
    },
    /// Too long or holding control characters.
    #[error("enter at most 1000 characters of plain text")]
    InvalidText,
}

/// A validated result value.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultValue {
    /// A number, with the text exactly as typed (trimmed).
    Numeric {
        /// As typed.
        text: String,
        /// As parsed.
        value: f64,
    },
    /// One of the catalogue's codes.
    Coded(String),
    /// Free text.
    Text(String),
}

impl ResultValue {
    /// The value as stored in the text column.
    pub fn text(&self) -> &str {
        match self {
            ResultValue::Numeric { text, .. } => text,
            ResultValue::Coded(code) => code,
            ResultValue::Text(text) => text,
        }
    }

    /// The number, for a numeric value.
    pub fn number(&self) -> Option<f64> {
        match self {
            ResultValue::Numeric { value, .. } => Some(*value),
            _ => None,
        }
    }
}

/// Whether a quantity in `unit` may be negative. Concentrations, counts,
/// activities, times, volumes and ratios cannot; hearing thresholds (dB)
/// and standard-deviation scores can.
pub fn may_be_negative(unit: &str) -> bool {
    unit.starts_with("dB") || matches!(unit, "{SD}" | "{z-score}" | "{SDS}")
}

/// Parses a typed value against the investigation's result type and
/// reportable range.
pub fn parse_value(
    typed: &str,
    result_type: &ResultType,
    reportable: Option<&ReportableRange>,
) -> Result<ResultValue, ResultError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(ResultError::Empty);
    }
    if typed.chars().count() > MAX_TEXT_CHARS || has_control_characters(typed, true) {
        return Err(ResultError::InvalidText);
    }
    match result_type {
        ResultType::Numeric { unit, .. } => {
            let plain = typed
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
            let value = typed
                .parse::<f64>()
                .ok()
                .filter(|value| plain && value.is_finite())
                .ok_or_else(|| ResultError::NotANumber {
                    typed: typed.to_owned(),
                })?;
            if value < 0.0 && !may_be_negative(unit) {
                return Err(ResultError::Negative { unit: unit.clone() });
            }
            if let Some(range) = reportable {
                if value < range.low() {
                    return Err(ResultError::BelowReportable {
                        value: typed.to_owned(),
                        low: range.low(),
                    });
                }
                if value > range.high() {
                    return Err(ResultError::AboveReportable {
                        value: typed.to_owned(),
                        high: range.high(),
                    });
                }
            }
            Ok(ResultValue::Numeric {
                text: typed.to_owned(),
                value,
            })
        }
        ResultType::Coded { codes } => codes
            .iter()
            .find(|code| code.eq_ignore_ascii_case(typed))
            .map(|code| ResultValue::Coded(code.clone()))
            .ok_or_else(|| ResultError::UnknownCode {
                allowed: codes.join(", "),
            }),
        ResultType::Text => Ok(ResultValue::Text(typed.to_owned())),
    }
}

/// A number shown with the catalogue's decimal places.
pub fn display_number(value: f64, decimal_places: u8) -> String {
    format!("{value:.prec$}", prec = usize::from(decimal_places))
}

/// The delta rule used when the catalogue defines none: more than
/// [`DEFAULT_DELTA_PERCENT`] change within [`DEFAULT_DELTA_WINDOW_DAYS`].
pub fn default_delta_rule() -> Result<DeltaRule, ReferenceError> {
    DeltaRule::new(None, Some(DEFAULT_DELTA_PERCENT), DEFAULT_DELTA_WINDOW_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn potassium() -> (ResultType, ReportableRange) {
        (
            ResultType::numeric("mmol/L", 1).unwrap(),
            ReportableRange::new(1.0, 10.0).unwrap(),
        )
    }

    #[test]
    fn a_number_is_kept_as_typed_and_parsed() {
        let (kind, range) = potassium();
        let value = parse_value(" 4.20 ", &kind, Some(&range)).unwrap();
        assert_eq!(value.text(), "4.20");
        assert_eq!(value.number(), Some(4.2));
    }

    #[test]
    fn text_negative_and_out_of_range_values_are_refused() {
        let (kind, range) = potassium();
        assert!(matches!(
            parse_value("haemolysed", &kind, Some(&range)),
            Err(ResultError::NotANumber { .. })
        ));
        assert!(matches!(
            parse_value("4,2", &kind, Some(&range)),
            Err(ResultError::NotANumber { .. })
        ));
        assert!(matches!(
            parse_value("inf", &kind, Some(&range)),
            Err(ResultError::NotANumber { .. })
        ));
        assert!(matches!(
            parse_value("-1", &kind, None),
            Err(ResultError::Negative { .. })
        ));
        let above = parse_value("12.5", &kind, Some(&range)).unwrap_err();
        assert!(above.to_string().contains("dilute"));
        assert!(matches!(
            parse_value("0.5", &kind, Some(&range)),
            Err(ResultError::BelowReportable { .. })
        ));
        assert_eq!(parse_value(" ", &kind, None), Err(ResultError::Empty));
    }

    #[test]
    fn range_limits_are_reportable_and_decibels_may_be_negative() {
        let (kind, range) = potassium();
        assert!(parse_value("1.0", &kind, Some(&range)).is_ok());
        assert!(parse_value("10", &kind, Some(&range)).is_ok());
        let hearing = ResultType::numeric("dB{HL}", 0).unwrap();
        assert_eq!(
            parse_value("-5", &hearing, None).unwrap().number(),
            Some(-5.0)
        );
    }

    #[test]
    fn coded_values_must_be_in_the_list() {
        let kind = ResultType::coded(&["POS".into(), "NEG".into()]).unwrap();
        assert_eq!(
            parse_value("neg", &kind, None).unwrap(),
            ResultValue::Coded("NEG".into())
        );
        assert_eq!(
            parse_value("maybe", &kind, None),
            Err(ResultError::UnknownCode {
                allowed: "POS, NEG".into()
            })
        );
    }

    #[test]
    fn display_rounds_to_the_catalogue_places() {
        assert_eq!(display_number(4.25, 1), "4.2");
        assert_eq!(display_number(68.97, 0), "69");
        assert_eq!(display_number(2.3, 2), "2.30");
    }

    #[test]
    fn the_default_delta_rule_is_fifty_percent_over_a_year() {
        let rule = default_delta_rule().unwrap();
        assert_eq!(rule.percent(), Some(50.0));
        assert_eq!(rule.absolute(), None);
        assert_eq!(rule.window_days(), 365);
    }
}
