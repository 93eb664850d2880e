//! Benchmark of the HL7 v2 reader (issue 7, Performance): a full parse of
//! every field of generated ORU^R01 messages with 5–20 OBX each (every
//! repetition, component and subcomponent decoded, the header checked and
//! every OBX value read by its type), beside the floor any parser pays:
//! splitting the same bytes on the segment and field delimiters, in the
//! same run. See docs/benchmarks.md (HL7 v2 parser).
//!
//! `cargo bench -p benchwork-interfaces --bench hl7v2` parses 5,000
//! messages 20 times and says whether the parser runs at no less than
//! [`AIM_PERCENT`] of the split (not met yet: see docs/benchmarks.md). `cargo test -p benchwork-interfaces
//! --benches` runs the same code once over 500 messages as a smoke test,
//! checking that both sides saw the same segments and fields, never a speed.
//!
//! Options (after `--`): `--messages N`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use benchwork_interfaces::hl7v2::obx::observation_value;
use benchwork_interfaces::hl7v2::{Message, MessageBuilder};

/// The aim: a full parse at no less than this share of the speed
/// of splitting on segment and field delimiters.
const AIM_PERCENT: f64 = 40.0;

fn main() -> ExitCode {
    let mut bench_mode = false;
    let mut n_messages = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => bench_mode = true,
            "--messages" => n_messages = args.next().and_then(|n| n.parse::<usize>().ok()),
            other => eprintln!("hl7v2: ignoring argument {other:?}"),
        }
    }
    let n_messages = n_messages.unwrap_or(if bench_mode { 5_000 } else { 500 });
    let rounds = if bench_mode { 20 } else { 1 };
    let messages = generate(n_messages);
    let bytes: usize = messages.iter().map(String::len).sum();
    println!(
        "{n_messages} ORU^R01 messages, {} OBX, {:.1} MB",
        messages
            .iter()
            .map(|m| m.matches("\rOBX|").count())
            .sum::<usize>(),
        bytes as f64 / 1e6
    );

    let mut split_times = Vec::new();
    let mut parse_times = Vec::new();
    let mut counts = ((0, 0), (0, 0));
    for _ in 0..rounds {
        let started = Instant::now();
        let split = split_all(&messages);
        split_times.push(started.elapsed());
        let started = Instant::now();
        let parsed = match parse_all(&messages) {
            Ok(parsed) => parsed,
            Err(error) => {
                eprintln!("hl7v2: a generated message was refused: {error}");
                return ExitCode::FAILURE;
            }
        };
        parse_times.push(started.elapsed());
        counts = (split, parsed);
    }
    if counts.0 != counts.1 {
        eprintln!(
            "hl7v2: the split saw {:?} (segments, fields) and the parser {:?}",
            counts.0, counts.1
        );
        return ExitCode::FAILURE;
    }
    let split_rate = rate(n_messages, fastest(&split_times));
    let parse_rate = rate(n_messages, fastest(&parse_times));
    let ratio = 100.0 * parse_rate / split_rate;
    println!();
    println!("| messages | full parse msgs/s | split msgs/s | ratio   | aim ({AIM_PERCENT} %) |");
    println!("|----------|-------------------|--------------|---------|-----------|");
    println!(
        "| {n_messages:<8} | {parse_rate:>17.0} | {split_rate:>12.0} | {ratio:>5.1} % | {:<9} |",
        if ratio >= AIM_PERCENT {
            "met"
        } else {
            "NOT met"
        }
    );
    if bench_mode && ratio < AIM_PERCENT {
        // Reported, not failed, while the aim is open (docs/benchmarks.md).
        eprintln!("hl7v2: the parser ran at {ratio:.1} % of the split, below {AIM_PERCENT} %");
    }
    ExitCode::SUCCESS
}

/// The floor: split the bytes on CR, then on `|` (memchr, as the parser
/// does); touch every field. Returns
/// (segments, fields) and keeps the work from being optimised away.
fn split_all(messages: &[String]) -> (usize, usize) {
    let mut segments = 0;
    let mut fields = 0;
    let mut total = 0usize;
    for message in messages {
        let bytes = message.as_bytes();
        let mut start = 0;
        for end in memchr::memchr_iter(b'\r', bytes).chain([bytes.len()]) {
            let segment = &bytes[start..end];
            start = end + 1;
            if segment.is_empty() {
                continue;
            }
            segments += 1;
            let mut field_start = 0;
            for at in memchr::memchr_iter(b'|', segment).chain([segment.len()]) {
                // The first piece is the segment name.
                if field_start > 0 {
                    fields += 1;
                    total = total.wrapping_add(at - field_start);
                }
                field_start = at + 1;
            }
        }
    }
    black_box(total);
    (segments, fields)
}

