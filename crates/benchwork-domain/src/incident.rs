//! Incidents and nonconformities: the minimal record that every module can
//! raise (a failed QC run, an overdue calibration, a lost specimen) and that
//! people raise by hand. Later modules extend it with investigation and CAPA.
//!
//! Lifecycle: `Open` -> `UnderInvestigation` -> `Closed`, and a closed record
//! may be reopened to `UnderInvestigation`. Closing needs an outcome.

use crate::ids::UserId;

coded_enum!(
    /// Whether harm happened, nearly happened, or a requirement was not met.
    IncidentKind {
        /// Something went wrong and reached a patient, a person or the service.
        Incident => ("incident", "Incident"),
        /// Something nearly went wrong and was caught.
        NearMiss => ("near-miss", "Near miss"),
        /// A requirement (procedure, standard, specification) was not met.
        Nonconformity => ("nonconformity", "Nonconformity"),
    }
);

coded_enum!(
    /// What area the record concerns.
    IncidentCategory {
        /// Identification, results, reports.
        PatientSafety => ("patient-safety", "Patient safety"),
        /// Labelling, transport, receipt, rejection of specimens.
        Specimen => ("specimen", "Specimen"),
        /// Internal QC or EQA.
        QualityControl => ("quality-control", "Quality control"),
        /// Instruments, calibration, maintenance, faults.
        Equipment => ("equipment", "Equipment"),
        /// Injuries, spills, exposure, COSHH.
        HealthAndSafety => ("health-and-safety", "Health and safety"),
        /// Confidentiality, records, access.
        InformationGovernance => ("information-governance", "Information governance"),
        /// Anything else.
        Other => ("other", "Other"),
    }
);

coded_enum!(
    /// Degree of harm, as the NHS Learn from Patient Safety Events service grades it.
    Severity {
        /// No harm.
        NoHarm => ("no-harm", "No harm"),
        /// Low harm.
        Low => ("low", "Low harm"),
        /// Moderate harm.
        Moderate => ("moderate", "Moderate harm"),
        /// Severe harm.
        Severe => ("severe", "Severe harm"),
        /// Death.
        Fatal => ("fatal", "Fatal"),
    }
);

coded_enum!(
    /// Where the record is in its life.
    IncidentStatus {
        /// Raised, not yet picked up.
        Open => ("open", "Open"),
        /// An owner is investigating.
        UnderInvestigation => ("under-investigation", "Under investigation"),
        /// Closed with an outcome.
        Closed => ("closed", "Closed"),
    }
);

/// Why incident input or a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    /// The title is missing or too long.
    #[error("enter a short title (up to 200 characters)")]
    InvalidTitle,
    /// The description is missing or too long.
    #[error("describe what happened (up to 10,000 characters)")]
    InvalidDescription,
    /// An unknown kind code.
    #[error("select whether this is an incident, a near miss or a nonconformity")]
    InvalidKind,
    /// An unknown category code.
    #[error("select a category")]
    InvalidCategory,
    /// An unknown severity code.
    #[error("select the degree of harm")]
    InvalidSeverity,
    /// An unknown status code.
    #[error("select a status")]
    InvalidStatus,
    /// The move between statuses is not allowed.
    #[error("an incident cannot move from {from} to {to}")]
    InvalidTransition {
        /// Current status label.
        from: &'static str,
        /// Requested status label.
        to: &'static str,
    },
    /// Closing without saying what was found and done.
    #[error("enter the outcome before closing: what was found and what was done")]
    OutcomeRequired,
}

/// A validated new incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    /// Incident, near miss or nonconformity.
    pub kind: IncidentKind,
    /// The area it concerns.
    pub category: IncidentCategory,
    /// Degree of harm.
    pub severity: Severity,
    /// One line summary.
    pub title: String,
    /// What happened.
    pub description: String,
}

/// Whether `text` holds a control character other than line breaks and
/// tabs (which multi-line text may hold). A NUL cannot even be stored by
/// PostgreSQL; the others have no place in a record people read.
pub fn has_control_characters(text: &str, multiline: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
}

/// A validated one-line title: trimmed, 1 to 200 characters, no control
/// characters.
pub fn validate_title(title: &str) -> Result<String, IncidentError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 || has_control_characters(title, false) {
        return Err(IncidentError::InvalidTitle);
    }
    Ok(title.to_owned())
}

