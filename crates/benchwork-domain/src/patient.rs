//! Patients: the identifiers people and messages use to find them, their
//! demographics, and the positive-identification check done at booking-in.
//!
//! Identifiers follow NHS practice (DOMAIN.md 1 and 3.1): the national
//! [`NhsNumber`] with its modulus-11 check digit, one or more local
//! [`HospitalNumber`]s each with the organisation that issued it, the
//! [`PersonName`] and the [`DateOfBirth`]. A specimen is matched to a patient
//! only when at least two independent identifiers agree
//! ([`two_identifiers_match`], hazard H01).
//!
//! Sex is recorded twice on purpose: [`AdministrativeSex`] is what the patient
//! record says, [`ReferenceSex`] is what the laboratory uses to choose
//! reference intervals and to calculate eGFR.

use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;

use crate::incident::has_control_characters;

/// Why patient input was refused. Messages are shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatientError {
    /// Not 10 digits once spaces and hyphens are removed.
    #[error("enter the NHS number as 10 digits, for example 943 476 5919")]
    NhsNumberFormat,
    /// Ten digits, but the modulus-11 check digit does not agree with the
    /// first nine (or the first nine can have no valid check digit).
    #[error("the NHS number's check digit is wrong: check the number")]
    NhsNumberCheckDigit,
    /// The hospital number is empty, too long or holds control characters.
    #[error("enter the hospital number (up to 20 characters)")]
    InvalidHospitalNumber,
    /// The issuing organisation is empty, too long or holds control characters.
    #[error("enter the organisation that issued the hospital number (up to 50 characters)")]
    InvalidAssigningAuthority,
    /// The family name is empty, too long or has characters a name cannot have.
    #[error(
        "enter the family name (up to 100 characters: letters, spaces, hyphens and apostrophes)"
    )]
    InvalidFamilyName,
    /// The given name is empty, too long or has characters a name cannot have.
    #[error(
        "enter the given name (up to 100 characters: letters, spaces, hyphens and apostrophes)"
    )]
    InvalidGivenName,
    /// An administrative sex code that does not exist.
    #[error("unknown sex '{0}': select male, female, other or unknown")]
    UnknownSex(String),
    /// A reference sex code that does not exist.
    #[error("unknown sex for reference ranges '{0}': select male, female or unknown")]
    UnknownReferenceSex(String),
    /// The date of birth is in neither accepted form.
    #[error("enter the date of birth as DD/MM/YYYY, for example 15/03/1980")]
    DateOfBirthFormat,
    /// The date of birth has the right form but no such day exists.
    #[error("the date of birth is not a real date: check the day and month")]
    DateOfBirthNotADate,
    /// The date of birth is after today.
    #[error("the date of birth is in the future: check the date")]
    DateOfBirthInFuture,
    /// The date of birth is more than [`DateOfBirth::MAX_AGE_YEARS`] years ago.
    #[error("the date of birth is more than 130 years ago: check the year")]
    DateOfBirthTooLongAgo,
}

/// A 10-digit NHS number whose modulus-11 check digit is right.
///
/// Invariant: exactly 10 ASCII digits, and the tenth is the check digit of the
/// first nine (DOMAIN.md 3.1). A valid check digit does not prove that the
/// number was ever issued (`0000000000` passes), so the record also keeps
/// whether PDS or the EPR verified it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Validates an NHS number as typed or received. Spaces and hyphens are
    /// removed first, so `943 476 5919` and `943-476-5919` are both accepted.
    pub fn parse(text: &str) -> Result<NhsNumber, PatientError> {
        let digits: String = text
            .chars()
            .filter(|c| !(c.is_whitespace() || *c == '-'))
            .collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PatientError::NhsNumberFormat);
        }
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = values[..9]
            .iter()
            .zip((2..=10).rev())
            .map(|(digit, weight)| digit * weight)
            .sum();
        // A check of 11 is written as 0; a check of 10 means no tenth digit
        // can make the number valid.
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => return Err(PatientError::NhsNumberCheckDigit),
            check => check,
        };
        if values[9] != check {
            return Err(PatientError::NhsNumberCheckDigit);
        }
        Ok(NhsNumber(digits))
    }

    /// The 10 digits without spaces, as stored and sent in messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shows the number as people read it: 3-3-4 digits separated by spaces,
/// `943 476 5919`.
impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = &self.0;
        write!(f, "{} {} {}", &digits[..3], &digits[3..6], &digits[6..])
    }
}

