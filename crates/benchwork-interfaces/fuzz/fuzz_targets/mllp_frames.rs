//! Any byte stream through the MLLP decoder: every byte is accounted for as
//! part of a frame or of a discarded piece (bounded by the frame limit).
#![no_main]

use benchwork_interfaces::hl7v2::mllp::{Decoder, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut decoder = Decoder::new(256);
    let split = bytes.first().map_or(1, |&b| usize::from(b).max(1));
    let mut events = Vec::new();
    for chunk in bytes.chunks(split) {
        events.extend(decoder.feed(chunk));
    }
    events.extend(decoder.finish());
    for event in events {
        match event {
            Event::Frame(frame) => assert!(frame.len() <= 256),
            Event::Discarded { bytes, .. } => assert!(bytes.len() <= 256),
        }
    }
});
