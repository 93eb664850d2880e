//! The parser against the public messages in `testdata/hl7v2` (see its
//! PROVENANCE.md) and against messages built to be awkward.

use std::path::{Path, PathBuf};

use super::mllp::{Decoder, Event};
use super::obx::{observation_value, parse_datetime, parse_nm};
use super::write::AckFrom;
use super::*;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/hl7v2")
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(corpus().join(path)).unwrap()
}

/// Every message of a corpus file: MLLP frames unwrapped, batches split,
/// bytes decoded by their MSH-18.
pub(super) fn corpus_messages() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut folders = vec![corpus()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("LICENSES") {
                    folders.push(path);
                }
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("hl7" | "mllp")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut messages = Vec::new();
    for path in files {
        let name = path.strip_prefix(corpus()).unwrap().display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let payloads = if name.ends_with(".mllp") {
            let mut decoder = Decoder::new(1 << 20);
            let mut events = decoder.feed(&bytes);
            events.extend(decoder.finish());
            events
                .into_iter()
                .map(|event| match event {
                    Event::Frame(frame) => frame,
                    other => panic!("{name}: {other:?}"),
                })
                .collect()
        } else {
            vec![bytes]
        };
        for payload in payloads {
            let text = match decode_bytes(&payload) {
                Ok((text, _)) => text.into_owned(),
                Err(error) => format!("<undecodable: {error}>"),
            };
            messages.push((name.clone(), text));
        }
    }
    messages
}

fn negative(name: &str) -> bool {
    name.contains("invalid-missing-msh")
        || name.contains("invalid-segment-header-length")
        || name.contains("invalid-wrong-version")
        // Starts with "#" comment lines that are not HL7.
        || name.contains("stago-start4")
}

#[test]
fn every_public_message_parses_and_its_header_reads() {
    let mut count = 0;
    for (name, text) in corpus_messages() {
        if negative(&name) {
            continue;
        }
        for message in split_batch(&text).unwrap_or_else(|e| panic!("{name}: {e}")) {
            let parsed = Message::parse(message).unwrap_or_else(|e| panic!("{name}: {e}"));
            let header = parsed.header().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!header.control_id.is_empty(), "{name}");
            assert!(!header.message_code.is_empty(), "{name}");
            for obx in parsed.segments_named("OBX") {
                observation_value(&obx).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            count += 1;
        }
    }
    assert_eq!(count, 43, "messages read from the corpus");
}

#[test]
fn malformed_public_messages_are_refused_with_the_reason() {
    let text = String::from_utf8(read("rethinkhealth-hl7v2/invalid-missing-msh.hl7")).unwrap();
    assert!(matches!(
        Message::parse(&text),
        Err(Hl7Error::MissingMsh { .. })
    ));
    let text = String::from_utf8(read("openelis-analyzers/stago-start4-coagulation.hl7")).unwrap();
    assert!(matches!(
        split_batch(&text),
        Err(Hl7Error::MissingMsh { .. })
    ));
    let text = String::from_utf8(read(
        "rethinkhealth-hl7v2/invalid-segment-header-length.hl7",
    ))
    .unwrap();
    let error = Message::parse(&text).unwrap_err();
    assert_eq!(
        error.location().map(|l| (l.segment.as_str(), l.sequence)),
        Some(("PIDX", 2))
    );
    assert_eq!(error.code().0, "100");
    let text = String::from_utf8(read("rethinkhealth-hl7v2/invalid-wrong-version.hl7")).unwrap();
    let error = Message::parse(&text).unwrap().header().unwrap_err();
    assert_eq!(
        error,
        Hl7Error::UnsupportedVersion {
            version: "1.0".into()
        }
    );
    assert_eq!(error.code().0, "203");
}

