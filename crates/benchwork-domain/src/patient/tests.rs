use super::*;

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn dob(text: &str) -> DateOfBirth {
    DateOfBirth::from_stored(date(text))
}

// NHS number (DOMAIN.md 3.1).

fn check_nhs_number(input: &str, expected: Result<&str, PatientError>) {
    assert_eq!(
        NhsNumber::parse(input).as_ref().map(NhsNumber::as_str),
        expected.as_ref().map(|digits| *digits),
        "{input:?}"
    );
}

#[test]
fn the_worked_nhs_number_is_valid() {
    check_nhs_number("9434765919", Ok("9434765919"));
}
#[test]
fn an_nhs_number_with_spaces_is_accepted() {
    check_nhs_number(" 943 476 5919 ", Ok("9434765919"));
}
#[test]
fn an_nhs_number_with_hyphens_is_accepted() {
    check_nhs_number("943-476-5919", Ok("9434765919"));
}
#[test]
fn an_nhs_number_with_a_wrong_check_digit_is_refused() {
    check_nhs_number("943 476 5910", Err(PatientError::NhsNumberCheckDigit));
}
#[test]
fn an_nhs_number_whose_check_would_be_ten_is_refused_whatever_the_last_digit() {
    for last in 0..=9 {
        check_nhs_number(
            &format!("123456789{last}"),
            Err(PatientError::NhsNumberCheckDigit),
        );
    }
}
#[test]
fn a_check_of_eleven_is_written_as_zero() {
    check_nhs_number("1000000060", Ok("1000000060"));
    check_nhs_number("1000000061", Err(PatientError::NhsNumberCheckDigit));
}
#[test]
fn another_valid_nhs_number_is_accepted() {
    check_nhs_number("401 023 2137", Ok("4010232137"));
}
#[test]
fn an_all_zero_nhs_number_passes_the_check_digit_though_never_issued() {
    check_nhs_number("000 000 0000", Ok("0000000000"));
}
#[test]
fn a_nine_digit_nhs_number_is_refused() {
    check_nhs_number("943 476 591", Err(PatientError::NhsNumberFormat));
}
#[test]
fn an_eleven_digit_nhs_number_is_refused() {
    check_nhs_number("943 476 59190", Err(PatientError::NhsNumberFormat));
}
#[test]
fn an_nhs_number_with_letters_is_refused() {
    check_nhs_number("943 476 591A", Err(PatientError::NhsNumberFormat));
}
#[test]
fn an_nhs_number_with_non_ascii_digits_is_refused() {
    check_nhs_number("٩٤٣٤٧٦٥٩١٩", Err(PatientError::NhsNumberFormat));
}
#[test]
fn an_empty_nhs_number_is_refused() {
    check_nhs_number("  ", Err(PatientError::NhsNumberFormat));
}

#[test]
fn nhs_numbers_are_shown_as_three_three_four() {
    let nhs_number = NhsNumber::parse("9434765919").unwrap();
    assert_eq!(nhs_number.to_string(), "943 476 5919");
}

#[test]
fn nhs_number_errors_read_well_next_to_the_field() {
    assert_eq!(
        PatientError::NhsNumberFormat.to_string(),
        "enter the NHS number as 10 digits, for example 943 476 5919"
    );
    assert_eq!(
        PatientError::NhsNumberCheckDigit.to_string(),
        "the NHS number's check digit is wrong: check the number"
    );
}

// Hospital number.

fn check_hospital_number(value: &str, authority: &str, expected: Result<(), PatientError>) {
    assert_eq!(
        HospitalNumber::new(value, authority).map(|_| ()),
        expected,
        "{value:?} from {authority:?}"
    );
}

