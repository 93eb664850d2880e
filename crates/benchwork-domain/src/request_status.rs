//! The status of a request (DOMAIN.md 2.3), derived from its lines: each
//! line's specimen (received or not, rejected or not) and its result (none,
//! measured, verified, released). Nobody sets it by hand; the store
//! recomputes it in the transaction of every change that can move it and
//! records each change in the request's status history.
//!
//! registered (booked) → in-progress (a specimen received or a result
//! recorded) → partially-reported (at least one line released, not every
//! line finished) → completed (every line released or its specimen
//! rejected, at least one released). A request whose every line ended with
//! its specimen rejected is `rejected`: finished, with nothing reported.

use crate::request::SpecimenStatus;
use crate::result_state::ResultStatus;

coded_enum!(
    /// Where a request is, derived by [`derive_status`].
    RequestStatus {
        /// Booked in; nothing received or recorded yet.
        Registered => ("registered", "Registered"),
        /// A specimen received or a result recorded; nothing released.
        InProgress => ("in-progress", "In progress"),
        /// Some lines released, others still open.
        PartiallyReported => ("partially-reported", "Partially reported"),
        /// Every line released or its specimen rejected.
        Completed => ("completed", "Completed"),
        /// Every line's specimen rejected: finished, nothing reported.
        Rejected => ("rejected", "Rejected (every specimen rejected, nothing reported)"),
    }
);

/// The specimen side of one request line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSpecimen {
    /// A measurement made on the patient (ECG, spirometry): no specimen.
    NotNeeded,
    /// Expected or collected, not yet in the laboratory.
    NotReceived,
    /// Received (and possibly accepted, in process, stored or disposed).
    Received,
    /// Rejected (possibly disposed of since).
    Rejected,
}

impl LineSpecimen {
    /// From the stored specimen status (`None`: the line has no specimen)
    /// and whether it was ever rejected (a rejected specimen is later
    /// disposed of, so the status alone does not say it).
    pub fn from_stored(status: Option<SpecimenStatus>, was_rejected: bool) -> LineSpecimen {
        match status {
            None => LineSpecimen::NotNeeded,
            Some(_) if was_rejected => LineSpecimen::Rejected,
            Some(SpecimenStatus::Rejected) => LineSpecimen::Rejected,
            Some(SpecimenStatus::Expected | SpecimenStatus::Collected) => LineSpecimen::NotReceived,
            Some(_) => LineSpecimen::Received,
        }
    }
}

/// One request line as the status derivation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineProgress {
    /// Its specimen.
    pub specimen: LineSpecimen,
    /// Its result's status, if a result is recorded.
    pub result: Option<ResultStatus>,
}

impl LineProgress {
    fn released(self) -> bool {
        self.result.is_some_and(ResultStatus::is_released)
    }

    fn finished(self) -> bool {
        self.released() || self.specimen == LineSpecimen::Rejected
    }

    fn started(self) -> bool {
        self.result.is_some()
            || matches!(
                self.specimen,
                LineSpecimen::Received | LineSpecimen::Rejected
            )
    }
}

