//! The result state machine after entry (DOMAIN.md 2.5; issue 3 item 6):
//! measured → verified (technical verification) → final (clinical
//! authorisation, which releases the result) → amended (a new version, with a
//! reason; the old version is kept).
//!
//! Releasing an unverified result would be dangerous, so each state is its
//! own type and the transitions are functions between them: only a
//! [`VerifiedResult`] can be authorised, only a released
//! [`AuthorisedResult`] can be amended. A stored result is turned into one of
//! these types by [`ResultState::from_stored`], which refuses inconsistent
//! rows.
//!
//! Separation of duties: the person who entered a result may verify it, but
//! the authoriser must be neither the verifier nor the person who produced
//! the result (self-authorisation is refused).

use jiff::Timestamp;

use crate::ids::UserId;
use crate::incident::has_control_characters;
use crate::result::{MAX_TEXT_CHARS, ResultId};

/// Where a result is in its life after entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultStatus {
    /// Entered or received, not yet verified.
    Measured,
    /// Technically verified, awaiting clinical authorisation.
    Verified,
    /// Authorised and released.
    Final,
    /// Changed after release: a new version with a reason.
    Amended,
}

impl ResultStatus {
    /// Every status, in order.
    pub const ALL: [ResultStatus; 4] = [
        ResultStatus::Measured,
        ResultStatus::Verified,
        ResultStatus::Final,
        ResultStatus::Amended,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ResultStatus::Measured => "measured",
            ResultStatus::Verified => "verified",
            ResultStatus::Final => "final",
            ResultStatus::Amended => "amended",
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ResultStatus::Measured => "Awaiting verification",
            ResultStatus::Verified => "Verified, awaiting authorisation",
            ResultStatus::Final => "Authorised",
            ResultStatus::Amended => "Amended",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<ResultStatus> {
        ResultStatus::ALL
            .into_iter()
            .find(|status| status.code() == code)
    }

    /// Whether the result has been released to the requester.
    pub fn is_released(self) -> bool {
        matches!(self, ResultStatus::Final | ResultStatus::Amended)
    }
}

/// Why a transition was refused. The messages are shown to the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Verifying a result that is already verified or released.
    #[error("this result has already been verified: it cannot be verified again")]
    AlreadyVerified,
    /// Authorising a result that has not been verified.
    #[error(
        "this result has not been verified yet: it must be technically verified before it can be authorised"
    )]
    NotVerified,
    /// Authorising a result that is already released.
    #[error("this result has already been authorised")]
    AlreadyAuthorised,
    /// The authoriser verified the result.
    #[error(
        "you verified this result, so you cannot also authorise it: ask another authorised colleague"
    )]
    AuthoriserVerified,
    /// The authoriser produced the result.
    #[error(
        "you produced this result, so you cannot authorise it: ask another authorised colleague"
    )]
    AuthoriserProduced,
    /// Amending a result that has not been released.
    #[error(
        "only an authorised result can be amended: verify and authorise it, or correct it before release"
    )]
    NotReleased,
    /// A stored row that breaks the state machine's rules.
    #[error("the stored result is inconsistent ({0}): report this to the system administrator")]
    Inconsistent(&'static str),
}

/// Why an amendment reason was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    /// Nothing typed.
    #[error("enter the reason for the amendment")]
    Empty,
    /// Too long or holding control characters.
    #[error("enter at most 1000 characters of plain text")]
    Invalid,
}

/// The reason for an amendment: mandatory, plain text, at most
/// [`MAX_TEXT_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentReason(String);

impl AmendmentReason {
    /// Validates a typed reason.
    pub fn parse(text: &str) -> Result<AmendmentReason, ReasonError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReasonError::Empty);
        }
        if text.chars().count() > MAX_TEXT_CHARS || has_control_characters(text, true) {
            return Err(ReasonError::Invalid);
        }
        Ok(AmendmentReason(text.to_owned()))
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A result entered or received, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredResult {
    /// The result.
    pub id: ResultId,
    /// Its version (1 until amended).
    pub version: i64,
    /// Who produced it.
    pub produced_by: UserId,
}

/// A technically verified result, awaiting authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedResult {
    /// The result.
    pub id: ResultId,
    /// Its version.
    pub version: i64,
    /// Who produced it.
    pub produced_by: UserId,
    /// Who verified it.
    pub verified_by: UserId,
    /// When.
    pub verified_at: Timestamp,
}

