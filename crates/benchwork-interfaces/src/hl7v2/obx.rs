//! The value of an OBX segment checked against its declared type (OBX-2),
//! and HL7 date/times. A numeric result is patient data: `<5` sent as `NM`,
//! `1,2` or `12e3`, or text in a coded field is refused with an error that
//! names the segment and field, never read as something else.

use std::borrow::Cow;

use jiff::civil::{Date, DateTime};
use jiff::tz::{self, TimeZone};
use jiff::{Timestamp, Zoned};

use super::{Hl7Error, Segment};

/// An observation value read by its type.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationValue<'a> {
    /// Nothing sent (for example OBX-11 `X`, result cannot be obtained).
    Empty,
    /// `NM`: a number, with the text as sent (decimal places matter).
    Numeric {
        /// The number.
        value: f64,
        /// As sent, for display with the sender's decimal places.
        text: &'a str,
    },
    /// `SN`: a structured numeric such as `<^5`, `>=^10`, `^1^:^128`.
    StructuredNumeric {
        /// `<`, `>`, `<=`, `>=`, `=`, `<>` or empty.
        comparator: &'a str,
        /// The first number.
        first: Option<f64>,
        /// `-`, `+`, `/`, `.`, `:` or empty.
        separator: &'a str,
        /// The second number (ranges and ratios).
        second: Option<f64>,
    },
    /// `ST`, `TX`, `FT`: text, decoded, repetitions joined by line breaks.
    Text(Cow<'a, str>),
    /// `CE`, `CWE`, `CNE`: one or more codes (OBX-5 may repeat).
    Coded(Vec<CodedValue<'a>>),
    /// `DT`, `TS`, `DTM`: a date or date/time as written.
    DateTime(&'a str),
    /// Another HL7 data type (`ED`, `RP`, `TM`, `CX` …), kept as written
    /// for whoever needs it; never read as a result value.
    Other {
        /// OBX-2.
        value_type: &'a str,
        /// OBX-5 as written.
        raw: &'a str,
    },
}

/// A code, its text and its coding system.
#[derive(Debug, Clone, PartialEq)]
pub struct CodedValue<'a> {
    /// Identifier (component 1, or the alternate identifier, 4).
    pub code: Cow<'a, str>,
    /// Text (component 2, or 5, or the original text, 9).
    pub text: Cow<'a, str>,
    /// Coding system (component 3, or 6).
    pub system: Cow<'a, str>,
}

/// Reads OBX-5 according to OBX-2.
pub fn observation_value<'a>(obx: &Segment<'_, 'a>) -> Result<ObservationValue<'a>, Hl7Error> {
    let value_type = obx.field(2).component(1).raw().trim();
    let field = obx.field(5);
    let error = |reason: String| Hl7Error::DataType {
        location: obx.location(Some(5)),
        reason,
    };
    if field.is_empty() {
        return Ok(ObservationValue::Empty);
    }
    if value_type.is_empty() {
        return Err(Hl7Error::RequiredFieldMissing {
            location: obx.location(Some(2)),
            what: "value type (OBX-2) for a value in OBX-5",
        });
    }
    let single = |kind: &str| {
        if field.raw().contains(obx.delimiters.repetition) {
            Err(error(format!("a {kind} value cannot repeat")))
        } else {
            Ok(field.repetition(1))
        }
    };
    match value_type {
        "NM" => {
            let text = single("numeric (NM)")?.raw().trim();
            match parse_nm(text) {
                Some(value) => Ok(ObservationValue::Numeric { value, text }),
                None => Err(error(format!(
                    "{text:?} is not a number, but OBX-2 says NM (send a comparison such as <5 as SN)"
                ))),
            }
        }
        "SN" => {
            let value = single("structured numeric (SN)")?;
            let comparator = value.component(1).raw().trim();
            let first = value.component(2).raw().trim();
            let separator = value.component(3).raw().trim();
            let second = value.component(4).raw().trim();
            let number = |text: &str| -> Result<Option<f64>, Hl7Error> {
                if text.is_empty() {
                    Ok(None)
                } else {
                    parse_nm(text)
                        .map(Some)
                        .ok_or_else(|| error(format!("{text:?} in an SN value is not a number")))
                }
            };
            if !matches!(comparator, "" | "<" | ">" | "<=" | ">=" | "=" | "<>") {
                return Err(error(format!("{comparator:?} is not an SN comparator")));
            }
            if !matches!(separator, "" | "-" | "+" | "/" | "." | ":") {
                return Err(error(format!("{separator:?} is not an SN separator")));
            }
            let first = number(first)?;
            let second = number(second)?;
            if first.is_none() {
                return Err(error("an SN value needs a number".into()));
            }
            Ok(ObservationValue::StructuredNumeric {
                comparator,
                first,
                separator,
                second,
            })
        }
        "ST" | "TX" | "FT" => {
            let mut parts = field.repetitions().map(|repetition| repetition.text());
            let first = parts.next().unwrap_or_default();
            let rest: Vec<Cow<'a, str>> = parts.collect();
            if rest.is_empty() {
                Ok(ObservationValue::Text(first))
            } else {
                let mut text = first.into_owned();
                for part in rest {
                    text.push('\n');
                    text.push_str(&part);
                }
                Ok(ObservationValue::Text(Cow::Owned(text)))
            }
        }
        "CE" | "CWE" | "CNE" => {
            // Identifier, text and system, or the alternate ones (4–6);
            // the original text (9) when no code was sent.
            let mut codes = Vec::new();
            for value in field.repetitions() {
                let first = |a: usize, b: usize| {
                    let primary = value.component(a).text();
                    if primary.trim().is_empty() {
                        value.component(b).text()
                    } else {
                        primary
                    }
                };
                let code = first(1, 4);
                let mut text = first(2, 5);
                if text.trim().is_empty() {
                    text = value.component(9).text();
                }
                if code.trim().is_empty() && text.trim().is_empty() {
                    return Err(error(
                        "a coded value needs a code (component 1 or 4) or its text".into(),
                    ));
                }
                codes.push(CodedValue {
                    code,
                    text,
                    system: first(3, 6),
                });
            }
            Ok(ObservationValue::Coded(codes))
        }
        "DT" | "TS" | "DTM" => {
            let text = single("date")?.component(1).raw().trim();
            parse_datetime(text, &TimeZone::UTC).map_err(error)?;
            Ok(ObservationValue::DateTime(text))
        }
        other
            if (2..=3).contains(&other.len())
                && other
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            Ok(ObservationValue::Other {
                value_type: other,
                raw: field.raw(),
            })
        }
        other => Err(Hl7Error::DataType {
            location: obx.location(Some(2)),
            reason: format!("{other:?} is not an HL7 data type"),
        }),
    }
}

