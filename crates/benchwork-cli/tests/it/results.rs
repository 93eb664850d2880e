//! Worklists and result entry: flags against the reference interval that
//! applied (kept when the catalogue changes), refusal of impossible values
//! with the entry kept, results refused on a rejected or unreceived
//! specimen, eGFR from creatinine, delta checks, the worklist's order and
//! department scoping, and the audit trail.

use benchwork_domain::request::AccessionNumber;
use benchwork_store::AuditFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{DANIEL, GRACE, book, enter, results_of, specimen_steps};
use crate::helpers::client;

both_engines!(
    potassium_is_flagged_and_keeps_the_interval_that_applied,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let mut accessions = Vec::new();
        for value in ["4.2", "3.4", "6.8"] {
            let accession = book(&app, &associate, &DANIEL, "routine", &["K"]).await;
            specimen_steps(&associate, &accession, &["collected", "received"]).await;

            // Act
            let response = enter(&associate, &accession, &[("K", value)], &[]).await;

            // Assert
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{value}");
            accessions.push(accession);
            app.clock.advance(jiff::SignedDuration::from_mins(5));
        }
        let mut flags = Vec::new();
        let mut deltas = Vec::new();
        for accession in &accessions {
            let result = results_of(&app, accession).await.remove(0);
            assert_eq!(result.reference_low, Some(3.5));
            assert_eq!(result.reference_high, Some(5.3));
            assert!(result.reference_source.unwrap().contains("Harmony"));
            assert_eq!(result.critical_high, Some(6.5));
            assert_eq!(result.status, "measured");
            flags.push(result.flag.unwrap());
            deltas.push(result.delta_outcome.unwrap());
        }
        assert_eq!(flags, ["N", "L", "HH"]);
        // Potassium's demo rule is 1.0 mmol/L within 7 days: 4.2 -> 3.4 is
        // -0.8; 3.4 -> 6.8 is +3.4.
        assert_eq!(deltas, ["not-applicable", "passed", "failed"]);
        let page = associate
            .get(&format!("/requests/{}", accessions[2]))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("nhsuk-tag nhsuk-tag--red\" id=\"flag-K\">HH"));
        assert!(page.contains("3.5 to 5.3"));
        assert!(page.contains("Delta check failed"));
        let page = associate
            .get(&format!("/requests/{}", accessions[1]))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("nhsuk-tag--orange\" id=\"flag-K\">L"));

        // Act: the catalogue's interval changes afterwards.
        let consultant = benchwork_app::auth::actor_from(
            &app.ctx
                .store
                .get_user_by_username("consultant")
                .await
                .unwrap(),
            None,
        )
        .unwrap();
        let current = app.ctx.store.get_investigation_by_code("K").await.unwrap();
        let mut input = benchwork_app::catalogue::input_of(&current.definition);
        input.intervals[0].low = "3.0".into();
        benchwork_app::catalogue::edit(&app.ctx, &consultant, "K", &input)
            .await
            .unwrap();

        // Assert: the stored interval is the one that applied.
        let result = results_of(&app, &accessions[1]).await.remove(0);
        assert_eq!(result.reference_low, Some(3.5));
        assert_eq!(result.flag.as_deref(), Some("L"));

        // And every entry is in the audit trail.
        app.seal().await;
        let events = app
            .ctx
            .store
            .search_audit_events(
                &AuditFilter {
                    entity_type: Some("Result".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .unwrap()
            .events;
        assert_eq!(events.len(), 3);
        assert!(events.iter().any(|(_, event)| {
            event.actor_name == "associate"
                && event
                    .after
                    .as_deref()
                    .is_some_and(|after| after.contains("\"HH\""))
        }));
    }
);

both_engines!(impossible_values_are_refused_with_the_entry_kept, |app| {
    // Arrange
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = book(&app, &associate, &DANIEL, "routine", &["K", "NA"]).await;
    specimen_steps(&associate, &accession, &["collected", "received"]).await;

    for (value, message) in [
        ("haemolysed?", "is not a number"),
        ("-1.2", "cannot be negative"),
        ("12.5", "dilute and re-run"),
    ] {
        // Act: a valid sodium beside a bad potassium.
        let response = enter(&associate, &accession, &[("NA", "140"), ("K", value)], &[]).await;

        // Assert: refused, both values kept, nothing stored.
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("There is a problem"));
        assert!(page.contains(message), "{message}");
        assert!(page.contains(&format!("value=\"{value}\"")));
        assert!(page.contains("value=\"140\""));
        assert!(results_of(&app, &accession).await.is_empty());
    }
});