/// An authorised, released result (final, or amended after release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisedResult {
    /// The result.
    pub id: ResultId,
    /// Its version.
    pub version: i64,
    /// Who produced it.
    pub produced_by: UserId,
    /// Who verified it.
    pub verified_by: UserId,
    /// When.
    pub verified_at: Timestamp,
    /// Who authorised it.
    pub authorised_by: UserId,
    /// When.
    pub authorised_at: Timestamp,
}

/// A new version of a released result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendedResult {
    /// The result.
    pub id: ResultId,
    /// The version replaced.
    pub previous_version: i64,
    /// The new version.
    pub version: i64,
    /// Who amended it.
    pub amended_by: UserId,
    /// When.
    pub amended_at: Timestamp,
    /// Why.
    pub reason: AmendmentReason,
}

/// A stored result in its typed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultState {
    /// Awaiting verification.
    Measured(MeasuredResult),
    /// Awaiting authorisation.
    Verified(VerifiedResult),
    /// Released (final or amended).
    Released(AuthorisedResult),
}

/// The state columns of a stored result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    /// The result.
    pub id: ResultId,
    /// Status code.
    pub status: String,
    /// Version.
    pub version: i64,
    /// Who produced it.
    pub produced_by: UserId,
    /// Who verified it and when.
    pub verified: Option<(UserId, Timestamp)>,
    /// Who authorised it and when.
    pub authorised: Option<(UserId, Timestamp)>,
}

impl ResultState {
    /// The typed state of a stored result; a row whose columns contradict
    /// its status is refused.
    pub fn from_stored(stored: &StoredState) -> Result<ResultState, TransitionError> {
        let status = ResultStatus::parse(&stored.status)
            .ok_or(TransitionError::Inconsistent("unknown status"))?;
        match (status, stored.verified, stored.authorised) {
            (ResultStatus::Measured, None, None) => Ok(ResultState::Measured(MeasuredResult {
                id: stored.id,
                version: stored.version,
                produced_by: stored.produced_by,
            })),
            (ResultStatus::Verified, Some((verified_by, verified_at)), None) => {
                Ok(ResultState::Verified(VerifiedResult {
                    id: stored.id,
                    version: stored.version,
                    produced_by: stored.produced_by,
                    verified_by,
                    verified_at,
                }))
            }
            (
                ResultStatus::Final | ResultStatus::Amended,
                Some((verified_by, verified_at)),
                Some((authorised_by, authorised_at)),
            ) => Ok(ResultState::Released(AuthorisedResult {
                id: stored.id,
                version: stored.version,
                produced_by: stored.produced_by,
                verified_by,
                verified_at,
                authorised_by,
                authorised_at,
            })),
            _ => Err(TransitionError::Inconsistent(
                "verification or authorisation missing for its status",
            )),
        }
    }

    /// The status.
    pub fn status(&self) -> ResultStatus {
        match self {
            ResultState::Measured(_) => ResultStatus::Measured,
            ResultState::Verified(_) => ResultStatus::Verified,
            ResultState::Released(_) => ResultStatus::Final,
        }
    }

    /// The measured result, for verification.
    pub fn into_measured(self) -> Result<MeasuredResult, TransitionError> {
        match self {
            ResultState::Measured(result) => Ok(result),
            _ => Err(TransitionError::AlreadyVerified),
        }
    }

    /// The verified result, for authorisation.
    pub fn into_verified(self) -> Result<VerifiedResult, TransitionError> {
        match self {
            ResultState::Verified(result) => Ok(result),
            ResultState::Measured(_) => Err(TransitionError::NotVerified),
            ResultState::Released(_) => Err(TransitionError::AlreadyAuthorised),
        }
    }

    /// The released result, for amendment.
    pub fn into_released(self) -> Result<AuthorisedResult, TransitionError> {
        match self {
            ResultState::Released(result) => Ok(result),
            _ => Err(TransitionError::NotReleased),
        }
    }
}

/// Technical verification. The person who produced the result may verify
/// it; they then cannot authorise it.
pub fn verify(result: MeasuredResult, by: UserId, at: Timestamp) -> VerifiedResult {
    VerifiedResult {
        id: result.id,
        version: result.version,
        produced_by: result.produced_by,
        verified_by: by,
        verified_at: at,
    }
}

/// Clinical authorisation, which releases the result. Refused when the
/// authoriser verified or produced it.
pub fn authorise(
    result: VerifiedResult,
    by: UserId,
    at: Timestamp,
) -> Result<AuthorisedResult, TransitionError> {
    if by == result.verified_by {
        return Err(TransitionError::AuthoriserVerified);
    }
    if by == result.produced_by {
        return Err(TransitionError::AuthoriserProduced);
    }
    Ok(AuthorisedResult {
        id: result.id,
        version: result.version,
        produced_by: result.produced_by,
        verified_by: result.verified_by,
        verified_at: result.verified_at,
        authorised_by: by,
        authorised_at: at,
    })
}