#[test]
fn delimiters_are_taken_from_msh() {
    let text = String::from_utf8(read("rethinkhealth-hl7v2/edge-custom-delimiters.hl7")).unwrap();
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.delimiters().field, '#');
    assert_eq!(message.get("MSH-1").as_deref(), Some("#"));
    assert_eq!(message.get("MSH-2").as_deref(), Some("!@%*"));
    assert_eq!(message.get("MSH-9-2").as_deref(), Some("A01"));
    assert_eq!(message.get("PID-5-2").as_deref(), Some("JOHN"));
    assert_eq!(message.get("PID-3-4").as_deref(), Some("MRN"));
    assert_eq!(message.header().unwrap().control_id, "MSG007");

    // Five encoding characters: the fifth is the truncation character.
    let text = String::from_utf8(read(
        "cdc-data-exchange-hl7/phlip-flu-v2.5.1-valid-msh2-5-encoding-chars.hl7",
    ))
    .unwrap();
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.delimiters().truncation, Some('#'));
    assert_eq!(message.delimiters().subcomponent, '&');
    assert_eq!(
        message.get("MSH-3-1").as_deref(),
        Some("USVI.PHL.Horizon.PRO")
    );

    // `^~\\&`: the doubled escape character is read once.
    let text = String::from_utf8(read(
        "linuxforhealth/adt-a01-v2.6-lf-with-literal-backslash-r-and-double-backslash-msh2.hl7",
    ))
    .unwrap();
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.delimiters(), Delimiters::default());
    assert_eq!(message.get("PID-5-1").as_deref(), Some("DOE"));
}

#[test]
fn escape_sequences_are_decoded() {
    let text = String::from_utf8(read("rethinkhealth-hl7v2/edge-escaped-delimiters.hl7")).unwrap();
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.get("PID-5-1").as_deref(), Some("DOE&SMITH"));
    assert_eq!(message.get("PID-5-2").as_deref(), Some("JOHN^JANE"));
    assert_eq!(
        message.get("OBX-5").as_deref(),
        Some(
            "Result contains pipe | and ampersand & and caret ^ and tilde ~ and backslash \\ chars"
        )
    );
    let d = Delimiters::default();
    assert_eq!(unescape(r"line one\.br\line two", &d), "line one\nline two");
    assert_eq!(unescape(r"\H\bold\N\ text", &d), "bold text");
    assert_eq!(unescape(r"a\.sp 2\b", &d), "a\n\nb");
    assert_eq!(unescape(r"M\XC3BC\ller", &d), "Müller");
    assert_eq!(unescape(r"M\XFC\ller", &d), "Müller", "Latin-1 hex");
    // Kept as written: local escapes, unknown commands, an unclosed escape.
    assert_eq!(unescape(r"\Zabc\x", &d), r"\Zabc\x");
    assert_eq!(unescape(r"50\% off", &d), r"50\% off");
    assert_eq!(unescape(r"C:\path", &d), r"C:\path");
    assert!(matches!(unescape("plain", &d), Cow::Borrowed(_)));
}

#[test]
fn segment_endings_repetitions_and_z_segments() {
    let text = String::from_utf8(read("rethinkhealth-hl7v2/edge-crlf-line-endings.hl7")).unwrap();
    assert!(text.contains("\r\n"));
    let message = Message::parse(&text).unwrap();
    assert!(message.segments().all(|s| !s.raw().contains('\r')));
    assert_eq!(
        message.segments().len(),
        text.trim_end().split("\r\n").count()
    );

    let text = String::from_utf8(read("rethinkhealth-hl7v2/edge-field-repetitions.hl7")).unwrap();
    let message = Message::parse(&text).unwrap();
    let phones: Vec<&str> = message
        .segment("PID")
        .unwrap()
        .field(13)
        .repetitions()
        .map(|r| r.raw())
        .collect();
    assert_eq!(phones.len(), 12);
    assert_eq!(phones[11], "555-0012");
    assert_eq!(message.get("PID-13(12)").as_deref(), Some("555-0012"));
    assert_eq!(message.get("PID-13(13)"), None);

    let text = String::from_utf8(read("rethinkhealth-hl7v2/edge-z-segments.hl7")).unwrap();
    let message = Message::parse(&text).unwrap();
    let names: Vec<&str> = message.segments().map(|s| s.name()).collect();
    assert!(
        names.contains(&"ZVN") && names.contains(&"ZPD"),
        "{names:?}"
    );
}