/// The request's status from its lines. A request without lines (not
/// bookable) is registered.
pub fn derive_status(lines: &[LineProgress]) -> RequestStatus {
    let any_released = lines.iter().any(|line| line.released());
    if !lines.is_empty() && lines.iter().all(|line| line.finished()) {
        if any_released {
            RequestStatus::Completed
        } else {
            RequestStatus::Rejected
        }
    } else if any_released {
        RequestStatus::PartiallyReported
    } else if lines.iter().any(|line| line.started()) {
        RequestStatus::InProgress
    } else {
        RequestStatus::Registered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LineSpecimen::*;

    fn line(specimen: LineSpecimen, result: Option<ResultStatus>) -> LineProgress {
        LineProgress { specimen, result }
    }

    fn check(lines: &[LineProgress], expected: RequestStatus) {
        assert_eq!(derive_status(lines), expected, "{lines:?}");
    }

    const ALL_SPECIMENS: [LineSpecimen; 4] = [NotNeeded, NotReceived, Received, Rejected];

    fn all_results() -> Vec<Option<ResultStatus>> {
        std::iter::once(None)
            .chain(ResultStatus::ALL.into_iter().map(Some))
            .collect()
    }

    #[test]
    fn a_booked_request_is_registered() {
        check(&[line(NotReceived, None)], RequestStatus::Registered);
        check(&[line(NotNeeded, None)], RequestStatus::Registered);
        check(&[], RequestStatus::Registered);
    }

    #[test]
    fn a_received_specimen_or_a_recorded_result_puts_it_in_progress() {
        check(
            &[line(Received, None), line(NotReceived, None)],
            RequestStatus::InProgress,
        );
        check(
            &[line(NotNeeded, Some(ResultStatus::Measured))],
            RequestStatus::InProgress,
        );
        check(
            &[line(Received, Some(ResultStatus::Verified))],
            RequestStatus::InProgress,
        );
    }

    #[test]
    fn one_released_line_of_several_is_partially_reported() {
        check(
            &[
                line(Received, Some(ResultStatus::Final)),
                line(Received, None),
            ],
            RequestStatus::PartiallyReported,
        );
        check(
            &[
                line(Received, Some(ResultStatus::Amended)),
                line(NotReceived, None),
            ],
            RequestStatus::PartiallyReported,
        );
    }

    #[test]
    fn every_line_released_or_rejected_is_completed() {
        check(
            &[
                line(Received, Some(ResultStatus::Final)),
                line(NotNeeded, Some(ResultStatus::Amended)),
            ],
            RequestStatus::Completed,
        );
        check(
            &[
                line(Received, Some(ResultStatus::Final)),
                line(Rejected, None),
            ],
            RequestStatus::Completed,
        );
    }

    #[test]
    fn every_specimen_rejected_is_rejected_with_nothing_reported() {
        check(&[line(Rejected, None)], RequestStatus::Rejected);
        check(
            &[
                line(Rejected, None),
                line(Rejected, Some(ResultStatus::Measured)),
            ],
            RequestStatus::Rejected,
        );
    }

    #[test]
    fn a_rejected_specimen_beside_an_open_line_is_in_progress() {
        check(
            &[line(Rejected, None), line(NotReceived, None)],
            RequestStatus::InProgress,
        );
    }

    #[test]
    fn a_disposed_specimen_that_was_rejected_counts_as_rejected() {
        assert_eq!(
            LineSpecimen::from_stored(Some(SpecimenStatus::Disposed), true),
            Rejected
        );
        assert_eq!(
            LineSpecimen::from_stored(Some(SpecimenStatus::Disposed), false),
            Received
        );
        assert_eq!(
            LineSpecimen::from_stored(Some(SpecimenStatus::Collected), false),
            NotReceived
        );
        assert_eq!(LineSpecimen::from_stored(None, false), NotNeeded);
    }

    /// Every single line and every pair of lines, against the rules stated
    /// independently of `derive_status`.
    #[test]
    fn every_combination_of_two_lines_follows_the_rules() {
        let mut singles = Vec::new();
        for specimen in ALL_SPECIMENS {
            for result in all_results() {
                singles.push(line(specimen, result));
            }
        }
        let mut cases: Vec<Vec<LineProgress>> = singles.iter().map(|one| vec![*one]).collect();
        for first in &singles {
            for second in &singles {
                cases.push(vec![*first, *second]);
            }
        }
        for lines in cases {
            let released = lines
                .iter()
                .filter(|l| matches!(l.result, Some(ResultStatus::Final | ResultStatus::Amended)))
                .count();
            let finished = lines
                .iter()
                .filter(|l| {
                    matches!(l.result, Some(ResultStatus::Final | ResultStatus::Amended))
                        || l.specimen == Rejected
                })
                .count();
            let started = lines
                .iter()
                .any(|l| l.result.is_some() || matches!(l.specimen, Received | Rejected));
            let expected = if finished == lines.len() && released > 0 {
                RequestStatus::Completed
            } else if finished == lines.len() {
                RequestStatus::Rejected
            } else if released > 0 {
                RequestStatus::PartiallyReported
            } else if started {
                RequestStatus::InProgress
            } else {
                RequestStatus::Registered
            };
            check(&lines, expected);
        }
    }

    #[test]
    fn status_codes_parse_back() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.code()), Some(*status));
        }
    }
}
