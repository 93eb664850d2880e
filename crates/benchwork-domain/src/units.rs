//! Units of measure in UCUM, the code system HL7 v2, FHIR and the UK
//! pathology catalogue use: [`Unit::parse`] checks that a unit is a UCUM
//! expression (case-sensitive, as UCUM requires), and [`convert`] turns a
//! value received in one unit into the catalogue's unit when the two measure
//! the same kind of quantity (µmol/L into mmol/L, mg/L into g/L, [degF] into
//! Cel). Units of different kinds (mg/dL and mmol/L: mass and amount of
//! substance) are never converted: that needs the analyte's molar mass, which
//! is a clinical decision and not a unit rule, so the value is refused with a
//! message saying why (hazard H04, unit conversion error).
//!
//! Parsing and conversion are delegated to the `octofhir-ucum` crate, which
//! reads the UCUM essence table (`ucum-essence.xml`) and converts with exact
//! decimal arithmetic; the tests below check it against factors a laboratory
//! knows by heart.

/// Why a unit was refused or a value could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// No unit given.
    #[error("enter a unit")]
    Empty,
    /// Not a UCUM expression.
    #[error(
        "{unit} is not a UCUM unit: write it as UCUM does, for example mmol/L, umol/L, g/L, 10*9/L, mL/min/{{1.73_m2}}"
    )]
    NotUcum {
        /// The unit as written.
        unit: String,
    },
    /// The two units measure different kinds of quantity.
    #[error(
        "a value in {from} cannot be converted to {to}: they measure different kinds of quantity; send the value in {to}"
    )]
    NotCommensurable {
        /// The unit the value came in.
        from: String,
        /// The catalogue's unit.
        to: String,
    },
    /// Both units are pure numbers (%, mmol/mol, {INR}): UCUM would scale
    /// one into the other, but such ratios measure different things (HbA1c
    /// in DCCT % and IFCC mmol/mol are related by an equation, not a factor).
    #[error(
        "a value in {from} cannot be converted to {to}: ratios and fractions are only accepted in the catalogue's unit; send the value in {to}"
    )]
    DifferentRatios {
        /// The unit the value came in.
        from: String,
        /// The catalogue's unit.
        to: String,
    },
    /// The conversion itself failed (a value outside a special unit's range,
    /// or too large).
    #[error("a value of {value} {from} cannot be converted to {to}")]
    ConversionFailed {
        /// The value.
        value: String,
        /// The unit the value came in.
        from: String,
        /// The catalogue's unit.
        to: String,
    },
}

/// A checked UCUM unit code, kept as written (after replacing the micro sign
/// by `u`, which UCUM uses for micro).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit(String);