/// A trust's local patient identifier (MRN), with the organisation that
/// issued it. Formats vary and usually carry no check digit, and a patient may
/// hold one per trust, so the number means nothing without its issuer.
///
/// Invariant: both parts trimmed and free of control characters; the number
/// is 1 to 20 characters and the assigning authority 1 to 50. Letter case is
/// kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HospitalNumber {
    value: String,
    assigning_authority: String,
}

impl HospitalNumber {
    /// The longest hospital number accepted, in characters.
    pub const MAX_CHARS: usize = 20;
    /// The longest assigning authority accepted, in characters.
    pub const MAX_AUTHORITY_CHARS: usize = 50;

    /// Validates a hospital number and the organisation that issued it (its
    /// code, such as an ODS code, or name).
    pub fn new(value: &str, assigning_authority: &str) -> Result<HospitalNumber, PatientError> {
        let value = value.trim();
        let assigning_authority = assigning_authority.trim();
        if !valid_short_text(value, Self::MAX_CHARS) {
            return Err(PatientError::InvalidHospitalNumber);
        }
        if !valid_short_text(assigning_authority, Self::MAX_AUTHORITY_CHARS) {
            return Err(PatientError::InvalidAssigningAuthority);
        }
        Ok(HospitalNumber {
            value: value.to_owned(),
            assigning_authority: assigning_authority.to_owned(),
        })
    }

    /// The number itself.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The organisation that issued the number.
    pub fn assigning_authority(&self) -> &str {
        &self.assigning_authority
    }

    /// Whether two hospital numbers identify the same record: same issuer and
    /// same number, ignoring ASCII letter case (numbers are read from
    /// wristbands and typed; no trust issues two that differ only in case).
    pub fn same_as(&self, other: &HospitalNumber) -> bool {
        self.value.eq_ignore_ascii_case(&other.value)
            && self
                .assigning_authority
                .eq_ignore_ascii_case(&other.assigning_authority)
    }
}

fn valid_short_text(text: &str, max_chars: usize) -> bool {
    !text.is_empty() && text.chars().count() <= max_chars && !has_control_characters(text, false)
}

/// A patient's name: family name (surname) and given name(s).
///
/// Invariant: each part is 1 to 100 characters after trimming, with runs of
/// spaces collapsed to one; it holds at least one letter and otherwise only
/// letters (accented and non-Latin letters included, and combining accents),
/// spaces, hyphens and apostrophes (`'` or `’`). Letter case is kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    family: String,
    given: String,
}

impl PersonName {
    /// The longest name part accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Validates a family name and given name(s).
    pub fn new(family: &str, given: &str) -> Result<PersonName, PatientError> {
        let family = normalise_name_part(family).ok_or(PatientError::InvalidFamilyName)?;
        let given = normalise_name_part(given).ok_or(PatientError::InvalidGivenName)?;
        Ok(PersonName { family, given })
    }

    /// The family name (surname) as typed.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The given name(s) as typed.
    pub fn given(&self) -> &str {
        &self.given
    }

    /// The name as NHS systems show it in patient banners and on reports:
    /// family name in capitals, a comma, then the given names,
    /// `SMITH, Mary Ann`.
    pub fn display(&self) -> String {
        format!("{}, {}", self.family.to_uppercase(), self.given)
    }

    /// Whether two names are the same full name: both parts equal ignoring
    /// letter case and the kind of apostrophe. Accents count (`Zoë` is not
    /// `Zoe`), and so do all given names (`Mary` is not `Mary Ann`): a
    /// near-miss is for a person to resolve, not for the software to accept.
    pub fn same_as(&self, other: &PersonName) -> bool {
        comparable_name(&self.family) == comparable_name(&other.family)
            && comparable_name(&self.given) == comparable_name(&other.given)
    }
}

fn normalise_name_part(text: &str) -> Option<String> {
    let part = text
        .split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let allowed = |c: char| {
        c.is_alphabetic()
            || matches!(c, ' ' | '-' | '\'' | '\u{2019}')
            || ('\u{0300}'..='\u{036F}').contains(&c)
    };
    let valid = part.chars().count() <= PersonName::MAX_CHARS
        && part.chars().any(char::is_alphabetic)
        && part.chars().all(allowed);
    valid.then_some(part)
}

fn comparable_name(part: &str) -> String {
    part.to_lowercase().replace('\u{2019}', "'")
}

/// The patient's sex as the patient record holds it (FHIR
/// `AdministrativeGender`, HL7 v2 table 0001).
///
/// This is an administrative fact and may reflect gender identity. It is not
/// used to choose reference intervals: see [`ReferenceSex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdministrativeSex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
    /// Not known or not recorded.
    Unknown,
}

