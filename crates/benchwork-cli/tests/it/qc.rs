//! Internal quality control (issue 4): QC runs judged by the Westgard rules
//! and the hold a rejected run puts on patient results. The test: a
//! rejected run (level 1 at +3.5 SD, 1-3s) holds the results entered on that
//! instrument since the last accepted run; authorising or verifying one in
//! between is refused with the reason, on the page and the API; a result
//! analysed before the window is not held; corrective action alone does not
//! release; corrective action plus an accepted run does; held results are
//! then released with a reason (or withdrawn) and can be authorised; every
//! step audited. Also: a warning-only run holds nothing, bad set-up input is
//! refused with nothing stored, and an expired lot refuses the run.

use benchwork_domain::request::AccessionNumber;
use benchwork_store::AuditFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};

use benchwork_app::Clock;

use crate::both_engines;
use crate::flow::{
    DANIEL, api_get_json as get, api_post_json as post, api_status_json, book, results_of,
    specimen_steps,
};
use crate::helpers::{Session, TestApp};
use crate::roles::location;

/// The demo chemistry analyser.
async fn chemistry_analyser(app: &TestApp, token: &str) -> String {
    let (status, instruments) = get(app, token, "/api/v1/instruments").await;
    assert_eq!(status, StatusCode::OK);
    instruments
        .as_array()
        .unwrap()
        .iter()
        .find(|instrument| instrument["name"] == "Chemistry analyser 1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Books potassium for Daniel Hughes, receives the specimen and enters
/// `value` on `instrument` (by API); returns the accession and result id.
async fn potassium(
    app: &TestApp,
    session: &Session,
    token: &str,
    instrument: &str,
    value: &str,
) -> (AccessionNumber, String) {
    let accession = book(app, session, &DANIEL, "routine", &["K"]).await;
    specimen_steps(session, &accession, &["collected", "received"]).await;
    let (status, body) = post(
        app,
        token,
        &format!("/api/v1/requests/{accession}/results"),
        json!({ "results": [{ "investigation": "K", "value": value, "instrument": instrument }] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let result = results_of(app, &accession).await.remove(0);
    (accession, result.id.to_string())
}

/// The demo lots of the K series as (lot id, mean, sd), level 1 first.
async fn k_lots(app: &TestApp, token: &str, instrument: &str) -> Vec<(String, f64, f64)> {
    let (status, runs) = get(
        app,
        token,
        &format!("/api/v1/qc/runs?instrument={instrument}&investigation=K"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{runs}");
    let run = &runs[0];
    let mut lots = Vec::new();
    for value in run["values"].as_array().unwrap() {
        lots.push(value["lot_id"].as_str().unwrap().to_owned());
    }
    // Level 1: 3.50 ± 0.07; level 2: 6.20 ± 0.10 (the demo targets).
    vec![(lots[0].clone(), 3.50, 0.07), (lots[1].clone(), 6.20, 0.10)]
}

/// Records a K run with the levels at `z` SDs from their means.
async fn k_run(
    app: &TestApp,
    token: &str,
    instrument: &str,
    lots: &[(String, f64, f64)],
    z: [f64; 2],
) -> (StatusCode, Value) {
    let values: Vec<Value> = lots
        .iter()
        .zip(z)
        .map(|((lot, mean, sd), z)| json!({ "lot": lot, "value": ((mean + z * sd) * 1000.0).round() / 1000.0 }))
        .collect();
    post(
        app,
        token,
        "/api/v1/qc/runs",
        json!({ "instrument": instrument, "investigation": "K", "values": values }),
    )
    .await
}

fn minutes(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(n)
}

async fn events_of_type(app: &TestApp, entity_type: &str) -> Vec<(String, String)> {
    app.seal().await;
    app.ctx
        .store
        .search_audit_events(
            &AuditFilter {
                entity_type: Some(entity_type.into()),
                ..Default::default()
            },
            500,
            0,
        )
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|(_, event)| (event.event_type, event.detail.unwrap_or_default()))
        .collect()
}

both_engines!(
    a_rejected_qc_run_holds_patient_results_until_corrective_action_and_an_accepted_run,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let associate_token = app.token_for("associate").await;
        let practitioner = app.token_for("practitioner").await;
        let quality = app.token_for("quality").await;
        let instrument = chemistry_analyser(&app, &associate_token).await;
        let lots = k_lots(&app, &associate_token, &instrument).await;

        // A result analysed before the last accepted run: outside the window.
        let (_, before) = potassium(&app, &associate, &associate_token, &instrument, "4.1").await;
        app.clock.advance(minutes(10));
        let (status, accepted) =
            k_run(&app, &associate_token, &instrument, &lots, [0.3, -0.4]).await;
        assert_eq!(status, StatusCode::CREATED, "{accepted}");
        assert_eq!(accepted["decision"], "accepted");
        app.clock.advance(minutes(10));
        // Two results since the accepted run, verified before the QC fails.
        let (accession_a, a) =
            potassium(&app, &associate, &associate_token, &instrument, "4.4").await;
        let (accession_b, b) =
            potassium(&app, &associate, &associate_token, &instrument, "5.0").await;
        for id in [&a, &b] {
            let (status, body) = post(
                &app,
                &associate_token,
                &format!("/api/v1/results/{id}/verify"),
                json!({}),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        app.clock.advance(minutes(10));

        // Act: level 1 at +3.5 SD.
        let (status, rejected) =
            k_run(&app, &associate_token, &instrument, &lots, [3.5, 0.2]).await;

        // Assert: rejected by 1-3s, with the point in this run.
        assert_eq!(status, StatusCode::CREATED, "{rejected}");
        assert_eq!(rejected["decision"], "rejected");
        let rules: Vec<&str> = rejected["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["rule"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&"1-3s"), "{rules:?}");
        let one_three = rejected["violations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["rule"] == "1-3s")
            .unwrap();
        assert_eq!(
            one_three["points"],
            json!([{ "run": rejected["id"], "level": 1 }])
        );
        let (_, holds) = get(&app, &quality, "/api/v1/qc/holds").await;
        let hold = holds
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["rejected_run_id"] == rejected["id"])
            .expect("a hold")
            .clone();
        assert_eq!(hold["status"], "open");
        let hold_id = hold["id"].as_str().unwrap().to_owned();
        assert_eq!(hold["window_start"], accepted["run_at"]);

        // A result entered after the hold opened is held too.
        app.clock.advance(minutes(5));
        let (_, c) = potassium(&app, &associate, &associate_token, &instrument, "3.9").await;
        // A result with no instrument recorded may come from the failed one: held.
        let (_, no_instrument) = potassium(&app, &associate, &associate_token, "", "4.0").await;
        let (status, body) = post(
            &app,
            &associate_token,
            &format!("/api/v1/results/{c}/verify"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("held by QC"),
            "{body}"
        );

        // Authorisation refused with the reason, by the API and on the page.
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{a}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("held by QC")
                && detail.contains("rejected")
                && detail.contains(&hold_id),
            "{detail}"
        );
        // Signed in now: the session's idle time-out is shorter than this story.
        let practitioner_page = app.sign_in_demo("practitioner").await;
        let response = practitioner_page
            .post(&format!("/results/{b}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Held by QC") && html.contains("was rejected"),
            "{html}"
        );
        let page = practitioner_page
            .get(&format!("/requests/{accession_a}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("Final"), "nothing released");

        // The result analysed before the window is not held.
        let (status, body) = post(
            &app,
            &associate_token,
            &format!("/api/v1/results/{before}/verify"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{before}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // The hold lists the three held results, not the one before the window.
        let (status, detail) =
            get(&app, &practitioner, &format!("/api/v1/qc/holds/{hold_id}")).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        let mut listed: Vec<String> = detail["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["result_id"].as_str().unwrap().to_owned())
            .collect();
        listed.sort();
        let mut expected = vec![a.clone(), b.clone(), c.clone(), no_instrument.clone()];
        expected.sort();
        assert_eq!(listed, expected);
        let page = practitioner_page
            .get(&format!("/qc/holds/{hold_id}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&accession_a.to_string()) && page.contains("HUGHES"),
            "the hold page lists the held results"
        );

        // Corrective action alone does not release; an associate may not record it.
        let (status, _) = post(
            &app,
            &associate_token,
            &format!("/api/v1/qc/holds/{hold_id}/corrective-action"),
            json!({ "kind": "recalibration", "description": "x" }),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/qc/holds/{hold_id}/corrective-action"),
            json!({ "kind": "", "description": "" }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = post(
        &app,
        &practitioner,
        &format!("/api/v1/qc/holds/{hold_id}/corrective-action"),
        json!({ "kind": "recalibration", "description": "K recalibrated after electrode drift; calibration accepted" }),
    )
    .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "open");
        let (status, _) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{a}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "still held after corrective action alone"
        );
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/qc/holds/{hold_id}/reviews"),
            json!({ "result": a, "outcome": "released", "reason": "rerun agrees" }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a held result is not released while the hold is open: {body}"
        );

        // Corrective action plus an accepted run releases the hold.
        app.clock.advance(minutes(20));
        let (status, good) = k_run(&app, &associate_token, &instrument, &lots, [0.2, 0.1]).await;
        assert_eq!(status, StatusCode::CREATED, "{good}");
        assert_eq!(good["decision"], "accepted");
        let (_, detail) = get(&app, &practitioner, &format!("/api/v1/qc/holds/{hold_id}")).await;
        assert_eq!(detail["hold"]["status"], "released");
        assert_eq!(detail["hold"]["release_run_id"], good["id"]);

        // Each held result still needs its review: released with a reason, or withdrawn.
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{a}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("released with a reason"),
            "{body}"
        );
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/qc/holds/{hold_id}/reviews"),
            json!({ "result": a, "outcome": "released", "reason": "" }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reason is required: {body}"
        );
        let (status, body) = post(&app, &practitioner, &format!("/api/v1/qc/holds/{hold_id}/reviews"), json!({ "result": a, "outcome": "released", "reason": "rerun after recalibration agrees within 0.1 mmol/L" })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = post(&app, &practitioner, &format!("/api/v1/qc/holds/{hold_id}/reviews"), json!({ "result": b, "outcome": "withdrawn", "reason": "sample exhausted, repeat requested" })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let practitioner_page = app.sign_in_demo("practitioner").await;
        let response = practitioner_page
            .post(
                &format!("/qc/holds/{hold_id}/reviews"),
                &[
                    ("result", c.as_str()),
                    ("outcome", "released"),
                    (&format!("reason-{c}"), "rerun agrees"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{a}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{b}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("withdrawn"),
            "{body}"
        );
        // Its report says it was withdrawn, not "to follow".
        let (status, report) = get(
            &app,
            &practitioner,
            &format!("/api/v1/requests/{accession_b}/report"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["lines"][0]["status"], "Withdrawn", "{report}");
        // A withdrawn result leaves the queues: it can never be released.
        for stage in ["verify", "authorise"] {
            let (status, queue) = get(
                &app,
                &practitioner,
                &format!("/api/v1/results/queue?stage={stage}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{queue}");
            assert!(
                queue
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|item| item["id"] != b.as_str()),
                "{stage}: {queue}"
            );
        }
        let (status, body) = post(
            &app,
            &associate_token,
            &format!("/api/v1/results/{c}/verify"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = post(
            &app,
            &practitioner,
            &format!("/api/v1/results/{c}/authorise"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Every step audited; the quality manager notified; a nonconformity raised.
        let runs = events_of_type(&app, "QcRun").await;
        assert_eq!(
            runs.iter().filter(|(t, _)| t == "qc.run.record").count(),
            20 * 4 + 3
        );
        let hold_events: Vec<String> = events_of_type(&app, "QcHold")
            .await
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        for expected in [
            "qc.hold.open",
            "qc.hold.corrective-action",
            "qc.hold.release",
            "qc.hold.read",
        ] {
            assert!(
                hold_events.iter().any(|t| t == expected),
                "{expected} in {hold_events:?}"
            );
        }
        let result_events = events_of_type(&app, "Result").await;
        assert_eq!(
            result_events
                .iter()
                .filter(|(t, _)| t == "qc.hold.review")
                .count(),
            3
        );
        assert!(
            result_events
                .iter()
                .any(|(t, detail)| t == "result.authorise" && detail.contains("held by QC")),
            "the refused authorisation is in the audit trail"
        );
        assert!(
            result_events
                .iter()
                .any(|(t, detail)| t == "result.verify" && detail.contains("held by QC"))
        );
        let (_, notifications) = get(&app, &quality, "/api/v1/notifications").await;
        assert!(
            notifications
                .to_string()
                .contains("QC rejected: K on Chemistry analyser 1"),
            "{notifications}"
        );
        let (_, incidents) = get(&app, &quality, "/api/v1/incidents").await;
        assert!(
            incidents.to_string().contains("QC rejected: K"),
            "{incidents}"
        );
    }
);

both_engines!(
    a_warning_only_run_holds_nothing_and_the_run_page_says_why,
    |app| {
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let token = app.token_for("associate").await;
        let instrument = chemistry_analyser(&app, &token).await;
        let lots = k_lots(&app, &token, &instrument).await;

        let (status, run) = k_run(&app, &token, &instrument, &lots, [2.5, 0.3]).await;

        assert_eq!(status, StatusCode::CREATED, "{run}");
        assert_eq!(run["decision"], "warning");
        let rules: Vec<&str> = run["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, vec!["1-2s"]);
        let (_, holds) = get(&app, &token, "/api/v1/qc/holds").await;
        assert_eq!(holds, json!([]));
        let page = associate
            .get(&format!("/qc/runs/{}", run["id"].as_str().unwrap()))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Warning (1-2s)") && page.contains("level 1 in this run"),
            "{page}"
        );
        let overview = associate.get("/qc").await.text().await.unwrap();
        assert!(!overview.contains("open-holds"));
    }
);

both_engines!(
    a_qc_run_is_entered_on_the_page_and_bad_entry_is_kept_with_its_error,
    |app| {
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let token = app.token_for("associate").await;
        let instrument = chemistry_analyser(&app, &token).await;
        let lots = k_lots(&app, &token, &instrument).await;
        let form = associate
            .get(&format!(
                "/qc/runs/new?instrument={instrument}&investigation=K"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(form.contains(&format!("value-{}", lots[0].0)) && form.contains("Lyphochek"));

        let instrument_field = ("instrument", instrument.as_str());
        let field_1 = format!("value-{}", lots[0].0);
        let field_2 = format!("value-{}", lots[1].0);
        let response = associate
            .post(
                "/qc/runs",
                &[
                    instrument_field,
                    ("investigation", "K"),
                    (&field_1, "3.52"),
                    (&field_2, ""),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("There is a problem") && html.contains("value=\"3.52\""),
            "entry kept with the error"
        );
        let (_, runs) = get(
            &app,
            &token,
            &format!("/api/v1/qc/runs?instrument={instrument}&investigation=K"),
        )
        .await;
        assert_eq!(runs.as_array().unwrap().len(), 20, "nothing stored");

        let response = associate
            .post(
                "/qc/runs",
                &[
                    instrument_field,
                    ("investigation", "K"),
                    (&field_1, "3.52"),
                    (&field_2, "6.18"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let page = associate
            .get(&location(&response))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Accepted") && page.contains("No rule fired"),
            "{page}"
        );
    }
);

both_engines!(bad_qc_set_up_is_refused_with_nothing_stored, |app| {
    app.seed_demo().await;
    let token = app.token_for("scientist").await;
    let instrument = chemistry_analyser(&app, &token).await;
    let lots = k_lots(&app, &token, &instrument).await;
    let lot = &lots[0].0;
    let k = app
        .ctx
        .store
        .get_investigation_by_code("K")
        .await
        .unwrap()
        .investigation_id;
    let lot_id = benchwork_domain::qc_hold::QcLotId::parse(lot).unwrap();
    let instrument_id = benchwork_domain::result::InstrumentId::parse(&instrument).unwrap();
    let version_before = app
        .ctx
        .store
        .current_qc_target(lot_id, instrument_id, k)
        .await
        .unwrap()
        .unwrap()
        .version;

    let cases = [
        (
            json!({ "lot": lot, "instrument": instrument, "investigation": "K", "mean": 3.5, "sd": 0.0 }),
            "sd",
        ),
        (
            json!({ "lot": lot, "instrument": instrument, "investigation": "K", "mean": 3.5, "sd": -0.1 }),
            "sd",
        ),
        (
            json!({ "lot": lot, "instrument": instrument, "investigation": "K", "mean": 50.0, "sd": 0.1 }),
            "mean",
        ),
        (
            json!({ "lot": lot, "instrument": "0190c0de-0000-7000-8000-000000000000", "investigation": "K", "mean": 3.5, "sd": 0.1 }),
            "instrument",
        ),
        (
            json!({ "lot": lot, "instrument": instrument, "investigation": "NOPE", "mean": 3.5, "sd": 0.1 }),
            "investigation",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = post(&app, &token, "/api/v1/qc/targets", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert!(
            problem.to_string().contains(&format!("\"{field}\"")),
            "{field} named in {problem}"
        );
    }
    assert_eq!(
        app.ctx
            .store
            .current_qc_target(lot_id, instrument_id, k)
            .await
            .unwrap()
            .unwrap()
            .version,
        version_before
    );

    // A change is a new version, audited with before and after.
    let (status, body) = post(&app, &token, "/api/v1/qc/targets", json!({ "lot": lot, "instrument": instrument, "investigation": "K", "mean": 3.55, "sd": 0.08 })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["version"], version_before + 1);
    let events = events_of_type(&app, "QcTarget").await;
    assert!(events.iter().any(|(t, _)| t == "qc.target.set"));

    let (status, material) = post(
        &app,
        &token,
        "/api/v1/qc/materials",
        json!({ "name": "Immunoassay Plus", "manufacturer": "Bio-Rad", "level": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{material}");
    let (status, problem) = post(
        &app,
        &token,
        "/api/v1/qc/materials",
        json!({ "name": "Immunoassay Plus", "manufacturer": "Bio-Rad", "level": 7 }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let material = material["id"].as_str().unwrap();
    let (status, problem) = post(&app, &token, "/api/v1/qc/lots", json!({ "material": material, "lot_number": "40010", "expires_on": "2001-01-31", "status": "current" })).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an expired lot: {problem}"
    );
    assert!(problem.to_string().contains("expired"));
    let (status, body) = post(&app, &token, "/api/v1/qc/lots", json!({ "material": material, "lot_number": "40010", "expires_on": "2099-01-31", "status": "current" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, problem) = post(&app, &token, "/api/v1/qc/lots", json!({ "material": material, "lot_number": "40010", "expires_on": "2099-01-31", "status": "current" })).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a duplicate lot: {problem}"
    );
    assert!(problem.to_string().contains("lot_number"));

    let (status, problem) = api_status_json(
        &app,
        &token,
        reqwest::Method::PUT,
        "/api/v1/qc/rules",
        Some(json!({ "instrument": instrument, "investigation": "K", "rules": "1-2s/5-5s" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, body) = api_status_json(
        &app,
        &token,
        reqwest::Method::PUT,
        "/api/v1/qc/rules",
        Some(json!({ "instrument": instrument, "investigation": "K", "rules": "1-3s/2-2s/R-4s" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 1);
    let (status, run) = k_run(&app, &token, &instrument, &lots, [2.5, 0.0]).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        run["decision"], "accepted",
        "1-2s is no longer applied: {run}"
    );
});

both_engines!(a_qc_run_on_an_expired_lot_is_refused, |app| {
    app.seed_demo().await;
    let token = app.token_for("associate").await;
    let instrument = chemistry_analyser(&app, &token).await;
    let lots = k_lots(&app, &token, &instrument).await;
    // The demo lots expire on 30 June next year.
    app.clock
        .advance(jiff::SignedDuration::from_hours(24 * 600));

    let (status, problem) = k_run(&app, &token, &instrument, &lots, [0.1, 0.1]).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("expired"), "{problem}");
    let (_, runs) = get(
        &app,
        &token,
        &format!("/api/v1/qc/runs?instrument={instrument}&investigation=K"),
    )
    .await;
    assert_eq!(runs.as_array().unwrap().len(), 20, "nothing stored");
});

both_engines!(
    the_release_itself_refuses_a_result_a_qc_hold_covers,
    |app| {
        // Arrange: a potassium result on the chemistry analyser, verified
        // before any QC failure; then a rejected run (level 1 at +3.5 SD)
        // opens a hold over it.
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let associate_token = app.token_for("associate").await;
        let practitioner_token = app.token_for("practitioner").await;
        let instrument = chemistry_analyser(&app, &associate_token).await;
        let lots = k_lots(&app, &associate_token, &instrument).await;
        app.clock.advance(minutes(5));
        let (accession, result) =
            potassium(&app, &associate, &associate_token, &instrument, "4.1").await;
        let (status, body) = post(
            &app,
            &practitioner_token,
            &format!("/api/v1/results/{result}/verify"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        app.clock.advance(minutes(5));
        let (status, run) = k_run(&app, &associate_token, &instrument, &lots, [3.5, 0.2]).await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        assert_eq!(run["decision"], "rejected");

        // Act: the release as the store would receive it had the
        // application's own check run just before the hold was committed.
        let store = &app.ctx.store;
        let user =
            |name: &'static str| async move { store.get_user_by_username(name).await.unwrap().id };
        let authorised = benchwork_domain::result_state::AuthorisedResult {
            id: benchwork_domain::result::ResultId::parse(&result).unwrap(),
            version: 1,
            produced_by: user("associate").await,
            verified_by: user("practitioner").await,
            verified_at: app.clock.now(),
            authorised_by: user("scientist").await,
            authorised_at: app.clock.now(),
        };
        let outcome = store.save_authorisation(&authorised, &[]).await;

        // Assert: refused in the same statement; the result stays verified.
        assert!(
            matches!(outcome, Err(benchwork_store::StoreError::Conflict { .. })),
            "{outcome:?}"
        );
        let stored = results_of(&app, &accession).await.remove(0);
        assert_eq!(stored.status, "verified");
    }
);

both_engines!(
    the_demo_story_shows_a_rejected_qc_run_holding_a_potassium_result,
    |app| {
        // Arrange: the demo, and the QC story `benchwork demo` adds to it.
        app.seed_demo().await;
        benchwork_app::demo::seed_qc_story(&app.ctx).await.unwrap();
        let practitioner = app.sign_in_demo("practitioner").await;
        let token = app.token_for("practitioner").await;

        // Act
        let overview = practitioner.get("/qc").await.text().await.unwrap();
        let (status, holds) = get(&app, &token, "/api/v1/qc/holds").await;

        // Assert: one open hold for potassium on the chemistry analyser,
        // and the demo's potassium result cannot be verified.
        assert!(overview.contains("id=\"open-holds\""), "{overview}");
        assert_eq!(status, StatusCode::OK, "{holds}");
        let holds = holds.as_array().unwrap();
        assert_eq!(holds.len(), 1, "{holds:?}");
        let (status, hold) = get(
            &app,
            &token,
            &format!("/api/v1/qc/holds/{}", holds[0]["id"].as_str().unwrap()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{hold}");
        let held = hold.to_string();
        assert!(held.contains("5.9"), "{held}");
        let (requests, _) = {
            let actor = benchwork_app::auth::actor_from(
                &app.ctx
                    .store
                    .get_user_by_username("practitioner")
                    .await
                    .unwrap(),
                None,
            )
            .unwrap();
            benchwork_app::requests::list(&app.ctx, &actor)
                .await
                .unwrap()
        };
        let (request, _) = requests
            .iter()
            .find(|(request, _)| request.priority == "routine")
            .unwrap();
        let accession = AccessionNumber::parse(&request.accession).unwrap();
        let potassium = results_of(&app, &accession)
            .await
            .into_iter()
            .find(|result| result.code == "K")
            .unwrap();
        let (status, body) = post(
            &app,
            &token,
            &format!("/api/v1/results/{}/verify", potassium.id),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body.to_string().contains("held by QC"), "{body}");
    }
);