/// HL7 `NM`: an optional sign, digits, an optional decimal point. No
/// exponent, no thousands separator, no spaces inside.
pub fn parse_nm(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mut seen_digit = false;
    let mut seen_point = false;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// An HL7 date/time (`DT`, `TS`, `DTM`): `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`.
/// Without an offset the time is read in `zone` (⚠ the sender's local time
/// zone must be configured per interface). A date alone is its start of
/// day. Returns the instant.
pub fn parse_datetime(text: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    let (main, offset) = match text.find(['+', '-']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let (whole, fraction) = match main.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (main, None),
    };
    let bad = || format!("{text:?} is not an HL7 date/time (YYYYMMDDHHMMSS[+ZZZZ])");
    if !whole.bytes().all(|b| b.is_ascii_digit()) || ![4, 6, 8, 10, 12, 14].contains(&whole.len()) {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>, default: i32| -> i32 {
        whole
            .get(range)
            .and_then(|part| part.parse().ok())
            .unwrap_or(default)
    };
    let nanos = match fraction {
        None => 0,
        Some(fraction)
            if whole.len() == 14
                && (1..=4).contains(&fraction.len())
                && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let padded = format!("{fraction:0<9}");
            padded.parse::<i32>().map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
    };
    let date = Date::new(
        number(0..4, 0) as i16,
        number(4..6, 1) as i8,
        number(6..8, 1) as i8,
    )
    .map_err(|_| bad())?;
    let datetime = DateTime::new(
        date.year(),
        date.month(),
        date.day(),
        number(8..10, 0) as i8,
        number(10..12, 0) as i8,
        number(12..14, 0) as i8,
        nanos,
    )
    .map_err(|_| bad())?;
    let zoned: Zoned = match offset {
        Some(offset) => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let digits = &offset[1..];
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
            let minutes: i32 = digits[2..].parse().map_err(|_| bad())?;
            if hours > 14 || minutes > 59 {
                return Err(bad());
            }
            let seconds = sign * (hours * 3600 + minutes * 60);
            let offset = tz::Offset::from_seconds(seconds).map_err(|_| bad())?;
            datetime
                .to_zoned(TimeZone::fixed(offset))
                .map_err(|_| bad())?
        }
        None => datetime.to_zoned(zone.clone()).map_err(|_| bad())?,
    };
    Ok(zoned.timestamp())
}