#[test]
fn character_sets_follow_msh_18() {
    // UTF-8 without MSH-18.
    let bytes = read("rethinkhealth-hl7v2/edge-non-ascii.hl7");
    let (text, charset) = decode_bytes(&bytes).unwrap();
    assert_eq!(charset, Charset::Ascii);
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.get("PID-5-1").as_deref(), Some("MÜLLER"));
    // The same message in ISO 8859-1 without MSH-18: read as 8859/1 and
    // said so.
    let bytes = read("derived-encoding/edge-non-ascii.iso-8859-1.hl7");
    let (text, charset) = decode_bytes(&bytes).unwrap();
    assert_eq!(charset, Charset::Latin1Assumed);
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.get("PID-5-1").as_deref(), Some("MÜLLER"));
    // Declared.
    let declared = [
        &bytes[..bytes
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap()],
        b"||||||8859/1",
        &bytes[bytes
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap()..],
    ]
    .concat();
    let (text, charset) = decode_bytes(&declared).unwrap();
    assert_eq!(charset, Charset::Latin1);
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.get("PID-5-1").as_deref(), Some("MÜLLER"));
    assert_eq!(message.get("PID-11-3").as_deref(), Some("München"));
    // Latin-1 bytes declared as UTF-8: refused, not garbled.
    let lying =
        b"MSH|^~\\&|A|B|||20260101||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||1||M\xdcLLER\r";
    assert!(matches!(
        decode_bytes(lying),
        Err(Hl7Error::BadEncoding { .. })
    ));
    let unknown = b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5||||||ISO IR87\r";
    assert_eq!(
        decode_bytes(unknown).unwrap_err(),
        Hl7Error::UnsupportedCharset {
            charset: "ISO IR87".into()
        }
    );
}