/// The full parse: header checked, every field's repetitions, components
/// and subcomponents decoded, every OBX value read by its type.
fn parse_all(messages: &[String]) -> Result<(usize, usize), benchwork_interfaces::hl7v2::Hl7Error> {
    let mut segments = 0;
    let mut fields = 0;
    let mut total = 0usize;
    for text in messages {
        let message = Message::parse(text)?;
        let header = message.header()?;
        total = total.wrapping_add(header.control_id.len());
        for segment in message.segments() {
            segments += 1;
            // MSH-1 is the separator itself, not a field the split sees.
            let first = if segment.name() == "MSH" { 2 } else { 1 };
            for n in first..=segment.field_count() {
                fields += 1;
                if first == 2 && n == 2 {
                    // MSH-2: the encoding characters, not a value.
                    total = total.wrapping_add(segment.field(2).raw().len());
                    continue;
                }
                segment.field(n).visit(|_, _, _, text| {
                    total = total.wrapping_add(text.len());
                });
            }
            if segment.name() == "OBX" {
                black_box(observation_value(&segment)?);
            }
        }
    }
    black_box(total);
    Ok((segments, fields))
}

fn fastest(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Deterministic ORU^R01 messages: 5–20 numeric, coded and text OBX each,
/// with escapes in the text, written by our own builder.
fn generate(n: usize) -> Vec<String> {
    let analytes = [
        ("2823-3", "Potassium", "mmol/L", 4.1),
        ("2951-2", "Sodium", "mmol/L", 140.0),
        ("2160-0", "Creatinine", "umol/L", 80.0),
        ("3094-0", "Urea", "mmol/L", 5.2),
        ("2345-7", "Glucose", "mmol/L", 5.5),
        ("718-7", "Haemoglobin", "g/L", 135.0),
    ];
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let mut builder = MessageBuilder::new();
            let msh = builder
                .segment("MSH")
                .text(3, "CHEM1")
                .text(4, "LAB")
                .text(5, "BENCHWORK")
                .text(6, "TRUST")
                .text(7, "20261206101500")
                .components(9, &["ORU", "R01", "ORU_R01"])
                .text(10, &format!("MSG{i:08}"))
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
                        &["RX1000002", "", "", "RX1", "MR"],
                    ],
                )
                .components(5, &["Hughes", "Daniel"])
                .text(7, "19881102")
                .text(8, "M");
            builder.push(pid);
            let obr = builder
                .segment("OBR")
                .text(1, "1")
                .text(2, &format!("PL{i}"))
                .text(3, &format!("BW26-{i:06}"))
                .components(4, &["UE", "Urea and electrolytes", "L"])
                .text(7, "20261206091000")
                .text(25, "F");
            builder.push(obr);
            let n_obx = 5 + next() % 16;
            for k in 0..n_obx {
                let (loinc, name, unit, mean) = analytes[k % analytes.len()];
                let segment = match k % 5 {
                    3 => builder
                        .segment("OBX")
                        .text(2, "TX")
                        .components(3, &[loinc, name, "LN"])
                        .text(
                            5,
                            "Haemolysed sample | repeat advised; see note & call ward",
                        ),
                    4 => builder
                        .segment("OBX")
                        .text(2, "CWE")
                        .components(3, &[loinc, name, "LN"])
                        .components(5, &["260385009", "Negative", "SCT"]),
                    _ => {
                        let value = mean * (0.8 + (next() % 400) as f64 / 1000.0);
                        builder
                            .segment("OBX")
                            .text(2, "NM")
                            .components(3, &[loinc, name, "LN"])
                            .text(5, &format!("{value:.1}"))
                            .components(6, &[unit, unit, "UCUM"])
                            .text(7, "3.5-5.3")
                            .text(8, "N")
                            .text(11, "F")
                            .text(14, "20261206091000")
                    }
                };
                let segment = segment.text(1, &(k + 1).to_string());
                builder.push(segment);
            }
            builder.build()
        })
        .collect()
}