both_engines!(
    results_on_a_rejected_or_unreceived_specimen_are_refused,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = book(&app, &associate, &DANIEL, "routine", &["K"]).await;

        // Act: not yet received.
        let response = enter(&associate, &accession, &[("K", "4.2")], &[]).await;

        // Assert
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.text().await.unwrap().contains("receive it"));

        // Act: rejected.
        specimen_steps(
            &associate,
            &accession,
            &["collected", "received", "rejected"],
        )
        .await;
        let response = enter(&associate, &accession, &[("K", "4.2")], &[]).await;

        // Assert
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("results cannot be recorded on a rejected specimen")
        );
        assert!(results_of(&app, &accession).await.is_empty());
    }
);

both_engines!(creatinine_gives_egfr_by_ckd_epi_2009, |app| {
    // Arrange: Grace Okafor is 60 on 1 June 2014; eGFR is its own line.
    app.clock.set("2014-06-01T09:00:00Z".parse().unwrap());
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = book(&app, &associate, &GRACE, "routine", &["CREA", "EGFR"]).await;
    specimen_steps(&associate, &accession, &["collected", "received"]).await;

    // Act
    let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;

    // Assert: an eGFR result, and no eGFR comment on creatinine any more.
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let results = results_of(&app, &accession).await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].code, "CREA");
    assert_eq!(results[0].derived_comment, None);
    assert_eq!(results[1].code, "EGFR");
    assert_eq!(results[1].value_text, "69");
    let page = associate
        .get(&format!("/requests/{accession}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("69 mL/min/{1.73_m2}"));
    assert!(
        page.contains(
            "Calculated by formula CKD-EPI 2009 (no race coefficient) from CREA 80 umol/L"
        )
    );
});

both_engines!(
    the_worklist_shows_urgent_first_and_only_own_departments,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let routine = book(&app, &associate, &DANIEL, "routine", &["K"]).await;
        app.clock.advance(jiff::SignedDuration::from_mins(5));
        let urgent = book(&app, &associate, &DANIEL, "urgent", &["K"]).await;
        let waiting = book(&app, &associate, &DANIEL, "urgent", &["NA"]).await;
        specimen_steps(&associate, &routine, &["collected", "received"]).await;
        specimen_steps(&associate, &urgent, &["collected", "received"]).await;

        // Act
        let response = associate.get("/worklists").await;

        // Assert: urgent first; an unreceived specimen is not yet on it.
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.unwrap();
        let at = |accession: &AccessionNumber| page.find(&format!(">{accession}</a>"));
        assert!(at(&urgent).unwrap() < at(&routine).unwrap());
        assert!(at(&waiting).is_none());
        assert!(page.contains(&format!("/requests/{urgent}#enter-results")));

        // Another department's worklist does not show them.
        let cardiac = app.sign_in_demo("cardiac.associate").await;
        let page = cardiac.get("/worklists").await.text().await.unwrap();
        assert!(!page.contains(&urgent.to_string()));
        assert!(!page.contains(&routine.to_string()));
        let response = enter(&cardiac, &urgent, &[("K", "4.0")], &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        // Once entered, a line leaves the worklist.
        let response = enter(&associate, &urgent, &[("K", "4.0")], &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let page = associate.get("/worklists").await.text().await.unwrap();
        assert!(!page.contains(&format!(">{urgent}</a>")));
        assert!(page.contains(&format!(">{routine}</a>")));
    }
);

both_engines!(the_api_records_results_with_their_flags, |app| {
    // Arrange
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = book(&app, &associate, &DANIEL, "routine", &["K", "NA"]).await;
    specimen_steps(&associate, &accession, &["collected", "received"]).await;
    let token = app.token_for("associate").await;
    let url = format!("{}/api/v1/requests/{accession}/results", app.address);

    // Act: text in a numeric result.
    let response = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"results": [{"investigation": "K", "value": "high"}]}))
        .send()
        .await
        .unwrap();

    // Assert: a problem naming the field; nothing stored.
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "value-K", "{problem}");
    assert!(results_of(&app, &accession).await.is_empty());

    // Act
    let response = client()
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"results": [
            {"investigation": "K", "value": "6.8", "comment": "Repeat requested"},
            {"investigation": "NA", "value": "140"}
        ]}))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::CREATED);
    let results: Value = response.json().await.unwrap();
    assert_eq!(results[0]["investigation"], "K", "{results}");
    assert_eq!(results[0]["flag"], "HH");
    assert_eq!(results[0]["reference_low"], 3.5);
    assert_eq!(results[0]["comment"], "Repeat requested");
    assert_eq!(results[1]["flag"], "N");
});

