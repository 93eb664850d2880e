//! Request status and turnaround (issue 3 item 8): the status moves
//! registered → in-progress → partially-reported → completed with the work,
//! or to rejected when every specimen is rejected, each change in the
//! request's history; turnaround figures (nearest-rank median and 90th
//! percentile, within target) for known times set with the test clock; an
//! amendment keeps the turnaround; a line open past target is listed; the
//! API equals the page; bad filters are refused next to the field.

use benchwork_domain::request::AccessionNumber;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{api_post_ok, api_status_json, patient_id, result_id};
use crate::helpers::TestApp;

/// Daniel Hughes: male, born 1988.
const DANIEL: &str = "9990000026";

/// API tokens of the three people the work needs: booking and entry,
/// verification, authorisation.
struct Team {
    associate: String,
    practitioner: String,
    scientist: String,
}

async fn team(app: &TestApp) -> Team {
    Team {
        associate: app.token_for("associate").await,
        practitioner: app.token_for("practitioner").await,
        scientist: app.token_for("scientist").await,
    }
}

async fn book(
    app: &TestApp,
    team: &Team,
    priority: &str,
    investigations: &[&str],
) -> AccessionNumber {
    let patient = patient_id(app, DANIEL).await;
    let body = api_post_ok(
        app,
        &team.associate,
        "/api/v1/requests",
        json!({
            "patient_id": patient.to_string(),
            "identity": {"nhs_number": DANIEL, "date_of_birth": "1988-11-02"},
            "priority": priority,
            "requester_name": "Dr A Patel",
            "requester_code": "C1234567",
            "location": "Ward 7",
            "investigations": investigations,
        }),
    )
    .await;
    AccessionNumber::parse(body["accession"].as_str().unwrap()).unwrap()
}

async fn step(app: &TestApp, team: &Team, accession: &AccessionNumber, step: &str) {
    api_post_ok(
        app,
        &team.associate,
        &format!("/api/v1/specimens/{}/events", accession.specimen_id(1)),
        json!({"step": step, "reason": "haemolysed"}),
    )
    .await;
}

async fn enter(app: &TestApp, team: &Team, accession: &AccessionNumber, results: &[(&str, &str)]) {
    let results: Vec<Value> = results
        .iter()
        .map(|(code, value)| json!({"investigation": code, "value": value}))
        .collect();
    api_post_ok(
        app,
        &team.associate,
        &format!("/api/v1/requests/{accession}/results"),
        json!({ "results": results }),
    )
    .await;
}

async fn verify(app: &TestApp, team: &Team, accession: &AccessionNumber, code: &str) {
    let id = result_id(app, accession, code).await;
    api_post_ok(
        app,
        &team.practitioner,
        &format!("/api/v1/results/{id}/verify"),
        json!({}),
    )
    .await;
}

async fn authorise(app: &TestApp, team: &Team, accession: &AccessionNumber, code: &str) {
    let id = result_id(app, accession, code).await;
    api_post_ok(
        app,
        &team.scientist,
        &format!("/api/v1/results/{id}/authorise"),
        json!({}),
    )
    .await;
}

/// The stored status and the history as (from, to) pairs.
async fn status_of(
    app: &TestApp,
    accession: &AccessionNumber,
) -> (String, Vec<(Option<String>, String)>) {
    let consultant = app
        .ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap();
    let request = app
        .ctx
        .store
        .get_request(&accession.to_string(), consultant.id)
        .await
        .unwrap();
    let history = app
        .ctx
        .store
        .list_request_status_events(request.id)
        .await
        .unwrap()
        .into_iter()
        .map(|event| (event.from_status, event.to_status))
        .collect();
    (request.status, history)
}

fn moves(pairs: &[(Option<&str>, &str)]) -> Vec<(Option<String>, String)> {
    pairs
        .iter()
        .map(|(from, to)| (from.map(str::to_owned), (*to).to_owned()))
        .collect()
}