#[test]
fn batches_are_split_into_messages() {
    let text = String::from_utf8(read("python-hl7/batch-fhs-bhs-adt-a04-v2.5-vinah.hl7")).unwrap();
    let messages = split_batch(&text).unwrap();
    assert!(!messages.is_empty());
    assert!(messages.iter().all(|m| m.starts_with("MSH")));
    let text = String::from_utf8(read(
        "cdc-data-exchange-hl7/batch-2-messages-no-fhs-bhs.hl7",
    ))
    .unwrap();
    let messages = split_batch(&text).unwrap();
    assert_eq!(messages.len(), 2);
    let ids: Vec<String> = messages
        .iter()
        .map(|m| {
            Message::parse(m)
                .unwrap()
                .header()
                .unwrap()
                .control_id
                .into_owned()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert!(matches!(
        split_batch("garbage\rMSH|^~\\&|A\r"),
        Err(Hl7Error::MissingMsh { .. })
    ));
}

#[test]
fn the_header_requires_type_and_control_id() {
    let message = Message::parse("MSH|^~\\&|LAB|FAC|||20260101||ORU^R01||P|2.5.1\r").unwrap();
    let error = message.header().unwrap_err();
    assert_eq!(error.location().map(|l| l.field), Some(Some(10)), "{error}");
    assert_eq!(error.code().0, "101");
    let message = Message::parse("MSH|^~\\&|LAB|FAC|||20260101|||42|P|2.5.1\r").unwrap();
    assert_eq!(
        message.header().unwrap_err().location().unwrap().field,
        Some(9)
    );
    for (version, ok) in [
        ("2.1", true),
        ("2.3.1", true),
        ("2.5.1", true),
        ("2.8.2", true),
        ("2.9", false),
        ("3.0", false),
        ("2", false),
        ("2.5.", false),
    ] {
        assert_eq!(supported_version(version), ok, "{version}");
    }
}

#[test]
fn observation_values_must_match_their_type() {
    let obx = |line: &str| {
        let text = format!("MSH|^~\\&|A|B|||20260101||ORU^R01|1|P|2.5.1\r{line}\r");
        let message = Message::parse(&text).unwrap();
        let segment = message.segment("OBX").unwrap();
        observation_value(&segment).map(|value| format!("{value:?}"))
    };
    assert_eq!(
        obx("OBX|1|NM|K^Potassium||4.25|mmol/L").unwrap(),
        r#"Numeric { value: 4.25, text: "4.25" }"#
    );
    assert_eq!(
        obx("OBX|1|NM|K||-0.5").unwrap(),
        r#"Numeric { value: -0.5, text: "-0.5" }"#
    );
    for bad in [
        "<5", "1,2", "12e3", "4.2.1", "", "+", "NaN", "1 2", "4.2~4.3",
    ] {
        if bad.is_empty() {
            assert_eq!(obx("OBX|1|NM|K||").unwrap(), "Empty");
            continue;
        }
        let error = obx(&format!("OBX|1|NM|K||{bad}")).unwrap_err();
        assert_eq!(error.location().unwrap().field, Some(5), "{bad}");
        assert_eq!(error.code().0, "102", "{bad}");
    }
    assert!(
        obx("OBX|1|SN|CRP||<^5|mg/L")
            .unwrap()
            .contains(r#"comparator: "<", first: Some(5.0)"#)
    );
    assert!(
        obx("OBX|1|SN|TITRE||^1^:^128")
            .unwrap()
            .contains("second: Some(128.0)")
    );
    assert!(obx("OBX|1|SN|X||~^5").is_err());
    assert!(obx("OBX|1|SN|X||<^five").is_err());
    assert!(obx("OBX|1|SN|X||!^5").is_err());
    assert_eq!(
        obx(r"OBX|1|TX|NOTE||first\.br\line~second").unwrap(),
        r#"Text("first\nline\nsecond")"#
    );
    assert!(
        obx("OBX|1|CWE|ORG||3092008^Staphylococcus aureus^SCT")
            .unwrap()
            .contains(r#"code: "3092008""#)
    );
    assert!(
        obx("OBX|4|CWE|INV107^Jurisdiction Code||^^^^S01^^^^FultonCounty")
            .unwrap()
            .contains(r#"text: "S01""#)
    );
    assert!(
        obx("OBX|1|CWE|ORG||A^Alpha^L~B^Beta^L")
            .unwrap()
            .contains(r#"code: "B""#)
    );
    assert!(obx("OBX|1|CWE|ORG||^^SCT").is_err());
    assert!(obx("OBX|1|DT|DOB||20260230").is_err(), "30 February");
    assert!(obx("OBX|1||K||4.2").is_err(), "value without OBX-2");
    assert!(
        obx("OBX|1|ED|PDF||^AP^PDF^Base64^AAAA")
            .unwrap()
            .starts_with(r#"Other { value_type: "ED""#)
    );
    assert!(obx("OBX|1|numeric|K||4.2").is_err());
    assert_eq!(parse_nm("007.50"), Some(7.5));
    assert_eq!(parse_nm(".5"), Some(0.5));
    assert_eq!(parse_nm("5."), Some(5.0));
}

#[test]
fn hl7_dates_are_read_with_their_offset_or_the_given_zone() {
    let london = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let at = |text: &str| parse_datetime(text, &london).map(|t| t.to_string());
    assert_eq!(at("20260309140000").unwrap(), "2026-03-09T14:00:00Z");
    assert_eq!(at("20260709140000").unwrap(), "2026-07-09T13:00:00Z", "BST");
    assert_eq!(at("20260709140000+0000").unwrap(), "2026-07-09T14:00:00Z");
    assert_eq!(at("202607091400-0500").unwrap(), "2026-07-09T19:00:00Z");
    assert_eq!(at("20260709140000.25").unwrap(), "2026-07-09T13:00:00.25Z");
    assert_eq!(at("20260709").unwrap(), "2026-07-08T23:00:00Z");
    for bad in [
        "2026070914",
        "2026-07-09",
        "20261309",
        "20260709140000+25",
        "x",
        "",
    ] {
        let bad_ok = bad == "2026070914";
        assert_eq!(at(bad).is_ok(), bad_ok, "{bad}");
    }
}

#[test]
fn built_messages_escape_their_data_and_read_back_the_same() {
    let awkward = "O'Brien | Smith ^ Jr ~ & \\ #\nsecond line";
    let mut builder = MessageBuilder::new();
    let msh = builder
        .segment("MSH")
        .text(3, "BENCHWORK")
        .text(4, "LAB")
        .components(9, &["ORU", "R01", "ORU_R01"])
        .text(10, "BW-1")
        .text(11, "P")
        .text(12, "2.5.1");
    builder.push(msh);
    let pid = builder
        .segment("PID")
        .text(1, "1")
        .repetitions(
            3,
            &[
                &["9990000026", "", "", "NHS", "NH"],
                &["RX1", "", "", "RX", "MR"],
            ],
        )
        .components(5, &[awkward, "Daniel"]);
    builder.push(pid);
    let text = builder.build();
    assert_eq!(text.matches('\r').count(), 2);
    let message = Message::parse(&text).unwrap();
    assert_eq!(message.get("PID-5-1").as_deref(), Some(awkward));
    assert_eq!(message.get("PID-5-2").as_deref(), Some("Daniel"));
    assert_eq!(message.get("PID-3(2)-5").as_deref(), Some("MR"));
    assert_eq!(message.get("PID-3-4").as_deref(), Some("NHS"));
    assert_eq!(message.header().unwrap().control_id, "BW-1");
}

#[test]
fn acknowledgements_answer_the_sender_and_say_what_is_wrong() {
    let text = "MSH|^~\\&|ANALYSER|CHEM|BENCHWORK|LAB|20260309140000||ORU^R01^ORU_R01|MSG42|P|2.5.1\rOBX|1|NM|K||<5\r";
    let message = Message::parse(text).unwrap();
    let header = message.header().unwrap();
    let error = observation_value(&message.segment("OBX").unwrap()).unwrap_err();
    let from = AckFrom {
        application: "BENCHWORK",
        facility: "LAB",
        control_id: "ACK-1",
        date_time: "20260309140001+0000",
    };
    let ack_text = ack(
        Some(&header),
        AckCode::Error,
        &[AckError::from_error(&error)],
        from,
    );
    let ack_message = Message::parse(&ack_text).unwrap();
    assert_eq!(ack_message.get("MSH-5").as_deref(), Some("ANALYSER"));
    assert_eq!(ack_message.get("MSH-6").as_deref(), Some("CHEM"));
    assert_eq!(ack_message.get("MSH-9").as_deref(), Some("ACK^R01^ACK"));
    assert_eq!(ack_message.get("MSH-9-2").as_deref(), Some("R01"));
    assert_eq!(ack_message.get("MSA-1").as_deref(), Some("AE"));
    assert_eq!(ack_message.get("MSA-2").as_deref(), Some("MSG42"));
    assert_eq!(ack_message.get("ERR-2-1").as_deref(), Some("OBX"));
    assert_eq!(ack_message.get("ERR-2-2").as_deref(), Some("2"));
    assert_eq!(ack_message.get("ERR-2-3").as_deref(), Some("5"));
    assert_eq!(ack_message.get("ERR-3-1").as_deref(), Some("102"));
    assert_eq!(ack_message.get("ERR-4").as_deref(), Some("E"));
    assert!(
        ack_message
            .get("ERR-8")
            .unwrap()
            .contains("\"<5\" is not a number")
    );
    // Version 2.3: the old ERR layout and MSA-3.
    let old = Message::parse("MSH|^~\\&|A|B|||20260101||ADT^A08|77|P|2.3\r").unwrap();
    let ack_text = ack(
        Some(&old.header().unwrap()),
        AckCode::Reject,
        &[AckError::application("sender not configured")],
        from,
    );
    let ack_message = Message::parse(&ack_text).unwrap();
    assert_eq!(ack_message.get("MSA-1").as_deref(), Some("AR"));
    assert_eq!(
        ack_message.get("MSA-3").as_deref(),
        Some("sender not configured")
    );
    assert_eq!(ack_message.get("ERR-1-4-1").as_deref(), Some("207"));
    // Without a readable header.
    let ack_text = ack(None, AckCode::Reject, &[], from);
    assert!(Message::parse(&ack_text).unwrap().get("MSA-2").is_none());
}
