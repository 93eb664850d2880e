//! What a report of a request may say (ISO 15189:2022 7.4.1): a result is
//! shown to the requester only once it is authorised (final or amended);
//! every other line says why it has no value yet, and the report as a whole
//! is interim while any line is still to follow, amended once any released
//! result has been changed, and final otherwise.

use crate::result_state::ResultStatus;

coded_enum!(
    /// The status printed at the top of a report.
    ReportStatus {
        /// Some lines are still to follow.
        Interim => ("interim", "Interim report"),
        /// Every line is reported (or cannot be: its specimen was rejected).
        Final => ("final", "Final report"),
        /// A released result was changed after release.
        Amended => ("amended", "Amended report"),
    }
);

/// What one request line shows on the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    /// An authorised value.
    Reported,
    /// No authorised value yet: "to follow".
    ToFollow,
    /// No value will come from this specimen: "specimen rejected".
    SpecimenRejected,
}

/// What a line shows, from its result's status (none when no result has
/// been entered) and whether its specimen was rejected. A released result
/// is shown even if its specimen was rejected afterwards: it was authorised
/// on a specimen that was accepted then.
pub fn line_outcome(result: Option<ResultStatus>, specimen_rejected: bool) -> LineOutcome {
    match result {
        Some(status) if status.is_released() => LineOutcome::Reported,
        _ if specimen_rejected => LineOutcome::SpecimenRejected,
        _ => LineOutcome::ToFollow,
    }
}

/// The report's status from its lines and whether any released result was
/// amended. Amended wins: the requester must see that something they may
/// have acted on has changed, even while other lines are still to follow.
pub fn report_status(lines: &[LineOutcome], any_amended: bool) -> ReportStatus {
    if any_amended {
        ReportStatus::Amended
    } else if lines.is_empty() || lines.contains(&LineOutcome::ToFollow) {
        ReportStatus::Interim
    } else {
        ReportStatus::Final
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_line(result: Option<ResultStatus>, rejected: bool, expected: LineOutcome) {
        assert_eq!(
            line_outcome(result, rejected),
            expected,
            "{result:?} {rejected}"
        );
    }

    #[test]
    fn only_authorised_results_are_reported() {
        check_line(Some(ResultStatus::Final), false, LineOutcome::Reported);
        check_line(Some(ResultStatus::Amended), false, LineOutcome::Reported);
        check_line(Some(ResultStatus::Verified), false, LineOutcome::ToFollow);
        check_line(Some(ResultStatus::Measured), false, LineOutcome::ToFollow);
        check_line(None, false, LineOutcome::ToFollow);
    }

    #[test]
    fn a_line_without_an_authorised_result_on_a_rejected_specimen_says_so() {
        check_line(None, true, LineOutcome::SpecimenRejected);
        check_line(
            Some(ResultStatus::Measured),
            true,
            LineOutcome::SpecimenRejected,
        );
        check_line(Some(ResultStatus::Final), true, LineOutcome::Reported);
    }

    #[test]
    fn a_report_with_a_line_to_follow_is_interim() {
        use LineOutcome::*;
        assert_eq!(
            report_status(&[Reported, ToFollow], false),
            ReportStatus::Interim
        );
        assert_eq!(report_status(&[], false), ReportStatus::Interim);
    }

    #[test]
    fn a_report_with_every_line_reported_or_rejected_is_final() {
        use LineOutcome::*;
        assert_eq!(
            report_status(&[Reported, Reported], false),
            ReportStatus::Final
        );
        assert_eq!(
            report_status(&[Reported, SpecimenRejected], false),
            ReportStatus::Final
        );
    }

    #[test]
    fn an_amendment_marks_the_report_amended_even_with_lines_to_follow() {
        use LineOutcome::*;
        assert_eq!(report_status(&[Reported], true), ReportStatus::Amended);
        assert_eq!(
            report_status(&[Reported, ToFollow], true),
            ReportStatus::Amended
        );
    }
}