/// A validated description: trimmed, 1 to 10,000 characters, no control
/// characters but line breaks and tabs.
pub fn validate_description(description: &str) -> Result<String, IncidentError> {
    let description = description.trim();
    if description.is_empty()
        || description.chars().count() > 10_000
        || has_control_characters(description, true)
    {
        return Err(IncidentError::InvalidDescription);
    }
    Ok(description.to_owned())
}

impl NewIncident {
    /// Validates the text fields of a new incident.
    pub fn new(
        kind: IncidentKind,
        category: IncidentCategory,
        severity: Severity,
        title: &str,
        description: &str,
    ) -> Result<NewIncident, IncidentError> {
        Ok(NewIncident {
            kind,
            category,
            severity,
            title: validate_title(title)?,
            description: validate_description(description)?,
        })
    }
}

/// A change to an incident's status, owner or outcome, checked against its
/// current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentChange {
    /// The new status.
    pub status: IncidentStatus,
    /// The new owner, if any.
    pub owner: Option<UserId>,
    /// The outcome, required to close.
    pub outcome: Option<String>,
}

/// Checks that `current` may become `change.status`, and that closing
/// carries an outcome.
pub fn check_change(current: IncidentStatus, change: &IncidentChange) -> Result<(), IncidentError> {
    use IncidentStatus::*;
    let allowed = matches!(
        (current, change.status),
        (Open, Open | UnderInvestigation | Closed)
            | (UnderInvestigation, UnderInvestigation | Closed)
            | (Closed, Closed | UnderInvestigation)
    );
    if !allowed {
        return Err(IncidentError::InvalidTransition {
            from: current.label(),
            to: change.status.label(),
        });
    }
    let has_outcome = change
        .outcome
        .as_deref()
        .is_some_and(|text| !text.trim().is_empty());
    if change.status == Closed && !has_outcome {
        return Err(IncidentError::OutcomeRequired);
    }
    Ok(())
}

/// The reference shown to people: `INC-000042`.
pub fn reference(number: i64) -> String {
    format!("INC-{number:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentStatus::*;

    fn check(from: IncidentStatus, to: IncidentStatus, outcome: Option<&str>, ok: bool) {
        let change = IncidentChange {
            status: to,
            owner: None,
            outcome: outcome.map(str::to_owned),
        };
        assert_eq!(
            check_change(from, &change).is_ok(),
            ok,
            "{from:?} -> {to:?} with {outcome:?}"
        );
    }

    #[test]
    fn an_open_incident_can_be_investigated() {
        check(Open, UnderInvestigation, None, true);
    }
    #[test]
    fn closing_needs_an_outcome() {
        check(UnderInvestigation, Closed, None, false);
        check(UnderInvestigation, Closed, Some("  "), false);
        check(UnderInvestigation, Closed, Some("retrained"), true);
    }
    #[test]
    fn a_closed_incident_can_be_reopened_for_investigation() {
        check(Closed, UnderInvestigation, None, true);
    }
    #[test]
    fn a_closed_incident_cannot_go_back_to_open() {
        check(Closed, Open, None, false);
    }
    #[test]
    fn an_investigated_incident_cannot_go_back_to_open() {
        check(UnderInvestigation, Open, None, false);
    }

    #[test]
    fn a_blank_title_is_refused() {
        let err = NewIncident::new(
            IncidentKind::Incident,
            IncidentCategory::Other,
            Severity::NoHarm,
            "  ",
            "x",
        )
        .unwrap_err();
        assert_eq!(err, IncidentError::InvalidTitle);
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_in_descriptions_are_kept() {
        assert_eq!(validate_title("a\u{0}b"), Err(IncidentError::InvalidTitle));
        assert_eq!(validate_title("a\nb"), Err(IncidentError::InvalidTitle));
        assert_eq!(
            validate_description("line one\nline two"),
            Ok("line one\nline two".to_owned())
        );
        assert_eq!(
            validate_description("bell\u{7}"),
            Err(IncidentError::InvalidDescription)
        );
    }

    #[test]
    fn references_are_zero_padded() {
        assert_eq!(reference(42), "INC-000042");
    }

    #[test]
    fn codes_parse_back() {
        for kind in IncidentKind::ALL {
            assert_eq!(IncidentKind::parse(kind.code()), Some(*kind));
        }
        for category in IncidentCategory::ALL {
            assert_eq!(IncidentCategory::parse(category.code()), Some(*category));
        }
        for severity in Severity::ALL {
            assert_eq!(Severity::parse(severity.code()), Some(*severity));
        }
    }
}