#[test]
fn a_hospital_number_and_its_issuer_are_trimmed() {
    let number = HospitalNumber::new(" RX1234567 ", " RXH ").unwrap();
    assert_eq!(number.value(), "RX1234567");
    assert_eq!(number.assigning_authority(), "RXH");
}
#[test]
fn a_blank_hospital_number_is_refused() {
    check_hospital_number(" ", "RXH", Err(PatientError::InvalidHospitalNumber));
}
#[test]
fn a_twenty_character_hospital_number_is_accepted() {
    check_hospital_number(&"1".repeat(20), "RXH", Ok(()));
}
#[test]
fn a_twenty_one_character_hospital_number_is_refused() {
    check_hospital_number(
        &"1".repeat(21),
        "RXH",
        Err(PatientError::InvalidHospitalNumber),
    );
}
#[test]
fn a_hospital_number_with_a_control_character_is_refused() {
    check_hospital_number(
        "RX12\u{0}34",
        "RXH",
        Err(PatientError::InvalidHospitalNumber),
    );
}
#[test]
fn a_hospital_number_without_an_issuer_is_refused() {
    check_hospital_number(
        "RX1234567",
        "",
        Err(PatientError::InvalidAssigningAuthority),
    );
}
#[test]
fn a_fifty_character_issuer_is_accepted() {
    check_hospital_number("RX1", &"a".repeat(50), Ok(()));
}
#[test]
fn a_fifty_one_character_issuer_is_refused() {
    check_hospital_number(
        "RX1",
        &"a".repeat(51),
        Err(PatientError::InvalidAssigningAuthority),
    );
}

#[test]
fn hospital_numbers_compare_ignoring_case_but_not_issuer() {
    let held = HospitalNumber::new("RX1234567", "RXH").unwrap();
    assert!(held.same_as(&HospitalNumber::new("rx1234567", "rxh").unwrap()));
    assert!(!held.same_as(&HospitalNumber::new("RX1234567", "RTH").unwrap()));
    assert!(!held.same_as(&HospitalNumber::new("RX1234568", "RXH").unwrap()));
}

// Person name.

fn check_name(family: &str, given: &str, expected: Result<&str, PatientError>) {
    assert_eq!(
        PersonName::new(family, given).map(|name| name.display()),
        expected.map(str::to_owned),
        "{family:?}, {given:?}"
    );
}

#[test]
fn names_are_shown_family_first_in_capitals() {
    check_name("Smith", "Mary Ann", Ok("SMITH, Mary Ann"));
}
#[test]
fn names_are_trimmed_and_inner_spaces_collapsed() {
    check_name("  van  der Berg ", " Anna ", Ok("VAN DER BERG, Anna"));
}
#[test]
fn accented_names_are_accepted_and_upper_cased() {
    check_name("Müller", "Zoë", Ok("MÜLLER, Zoë"));
}
#[test]
fn names_with_combining_accents_are_accepted() {
    check_name("Jose\u{301}", "Ine\u{301}s", Ok("JOSE\u{301}, Ine\u{301}s"));
}
#[test]
fn hyphens_and_both_apostrophes_are_accepted() {
    check_name("O'Brien-Smith", "D’Arcy", Ok("O'BRIEN-SMITH, D’Arcy"));
}
#[test]
fn a_blank_family_name_is_refused() {
    check_name("  ", "Mary", Err(PatientError::InvalidFamilyName));
}
#[test]
fn a_blank_given_name_is_refused() {
    check_name("Smith", "", Err(PatientError::InvalidGivenName));
}
#[test]
fn a_name_of_punctuation_only_is_refused() {
    check_name("-'", "Mary", Err(PatientError::InvalidFamilyName));
}
#[test]
fn a_name_with_digits_is_refused() {
    check_name("Smith2", "Mary", Err(PatientError::InvalidFamilyName));
}
#[test]
fn a_name_with_a_control_character_is_refused() {
    check_name("Smith", "Ma\u{7}ry", Err(PatientError::InvalidGivenName));
    check_name("Smi\tth", "Mary", Err(PatientError::InvalidFamilyName));
}
#[test]
fn a_name_with_markup_is_refused() {
    check_name("<script>", "Mary", Err(PatientError::InvalidFamilyName));
}
#[test]
fn a_hundred_character_name_is_accepted() {
    assert!(PersonName::new(&"a".repeat(100), "Mary").is_ok());
}
#[test]
fn a_hundred_and_one_character_name_is_refused() {
    check_name(
        &"a".repeat(101),
        "Mary",
        Err(PatientError::InvalidFamilyName),
    );
}