impl AdministrativeSex {
    /// Every value, in display order.
    pub const ALL: [AdministrativeSex; 4] = [
        AdministrativeSex::Male,
        AdministrativeSex::Female,
        AdministrativeSex::Other,
        AdministrativeSex::Unknown,
    ];

    /// The stable code stored in the database and used in the API (the FHIR
    /// code).
    pub fn code(self) -> &'static str {
        match self {
            AdministrativeSex::Male => "male",
            AdministrativeSex::Female => "female",
            AdministrativeSex::Other => "other",
            AdministrativeSex::Unknown => "unknown",
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            AdministrativeSex::Male => "Male",
            AdministrativeSex::Female => "Female",
            AdministrativeSex::Other => "Other",
            AdministrativeSex::Unknown => "Unknown",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Result<AdministrativeSex, PatientError> {
        let code = code.trim();
        AdministrativeSex::ALL
            .into_iter()
            .find(|sex| sex.code() == code)
            .ok_or_else(|| PatientError::UnknownSex(code.to_owned()))
    }

    /// The HL7 v2 table 0001 code (PID-8): `M`, `F`, `O` or `U`.
    pub fn hl7_code(self) -> &'static str {
        match self {
            AdministrativeSex::Male => "M",
            AdministrativeSex::Female => "F",
            AdministrativeSex::Other => "O",
            AdministrativeSex::Unknown => "U",
        }
    }

    /// Reads an HL7 v2 table 0001 code: `M`, `F`, `O` or `U`. The other codes
    /// of the table (`A` ambiguous, `N` not applicable) are left to the
    /// interface mapping, which knows the sender's conventions.
    pub fn from_hl7_code(code: &str) -> Option<AdministrativeSex> {
        let code = code.trim();
        AdministrativeSex::ALL
            .into_iter()
            .find(|sex| sex.hl7_code() == code)
    }
}

/// The sex the laboratory uses to choose reference intervals and critical
/// limits and to calculate eGFR.
///
/// Kept apart from [`AdministrativeSex`] because the two can differ: the
/// record may state a gender identity, or `other`, while the physiology that
/// decides which interval is right (hormone therapy, anatomy) is a clinical
/// question. The laboratory must choose the interval knowingly, so `unknown`
/// never silently becomes male or female: where the catalogue has
/// sex-specific intervals only, the result is left unflagged with a warning
/// (hazard H05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceSex {
    /// Use the male intervals.
    Male,
    /// Use the female intervals.
    Female,
    /// Not known: only intervals that apply to any sex can be used.
    Unknown,
}

impl ReferenceSex {
    /// Every value, in display order.
    pub const ALL: [ReferenceSex; 3] = [
        ReferenceSex::Male,
        ReferenceSex::Female,
        ReferenceSex::Unknown,
    ];

    /// The stable code stored in the database and used in the API.
    pub fn code(self) -> &'static str {
        match self {
            ReferenceSex::Male => "male",
            ReferenceSex::Female => "female",
            ReferenceSex::Unknown => "unknown",
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            ReferenceSex::Male => "Male",
            ReferenceSex::Female => "Female",
            ReferenceSex::Unknown => "Unknown",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Result<ReferenceSex, PatientError> {
        let code = code.trim();
        ReferenceSex::ALL
            .into_iter()
            .find(|sex| sex.code() == code)
            .ok_or_else(|| PatientError::UnknownReferenceSex(code.to_owned()))
    }

    /// The starting value when a patient is registered: male and female carry
    /// over; `other` and `unknown` give `Unknown`, for a person to decide
    /// rather than the software to guess.
    pub fn default_for(sex: AdministrativeSex) -> ReferenceSex {
        match sex {
            AdministrativeSex::Male => ReferenceSex::Male,
            AdministrativeSex::Female => ReferenceSex::Female,
            AdministrativeSex::Other | AdministrativeSex::Unknown => ReferenceSex::Unknown,
        }
    }
}

/// A date of birth.
///
/// Invariant, when made by [`DateOfBirth::parse`] or [`DateOfBirth::new`]: not
/// after the day it was entered and not more than
/// [`DateOfBirth::MAX_AGE_YEARS`] years before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateOfBirth(Date);

impl DateOfBirth {
    /// The oldest age accepted, in years.
    pub const MAX_AGE_YEARS: i16 = 130;

