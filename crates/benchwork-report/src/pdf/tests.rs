use super::*;
use crate::{ReportAmendment, ReportPatient, ReportRequest, ReportSpecimen, SignOff};

fn line(code: &str, value: Option<&str>, flag: Option<&str>) -> ReportLine {
    ReportLine {
        code: code.into(),
        investigation: format!("Investigation {code}"),
        value: value.map(str::to_owned),
        unit: Some("mmol/L".into()),
        flag: flag.map(str::to_owned),
        reference_interval: Some("3.5 to 5.3 (RCPath)".into()),
        status: if value.is_some() {
            "Authorised".into()
        } else {
            "To follow".into()
        },
        note: if value.is_some() {
            None
        } else {
            Some("to follow".into())
        },
        comments: vec!["Repeat in 24 hours".into()],
        verified: Some(SignOff {
            by: "Priya Practitioner".into(),
            at: "25 Nov 2026 09:30".into(),
        }),
        authorised: value.map(|_| SignOff {
            by: "Dr Sam Scientist".into(),
            at: "25 Nov 2026 09:45".into(),
        }),
        amended: None,
    }
}

fn document(lines: Vec<ReportLine>) -> ReportDocument {
    ReportDocument {
        laboratory: "Blood Sciences".into(),
        status: "final".into(),
        status_label: "Final report".into(),
        issued_at: "25 Nov 2026 10:00".into(),
        patient: ReportPatient {
            name: "HUGHES, Daniel".into(),
            nhs_number: "999 000 0026".into(),
            hospital_numbers: vec!["RX123456 (RXH)".into()],
            date_of_birth: "2 Nov 1988".into(),
            sex: "Male".into(),
        },
        request: ReportRequest {
            accession: "BW26-000001".into(),
            requester: "Dr A Patel (C1234567)".into(),
            location: "Ward 7".into(),
            clinical_details: "Chest pain, on ramipril".into(),
            priority: "Urgent".into(),
            booked_at: "25 Nov 2026 09:00".into(),
            received_at: Some("25 Nov 2026 09:10".into()),
        },
        specimens: vec![ReportSpecimen {
            id: "SBW26-000001-1".into(),
            description: "Serum, gold top".into(),
            collected_at: Some("25 Nov 2026 08:50".into()),
            received_at: Some("25 Nov 2026 09:10".into()),
            rejection: None,
        }],
        lines,
        amendments: Vec::new(),
    }
}

fn pages_of(pdf: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(pdf).expect("text can be extracted")
}

#[test]
fn a_report_is_a_pdf_whose_text_can_be_extracted() {
    let pdf = render_pdf(&document(vec![
        line("K", Some("6.9"), Some("HH")),
        line("NA", None, None),
    ]))
    .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pages_of(&pdf).join("\n");
    for expected in [
        "Blood Sciences",
        "HUGHES, Daniel",
        "999 000 0026",
        "RX123456 (RXH)",
        "BW26-000001",
        "Dr A Patel",
        "Chest pain, on ramipril",
        "SBW26-000001-1",
        "6.9",
        "HH",
        "mmol/L",
        "3.5 to 5.3",
        "to follow",
        "Repeat in 24 hours",
        "Authorised by Dr Sam Scientist, 25 Nov 2026 09:45",
        "Final report",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

#[test]
fn a_long_report_paginates_with_the_footer_on_every_page() {
    let lines = (0..120)
        .map(|n| line(&format!("T{n}"), Some(&format!("{n}.0")), None))
        .collect();
    let pdf = render_pdf(&document(lines)).unwrap();
    let pages = pages_of(&pdf);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let n = pages.len();
    for (index, page) in pages.iter().enumerate() {
        assert!(page.contains("HUGHES, Daniel"), "page {}", index + 1);
        assert!(page.contains("999 000 0026"), "page {}", index + 1);
        assert!(page.contains("BW26-000001"), "page {}", index + 1);
        assert!(
            page.contains(&format!("Page {} of {n}", index + 1)),
            "page {}: {page}",
            index + 1
        );
        assert!(
            page.contains("issued 25 Nov 2026 10:00"),
            "page {}",
            index + 1
        );
    }
    // Every line is printed exactly once, none lost at a page break.
    let all = pages.join("\n");
    for n in 0..120 {
        assert_eq!(
            all.matches(&format!("Investigation T{n} (T{n})")).count(),
            1,
            "line T{n}"
        );
    }
    assert!(pages[n - 1].contains("End of report"));
}

#[test]
fn an_amended_report_says_so_with_the_previous_value_and_the_reason() {
    let mut report = document(vec![line("K", Some("6.9"), Some("HH"))]);
    report.status = "amended".into();
    report.status_label = "Amended report".into();
    report.amendments.push(ReportAmendment {
        code: "K".into(),
        investigation: "Potassium".into(),
        version: 1,
        previous_value: "4.2".into(),
        reason: "transcription error".into(),
        by: "Dr Connie Consultant".into(),
        at: "25 Nov 2026 11:00".into(),
    });
    let text = pages_of(&render_pdf(&report).unwrap()).join("\n");
    assert!(text.contains("AMENDED"), "{text}");
    assert!(text.contains("Amended report"));
    assert!(text.contains("previously 4.2"), "{text}");
    assert!(text.contains("transcription error"));
    assert!(text.contains("Dr Connie Consultant"));
}

#[test]
fn long_words_and_text_are_wrapped_within_the_column() {
    let fonts = Fonts {
        regular: Metrics::new(REGULAR, "regular").unwrap(),
        bold: Metrics::new(BOLD, "bold").unwrap(),
    };
    let lines = fonts.wrap(
        "a clinical detail that goes on and on beyond one column Supercalifragilisticexpialidocious",
        Weight::Regular,
        9.0,
        60.0,
    );
    assert!(lines.len() > 3, "{lines:?}");
    for line in &lines {
        assert!(fonts.regular.width(line, 9.0) <= 60.0, "{line:?}");
    }
    assert_eq!(
        lines.join(" ").replace(' ', ""),
        "aclinicaldetailthatgoesonandonbeyondonecolumnSupercalifragilisticexpialidocious"
    );
}
