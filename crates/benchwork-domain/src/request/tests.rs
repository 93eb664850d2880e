use super::*;

use SpecimenStatus::*;

fn check(from: SpecimenStatus, to: SpecimenStatus, allowed: bool) {
    assert_eq!(from.step(to).is_ok(), allowed, "{from:?} -> {to:?}");
}

#[test]
fn an_accession_number_is_year_and_a_zero_padded_sequence() {
    let accession = AccessionNumber::new(2026, 123).unwrap();
    assert_eq!(accession.to_string(), "BW26-000123");
    assert_eq!(AccessionNumber::parse("bw26-000123").unwrap(), accession);
    assert_eq!(accession.specimen_id(2), "SBW26-000123-2");
}

#[test]
fn a_malformed_accession_number_is_refused() {
    for text in [
        "",
        "BW26-123",
        "XX26-000123",
        "BW2026-000001",
        "BW26-00012a",
    ] {
        assert!(AccessionNumber::parse(text).is_err(), "{text}");
    }
    assert!(AccessionNumber::new(2026, 0).is_err());
    assert!(AccessionNumber::new(2026, 1_000_000).is_err());
}

#[test]
fn the_chain_of_custody_moves_forward_one_step_at_a_time() {
    check(Expected, Collected, true);
    check(Collected, Received, true);
    check(Received, Accepted, true);
    check(Accepted, InProcess, true);
    check(InProcess, Stored, true);
    check(Stored, InProcess, true);
    check(Stored, Disposed, true);
    check(Rejected, Disposed, true);
}

#[test]
fn a_step_out_of_order_is_refused() {
    check(Expected, Received, false);
    check(Collected, Accepted, false);
    check(Rejected, InProcess, false);
    check(Rejected, Accepted, false);
    check(Disposed, Stored, false);
    check(Accepted, Accepted, false);
}

#[test]
fn rejection_needs_a_reason_and_a_received_specimen() {
    assert_eq!(reject(Received, "haemolysed", "").unwrap().0, Rejected);
    assert_eq!(
        reject(Received, "", "").unwrap_err(),
        RequestError::ReasonRequired
    );
    assert_eq!(
        reject(Received, "other", " ").unwrap_err(),
        RequestError::ReasonRequired
    );
    assert!(reject(Received, "other", "Tube cracked").is_ok());
    assert!(matches!(
        reject(Accepted, "clotted", ""),
        Err(RequestError::InvalidTransition { .. })
    ));
    // Rejection only goes through `reject`, which demands a reason.
    check(Received, Rejected, false);
}
