//! The report of a request (issue 3 item 7): book in → receive → result →
//! verify → authorise → report, on the page, as PDF (its text extracted)
//! and in the API; only authorised results carry a value; an amendment
//! marks the report amended with the previous value and the reason; a
//! rejected specimen says why; another department's report is not found;
//! every read of a report is in the audit trail.

use benchwork_domain::request::AccessionNumber;
use benchwork_store::AuditFilter;
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::both_engines;
use crate::flow::{api_get, patient_id, result_id};
use crate::helpers::{Session, TestApp, client};
use crate::roles::location;

/// Daniel Hughes: male, born 2 Nov 1988, hospital number RX1000002.
const DANIEL: &str = "9990000026";

/// Books `investigations` for Daniel Hughes, collects and receives the
/// specimen; returns the accession number.
async fn booked(app: &TestApp, session: &Session, investigations: &[&str]) -> AccessionNumber {
    let patient = patient_id(app, DANIEL).await;
    let mut fields = vec![
        ("nhs_number", DANIEL),
        ("date_of_birth", "02/11/1988"),
        ("priority", "urgent"),
        ("requester_name", "Dr A Patel"),
        ("requester_code", "C1234567"),
        ("location", "Ward 7"),
        ("clinical_details", "Palpitations, on ramipril"),
    ];
    for code in investigations {
        fields.push(("investigations", code));
    }
    let response = session
        .post(&format!("/patients/{patient}/requests"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let accession =
        AccessionNumber::parse(location(&response).strip_prefix("/requests/").unwrap()).unwrap();
    for step in ["collected", "received"] {
        app.clock.advance(jiff::SignedDuration::from_mins(5));
        let response = session
            .post(
                &format!("/specimens/{}/events", accession.specimen_id(1)),
                &[("step", step)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "step {step}");
    }
    accession
}

/// Enters `(code, value, comment)` results on the request page.
async fn enter(session: &Session, accession: &AccessionNumber, results: &[(&str, &str, &str)]) {
    let mut fields = Vec::new();
    let names: Vec<(String, String)> = results
        .iter()
        .map(|(code, _, _)| (format!("value-{code}"), format!("comment-{code}")))
        .collect();
    for ((code, value, comment), (value_name, comment_name)) in results.iter().zip(&names) {
        fields.push(("code", *code));
        fields.push((value_name.as_str(), *value));
        fields.push((comment_name.as_str(), *comment));
    }
    let response = session
        .post(&format!("/requests/{accession}/results"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// Verified by the practitioner, authorised by the scientist.
async fn sign_off(app: &TestApp, accession: &AccessionNumber, code: &str) {
    let id = result_id(app, accession, code).await;
    let practitioner = app.sign_in_demo("practitioner").await;
    let scientist = app.sign_in_demo("scientist").await;
    let response = practitioner
        .post(&format!("/results/{id}/verify"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = scientist
        .post(&format!("/results/{id}/authorise"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// The text of the element with `id`, up to the end of its cell.
fn cell<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {html}"))
        + marker.len();
    let end = html[start..].find("</td>").unwrap();
    &html[start..start + end]
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Downloads the PDF and extracts its text, checking it is a PDF download.
async fn pdf_text(response: reqwest::Response, accession: &AccessionNumber) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE),
        "application/pdf"
    );
    assert_eq!(
        header_of(&response, header::CONTENT_DISPOSITION),
        format!("attachment; filename=\"report-{accession}.pdf\"")
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    pdf_extract::extract_text_from_mem(&bytes).unwrap()
}

async fn report_events(app: &TestApp, accession: &AccessionNumber) -> Vec<(String, String)> {
    app.seal().await;
    app.ctx
        .store
        .search_audit_events(
            &AuditFilter {
                entity_type: Some("Request".into()),
                entity_id: Some(accession.to_string()),
                ..Default::default()
            },
            200,
            0,
        )
        .await
        .unwrap()
        .events
        .into_iter()
        .filter(|(_, event)| event.event_type.starts_with("report.") && event.patient_id.is_some())
        .map(|(_, event)| (event.event_type, event.actor_name))
        .collect()
}

both_engines!(
    the_report_shows_only_authorised_results_on_screen_in_the_pdf_and_in_the_api,
    |app| {
        // Arrange: potassium (high) authorised, sodium entered but not yet
        // verified.
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = booked(&app, &associate, &["K", "NA"]).await;
        enter(
            &associate,
            &accession,
            &[("K", "5.8", "repeat requested"), ("NA", "141", "")],
        )
        .await;
        sign_off(&app, &accession, "K").await;

        // Act: the report page, linked from the request page.
        let request_page = associate
            .get(&format!("/requests/{accession}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(request_page.contains(&format!(
            "href=\"/requests/{accession}/report\" id=\"report-link\""
        )));
        let response = associate
            .get(&format!("/requests/{accession}/report"))
            .await;

        // Assert: identifiers, the authorised value with its unit, flag,
        // interval, comment and sign-offs; sodium to follow; interim.
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert!(html.contains("id=\"nhs-number\">999 000 0026<"), "{html}");
        assert!(html.contains("RX1000002"));
        assert!(html.contains("2 Nov 1988"));
        assert!(html.contains("Dr A Patel (C1234567)"));
        assert!(html.contains("Palpitations, on ramipril"));
        assert!(html.contains(&accession.specimen_id(1)));
        assert!(html.contains("Interim report"));
        let potassium = cell(&html, "value-K");
        assert!(potassium.contains("<strong>5.8</strong>"), "{potassium}");
        assert!(potassium.contains("repeat requested"));
        assert!(html.contains("id=\"flag-K\">H<"));
        assert!(html.contains("3.5 to 5.3"));
        assert!(html.contains("mmol/L"));
        let status = cell(&html, "status-K");
        assert!(
            status.contains("Verified by Priya Practitioner"),
            "{status}"
        );
        assert!(status.contains("Authorised by Sam Scientist"), "{status}");
        assert_eq!(cell(&html, "value-NA"), "to follow");
        let table = &html[html.find("id=\"results\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert!(!table.contains("141"), "an unauthorised value is not shown");
        assert!(html.contains(&format!("href=\"/requests/{accession}/report.pdf\"")));

        // The PDF says the same.
        let text = pdf_text(
            associate
                .get(&format!("/requests/{accession}/report.pdf"))
                .await,
            &accession,
        )
        .await;
        for expected in [
            "HUGHES, Daniel",
            "999 000 0026",
            "RX1000002",
            &accession.to_string(),
            "5.8",
            "mmol/L",
            "3.5 to 5.3",
            "repeat requested",
            "Authorised by Sam Scientist",
            "to follow",
            "Interim report",
            "Page 1 of 1",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} not in the PDF: {text}"
            );
        }
        assert!(
            !text.contains("141"),
            "an unauthorised value is not in the PDF"
        );

        // Sodium authorised too: the report is final, also in the API.
        sign_off(&app, &accession, "NA").await;
        let token = app.token_for("associate").await;
        let response = api_get(
            &app,
            &token,
            &format!("/api/v1/requests/{accession}/report"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let report: Value = response.json().await.unwrap();
        assert_eq!(report["status"], "final");
        assert_eq!(report["patient"]["nhs_number"], "999 000 0026");
        assert_eq!(report["lines"][0]["code"], "K");
        assert_eq!(report["lines"][0]["value"], "5.8");
        assert_eq!(report["lines"][0]["flag"], "H");
        assert_eq!(report["lines"][0]["authorised"]["by"], "Sam Scientist");
        assert_eq!(report["lines"][1]["value"], "141");
        assert!(report["lines"][1]["flag"].is_null());
        let text = pdf_text(
            api_get(
                &app,
                &token,
                &format!("/api/v1/requests/{accession}/report.pdf"),
            )
            .await,
            &accession,
        )
        .await;
        assert!(text.contains("Final report"));
        assert!(text.contains("141"));
        let openapi: Value = client()
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for path in [
            "/api/v1/requests/{accession}/report",
            "/api/v1/requests/{accession}/report.pdf",
        ] {
            assert!(openapi["paths"][path]["get"].is_object(), "{path}");
        }

        // Every read is in the audit trail, as a read of the patient's data.
        let events = report_events(&app, &accession).await;
        for expected in [
            ("report.read", "associate"),
            ("report.download", "associate"),
        ] {
            assert!(
                events
                    .iter()
                    .any(|event| (event.0.as_str(), event.1.as_str()) == expected),
                "{expected:?} in {events:?}"
            );
        }
        assert_eq!(events.len(), 4, "{events:?}");
    }
);

both_engines!(
    an_amended_result_marks_the_report_amended_with_the_previous_value_and_reason,
    |app| {
        // Arrange: an authorised potassium, then amended.
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = booked(&app, &associate, &["K"]).await;
        enter(&associate, &accession, &[("K", "4.2", "")]).await;
        sign_off(&app, &accession, "K").await;
        let final_report = associate
            .get(&format!("/requests/{accession}/report"))
            .await
            .text()
            .await
            .unwrap();
        assert!(final_report.contains("Final report"));
        assert!(!final_report.contains("id=\"report-amended\""));

        // Act
        let id = result_id(&app, &accession, "K").await;
        let consultant = app.sign_in_demo("consultant").await;
        let response = consultant
            .post(
                &format!("/results/{id}/amend"),
                &[
                    ("accession", &accession.to_string()),
                    ("value", "6.9"),
                    ("reason", "transcription error: wrong sample"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        // Assert: on screen.
        let html = associate
            .get(&format!("/requests/{accession}/report"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"report-amended\""));
        assert!(html.contains("Amended report"));
        assert!(cell(&html, "value-K").contains("<strong>6.9</strong>"));
        assert!(html.contains("id=\"flag-K\">HH<"));
        let amendments = &html[html.find("id=\"amendments\"").unwrap()..];
        assert!(
            amendments.contains("previously <strong>4.2 mmol/L</strong>"),
            "{amendments}"
        );
        assert!(amendments.contains("transcription error: wrong sample"));
        assert!(amendments.contains("Dr Chris Consultant"));
        assert!(cell(&html, "status-K").contains("Amended by Dr Chris Consultant"));

        // And in the PDF.
        let text = pdf_text(
            associate
                .get(&format!("/requests/{accession}/report.pdf"))
                .await,
            &accession,
        )
        .await;
        for expected in [
            "AMENDED",
            "Amended report",
            "6.9",
            "HH",
            "previously 4.2 mmol/L",
            "transcription error: wrong sample",
            "Dr Chris Consultant",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} not in the PDF: {text}"
            );
        }
    }
);

both_engines!(a_rejected_specimen_is_reported_with_its_reason, |app| {
    // Arrange
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = booked(&app, &associate, &["K"]).await;
    let response = associate
        .post(
            &format!("/specimens/{}/events", accession.specimen_id(1)),
            &[
                ("step", "rejected"),
                ("reason", "haemolysed"),
                ("reason_text", "Grossly haemolysed"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // Act
    let html = associate
        .get(&format!("/requests/{accession}/report"))
        .await
        .text()
        .await
        .unwrap();

    // Assert: nothing will follow, so the report is final and says why.
    assert_eq!(
        cell(&html, "value-K"),
        "specimen rejected: Haemolysed: Grossly haemolysed"
    );
    assert!(html.contains("Final report"));
    let text = pdf_text(
        associate
            .get(&format!("/requests/{accession}/report.pdf"))
            .await,
        &accession,
    )
    .await;
    assert!(text.contains("specimen rejected: Haemolysed"), "{text}");
});

both_engines!(another_departments_report_is_not_found, |app| {
    // Arrange: a BLOOD request; a CARDIAC associate.
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = booked(&app, &associate, &["K"]).await;
    let cardiac = app.sign_in_demo("cardiac.associate").await;
    let token = app.token_for("cardiac.associate").await;

    // Act + Assert: as the request page does, 404 without the record.
    for path in [
        format!("/requests/{accession}"),
        format!("/requests/{accession}/report"),
        format!("/requests/{accession}/report.pdf"),
    ] {
        let response = cardiac.get(&path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!response.text().await.unwrap().contains("999 000 0026"));
        let response = api_get(&app, &token, &format!("/api/v1{path}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "/api/v1{path}");
    }
    // A malformed accession number is not found either.
    let response = associate.get("/requests/not-an-accession/report.pdf").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(report_events(&app, &accession).await.is_empty());
});