impl Unit {
    /// Checks `text` as a UCUM expression. `µ` (micro sign or Greek mu) is
    /// accepted for UCUM's `u`, since analysers and people write it so.
    pub fn parse(text: &str) -> Result<Unit, UnitError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UnitError::Empty);
        }
        let code: String = text
            .chars()
            .map(|c| {
                if c == '\u{b5}' || c == '\u{3bc}' {
                    'u'
                } else {
                    c
                }
            })
            .collect();
        if code.chars().any(|c| c.is_whitespace() || c.is_control()) || code.len() > 60 {
            return Err(UnitError::NotUcum { unit: text.into() });
        }
        octofhir_ucum::validate(&code).map_err(|_| UnitError::NotUcum { unit: text.into() })?;
        Ok(Unit(code))
    }

    /// The UCUM code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when both units measure the same kind of quantity.
    pub fn is_commensurable_with(&self, other: &Unit) -> bool {
        self == other || octofhir_ucum::is_comparable(&self.0, &other.0).unwrap_or(false)
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Converts `value` from unit `from` to unit `to`. The same unit returns the
/// value unchanged (no floating-point round trip).
pub fn convert(value: f64, from: &Unit, to: &Unit) -> Result<f64, UnitError> {
    if from == to {
        return Ok(value);
    }
    let dimensionless = |unit: &Unit| {
        octofhir_ucum::analyse(&unit.0).is_ok_and(|analysis| analysis.is_dimensionless)
    };
    if dimensionless(from) && dimensionless(to) {
        return Err(UnitError::DifferentRatios {
            from: from.0.clone(),
            to: to.0.clone(),
        });
    }
    if !from.is_commensurable_with(to) {
        return Err(UnitError::NotCommensurable {
            from: from.0.clone(),
            to: to.0.clone(),
        });
    }
    octofhir_ucum::convert(value, &from.0, &to.0)
        .ok()
        .filter(|converted| converted.is_finite())
        .ok_or_else(|| UnitError::ConversionFailed {
            value: value.to_string(),
            from: from.0.clone(),
            to: to.0.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(text: &str) -> Unit {
        Unit::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn converts(value: f64, from: &str, to: &str, expected: f64) {
        let got = convert(value, &unit(from), &unit(to)).unwrap();
        assert!(
            (got - expected).abs() <= expected.abs() * 1e-12,
            "{value} {from} -> {got} {to}, expected {expected}"
        );
    }

    #[test]
    fn the_units_of_a_uk_pathology_and_physiology_catalogue_are_ucum() {
        for text in [
            "mmol/L",
            "umol/L",
            "g/L",
            "U/L",
            "mg/L",
            "ng/L",
            "mU/L",
            "mmol/mol",
            "10*9/L",
            "10*12/L",
            "s",
            "{INR}",
            "ms",
            "L",
            "%",
            "mL/min/{1.73_m2}",
            "L/s",
            "fL",
            "pg",
            "[iU]/L",
            "mm[Hg]",
            "/min",
            "dB",
        ] {
            unit(text);
        }
    }

    #[test]
    fn the_micro_sign_is_read_as_ucum_micro() {
        assert_eq!(unit("µmol/L").as_str(), "umol/L");
        assert_eq!(unit("\u{3bc}mol/L").as_str(), "umol/L");
    }

    #[test]
    fn text_that_is_not_ucum_is_refused_with_the_unit_named() {
        for text in [
            "millimoles per litre",
            "mmol/ L",
            "mmol/L\0",
            "xyz",
            "mg/dl/",
        ] {
            let error = Unit::parse(text).unwrap_err();
            assert!(
                matches!(error, UnitError::NotUcum { .. }),
                "{text}: {error:?}"
            );
        }
        assert_eq!(Unit::parse("  "), Err(UnitError::Empty));
        assert!(
            Unit::parse("parsecs")
                .unwrap_err()
                .to_string()
                .contains("parsecs is not a UCUM unit")
        );
    }

    #[test]
    fn ucum_is_case_sensitive() {
        // "MMOL/L" is not UCUM; neither is "Mmol/L" (M is not a prefix of mol).
        assert!(Unit::parse("MMOL/L").is_err());
    }

    #[test]
    fn creatinine_in_mmol_per_litre_converts_to_micromoles() {
        converts(0.08, "mmol/L", "umol/L", 80.0);
        converts(80.0, "umol/L", "mmol/L", 0.08);
    }

    #[test]
    fn mass_concentrations_convert_by_powers_of_ten() {
        converts(5.0, "mg/dL", "g/L", 0.05);
        converts(300.0, "mg/L", "g/L", 0.3);
        converts(14.0, "ng/L", "ug/L", 0.014);
        converts(135.0, "g/L", "g/dL", 13.5);
    }

    #[test]
    fn cell_counts_convert_between_ucum_forms() {
        converts(7.2, "10*9/L", "10*3/uL", 7.2);
        converts(250.0, "10*3/uL", "10*9/L", 250.0);
    }

    #[test]
    fn temperatures_convert_with_their_offset() {
        converts(98.6, "[degF]", "Cel", 37.0);
    }

    #[test]
    fn times_convert() {
        converts(0.42, "s", "ms", 420.0);
    }

    #[test]
    fn the_same_unit_returns_the_value_unchanged() {
        assert_eq!(convert(0.1, &unit("mmol/L"), &unit("mmol/L")), Ok(0.1));
    }

    #[test]
    fn mass_and_amount_of_substance_are_never_converted() {
        // Glucose 90 mg/dL is 5.0 mmol/L only through glucose's molar mass.
        let error = convert(90.0, &unit("mg/dL"), &unit("mmol/L")).unwrap_err();
        assert_eq!(
            error,
            UnitError::NotCommensurable {
                from: "mg/dL".into(),
                to: "mmol/L".into()
            }
        );
        assert!(error.to_string().contains("send the value in mmol/L"));
    }

    #[test]
    fn percent_and_mmol_per_mol_do_not_convert_into_each_other() {
        // HbA1c in DCCT % and IFCC mmol/mol differ by a master equation, not a factor.
        let error = convert(6.5, &unit("%"), &unit("mmol/mol")).unwrap_err();
        assert!(
            matches!(error, UnitError::DifferentRatios { .. }),
            "{error:?}"
        );
        // Nor an annotated ratio into another.
        assert!(convert(1.1, &unit("{INR}"), &unit("%")).is_err());
    }
}