#[test]
fn names_match_ignoring_case_and_apostrophe_kind_but_not_accents() {
    let held = PersonName::new("O'Brien", "Zoë").unwrap();
    assert!(held.same_as(&PersonName::new("o’brien", "ZOË").unwrap()));
    assert!(!held.same_as(&PersonName::new("O'Brien", "Zoe").unwrap()));
    assert!(!held.same_as(&PersonName::new("OBrien", "Zoë").unwrap()));
}

// Sex.

#[test]
fn sex_codes_parse_back() {
    for sex in AdministrativeSex::ALL {
        assert_eq!(AdministrativeSex::parse(sex.code()), Ok(sex));
        assert_eq!(AdministrativeSex::from_hl7_code(sex.hl7_code()), Some(sex));
    }
    for sex in ReferenceSex::ALL {
        assert_eq!(ReferenceSex::parse(sex.code()), Ok(sex));
    }
}

#[test]
fn hl7_sex_codes_are_m_f_o_u() {
    let codes: Vec<&str> = AdministrativeSex::ALL
        .iter()
        .map(|sex| sex.hl7_code())
        .collect();
    assert_eq!(codes, ["M", "F", "O", "U"]);
    assert_eq!(AdministrativeSex::from_hl7_code("A"), None);
}

#[test]
fn an_unknown_sex_code_is_refused() {
    assert_eq!(
        AdministrativeSex::parse("m"),
        Err(PatientError::UnknownSex("m".into()))
    );
    assert_eq!(
        ReferenceSex::parse("other"),
        Err(PatientError::UnknownReferenceSex("other".into()))
    );
}

#[test]
fn reference_sex_defaults_from_administrative_sex_without_guessing() {
    use AdministrativeSex as A;
    let defaults: Vec<ReferenceSex> = [A::Male, A::Female, A::Other, A::Unknown]
        .into_iter()
        .map(ReferenceSex::default_for)
        .collect();
    assert_eq!(
        defaults,
        [
            ReferenceSex::Male,
            ReferenceSex::Female,
            ReferenceSex::Unknown,
            ReferenceSex::Unknown
        ]
    );
}

// Date of birth.

fn check_dob(input: &str, today: &str, expected: Result<&str, PatientError>) {
    assert_eq!(
        DateOfBirth::parse(input, date(today)),
        expected.map(dob),
        "{input:?} on {today}"
    );
}

#[test]
fn a_uk_date_of_birth_is_read_day_first() {
    check_dob("03/04/1980", "2026-01-01", Ok("1980-04-03"));
}
#[test]
fn a_uk_date_of_birth_may_have_one_digit_day_and_month() {
    check_dob("3/4/1980", "2026-01-01", Ok("1980-04-03"));
}
#[test]
fn an_iso_date_of_birth_is_accepted() {
    check_dob(" 1980-04-03 ", "2026-01-01", Ok("1980-04-03"));
}
#[test]
fn a_two_digit_year_is_refused() {
    check_dob(
        "03/04/80",
        "2026-01-01",
        Err(PatientError::DateOfBirthFormat),
    );
}
#[test]
fn a_day_first_date_with_hyphens_is_refused() {
    check_dob(
        "03-04-1980",
        "2026-01-01",
        Err(PatientError::DateOfBirthFormat),
    );
}
#[test]
fn an_iso_date_without_leading_zeros_is_refused() {
    check_dob(
        "1980-4-3",
        "2026-01-01",
        Err(PatientError::DateOfBirthFormat),
    );
}
#[test]
fn text_is_refused_as_a_date_of_birth() {
    check_dob(
        "yesterday",
        "2026-01-01",
        Err(PatientError::DateOfBirthFormat),
    );
    check_dob("", "2026-01-01", Err(PatientError::DateOfBirthFormat));
    check_dob(
        "+3/04/1980",
        "2026-01-01",
        Err(PatientError::DateOfBirthFormat),
    );
}
#[test]
fn an_impossible_date_of_birth_is_refused() {
    check_dob(
        "31/02/1980",
        "2026-01-01",
        Err(PatientError::DateOfBirthNotADate),
    );
    check_dob(
        "29/02/2023",
        "2026-01-01",
        Err(PatientError::DateOfBirthNotADate),
    );
    check_dob(
        "00/01/1980",
        "2026-01-01",
        Err(PatientError::DateOfBirthNotADate),
    );
}
#[test]
fn a_birth_today_is_accepted() {
    check_dob("01/01/2026", "2026-01-01", Ok("2026-01-01"));
}
#[test]
fn a_birth_tomorrow_is_refused() {
    check_dob(
        "02/01/2026",
        "2026-01-01",
        Err(PatientError::DateOfBirthInFuture),
    );
}
#[test]
fn a_birth_exactly_130_years_ago_is_accepted() {
    check_dob("01/01/1896", "2026-01-01", Ok("1896-01-01"));
}
#[test]
fn a_birth_130_years_and_a_day_ago_is_refused() {
    check_dob(
        "31/12/1895",
        "2026-01-01",
        Err(PatientError::DateOfBirthTooLongAgo),
    );
}

