//! Any bytes through everything a receiver does with a message: decode by
//! MSH-18, split a batch, parse, read the header, every field down to its
//! subcomponents, every OBX value, and an acknowledgement that must parse.
#![no_main]

use benchwork_interfaces::hl7v2::obx::observation_value;
use benchwork_interfaces::hl7v2::{AckCode, AckError, AckFrom, Message, ack, decode_bytes, split_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok((text, _)) = decode_bytes(bytes) else {
        return;
    };
    let Ok(messages) = split_batch(&text) else {
        return;
    };
    let from = AckFrom {
        application: "BENCHWORK",
        facility: "LAB",
        control_id: "1",
        date_time: "20260101000000+0000",
    };
    for message in messages {
        let parsed = match Message::parse(message) {
            Ok(parsed) => parsed,
            Err(error) => {
                let reply = ack(None, AckCode::Reject, &[AckError::from_error(&error)], from);
                assert!(Message::parse(&reply).is_ok());
                continue;
            }
        };
        let header = parsed.header();
        for segment in parsed.segments() {
            for n in 1..=segment.field_count() {
                segment.field(n).visit(|_, _, _, _| {});
            }
            if segment.name() == "OBX" {
                let _ = observation_value(&segment);
            }
        }
        if let Ok(header) = header {
            let reply = ack(Some(&header), AckCode::Accept, &[], from);
            let reply = Message::parse(&reply).expect("our ACK parses");
            assert_eq!(reply.get("MSA-2").as_deref().unwrap_or(""), header.control_id.as_ref());
        }
    }
});
