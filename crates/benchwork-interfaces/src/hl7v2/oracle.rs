//! Our reader against an independent one (the `hl7-parser` crate) on every
//! public message both accept: the same segments, and for every field the
//! same repetitions, components and subcomponents, as written. A round trip
//! through our own writer cannot catch a mistake the reader and writer
//! share; this can.

use super::tests::corpus_messages;
use super::*;

#[test]
fn every_field_of_the_corpus_matches_an_independent_parser() {
    let mut compared = 0;
    for (name, text) in corpus_messages() {
        let Ok(batch) = split_batch(&text) else {
            continue;
        };
        for message_text in batch {
            let Ok(ours) = Message::parse(message_text) else {
                continue;
            };
            // The oracle reads only `|^~\&` exactly: not other separators,
            // not the v2.7 truncation character (`^~\&#`) and not a doubled
            // escape character (`^~\\&`), which it takes as fields.
            if ours.msh().field(1).raw() != "|" || ours.msh().field(2).raw() != "^~\\&" {
                continue;
            }
            let trimmed = message_text.trim_end_matches(['\r', '\n']);
            let theirs = hl7_parser::Message::parse_with_lenient_newlines(trimmed, true)
                .unwrap_or_else(|e| panic!("{name}: the oracle refused: {e}"));
            let their_segments: Vec<_> = theirs.segments().collect();
            assert_eq!(ours.segments().len(), their_segments.len(), "{name}");
            for (segment, their) in ours.segments().zip(their_segments) {
                assert_eq!(segment.name(), their.name, "{name}");
                let first = if segment.name() == "MSH" { 3 } else { 1 };
                for n in first..=segment.field_count() {
                    let mine = segment.field(n);
                    let Some(their_field) = their.field(n) else {
                        assert!(mine.is_empty(), "{name} {}-{n}", segment.name());
                        continue;
                    };
                    let where_ = format!("{name} {}-{n}", segment.name());
                    assert_eq!(mine.raw(), their_field.raw_value(), "{where_}");
                    let my_repetitions: Vec<_> = mine.repetitions().collect();
                    let their_repetitions: Vec<_> = their_field.repeats().collect();
                    assert_eq!(my_repetitions.len(), their_repetitions.len(), "{where_}");
                    for (r, (my_rep, their_rep)) in
                        my_repetitions.iter().zip(their_repetitions).enumerate()
                    {
                        let their_components: Vec<_> = their_rep.components().collect();
                        for (c, their_component) in their_components.iter().enumerate() {
                            let my_component = my_rep.component(c + 1);
                            assert_eq!(
                                my_component.raw(),
                                their_component.raw_value(),
                                "{where_} repetition {} component {}",
                                r + 1,
                                c + 1
                            );
                            for (k, their_sub) in their_component.subcomponents().enumerate() {
                                assert_eq!(
                                    my_component.subcomponent(k + 1).raw(),
                                    their_sub.raw_value(),
                                    "{where_} repetition {} component {} subcomponent {}",
                                    r + 1,
                                    c + 1,
                                    k + 1
                                );
                            }
                        }
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "only {compared} values compared");
}
