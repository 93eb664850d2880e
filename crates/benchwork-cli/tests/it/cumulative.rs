//! The cumulative view (issue 3 item 7): a patient's potassium results on
//! different days, authorised and not, newest first with flags and the
//! interval that applied, the SVG trend chart with one mark per result and
//! a reference band, results filed under a merged duplicate included, the
//! read audited, another department's user refused, and the API the same.

use benchwork_store::{AuditFilter, PatientSearch};
use reqwest::StatusCode;
use serde_json::Value;

use crate::both_engines;
use crate::flow::api_get;
use crate::helpers::{Session, TestApp, client};
use crate::roles::location;

async fn patient(app: &TestApp, nhs_number: Option<&str>, hospital_number: Option<&str>) -> String {
    app.ctx
        .store
        .search_patients(
            &PatientSearch {
                nhs_number: nhs_number.map(str::to_owned),
                hospital_number: hospital_number.map(str::to_owned),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap()
        .remove(0)
        .id
        .to_string()
}

/// Books potassium on the patient's page with the identifiers given,
/// receives the specimen, enters `value`; returns the accession number.
async fn potassium(
    session: &Session,
    patient: &str,
    identity: &[(&str, &str)],
    value: &str,
) -> String {
    let mut fields = identity.to_vec();
    fields.extend([
        ("priority", "routine"),
        ("requester_name", "Dr A Patel"),
        ("requester_code", "C1234567"),
        ("location", "Ward 7"),
        ("investigations", "K"),
    ]);
    let response = session
        .post(&format!("/patients/{patient}/requests"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "booking");
    let to = location(&response);
    let accession = to
        .strip_prefix("/requests/")
        .unwrap_or_else(|| panic!("booking went to {to}"))
        .to_owned();
    let specimen = format!("S{accession}-1");
    for step in ["collected", "received"] {
        let response = session
            .post(&format!("/specimens/{specimen}/events"), &[("step", step)])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "step {step}");
    }
    let response = session
        .post(
            &format!("/requests/{accession}/results"),
            &[("code", "K"), ("value-K", value)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "entering {value}");
    accession
}

async fn result_id(app: &TestApp, accession: &str) -> String {
    let consultant = app
        .ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap();
    let request = app
        .ctx
        .store
        .get_request(accession, consultant.id)
        .await
        .unwrap();
    app.ctx.store.list_results(request.id).await.unwrap()[0]
        .id
        .to_string()
}

fn days(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * n)
}

both_engines!(
    a_patients_potassium_results_are_shown_over_time_with_a_trend_chart,
    |app| {
        // Arrange: a potassium on Daniel Hughes's duplicate record, merged
        // into his record, then three on his record on later days: the
        // first authorised, the second verified only, the third measured.
        app.seed_demo().await;
        let daniel = patient(&app, Some("9990000026"), None).await;
        let duplicate = patient(&app, None, Some("RX1000099")).await;
        // Sessions time out while the clock moves on by days: sign in
        // afresh each day.
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let on_duplicate = potassium(
            &associate,
            &duplicate,
            &[
                ("hospital_number", "RX1000099"),
                ("date_of_birth", "02/11/1988"),
            ],
            "4.6",
        )
        .await;
        let response = practitioner
            .post(
                &format!("/patients/{duplicate}/merge"),
                &[
                    ("survivor", &daniel),
                    ("reason", "Registered twice at ED; same person"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "merging");
        let identity = [
            ("nhs_number", "9990000026"),
            ("date_of_birth", "02/11/1988"),
        ];
        app.clock.advance(days(1));
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let scientist = app.sign_in_demo("scientist").await;
        let first = potassium(&associate, &daniel, &identity, "4.2").await;
        let first_id = result_id(&app, &first).await;
        for (session, action) in [(&practitioner, "verify"), (&scientist, "authorise")] {
            let response = session
                .post(&format!("/results/{first_id}/{action}"), &[])
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{action}");
        }
        app.clock.advance(days(3));
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let second = potassium(&associate, &daniel, &identity, "5.8").await;
        let second_id = result_id(&app, &second).await;
        let response = practitioner
            .post(&format!("/results/{second_id}/verify"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        app.clock.advance(days(4));
        let associate = app.sign_in_demo("associate").await;
        let third = potassium(&associate, &daniel, &identity, "3.1").await;

        // Act: the investigations list, then the potassium view.
        let list = associate.get(&format!("/patients/{daniel}/results")).await;
        assert_eq!(list.status(), StatusCode::OK);
        let list = list.text().await.unwrap();
        let view = associate
            .get(&format!("/patients/{daniel}/results/K"))
            .await;
        assert_eq!(view.status(), StatusCode::OK);
        let view = view.text().await.unwrap();

        // Assert: the list links potassium with its four results.
        let row = &list[list
            .find("id=\"investigation-K\"")
            .expect("a potassium row")..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(&format!("/patients/{daniel}/results/K")));
        assert!(row.contains("Potassium (K)"));
        assert!(row.contains(">4<"), "four results: {row}");

        // The table lists every result newest first, with its flag, the
        // interval that applied, its status and its delta check.
        let table = &view[view.find("id=\"cumulative\"").unwrap()..];
        let rows: Vec<&str> = table
            .split("class=\"nhsuk-table__row result-row\"")
            .skip(1)
            .map(|row| &row[..row.find("</tr>").unwrap()])
            .collect();
        assert_eq!(rows.len(), 4);
        for (row, (accession, value, flag, authorised)) in rows.iter().zip([
            (&third, "3.1 mmol/L", Some("L"), false),
            (&second, "5.8 mmol/L", Some("H"), false),
            (&first, "4.2 mmol/L", Some("N"), true),
            (&on_duplicate, "4.6 mmol/L", Some("N"), false),
        ]) {
            assert!(row.contains(&format!("/requests/{accession}")), "{row}");
            assert!(row.contains(value), "{value} in {row}");
            if let Some(flag) = flag {
                assert!(
                    row.contains(&format!(">{flag}</strong>")),
                    "{flag} in {row}"
                );
            }
            assert!(row.contains("3.5 to 5.3"), "the interval applied: {row}");
            assert_eq!(
                row.contains(">Authorised</strong>"),
                authorised,
                "authorised {authorised}: {row}"
            );
            assert_eq!(row.contains(">Not authorised</strong>"), !authorised);
        }
        assert!(rows[0].contains("Awaiting verification"));
        assert!(rows[1].contains("Verified, awaiting authorisation"));
        assert!(rows[1].contains("Passed") || rows[1].contains("Failed"));
        assert!(
            rows[3].contains("a merged duplicate record"),
            "the duplicate's result says where it was filed"
        );
        assert!(rows[3].contains(&format!("/patients/{duplicate}")));
        assert!(view.contains("id=\"unauthorised-notice\""));

        // The chart: accessible, one mark per result shaped by flag, the
        // reference band and the critical limits.
        let svg = &view[view.find("<svg").expect("a trend chart")..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"trend-title\">Potassium trend</title>"));
        assert!(svg.contains("4 results from"));
        assert!(svg.contains("latest 3.1 mmol/L"));
        assert_eq!(svg.matches("class=\"point\"").count(), 4);
        assert_eq!(svg.matches("data-flag=\"H\"").count(), 1);
        assert_eq!(svg.matches("data-flag=\"L\"").count(), 1);
        assert!(svg.matches("class=\"reference-band\"").count() >= 1);
        assert!(svg.contains("Reference interval 3.5 to 5.3 mmol/L"));
        assert_eq!(svg.matches("class=\"critical-limit\"").count(), 2);

        // The patient page and the request page link to the view.
        let patient_page = associate
            .get(&format!("/patients/{daniel}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(patient_page.contains(&format!("href=\"/patients/{daniel}/results\"")));
        let request_page = associate
            .get(&format!("/requests/{first}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(request_page.contains(&format!("href=\"/patients/{daniel}/results/K\"")));

        // Each read is recorded against the patient, and against the
        // duplicate whose result was shown.
        app.seal().await;
        for record in [&daniel, &duplicate] {
            let events = app
                .ctx
                .store
                .search_audit_events(
                    &AuditFilter {
                        entity_type: Some("Patient".into()),
                        entity_id: Some(record.clone()),
                        ..Default::default()
                    },
                    100,
                    0,
                )
                .await
                .unwrap()
                .events;
            assert!(
                events
                    .iter()
                    .any(|(_, event)| event.event_type == "patient.results.read"
                        && event.actor_name == "associate"
                        && event.patient_id.map(|id| id.to_string()).as_deref()
                            == Some(record.as_str())),
                "a read event for {record}"
            );
        }

        // The API returns the same, in the same order.
        let token = app.token_for("associate").await;
        let response = api_get(&app, &token, &format!("/api/v1/patients/{daniel}/results")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let listed: Value = response.json().await.unwrap();
        assert_eq!(listed["investigations"][0]["code"], "K");
        assert_eq!(listed["investigations"][0]["n_results"], 4);
        let response = api_get(
            &app,
            &token,
            &format!("/api/v1/patients/{daniel}/results?investigation=K"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let results = body["results"].as_array().unwrap();
        let got: Vec<(&str, &str, &str, bool, f64)> = results
            .iter()
            .map(|result| {
                (
                    result["accession"].as_str().unwrap(),
                    result["value"].as_str().unwrap(),
                    result["flag"].as_str().unwrap_or(""),
                    result["authorised"].as_bool().unwrap(),
                    result["reference_high"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (third.as_str(), "3.1", "L", false, 5.3),
                (second.as_str(), "5.8", "H", false, 5.3),
                (first.as_str(), "4.2", "N", true, 5.3),
                (on_duplicate.as_str(), "4.6", "N", false, 5.3),
            ]
        );
        assert_eq!(results[3]["patient_id"], duplicate.as_str());
        assert_eq!(results[2]["status"], "final");

        // Another department's user is refused: not found by page and API,
        // and the list shows nothing of BLOOD's.
        let cardiac = app.sign_in_demo("cardiac.associate").await;
        let response = cardiac.get(&format!("/patients/{daniel}/results/K")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(!response.text().await.unwrap().contains("5.8"));
        let list = cardiac
            .get(&format!("/patients/{daniel}/results"))
            .await
            .text()
            .await
            .unwrap();
        assert!(list.contains("id=\"no-results\""));
        assert!(!list.contains("Potassium"));
        let cardiac_token = app.token_for("cardiac.associate").await;
        let response = api_get(
            &app,
            &cardiac_token,
            &format!("/api/v1/patients/{daniel}/results?investigation=K"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = api_get(
            &app,
            &cardiac_token,
            &format!("/api/v1/patients/{daniel}/results"),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(body["investigations"].as_array().unwrap().len(), 0);

        // An unknown investigation or patient is not found either.
        let response = associate
            .get(&format!("/patients/{daniel}/results/NOPE"))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = associate
            .get("/patients/00000000-0000-7000-8000-000000000000/results")
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        // The OpenAPI document describes the route.
        let openapi: Value = client()
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(openapi["paths"]["/api/v1/patients/{id}/results"]["get"].is_object());
    }
);