// Age.

fn check_age(born: &str, on: &str, years: i32, days: i64) {
    assert_eq!(
        (
            age_in_years(dob(born), date(on)),
            age_in_days(dob(born), date(on))
        ),
        (years, days),
        "born {born}, on {on}"
    );
}

#[test]
fn age_on_the_day_of_birth_is_zero() {
    check_age("2026-03-10", "2026-03-10", 0, 0);
}
#[test]
fn age_the_day_after_birth_is_one_day() {
    check_age("2026-03-10", "2026-03-11", 0, 1);
}
#[test]
fn a_year_is_reached_on_the_birthday_not_the_day_before() {
    check_age("2000-06-15", "2018-06-14", 17, 6573);
    check_age("2000-06-15", "2018-06-15", 18, 6574);
}
#[test]
fn a_leap_day_birthday_counts_on_the_first_of_march_in_common_years() {
    check_age("2000-02-29", "2001-02-28", 0, 365);
    check_age("2000-02-29", "2001-03-01", 1, 366);
    check_age("2000-02-29", "2018-02-28", 17, 6574);
    check_age("2000-02-29", "2018-03-01", 18, 6575);
}
#[test]
fn a_leap_day_birthday_counts_on_the_day_in_leap_years() {
    check_age("2000-02-28", "2004-02-28", 4, 1461);
    check_age("2000-02-29", "2004-02-28", 3, 1460);
    check_age("2000-02-29", "2004-02-29", 4, 1461);
}
#[test]
fn age_before_birth_is_negative() {
    check_age("2026-03-10", "2026-03-09", -1, -1);
}

// Positive identification (hazard H01).

fn record() -> PatientIdentifiers {
    PatientIdentifiers {
        nhs_number: Some(NhsNumber::parse("9434765919").unwrap()),
        hospital_numbers: vec![
            HospitalNumber::new("RX1234567", "RXH").unwrap(),
            HospitalNumber::new("T998877", "RTH").unwrap(),
        ],
        name: PersonName::new("Smith", "Mary").unwrap(),
        date_of_birth: dob("1980-04-03"),
    }
}

fn nhs(text: &str) -> Option<NhsNumber> {
    Some(NhsNumber::parse(text).unwrap())
}
fn mrn(value: &str, authority: &str) -> Option<HospitalNumber> {
    Some(HospitalNumber::new(value, authority).unwrap())
}
fn name(family: &str, given: &str) -> Option<PersonName> {
    Some(PersonName::new(family, given).unwrap())
}
fn born(text: &str) -> Option<DateOfBirth> {
    Some(dob(text))
}

fn check_identity(check: IdentityCheck, expected: Result<&[Identifier], IdentityError>) {
    let outcome = two_identifiers_match(&record(), &check);
    assert_eq!(
        outcome.as_ref().map(ConfirmedIdentity::matched),
        expected.as_ref().map(|matched| *matched),
        "{check:?}"
    );
}

use Identifier as Id;

