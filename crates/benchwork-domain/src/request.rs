//! Requests and specimens: accession numbers, specimen ids, the specimen's
//! chain of custody (DOMAIN.md 2.4) and coded rejection reasons.
//!
//! Specimen lifecycle: `Expected` -> `Collected` -> `Received` ->
//! `Accepted` or `Rejected`; `Accepted` -> `InProcess` -> `Stored` ->
//! `Disposed`, and a stored specimen may go back `InProcess` for an add-on
//! test. A rejected specimen is kept until it is disposed of. Every step is
//! recorded with who and when.

use std::fmt;

use thiserror::Error;

id_type!(
    /// A request (one accession number).
    RequestId
);
id_type!(
    /// A specimen of a request.
    SpecimenId
);
id_type!(
    /// One recorded consent decision.
    ConsentId
);

/// An accession number: `BW` + two-digit year + `-` + six-digit sequence,
/// for example `BW26-000123`. Department-agnostic; the sequence restarts
/// each year, so year and sequence together are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccessionNumber {
    year: i16,
    sequence: i64,
}

/// Why a request, specimen or custody step is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Not of the form `BW26-000123`.
    #[error("an accession number looks like BW26-000123")]
    InvalidAccession,
    /// The sequence does not fit six digits or is not positive.
    #[error("the accession sequence must be between 1 and 999999")]
    SequenceOutOfRange,
    /// The step is not allowed from the specimen's current state.
    #[error("a specimen that is {from} cannot be marked {to}")]
    InvalidTransition {
        /// Current state label.
        from: &'static str,
        /// Requested state label.
        to: &'static str,
    },
    /// Rejection without a reason, or "other" without a description.
    #[error(
        "say why the specimen is rejected: choose a reason, and describe it when the reason is other"
    )]
    ReasonRequired,
    /// The free-text description is too long or has control characters.
    #[error("the description must be at most 500 characters")]
    InvalidReasonText,
}

impl AccessionNumber {
    /// The accession number for `sequence` in the year `year` (four digits).
    pub fn new(year: i16, sequence: i64) -> Result<AccessionNumber, RequestError> {
        if !(1..=999_999).contains(&sequence) {
            return Err(RequestError::SequenceOutOfRange);
        }
        Ok(AccessionNumber {
            year: year.rem_euclid(100),
            sequence,
        })
    }

    /// Parses the printed form, `BW26-000123`.
    pub fn parse(text: &str) -> Result<AccessionNumber, RequestError> {
        let text = text.trim().to_ascii_uppercase();
        let rest = text
            .strip_prefix("BW")
            .ok_or(RequestError::InvalidAccession)?;
        let (year, sequence) = rest.split_once('-').ok_or(RequestError::InvalidAccession)?;
        let digits =
            |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 2) || !digits(sequence, 6) {
            return Err(RequestError::InvalidAccession);
        }
        let year: i16 = year.parse().map_err(|_| RequestError::InvalidAccession)?;
        let sequence: i64 = sequence
            .parse()
            .map_err(|_| RequestError::InvalidAccession)?;
        AccessionNumber::new(year, sequence)
    }

    /// The id of the `n`th specimen of this request (from 1):
    /// `S` + accession + `-` + n, for example `SBW26-000123-1`.
    pub fn specimen_id(&self, n: usize) -> String {
        format!("S{self}-{n}")
    }
}

impl fmt::Display for AccessionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BW{:02}-{:06}", self.year, self.sequence)
    }
}

coded_enum!(
    /// Where a specimen is in its chain of custody.
    SpecimenStatus {
        /// Label printed, specimen not yet taken or received.
        Expected => ("expected", "Expected"),
        /// Taken from the patient.
        Collected => ("collected", "Collected"),
        /// Arrived in the laboratory and booked in (starts the turnaround).
        Received => ("received", "Received"),
        /// Passes the acceptance criteria.
        Accepted => ("accepted", "Accepted"),
        /// Fails them: a coded reason is recorded and the requester told.
        Rejected => ("rejected", "Rejected"),
        /// Being centrifuged, aliquoted or analysed.
        InProcess => ("in-process", "In process"),
        /// In storage for the retention period.
        Stored => ("stored", "Stored"),
        /// End of life.
        Disposed => ("disposed", "Disposed"),
    }
);

impl SpecimenStatus {
    /// The states a specimen may move to from this one.
    pub fn next(self) -> &'static [SpecimenStatus] {
        use SpecimenStatus::*;
        match self {
            Expected => &[Collected],
            Collected => &[Received],
            Received => &[Accepted, Rejected],
            Accepted => &[InProcess],
            Rejected => &[Disposed],
            InProcess => &[Stored],
            Stored => &[InProcess, Disposed],
            Disposed => &[],
        }
    }

    /// Moves to `to`, or refuses a step the chain of custody does not allow.
    /// A rejection goes through [`reject`] instead, which needs a reason.
    pub fn step(self, to: SpecimenStatus) -> Result<SpecimenStatus, RequestError> {
        if to != SpecimenStatus::Rejected && self.next().contains(&to) {
            Ok(to)
        } else {
            Err(RequestError::InvalidTransition {
                from: self.label(),
                to: to.label(),
            })
        }
    }
}

coded_enum!(
    /// Why a specimen was rejected.
    RejectionReason {
        /// No patient label at all.
        Unlabelled => ("unlabelled", "Unlabelled"),
        /// Label does not match the request.
        Mislabelled => ("mislabelled", "Mislabelled"),
        /// Haemolysed.
        Haemolysed => ("haemolysed", "Haemolysed"),
        /// Clotted (anticoagulated tube).
        Clotted => ("clotted", "Clotted"),
        /// Not enough for the investigations.
        Insufficient => ("insufficient", "Insufficient volume"),
        /// Leaked in transit.
        Leaked => ("leaked", "Leaked"),
        /// Wrong container for the investigations.
        WrongContainer => ("wrong-container", "Wrong container"),
        /// Too old to analyse.
        TooOld => ("too-old", "Too old"),
        /// Anything else, described in free text.
        Other => ("other", "Other"),
    }
);

/// A validated rejection: a coded reason and an optional description,
/// required for [`RejectionReason::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The coded reason.
    pub reason: RejectionReason,
    /// What was seen, in the person's words.
    pub text: Option<String>,
}

/// Rejects a received specimen with a reason.
pub fn reject(
    from: SpecimenStatus,
    reason: &str,
    text: &str,
) -> Result<(SpecimenStatus, Rejection), RequestError> {
    if !from.next().contains(&SpecimenStatus::Rejected) {
        return Err(RequestError::InvalidTransition {
            from: from.label(),
            to: SpecimenStatus::Rejected.label(),
        });
    }
    let reason = RejectionReason::parse(reason).ok_or(RequestError::ReasonRequired)?;
    let text = text.trim();
    if text.chars().count() > 500
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(RequestError::InvalidReasonText);
    }
    if reason == RejectionReason::Other && text.is_empty() {
        return Err(RequestError::ReasonRequired);
    }
    Ok((
        SpecimenStatus::Rejected,
        Rejection {
            reason,
            text: (!text.is_empty()).then(|| text.to_owned()),
        },
    ))
}

#[cfg(test)]
mod tests;