both_engines!(
    a_value_in_another_unit_is_converted_or_refused_by_ucum,
    |app| {
        // Arrange: creatinine (umol/L), albumin (g/L) and potassium (mmol/L)
        // on one serum specimen.
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = book(&app, &associate, &DANIEL, "routine", &["CREA", "ALB", "K"]).await;
        specimen_steps(&associate, &accession, &["collected", "received"]).await;
        let token = app.token_for("associate").await;
        let url = format!("{}/api/v1/requests/{accession}/results", app.address);
        let post = |body: Value| {
            let (url, token) = (url.clone(), token.clone());
            async move {
                client()
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };

        // Act + Assert: mass concentration for a catalogue in amount of
        // substance needs a molar mass: refused, naming the unit to send.
        let response = post(json!({"results": [
            {"investigation": "CREA", "value": "0.9", "unit": "mg/dL"},
            {"investigation": "K", "value": "4.1"}
        ]}))
        .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "value-CREA", "{problem}");
        let detail = problem["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
            + problem["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("send the value in umol/L"), "{problem}");
        // A ratio for a concentration, and text that is not UCUM: refused.
        for (unit, expected) in [
            ("%", "cannot be converted"),
            ("millimoles", "is not a UCUM unit"),
        ] {
            let response =
                post(json!({"results": [{"investigation": "K", "value": "4.1", "unit": unit}]}))
                    .await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{unit}"
            );
            let problem: Value = response.json().await.unwrap();
            assert!(problem.to_string().contains(expected), "{unit}: {problem}");
        }
        // Converted beyond the reportable range: refused like a typed value.
        let response =
            post(json!({"results": [{"investigation": "CREA", "value": "50", "unit": "mmol/L"}]}))
                .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            results_of(&app, &accession).await.is_empty(),
            "nothing stored"
        );

        // Act: commensurable units, and the catalogue's own unit.
        let response = post(json!({"results": [
            {"investigation": "CREA", "value": "0.08", "unit": "mmol/L"},
            {"investigation": "ALB", "value": "4.0", "unit": "g/dL"},
            {"investigation": "K", "value": "4.1", "unit": "mmol/L"}
        ]}))
        .await;

        // Assert: stored in the catalogue's unit, the conversion noted.
        assert_eq!(response.status(), StatusCode::CREATED);
        let results = results_of(&app, &accession).await;
        let by_code = |code: &str| results.iter().find(|result| result.code == code).unwrap();
        assert_eq!(by_code("CREA").value_text, "80");
        assert_eq!(by_code("CREA").value_number, Some(80.0));
        assert_eq!(by_code("CREA").unit.as_deref(), Some("umol/L"));
        assert_eq!(
            by_code("CREA").comment,
            "Received as 0.08 mmol/L; converted to 80 umol/L (UCUM)"
        );
        assert_eq!(by_code("ALB").value_number, Some(40.0));
        assert_eq!(by_code("K").value_text, "4.1");
        assert_eq!(by_code("K").comment, "");
    }
);