both_engines!(
    request_status_moves_with_the_work_and_keeps_its_history,
    |app| {
        // Arrange
        app.seed_demo().await;
        let team = team(&app).await;

        // Act + Assert: potassium and sodium share one specimen.
        let accession = book(&app, &team, "routine", &["K", "NA"]).await;
        assert_eq!(status_of(&app, &accession).await.0, "registered");
        step(&app, &team, &accession, "collected").await;
        assert_eq!(status_of(&app, &accession).await.0, "registered");
        step(&app, &team, &accession, "received").await;
        assert_eq!(status_of(&app, &accession).await.0, "in-progress");
        enter(&app, &team, &accession, &[("K", "4.2"), ("NA", "140")]).await;
        verify(&app, &team, &accession, "K").await;
        verify(&app, &team, &accession, "NA").await;
        assert_eq!(status_of(&app, &accession).await.0, "in-progress");
        authorise(&app, &team, &accession, "K").await;
        assert_eq!(status_of(&app, &accession).await.0, "partially-reported");
        authorise(&app, &team, &accession, "NA").await;
        let (status, history) = status_of(&app, &accession).await;
        assert_eq!(status, "completed");
        assert_eq!(
            history,
            moves(&[
                (None, "registered"),
                (Some("registered"), "in-progress"),
                (Some("in-progress"), "partially-reported"),
                (Some("partially-reported"), "completed"),
            ])
        );

        // The page shows the status and its history; the API the status.
        let session = app.sign_in_demo("associate").await;
        let page = session
            .get(&format!("/requests/{accession}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"request-status\">Completed<"), "{page}");
        let history_html = &page[page.find("id=\"status-history\"").unwrap()..];
        for label in [
            "Registered by",
            "In progress by",
            "Partially reported by",
            "Completed by",
        ] {
            assert!(history_html.contains(label), "{label} in {history_html}");
        }
        let list = session.get("/requests").await.text().await.unwrap();
        assert!(list.contains("Completed"));
        let (_, json) = api_status_json(
            &app,
            &team.associate,
            reqwest::Method::GET,
            &format!("/api/v1/requests/{accession}"),
            None,
        )
        .await;
        assert_eq!(json["status"], "completed");

        // A request whose only specimen is rejected ends rejected.
        let rejected = book(&app, &team, "routine", &["K"]).await;
        step(&app, &team, &rejected, "collected").await;
        step(&app, &team, &rejected, "received").await;
        step(&app, &team, &rejected, "rejected").await;
        let (status, history) = status_of(&app, &rejected).await;
        assert_eq!(status, "rejected");
        assert_eq!(
            history,
            moves(&[
                (None, "registered"),
                (Some("registered"), "in-progress"),
                (Some("in-progress"), "rejected"),
            ])
        );
    }
);

/// Receives an urgent potassium now, results and verifies it, and
/// authorises it `minutes` later.
async fn urgent_potassium_in(app: &TestApp, team: &Team, minutes: i64) -> AccessionNumber {
    let accession = book(app, team, "urgent", &["K"]).await;
    step(app, team, &accession, "collected").await;
    step(app, team, &accession, "received").await;
    enter(app, team, &accession, &[("K", "4.0")]).await;
    verify(app, team, &accession, "K").await;
    app.clock.advance(SignedDuration::from_mins(minutes));
    authorise(app, team, &accession, "K").await;
    accession
}

fn group<'a>(report: &'a Value, code: &str, priority: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["investigation"] == code && group["priority"] == priority)
        .unwrap_or_else(|| panic!("no {code} {priority} group in {report}"))
}

