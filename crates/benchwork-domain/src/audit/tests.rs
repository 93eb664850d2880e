use super::*;
use uuid::Uuid;

fn event(n: u128) -> AuditEvent {
    AuditEvent {
        id: AuditEventId(Uuid::from_u128(n)),
        recorded: Timestamp::from_microsecond(1_700_000_000_000_000 + n as i64).unwrap(),
        action: AuditAction::Update,
        event_type: "incident.update".into(),
        outcome: AuditOutcome::Success,
        actor_id: Some(UserId(Uuid::from_u128(7))),
        actor_name: "asmith".into(),
        actor_roles: "associate".into(),
        source_address: Some("127.0.0.1".into()),
        entity_type: Some("Incident".into()),
        entity_id: Some(format!("{n}")),
        patient_id: None,
        department_id: Some(DepartmentId(Uuid::from_u128(3))),
        detail: None,
        before: Some(r#"{"status":"open"}"#.into()),
        after: Some(r#"{"status":"closed"}"#.into()),
    }
}

fn chain(n: u128) -> Vec<SealedEvent> {
    seal(None, (1..=n).map(event).collect())
}

fn verify(
    events: &[SealedEvent],
    head: Option<ChainHead>,
) -> Result<Option<ChainHead>, ChainFault> {
    let mut verifier = ChainVerifier::new(head);
    for sealed in events {
        verifier.check(sealed)?;
    }
    verifier.finish()
}

#[test]
fn an_intact_chain_verifies_and_reports_its_head() {
    let events = chain(5);
    let head = verify(&events, None).unwrap().unwrap();
    assert_eq!(head.seq, 5);
    assert_eq!(head.hash, events[4].hash);
}

#[test]
fn an_empty_chain_verifies() {
    assert_eq!(verify(&[], None).unwrap(), None);
}

#[test]
fn an_edited_field_is_named() {
    let mut events = chain(5);
    events[2].event.after = Some(r#"{"status":"open"}"#.into());
    assert!(matches!(
        verify(&events, None),
        Err(ChainFault::Altered { seq: 3, .. })
    ));
}

#[test]
fn moving_characters_between_fields_changes_the_hash() {
    let mut a = event(1);
    let mut b = event(1);
    a.detail = Some("ab".into());
    a.before = Some("c".into());
    b.detail = Some("a".into());
    b.before = Some("bc".into());
    assert_ne!(
        chain_hash(1, &GENESIS_HASH, &a),
        chain_hash(1, &GENESIS_HASH, &b)
    );
}

#[test]
fn none_and_empty_text_hash_differently() {
    let mut a = event(1);
    let mut b = event(1);
    a.detail = None;
    b.detail = Some(String::new());
    assert_ne!(
        chain_hash(1, &GENESIS_HASH, &a),
        chain_hash(1, &GENESIS_HASH, &b)
    );
}

#[test]
fn a_deleted_event_is_named() {
    let mut events = chain(5);
    events.remove(1);
    assert!(matches!(
        verify(&events, None),
        Err(ChainFault::Missing {
            expected_seq: 2,
            found_seq: 3,
            ..
        })
    ));
}

#[test]
fn an_inserted_event_is_named() {
    let mut events = chain(5);
    // An attacker inserts a forged event at position 3 and renumbers the rest.
    let mut forged = seal(None, vec![event(99)]).remove(0);
    forged.seq = 3;
    events.insert(2, forged);
    for (idx, sealed) in events.iter_mut().enumerate() {
        sealed.seq = idx as u64 + 1;
    }
    assert!(matches!(
        verify(&events, None),
        Err(ChainFault::Broken { seq: 3, .. })
    ));
}

#[test]
fn reordered_events_are_named() {
    let mut events = chain(5);
    events.swap(1, 2);
    events[1].seq = 2;
    events[2].seq = 3;
    assert!(matches!(
        verify(&events, None),
        Err(ChainFault::Broken { seq: 2, .. })
    ));
}

#[test]
fn swapped_contents_at_fixed_positions_are_named() {
    let mut events = chain(5);
    let second = events[1].event.clone();
    events[1].event = events[2].event.clone();
    events[2].event = second;
    assert!(matches!(
        verify(&events, None),
        Err(ChainFault::Altered { seq: 2, .. })
    ));
}

#[test]
fn a_truncated_tail_is_caught_by_the_recorded_head() {
    let events = chain(5);
    let head = verify(&events, None).unwrap();
    assert_eq!(verify(&events[..3], None).unwrap().unwrap().seq, 3);
    assert!(matches!(
        verify(&events[..3], head),
        Err(ChainFault::Truncated {
            last_seq: 3,
            expected_seq: 5
        })
    ));
}

#[test]
fn a_rewrite_and_rehash_is_caught_by_the_recorded_head() {
    let events = chain(5);
    let head = verify(&events, None).unwrap();
    let mut rewritten: Vec<AuditEvent> = events.iter().map(|s| s.event.clone()).collect();
    rewritten[1].actor_name = "someone-else".into();
    let rewritten = seal(None, rewritten);
    assert!(
        verify(&rewritten, None).is_ok(),
        "a full re-hash looks intact on its own"
    );
    assert!(matches!(
        verify(&rewritten, head),
        Err(ChainFault::Rewritten { seq: 5, .. })
    ));
}

#[test]
fn a_chain_longer_than_the_recorded_head_verifies() {
    let events = chain(5);
    let early_head = verify(&events[..3], None).unwrap();
    assert_eq!(verify(&events, early_head).unwrap().unwrap().seq, 5);
}

#[test]
fn sealing_continues_from_a_head() {
    let first = chain(3);
    let head = verify(&first, None).unwrap();
    let more = seal(head.as_ref(), vec![event(4), event(5)]);
    let mut all = first;
    all.extend(more);
    assert_eq!(verify(&all, None).unwrap().unwrap().seq, 5);
}

#[test]
fn a_head_prints_and_parses_back() {
    let head = verify(&chain(2), None).unwrap().unwrap();
    assert_eq!(ChainHead::parse(&head.to_string()).unwrap(), head);
}

#[test]
fn a_malformed_head_is_refused() {
    assert!(ChainHead::parse("12").is_err());
    assert!(ChainHead::parse("x:00").is_err());
    assert!(ChainHead::parse("3:abcd").is_err());
}

/// Verifies in stretches of `size` sequence numbers, as the parallel
/// verifier does, and joins them.
fn verify_in_segments(
    events: &[SealedEvent],
    size: u64,
    head: Option<ChainHead>,
) -> Result<Option<ChainHead>, ChainFault> {
    let max_seq = events.iter().map(|event| event.seq).max().unwrap_or(0);
    let mut segments = Vec::new();
    let mut start = 1;
    while start <= max_seq.max(1) {
        let end = start + size;
        let mut verifier = SegmentVerifier::new(start, head.map(|head| head.seq));
        for sealed in events
            .iter()
            .filter(|event| event.seq >= start && event.seq < end)
        {
            if !verifier.check(
                sealed.seq,
                &sealed.prev_hash,
                &sealed.hash,
                &sealed.event.fields(),
            ) {
                break;
            }
        }
        segments.push(verifier.finish());
        start = end;
    }
    join_segments(&segments, head)
}

fn tampered_chains() -> Vec<(&'static str, Vec<SealedEvent>)> {
    let mut cases = vec![("intact", chain(9))];
    let mut edited = chain(9);
    edited[4].event.actor_name = "mallory".into();
    cases.push(("edited", edited));
    for deleted_idx in [0, 2, 3, 4, 8] {
        let mut deleted = chain(9);
        deleted.remove(deleted_idx);
        cases.push(("deleted", deleted));
    }
    let mut reordered = chain(9);
    reordered.swap(3, 4);
    reordered[3].seq = 4;
    reordered[4].seq = 5;
    cases.push(("reordered", reordered));
    let mut inserted = chain(9);
    let mut forged = seal(None, vec![event(99)]).remove(0);
    forged.prev_hash = inserted[4].hash;
    inserted.insert(5, forged);
    for (idx, sealed) in inserted.iter_mut().enumerate() {
        sealed.seq = idx as u64 + 1;
    }
    cases.push(("inserted", inserted));
    cases.push(("truncated", chain(9)[..6].to_vec()));
    cases
}

#[test]
fn stretches_joined_find_the_same_first_fault_as_one_walk() {
    let head = verify(&chain(9), None).unwrap();
    for (what, events) in tampered_chains() {
        for expected_head in [None, head] {
            let whole = verify(&events, expected_head);
            for size in 1..=10 {
                assert_eq!(
                    verify_in_segments(&events, size, expected_head),
                    whole,
                    "{what}, stretches of {size}, head {expected_head:?}"
                );
            }
        }
    }
}
