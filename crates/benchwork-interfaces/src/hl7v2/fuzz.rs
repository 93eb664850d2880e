//! Property-based fuzzing of the reader, the writer and the framing: any
//! bytes, and the public corpus messages with random damage, must give a
//! message or an error, never a panic; whatever is written reads back the
//! same. `PROPTEST_CASES=100000 cargo test -p benchwork-interfaces fuzz`
//! runs a longer campaign than CI's default.

use proptest::prelude::*;

use super::mllp::{Decoder, Event, encode};
use super::obx::observation_value;
use super::tests::corpus_messages;
use super::*;

/// Reads everything a receiver would read; must not panic.
fn read_everything(bytes: &[u8]) {
    let Ok((text, _)) = decode_bytes(bytes) else {
        return;
    };
    let Ok(messages) = split_batch(&text) else {
        return;
    };
    for message in messages {
        let Ok(message) = Message::parse(message) else {
            continue;
        };
        let _ = message.header();
        for segment in message.segments() {
            for n in 0..=segment.field_count() + 1 {
                let field = segment.field(n);
                for repetition in field.repetitions() {
                    for c in 1..4 {
                        let component = repetition.component(c);
                        let _ = component.text();
                        let _ = component.subcomponent(2).text();
                    }
                }
            }
            if segment.name() == "OBX" {
                let _ = observation_value(&segment);
            }
        }
        for path in [
            "MSH-1",
            "MSH-2",
            "MSH-9-2",
            "PID-3(2)-4",
            "OBX(3)-5-1-2",
            "PID-5",
        ] {
            let _ = message.get(path);
        }
    }
}

/// Line breaks as [`unescape`] gives them back.
fn normalise_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

proptest! {
    #[test]
    fn any_bytes_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_everything(&bytes);
        let mut with_header = b"MSH|^~\\&|".to_vec();
        with_header.extend(&bytes);
        read_everything(&with_header);
    }

    #[test]
    fn damaged_public_messages_read_without_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![b'|', b'^', b'~', b'\\', b'&', b'\r', b'\n', b'#', 0xc3, 0xff, b'X', b'"']), 0u8..3), 1..8),
    ) {
        let messages = corpus_messages();
        let (_, text) = &messages[pick.index(messages.len())];
        let mut bytes = text.clone().into_bytes();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        read_everything(&bytes);
    }

    #[test]
    fn escaped_text_reads_back_the_same(text in "\\PC*", custom in any::<bool>()) {
        let delimiters = if custom {
            Delimiters { field: '#', component: '!', repetition: '@', escape: Some('%'), subcomponent: '*', truncation: Some('$') }
        } else {
            Delimiters::default()
        };
        let escaped = escape(&text, &delimiters);
        prop_assert!(!escaped.contains(['\r', '\n', delimiters.field, delimiters.component, delimiters.repetition, delimiters.subcomponent]));
        prop_assert_eq!(unescape(&escaped, &delimiters), normalise_breaks(&text));
    }

    #[test]
    fn built_fields_read_back_the_same(components in proptest::collection::vec("[^\u{0}\u{feff}]{0,12}", 1..6)) {
        let mut builder = MessageBuilder::new();
        let msh = builder.segment("MSH").components(9, &["ORU", "R01"]).text(10, "1").text(12, "2.5.1");
        builder.push(msh);
        let parts: Vec<&str> = components.iter().map(String::as_str).collect();
        let obx = builder.segment("OBX").text(2, "ST").components(5, &parts);
        builder.push(obx);
        let text = builder.build();
        let message = Message::parse(&text).unwrap();
        prop_assert_eq!(message.segments().len(), 2);
        for (n, component) in components.iter().enumerate() {
            let read = message.get(&format!("OBX-5-{}", n + 1)).unwrap_or_default();
            prop_assert_eq!(read.as_ref(), normalise_breaks(component));
        }
    }

    #[test]
    fn frames_survive_any_chunking(
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no framing bytes", |b| ![0x0b, 0x1c].contains(b)), 1..64), 1..5),
        chunk in 1usize..40,
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(|frame| encode(frame)).collect();
        let mut decoder = Decoder::new(1 << 16);
        let mut events = Vec::new();
        for piece in stream.chunks(chunk) {
            events.extend(decoder.feed(piece));
        }
        events.extend(decoder.finish());
        let got: Vec<Vec<u8>> = events
            .into_iter()
            .map(|event| match event {
                Event::Frame(frame) => frame,
                other => panic!("{other:?}"),
            })
            .collect();
        prop_assert_eq!(got, frames);
    }
}