both_engines!(
    turnaround_is_measured_from_receipt_to_first_authorisation,
    |app| {
        // Arrange: urgent potassium (target 60 minutes) released after 30,
        // 50, 70 and 200 minutes; an ECG interval (no specimen) released
        // 20 minutes after booking.
        app.seed_demo().await;
        let team = team(&app).await;
        let first = urgent_potassium_in(&app, &team, 30).await;
        for minutes in [50, 70, 200] {
            urgent_potassium_in(&app, &team, minutes).await;
        }
        let ecg = book(&app, &team, "urgent", &["PR"]).await;
        app.clock.advance(SignedDuration::from_mins(5));
        enter(&app, &team, &ecg, &[("PR", "160")]).await;
        verify(&app, &team, &ecg, "PR").await;
        app.clock.advance(SignedDuration::from_mins(15));
        authorise(&app, &team, &ecg, "PR").await;
        // Two received and left open: urgent (overdue once 61 minutes pass)
        // and routine (target 240 minutes, not overdue).
        let open_urgent = book(&app, &team, "urgent", &["K"]).await;
        let open_routine = book(&app, &team, "routine", &["K"]).await;
        for accession in [&open_urgent, &open_routine] {
            step(&app, &team, accession, "collected").await;
            step(&app, &team, accession, "received").await;
        }
        app.clock.advance(SignedDuration::from_mins(61));

        // Act
        let (status, report) = api_status_json(
            &app,
            &team.associate,
            reqwest::Method::GET,
            "/api/v1/turnaround",
            None,
        )
        .await;

        // Assert: nearest rank over 30, 50, 70, 200 → median 50, 90th
        // percentile 200; 2 of 4 within 60 minutes.
        assert_eq!(status, StatusCode::OK, "{report}");
        let potassium = group(&report, "K", "urgent");
        assert_eq!(potassium["month"], "2026-11-01");
        assert_eq!(potassium["n_started"], 5);
        assert_eq!(potassium["n"], 4);
        assert_eq!(potassium["median_seconds"], 50 * 60);
        assert_eq!(potassium["p90_seconds"], 200 * 60);
        assert_eq!(potassium["target_minutes"], 60);
        assert_eq!(potassium["n_within_target"], 2);
        assert_eq!(potassium["percent_within_target"], 50.0);
        assert_eq!(potassium["breach"], true);
        let ecg_group = group(&report, "PR", "urgent");
        assert_eq!(ecg_group["n"], 1);
        assert_eq!(ecg_group["median_seconds"], 20 * 60);
        assert_eq!(ecg_group["breach"], false);
        // The demo's routine U&E, received at 09:00, is open too.
        let routine = group(&report, "K", "routine");
        assert_eq!(
            (routine["n_started"].clone(), routine["n"].clone()),
            (json!(2), json!(0))
        );
        assert_eq!(routine["median_seconds"], Value::Null);
        let overdue = report["overdue"].as_array().unwrap();
        let line = |accession: &AccessionNumber| {
            overdue
                .iter()
                .find(|line| line["accession"] == accession.to_string())
                .cloned()
        };
        let urgent_line = line(&open_urgent).expect("the open urgent potassium is overdue");
        assert_eq!(urgent_line["elapsed_seconds"], 61 * 60);
        assert_eq!(urgent_line["target_minutes"], 60);
        assert_eq!(line(&open_routine), None, "within its 240 minutes");
        assert!(line(&first).is_none(), "released lines are not open");

        // An amendment later keeps the first authorisation time.
        app.clock.advance(SignedDuration::from_mins(10));
        let id = result_id(&app, &first, "K").await;
        api_post_ok(
            &app,
            &team.scientist,
            &format!("/api/v1/results/{id}/amend"),
            json!({"value": "4.1", "reason": "transcription error"}),
        )
        .await;
        let (_, after) = api_status_json(
            &app,
            &team.associate,
            reqwest::Method::GET,
            "/api/v1/turnaround",
            None,
        )
        .await;
        assert_eq!(group(&after, "K", "urgent"), potassium);

        // The page shows the same figures, the breach in words and the
        // overdue line.
        let session = app.sign_in_demo("associate").await;
        let response = session.get("/turnaround").await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.unwrap();
        assert!(page.contains("November 2026"));
        let row = &page[page
            .find("Potassium (K)</td>\n          <td class=\"nhsuk-table__cell\">Urgent")
            .unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        for text in [
            "50 min",
            "3 h 20 min",
            "1 h 00 min",
            "50.0% (2 of 4)",
            "Over target",
        ] {
            assert!(row.contains(text), "{text} in {row}");
        }
        let overdue_html = &page[page.find("id=\"overdue-list\"").unwrap()..];
        assert!(overdue_html.contains(&open_urgent.to_string()));
        assert!(overdue_html.contains("1 h 11 min"));
        assert!(!overdue_html.contains(&open_routine.to_string()));
        assert!(
            page.contains("href=\"/turnaround\""),
            "linked from the navigation"
        );

        // A range that ends before the work shows no month.
        let (_, empty) = api_status_json(
            &app,
            &team.associate,
            reqwest::Method::GET,
            "/api/v1/turnaround?from=2026-10-01&to=2026-10-31",
            None,
        )
        .await;
        assert_eq!(empty["groups"], json!([]));
    }
);

both_engines!(
    a_bad_turnaround_filter_is_refused_next_to_the_field_and_kept,
    |app| {
        app.seed_demo().await;
        let session = app.sign_in_demo("associate").await;
        let response = session
            .get("/turnaround?from=31%2F12%2F2026&to=2026-11-01")
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("nhsuk-error-summary"));
        assert!(page.contains("id=\"from-error\""));
        assert!(page.contains("value=\"31/12/2026\""), "the entry is kept");
        let token = app.token_for("associate").await;
        let (status, problem) = api_status_json(
            &app,
            &token,
            reqwest::Method::GET,
            &format!("/api/v1/turnaround?department={}", uuid::Uuid::new_v4()),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "department");
    }
);