    /// Reads a date of birth typed as `DD/MM/YYYY` (UK order; a one-digit day
    /// or month is accepted) or `YYYY-MM-DD` (ISO 8601), and checks it against
    /// `today`. Two-digit years are refused: their century is a guess.
    pub fn parse(text: &str, today: Date) -> Result<DateOfBirth, PatientError> {
        let text = text.trim();
        let (year, month, day) = if let Some((year, month, day)) = split3(text, '-') {
            if year.len() != 4 || month.len() != 2 || day.len() != 2 {
                return Err(PatientError::DateOfBirthFormat);
            }
            (year, month, day)
        } else if let Some((day, month, year)) = split3(text, '/') {
            if year.len() != 4 || !(1..=2).contains(&month.len()) || !(1..=2).contains(&day.len()) {
                return Err(PatientError::DateOfBirthFormat);
            }
            (year, month, day)
        } else {
            return Err(PatientError::DateOfBirthFormat);
        };
        let year: i16 = parse_digits(year)?;
        let month: i8 = parse_digits(month)?;
        let day: i8 = parse_digits(day)?;
        let date = Date::new(year, month, day).map_err(|_| PatientError::DateOfBirthNotADate)?;
        DateOfBirth::new(date, today)
    }

    /// Checks a date of birth against `today`: not in the future, not more
    /// than [`DateOfBirth::MAX_AGE_YEARS`] years ago (a birth exactly that
    /// many years ago is accepted).
    pub fn new(date: Date, today: Date) -> Result<DateOfBirth, PatientError> {
        if date > today {
            return Err(PatientError::DateOfBirthInFuture);
        }
        let earliest = today
            .checked_sub(i64::from(Self::MAX_AGE_YEARS).years())
            .unwrap_or(Date::MIN);
        if date < earliest {
            return Err(PatientError::DateOfBirthTooLongAgo);
        }
        Ok(DateOfBirth(date))
    }

    /// Rebuilds a date of birth read back from the store, which was checked
    /// against the day it was entered. Input from people or messages goes
    /// through [`DateOfBirth::parse`] or [`DateOfBirth::new`] instead.
    pub fn from_stored(date: Date) -> DateOfBirth {
        DateOfBirth(date)
    }

    /// The date.
    pub fn date(self) -> Date {
        self.0
    }
}

fn split3(text: &str, separator: char) -> Option<(&str, &str, &str)> {
    let mut parts = text.split(separator);
    let parts3 = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(parts3)
}

fn parse_digits<T: std::str::FromStr>(text: &str) -> Result<T, PatientError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PatientError::DateOfBirthFormat);
    }
    text.parse().map_err(|_| PatientError::DateOfBirthFormat)
}

/// Age in whole years on `on` (for an investigation, the collection date).
///
/// Convention: someone born on 29 February has their birthday on 1 March in
/// years that are not leap years, so they turn 18 on 1 March, never on
/// 28 February. Negative when `on` is before the birth, which callers treat
/// as an error in the dates.
pub fn age_in_years(date_of_birth: DateOfBirth, on: Date) -> i32 {
    let born = date_of_birth.date();
    let birthday = if born.month() == 2 && born.day() == 29 && !on.in_leap_year() {
        (3, 1)
    } else {
        (born.month(), born.day())
    };
    let years = i32::from(on.year()) - i32::from(born.year());
    if (on.month(), on.day()) < birthday {
        years - 1
    } else {
        years
    }
}

/// Age in whole days on `on`: 0 on the day of birth. Negative when `on` is
/// before the birth. Reference intervals are chosen by this age, since
/// neonatal bands are days wide.
pub fn age_in_days(date_of_birth: DateOfBirth, on: Date) -> i64 {
    on.duration_since(date_of_birth.date()).as_secs() / 86_400
}

/// One of the identifiers used for positive patient identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identifier {
    /// The NHS number.
    NhsNumber,
    /// A hospital number with its issuer.
    HospitalNumber,
    /// Family and given names together.
    FullName,
    /// The date of birth.
    DateOfBirth,
}

impl Identifier {
    /// The words used in messages: `NHS number`, `date of birth`.
    pub fn label(self) -> &'static str {
        match self {
            Identifier::NhsNumber => "NHS number",
            Identifier::HospitalNumber => "hospital number",
            Identifier::FullName => "full name",
            Identifier::DateOfBirth => "date of birth",
        }
    }
}

/// The identifiers a patient record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIdentifiers {
    /// The NHS number, when known.
    pub nhs_number: Option<NhsNumber>,
    /// Every hospital number the patient holds, each with its issuer.
    pub hospital_numbers: Vec<HospitalNumber>,
    /// The patient's name.
    pub name: PersonName,
    /// The patient's date of birth.
    pub date_of_birth: DateOfBirth,
}

