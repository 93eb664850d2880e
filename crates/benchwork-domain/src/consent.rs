//! Consent for investigations that need it (the catalogue's
//! `consent_required`): what was decided, how, by whom, and whether work may
//! proceed.
//!
//! Lifecycle: each decision is a new record; the latest record for a patient
//! and an investigation wins, and earlier ones are kept as history. Consent
//! given may later be withdrawn, and refused consent may later be given.

use thiserror::Error;

coded_enum!(
    /// What the person decided.
    ConsentStatus {
        /// Consent given: the work may go ahead.
        Given => ("given", "Given"),
        /// Consent refused: the work must not go ahead.
        Refused => ("refused", "Refused"),
        /// Consent given earlier and now withdrawn: the work must stop.
        Withdrawn => ("withdrawn", "Withdrawn"),
    }
);

coded_enum!(
    /// How the decision was expressed.
    ConsentMethod {
        /// Spoken, recorded by the person taking it.
        Verbal => ("verbal", "Verbal"),
        /// A signed form.
        Written => ("written", "Written"),
        /// An electronic form or portal.
        Electronic => ("electronic", "Electronic"),
    }
);

coded_enum!(
    /// Who made the decision.
    ConsentGiver {
        /// The patient themself.
        Patient => ("patient", "Patient"),
        /// A parent or guardian, for a child or a person lacking capacity.
        ParentGuardian => ("parent-guardian", "Parent or guardian"),
        /// Someone else with authority (a lasting power of attorney).
        Other => ("other", "Other person with authority"),
    }
);

/// Why work may not proceed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConsentError {
    /// No decision has been recorded.
    #[error(
        "{investigation} needs consent and none is recorded: record the patient's consent on their page before booking"
    )]
    NotRecorded {
        /// The investigation's name.
        investigation: String,
    },
    /// The latest decision is a refusal or a withdrawal.
    #[error(
        "{investigation} needs consent and the patient's consent is {status}: do not proceed; record new consent only if the patient gives it"
    )]
    NotGiven {
        /// The investigation's name.
        investigation: String,
        /// `refused` or `withdrawn`.
        status: String,
    },
}

/// Whether work on `investigation` may proceed, given whether the catalogue
/// requires consent and the latest recorded decision, if any.
pub fn may_proceed(
    investigation: &str,
    consent_required: bool,
    latest: Option<ConsentStatus>,
) -> Result<(), ConsentError> {
    match (consent_required, latest) {
        (false, _) | (true, Some(ConsentStatus::Given)) => Ok(()),
        (true, None) => Err(ConsentError::NotRecorded {
            investigation: investigation.to_owned(),
        }),
        (true, Some(status)) => Err(ConsentError::NotGiven {
            investigation: investigation.to_owned(),
            status: status.label().to_lowercase(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(required: bool, latest: Option<ConsentStatus>, expected_ok: bool) {
        assert_eq!(
            may_proceed("Genetic test", required, latest).is_ok(),
            expected_ok,
            "{required} {latest:?}"
        );
    }

    #[test]
    fn work_without_a_consent_requirement_proceeds() {
        check(false, None, true);
        check(false, Some(ConsentStatus::Refused), true);
    }

    #[test]
    fn work_needing_consent_proceeds_only_when_the_latest_decision_is_given() {
        check(true, Some(ConsentStatus::Given), true);
        check(true, None, false);
        check(true, Some(ConsentStatus::Refused), false);
        check(true, Some(ConsentStatus::Withdrawn), false);
    }

    #[test]
    fn a_refusal_says_what_to_do() {
        let message = may_proceed("Genetic test", true, Some(ConsentStatus::Withdrawn))
            .unwrap_err()
            .to_string();
        assert!(message.contains("Genetic test"));
        assert!(message.contains("withdrawn"));
        assert!(message.contains("do not proceed"));
    }
}