/// Amendment after release: a new version with a reason; the caller keeps
/// the old version.
pub fn amend(
    result: AuthorisedResult,
    by: UserId,
    at: Timestamp,
    reason: AmendmentReason,
) -> AmendedResult {
    AmendedResult {
        id: result.id,
        previous_version: result.version,
        version: result.version + 1,
        amended_by: by,
        amended_at: at,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    fn at() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn measured(by: UserId) -> MeasuredResult {
        MeasuredResult {
            id: ResultId(uuid::Uuid::from_u128(99)),
            version: 1,
            produced_by: by,
        }
    }

    #[test]
    fn three_people_take_a_result_to_release() {
        let verified = verify(measured(user(1)), user(2), at());
        let authorised = authorise(verified, user(3), at()).unwrap();
        assert_eq!(authorised.verified_by, user(2));
        assert_eq!(authorised.authorised_by, user(3));
    }

    #[test]
    fn the_producer_may_verify_but_then_someone_else_authorises() {
        let verified = verify(measured(user(1)), user(1), at());
        assert_eq!(
            authorise(verified.clone(), user(1), at()),
            Err(TransitionError::AuthoriserVerified)
        );
        assert!(authorise(verified, user(2), at()).is_ok());
    }

    #[test]
    fn self_authorisation_is_refused() {
        let verified = verify(measured(user(1)), user(2), at());
        assert_eq!(
            authorise(verified.clone(), user(2), at()),
            Err(TransitionError::AuthoriserVerified)
        );
        let refused = authorise(verified, user(1), at()).unwrap_err();
        assert_eq!(refused, TransitionError::AuthoriserProduced);
        assert!(refused.to_string().contains("cannot authorise"));
    }

    fn stored(status: &str, verified: bool, authorised: bool) -> StoredState {
        StoredState {
            id: ResultId(uuid::Uuid::from_u128(99)),
            status: status.into(),
            version: 1,
            produced_by: user(1),
            verified: verified.then(|| (user(2), at())),
            authorised: authorised.then(|| (user(3), at())),
        }
    }

    #[test]
    fn stored_rows_become_typed_states_and_wrong_transitions_are_refused() {
        let measured = ResultState::from_stored(&stored("measured", false, false)).unwrap();
        assert_eq!(
            measured.clone().into_verified(),
            Err(TransitionError::NotVerified)
        );
        assert_eq!(
            measured.clone().into_released(),
            Err(TransitionError::NotReleased)
        );
        assert!(measured.into_measured().is_ok());
        let verified = ResultState::from_stored(&stored("verified", true, false)).unwrap();
        assert_eq!(
            verified.clone().into_measured(),
            Err(TransitionError::AlreadyVerified)
        );
        assert!(verified.into_verified().is_ok());
        let released = ResultState::from_stored(&stored("amended", true, true)).unwrap();
        assert_eq!(
            released.clone().into_verified(),
            Err(TransitionError::AlreadyAuthorised)
        );
        assert!(released.into_released().is_ok());
        assert!(matches!(
            ResultState::from_stored(&stored("final", true, false)),
            Err(TransitionError::Inconsistent(_))
        ));
        assert!(ResultState::from_stored(&stored("bogus", false, false)).is_err());
    }

    #[test]
    fn amendment_needs_a_reason_and_makes_a_new_version() {
        assert_eq!(AmendmentReason::parse("  "), Err(ReasonError::Empty));
        assert_eq!(
            AmendmentReason::parse(&"x".repeat(1001)),
            Err(ReasonError::Invalid)
        );
        let released = authorise(verify(measured(user(1)), user(2), at()), user(3), at()).unwrap();
        let amended = amend(
            released,
            user(3),
            at(),
            AmendmentReason::parse("transcription error").unwrap(),
        );
        assert_eq!((amended.previous_version, amended.version), (1, 2));
        assert_eq!(amended.reason.as_str(), "transcription error");
    }

    #[test]
    fn status_codes_round_trip() {
        for status in ResultStatus::ALL {
            assert_eq!(ResultStatus::parse(status.code()), Some(status));
        }
        assert!(ResultStatus::Amended.is_released());
        assert!(!ResultStatus::Verified.is_released());
    }
}