/// What the person booking in confirmed from the specimen, the request form
/// or the patient: any of the four identifiers, `None` for those not
/// confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityCheck {
    /// The NHS number as confirmed.
    pub nhs_number: Option<NhsNumber>,
    /// A hospital number as confirmed, with its issuer.
    pub hospital_number: Option<HospitalNumber>,
    /// The full name as confirmed.
    pub name: Option<PersonName>,
    /// The date of birth as confirmed.
    pub date_of_birth: Option<DateOfBirth>,
}

/// Proof that a positive identification succeeded.
///
/// Invariant: at least two different identifiers matched and none of those
/// confirmed disagreed; only [`two_identifiers_match`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedIdentity {
    matched: Vec<Identifier>,
}

impl ConfirmedIdentity {
    /// The identifiers that matched, in a fixed order, for the audit trail.
    pub fn matched(&self) -> &[Identifier] {
        &self.matched
    }
}

/// Why a positive identification failed. Each message names the
/// identifiers concerned and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// One or more confirmed identifiers disagree with the record: the
    /// specimen may belong to another patient (hazard H01).
    #[error("{}", mismatch_message(.0))]
    Mismatch(Vec<Identifier>),
    /// Fewer than two identifiers matched, though none disagreed.
    #[error("{}", too_few_message(.matched, .not_on_record))]
    TooFew {
        /// The identifiers that matched.
        matched: Vec<Identifier>,
        /// Identifiers that were confirmed but that the record does not hold
        /// (a record without an NHS number), which therefore cannot count.
        not_on_record: Vec<Identifier>,
    },
}

fn list(identifiers: &[Identifier]) -> String {
    let labels: Vec<&str> = identifiers.iter().map(|id| id.label()).collect();
    match labels.split_last() {
        None => "none".to_owned(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn mismatch_message(identifiers: &[Identifier]) -> String {
    let verb = if identifiers.len() == 1 { "does" } else { "do" };
    format!(
        "the {} {verb} not match the patient record: check that the specimen and request are for this patient",
        list(identifiers)
    )
}

fn too_few_message(matched: &[Identifier], not_on_record: &[Identifier]) -> String {
    let mut message = format!(
        "confirm at least two identifiers (NHS number, hospital number, full name, date of birth) that are on the patient record; matched: {}",
        list(matched)
    );
    if !not_on_record.is_empty() {
        message.push_str(&format!("; not on the record: {}", list(not_on_record)));
    }
    message
}

/// Positive identification at booking-in (DOMAIN.md 2.2, hazard H01): the
/// identifiers confirmed in `check` are compared with the patient `record`.
///
/// Succeeds only when at least two different identifiers match and none of
/// the confirmed ones disagrees: a single mismatch fails the check however
/// many others agree, because it is the usual sign of a specimen from another
/// patient. A name alone is never enough. A confirmed identifier the record
/// does not hold (no NHS number on record) neither counts nor fails. A
/// hospital number matches when the record holds the same number from the
/// same issuer.
pub fn two_identifiers_match(
    record: &PatientIdentifiers,
    check: &IdentityCheck,
) -> Result<ConfirmedIdentity, IdentityError> {
    let outcomes = [
        (
            Identifier::NhsNumber,
            check
                .nhs_number
                .as_ref()
                .map(|confirmed| record.nhs_number.as_ref().map(|held| held == confirmed)),
        ),
        (
            Identifier::HospitalNumber,
            check.hospital_number.as_ref().map(|confirmed| {
                Some(
                    record
                        .hospital_numbers
                        .iter()
                        .any(|held| held.same_as(confirmed)),
                )
            }),
        ),
        (
            Identifier::FullName,
            check
                .name
                .as_ref()
                .map(|confirmed| Some(record.name.same_as(confirmed))),
        ),
        (
            Identifier::DateOfBirth,
            check
                .date_of_birth
                .map(|confirmed| Some(record.date_of_birth == confirmed)),
        ),
    ];
    let mut matched = Vec::new();
    let mut mismatched = Vec::new();
    let mut not_on_record = Vec::new();
    for (identifier, outcome) in outcomes {
        match outcome {
            None => {}
            Some(None) => not_on_record.push(identifier),
            Some(Some(true)) => matched.push(identifier),
            Some(Some(false)) => mismatched.push(identifier),
        }
    }
    if !mismatched.is_empty() {
        return Err(IdentityError::Mismatch(mismatched));
    }
    if matched.len() < 2 {
        return Err(IdentityError::TooFew {
            matched,
            not_on_record,
        });
    }
    Ok(ConfirmedIdentity { matched })
}

#[cfg(test)]
mod tests;
