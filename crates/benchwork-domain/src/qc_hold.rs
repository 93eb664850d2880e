//! QC records around the Westgard engine: identifiers, lot status, the
//! corrective actions recorded on a hold, the review outcomes of the results
//! a hold covers, and the rules that decide when a hold opens, covers a
//! result and releases (issue 4 items 1, 2 and 5; DOMAIN.md §3.4).
//!
//! A run rejected by [`crate::westgard::evaluate`] holds the patient results
//! of its investigation on its instrument analysed after the last accepted
//! (or warning) run before it. The hold releases when a corrective action is
//! recorded and a run accepted after that action; each held result then
//! needs its own review outcome ("released" lets it through, "withdrawn"
//! keeps it from ever being reported).

use jiff::Timestamp;

use crate::westgard::RunDecision;

id_type!(
    /// A QC material at one level.
    QcMaterialId
);
id_type!(
    /// A lot of a QC material.
    QcLotId
);
id_type!(
    /// A version of a target (mean and SD) of a lot on an instrument.
    QcTargetId
);
id_type!(
    /// A QC run.
    QcRunId
);
id_type!(
    /// A hold a rejected run put on patient results.
    QcHoldId
);

coded_enum!(
    /// Where a lot is in its life.
    LotStatus {
        /// Decides the runs.
        Current => ("current", "Current"),
        /// Run beside the current lot, not deciding, while it is evaluated.
        Parallel => ("parallel", "Parallel"),
        /// No longer run.
        Retired => ("retired", "Retired"),
    }
);

coded_enum!(
    /// What was done about a rejected run.
    CorrectiveKind {
        /// The method was recalibrated.
        Recalibration => ("recalibration", "Recalibration"),
        /// A new reagent lot was loaded.
        NewReagent => ("new-reagent", "New reagent lot"),
        /// Maintenance of the instrument.
        Maintenance => ("maintenance", "Maintenance"),
        /// A fresh vial or new lot of QC material.
        NewQcMaterial => ("new-qc-material", "New QC material"),
        /// Anything else, said in the description.
        Other => ("other", "Other"),
    }
);

coded_enum!(
    /// What was decided for one result covered by a hold.
    ReviewOutcome {
        /// A held result let through, with a reason, after the hold released.
        Released => ("released", "Released with reason"),
        /// A held result that will not be reported.
        Withdrawn => ("withdrawn", "Withdrawn"),
        /// A result released before the hold, confirmed as correct.
        Confirmed => ("confirmed", "Confirmed"),
        /// A result released before the hold, recalled through an amended report.
        Recalled => ("recalled", "Recalled (amended report)"),
    }
);

/// How a run is stored: accepted, warning (1-2s only: accepted after
/// inspection) or rejected.
pub fn decision_code(decision: RunDecision) -> &'static str {
    match decision {
        RunDecision::Accept => "accepted",
        RunDecision::Warning => "warning",
        RunDecision::Reject => "rejected",
    }
}

/// Whether a stored decision lets patient results through (accepted or
/// warning). Rejected runs do not, and by default are left out of the
/// history later runs are judged against.
pub fn decision_accepts(code: &str) -> bool {
    matches!(code, "accepted" | "warning")
}

/// Why a QC action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    /// A held result may be released only once the hold is released.
    #[error(
        "the hold is still open: record a corrective action and an accepted QC run before releasing held results"
    )]
    HoldStillOpen,
    /// The outcome does not fit a result still awaiting release.
    #[error("a held result is released with a reason or withdrawn")]
    NotForHeldResult,
    /// The outcome does not fit a result already released.
    #[error("a result already released is confirmed or recalled through an amended report")]
    NotForReleasedResult,
    /// No reason given.
    #[error("enter the reason (up to 2000 characters)")]
    ReasonRequired,
}

/// Checks a review outcome for a result covered by a hold: `released_result`
/// is whether the result was already released (final or amended) and
/// `hold_open` whether the hold is still open. The reason is required and
/// trimmed.
pub fn check_review(
    outcome: ReviewOutcome,
    released_result: bool,
    hold_open: bool,
    reason: &str,
) -> Result<String, HoldError> {
    match (outcome, released_result) {
        (ReviewOutcome::Released | ReviewOutcome::Withdrawn, true) => {
            return Err(HoldError::NotForReleasedResult);
        }
        (ReviewOutcome::Confirmed | ReviewOutcome::Recalled, false) => {
            return Err(HoldError::NotForHeldResult);
        }
        (ReviewOutcome::Released, false) if hold_open => return Err(HoldError::HoldStillOpen),
        _ => {}
    }
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > 2000
        || crate::incident::has_control_characters(reason, true)
    {
        return Err(HoldError::ReasonRequired);
    }
    Ok(reason.to_owned())
}

/// Whether a newly judged run releases an open hold: the run is accepted (or
/// warning) and was run after the corrective action was recorded. A run
/// before the corrective action proves nothing about the fix.
pub fn releases_hold(
    decision: RunDecision,
    run_at: Timestamp,
    corrective_at: Option<Timestamp>,
) -> bool {
    decision != RunDecision::Reject && corrective_at.is_some_and(|at| run_at >= at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn an_accepted_run_after_the_corrective_action_releases_the_hold() {
        assert!(releases_hold(RunDecision::Accept, at(20), Some(at(10))));
        assert!(releases_hold(RunDecision::Warning, at(20), Some(at(10))));
    }

    #[test]
    fn no_corrective_action_means_no_release() {
        assert!(!releases_hold(RunDecision::Accept, at(20), None));
    }

    #[test]
    fn a_run_before_the_corrective_action_does_not_release() {
        assert!(!releases_hold(RunDecision::Accept, at(5), Some(at(10))));
    }

    #[test]
    fn a_rejected_run_never_releases() {
        assert!(!releases_hold(RunDecision::Reject, at(20), Some(at(10))));
    }

    #[test]
    fn a_held_result_is_released_only_after_the_hold() {
        assert_eq!(
            check_review(ReviewOutcome::Released, false, true, "rerun agrees"),
            Err(HoldError::HoldStillOpen)
        );
        assert_eq!(
            check_review(ReviewOutcome::Released, false, false, " rerun agrees "),
            Ok("rerun agrees".into())
        );
    }

    #[test]
    fn a_held_result_may_be_withdrawn_while_the_hold_is_open() {
        assert!(check_review(ReviewOutcome::Withdrawn, false, true, "sample haemolysed").is_ok());
    }

    #[test]
    fn outcomes_must_fit_the_state_of_the_result() {
        assert_eq!(
            check_review(ReviewOutcome::Confirmed, false, false, "x"),
            Err(HoldError::NotForHeldResult)
        );
        assert_eq!(
            check_review(ReviewOutcome::Withdrawn, true, false, "x"),
            Err(HoldError::NotForReleasedResult)
        );
        assert!(check_review(ReviewOutcome::Recalled, true, true, "x").is_ok());
    }

    #[test]
    fn a_review_needs_a_reason() {
        assert_eq!(
            check_review(ReviewOutcome::Confirmed, true, false, "  "),
            Err(HoldError::ReasonRequired)
        );
    }

    #[test]
    fn warning_and_accepted_runs_let_results_through() {
        assert!(decision_accepts(decision_code(RunDecision::Accept)));
        assert!(decision_accepts(decision_code(RunDecision::Warning)));
        assert!(!decision_accepts(decision_code(RunDecision::Reject)));
    }
}