#[test]
fn name_and_date_of_birth_identify_the_patient() {
    check_identity(
        IdentityCheck {
            name: name("SMITH", "mary"),
            date_of_birth: born("1980-04-03"),
            ..IdentityCheck::default()
        },
        Ok(&[Id::FullName, Id::DateOfBirth]),
    );
}
#[test]
fn nhs_number_and_hospital_number_identify_the_patient() {
    check_identity(
        IdentityCheck {
            nhs_number: nhs("9434765919"),
            hospital_number: mrn("t998877", "RTH"),
            ..IdentityCheck::default()
        },
        Ok(&[Id::NhsNumber, Id::HospitalNumber]),
    );
}
#[test]
fn all_four_identifiers_matching_are_all_recorded() {
    check_identity(
        IdentityCheck {
            nhs_number: nhs("9434765919"),
            hospital_number: mrn("RX1234567", "RXH"),
            name: name("Smith", "Mary"),
            date_of_birth: born("1980-04-03"),
        },
        Ok(&[
            Id::NhsNumber,
            Id::HospitalNumber,
            Id::FullName,
            Id::DateOfBirth,
        ]),
    );
}
#[test]
fn a_name_alone_is_not_enough() {
    check_identity(
        IdentityCheck {
            name: name("Smith", "Mary"),
            ..IdentityCheck::default()
        },
        Err(IdentityError::TooFew {
            matched: vec![Id::FullName],
            not_on_record: vec![],
        }),
    );
}
#[test]
fn nothing_confirmed_is_not_enough() {
    check_identity(
        IdentityCheck::default(),
        Err(IdentityError::TooFew {
            matched: vec![],
            not_on_record: vec![],
        }),
    );
}
#[test]
fn one_mismatch_fails_even_when_two_others_match() {
    check_identity(
        IdentityCheck {
            nhs_number: nhs("9434765919"),
            name: name("Smith", "Mary"),
            date_of_birth: born("1980-04-30"),
            ..IdentityCheck::default()
        },
        Err(IdentityError::Mismatch(vec![Id::DateOfBirth])),
    );
}
#[test]
fn every_mismatch_is_named() {
    check_identity(
        IdentityCheck {
            nhs_number: nhs("4010232137"),
            hospital_number: mrn("RX1234567", "RTH"),
            name: name("Smith", "Mary"),
            ..IdentityCheck::default()
        },
        Err(IdentityError::Mismatch(vec![
            Id::NhsNumber,
            Id::HospitalNumber,
        ])),
    );
}
#[test]
fn an_nhs_number_the_record_lacks_neither_counts_nor_fails() {
    let mut record = record();
    record.nhs_number = None;
    let check = IdentityCheck {
        nhs_number: nhs("9434765919"),
        date_of_birth: born("1980-04-03"),
        ..IdentityCheck::default()
    };
    assert_eq!(
        two_identifiers_match(&record, &check),
        Err(IdentityError::TooFew {
            matched: vec![Id::DateOfBirth],
            not_on_record: vec![Id::NhsNumber],
        })
    );
    let check = IdentityCheck {
        name: name("Smith", "Mary"),
        ..check
    };
    assert_eq!(
        two_identifiers_match(&record, &check)
            .unwrap()
            .matched()
            .to_vec(),
        [Id::FullName, Id::DateOfBirth]
    );
}

#[test]
fn identity_errors_name_what_did_not_match() {
    assert_eq!(
        IdentityError::Mismatch(vec![Id::DateOfBirth]).to_string(),
        "the date of birth does not match the patient record: check that the specimen and request are for this patient"
    );
    assert_eq!(
        IdentityError::Mismatch(vec![Id::NhsNumber, Id::FullName, Id::DateOfBirth]).to_string(),
        "the NHS number, full name and date of birth do not match the patient record: check that the specimen and request are for this patient"
    );
    assert_eq!(
        IdentityError::TooFew {
            matched: vec![Id::FullName],
            not_on_record: vec![Id::NhsNumber],
        }
        .to_string(),
        "confirm at least two identifiers (NHS number, hospital number, full name, date of birth) that are on the patient record; matched: full name; not on the record: NHS number"
    );
}
