//! Calculated results and result comments (issue 3 item 5): eGFR and
//! adjusted calcium produced from their inputs in the input's transaction,
//! with their own interval and flag; ">90"; refusal under 18 with the
//! reason shown; recalculation as an amendment when an input is amended;
//! hand entry refused on the form and the API; coded and free-text comments
//! stored, shown and audited; the comment library page.

use benchwork_domain::calculation::{CalculationFormula, calculate};
use benchwork_domain::patient::ReferenceSex;
use benchwork_domain::request::AccessionNumber;
use benchwork_store::{AuditFilter, PatientSearch, ResultRecord};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{DANIEL, GRACE, SIMRAN, enter, page, results_of};
use crate::helpers::{Session, TestApp, client};
use crate::roles::location;

/// Books `investigations`, collects and receives the specimens; returns
/// the accession number.
async fn booked(
    app: &TestApp,
    session: &Session,
    identity: &[(&'static str, &'static str); 2],
    investigations: &[&str],
) -> AccessionNumber {
    let patient = app
        .ctx
        .store
        .search_patients(
            &PatientSearch {
                nhs_number: Some(identity[0].1.into()),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap()
        .remove(0)
        .id;
    let mut fields: Vec<(&str, &str)> = identity.to_vec();
    fields.extend([
        ("priority", "routine"),
        ("requester_name", "Dr A Patel"),
        ("requester_code", "C1234567"),
        ("location", "Ward 7"),
    ]);
    for investigation in investigations {
        fields.push(("investigations", investigation));
    }
    let response = session
        .post(&format!("/patients/{patient}/requests"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let accession =
        AccessionNumber::parse(location(&response).strip_prefix("/requests/").unwrap()).unwrap();
    for step in ["collected", "received"] {
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

fn result(results: &[ResultRecord], code: &str) -> ResultRecord {
    results
        .iter()
        .find(|result| result.code == code)
        .unwrap_or_else(|| panic!("no {code} result in {results:?}"))
        .clone()
}

/// The (entity id, after) of the audit events of `event_type`.
async fn events(app: &TestApp, event_type: &str) -> Vec<(Option<String>, Option<String>)> {
    app.seal().await;
    let entity_type = if event_type.starts_with("comment_code") {
        "CommentCode"
    } else {
        "Result"
    };
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
        .filter(|(_, event)| event.event_type == event_type)
        .map(|(_, event)| (event.entity_id, event.after))
        .collect()
}

both_engines!(
    creatinine_on_a_request_with_egfr_produces_the_egfr_result,
    |app| {
        // Arrange: Grace Okafor is 60 on 1 June 2014.
        app.clock.set("2014-06-01T09:00:00Z".parse().unwrap());
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = booked(&app, &associate, &GRACE, &["CREA", "EGFR"]).await;

        // Act
        let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;

        // Assert: CKD-EPI 2009, woman of 60, creatinine 80 -> 69 (DOMAIN.md 3.2).
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let results = results_of(&app, &accession).await;
        let creatinine = result(&results, "CREA");
        let egfr = result(&results, "EGFR");
        assert_eq!(egfr.value_text, "69");
        assert_eq!(format!("{:.1}", egfr.value_number.unwrap()), "69.0");
        assert_eq!(egfr.unit.as_deref(), Some("mL/min/{1.73_m2}"));
        assert_eq!(egfr.reference_low, Some(90.0));
        assert_eq!(egfr.reference_high, None);
        assert_eq!(egfr.flag.as_deref(), Some("L"));
        assert_eq!(egfr.instrument_name, None);
        assert_eq!(egfr.produced_by_name, creatinine.produced_by_name);
        assert_eq!(egfr.analysed_at, creatinine.analysed_at);
        assert_eq!(egfr.status, "measured");
        let derivation = egfr.derived_comment.clone().unwrap();
        assert!(
            derivation.contains("CKD-EPI 2009 (no race coefficient)")
                && derivation.contains("CREA 80 umol/L"),
            "{derivation}"
        );
        // The comment on creatinine is gone now that eGFR is its own line.
        assert_eq!(creatinine.derived_comment, None);
        let html = page(&associate, &format!("/requests/{accession}")).await;
        let row = &html[html.find("id=\"result-EGFR\"").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("id=\"flag-EGFR\">L<"), "{row}");
        assert!(!html.contains("id=\"value-EGFR\""));
        assert!(html.contains("id=\"blocked-EGFR\"") || !html.contains("enter-results"));
        let calculated = events(&app, "result.calculate").await;
        assert_eq!(calculated.len(), 1);
        assert_eq!(
            calculated[0].0.as_deref(),
            Some(egfr.id.to_string().as_str())
        );
        assert!(calculated[0].1.as_deref().unwrap().contains("CKD-EPI 2009"));
    }
);

both_engines!(an_egfr_above_90_is_reported_as_more_than_90, |app| {
    // Arrange: Daniel Hughes is 25 on 1 June 2014.
    app.clock.set("2014-06-01T09:00:00Z".parse().unwrap());
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = booked(&app, &associate, &DANIEL, &["CREA", "EGFR"]).await;

    // Act
    let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;

    // Assert
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let egfr = result(&results_of(&app, &accession).await, "EGFR");
    assert_eq!(egfr.value_text, ">90");
    assert!(egfr.value_number.unwrap() > 90.0);
    assert_eq!(egfr.flag.as_deref(), Some("N"));
    let html = page(&associate, &format!("/requests/{accession}")).await;
    let row = &html[html.find("id=\"result-EGFR\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("&#62;90 mL/min/{1.73_m2}"), "{row}");
});

both_engines!(egfr_is_not_calculated_under_18_and_says_why, |app| {
    // Arrange: Simran Kaur is 17 on 1 June 2030.
    app.clock.set("2030-06-01T09:00:00Z".parse().unwrap());
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = booked(&app, &associate, &SIMRAN, &["CREA", "EGFR"]).await;

    // Act
    let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;

    // Assert
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let results = results_of(&app, &accession).await;
    assert_eq!(results.len(), 1, "no eGFR row: {results:?}");
    let note = results[0].derived_comment.clone().unwrap();
    assert!(
        note.starts_with("EGFR not calculated: cannot calculate eGFR for a patient aged 17"),
        "{note}"
    );
    let html = page(&associate, &format!("/requests/{accession}")).await;
    assert!(
        html.contains("not calculated: cannot calculate eGFR for a patient aged 17"),
        "{html}"
    );
    assert!(html.contains("id=\"pending-EGFR\""));
});

both_engines!(
    adjusted_calcium_is_calculated_once_calcium_and_albumin_are_in,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = booked(&app, &associate, &GRACE, &["CA", "ALB", "ACA"]).await;

        // Act: calcium first; albumin later.
        let response = enter(&associate, &accession, &[("CA", "2.10")], &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let waiting = page(&associate, &format!("/requests/{accession}")).await;
        let response = enter(&associate, &accession, &[("ALB", "30")], &[]).await;

        // Assert: 2.10 + 0.02 x (40 - 30) = 2.30 (DOMAIN.md 3.3).
        assert!(
            waiting.contains("not calculated: waiting for the ALB result"),
            "{waiting}"
        );
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let results = results_of(&app, &accession).await;
        let adjusted = result(&results, "ACA");
        assert_eq!(adjusted.value_text, "2.30");
        assert_eq!(adjusted.flag.as_deref(), Some("N"));
        assert_eq!(
            (adjusted.reference_low, adjusted.reference_high),
            (Some(2.2), Some(2.6))
        );
        assert_eq!(
            (adjusted.critical_low, adjusted.critical_high),
            (Some(1.8), Some(3.5))
        );
        assert!(
            adjusted
                .derived_comment
                .unwrap()
                .contains("from CA 2.1 mmol/L, ALB 30 g/L")
        );
    }
);

both_engines!(
    amending_creatinine_recalculates_egfr_as_an_amendment,
    |app| {
        // Arrange: creatinine and eGFR entered, verified and authorised.
        app.clock.set("2014-06-01T09:00:00Z".parse().unwrap());
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let consultant = app.sign_in_demo("consultant").await;
        let accession = booked(&app, &associate, &GRACE, &["CREA", "EGFR"]).await;
        let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let results = results_of(&app, &accession).await;
        let (creatinine, egfr) = (result(&results, "CREA"), result(&results, "EGFR"));
        for id in [creatinine.id, egfr.id] {
            let response = practitioner
                .post(&format!("/results/{id}/verify"), &[])
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        }
        let response = consultant
            .post(&format!("/results/{}/authorise", creatinine.id), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let amend = [
            ("accession", accession.to_string()),
            ("value", "120".to_owned()),
            ("reason", "Transcription error".to_owned()),
        ];
        let amend: Vec<(&str, &str)> = amend.iter().map(|(k, v)| (*k, v.as_str())).collect();

        // Act 1: eGFR is not yet authorised, so it cannot be amended with it.
        let refused = consultant
            .post(&format!("/results/{}/amend", creatinine.id), &amend)
            .await;

        // Assert 1
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("authorise EGFR first")
        );
        assert_eq!(
            result(&results_of(&app, &accession).await, "CREA").value_text,
            "80"
        );

        // Act 2
        let response = consultant
            .post(&format!("/results/{}/authorise", egfr.id), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let response = consultant
            .post(&format!("/results/{}/amend", creatinine.id), &amend)
            .await;

        // Assert 2: a new eGFR version, with the reason "input amended".
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let expected = calculate(
            CalculationFormula::EgfrCkdEpi2009,
            &[120.0],
            Some(60),
            ReferenceSex::Female,
        )
        .unwrap();
        assert_eq!(format!("{expected:.0}"), "42");
        let amended = result(&results_of(&app, &accession).await, "EGFR");
        assert_eq!(amended.value_text, "42");
        assert_eq!(amended.status, "amended");
        assert_eq!(amended.flag.as_deref(), Some("L"));
        let reviews = app
            .ctx
            .store
            .list_result_reviews(
                app.ctx
                    .store
                    .get_request(
                        &accession.to_string(),
                        app.ctx
                            .store
                            .get_user_by_username("consultant")
                            .await
                            .unwrap()
                            .id,
                    )
                    .await
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        let review = reviews.iter().find(|review| review.id == egfr.id).unwrap();
        assert_eq!(review.version, 2);
        assert_eq!(review.amended.as_ref().unwrap().2, "input amended");
        let html = page(&consultant, &format!("/requests/{accession}")).await;
        assert!(html.contains("Version 1: 69 L"), "{html}");
        let amendments = events(&app, "result.amend").await;
        assert_eq!(amendments.len(), 2);
        assert!(amendments.iter().any(|(id, after)| id.as_deref()
            == Some(egfr.id.to_string().as_str())
            && after.as_deref().unwrap().contains("input amended")));
    }
);

both_engines!(
    egfr_cannot_be_entered_by_hand_on_the_form_or_the_api,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let token = app.token_for("associate").await;
        let accession = booked(&app, &associate, &GRACE, &["CREA", "EGFR"]).await;

        // Act
        let form = enter(&associate, &accession, &[("EGFR", "70")], &[]).await;
        let api = client()
            .post(format!(
                "{}/api/v1/requests/{accession}/results",
                app.address
            ))
            .bearer_auth(&token)
            .json(&json!({"results": [{"investigation": "EGFR", "value": "70"}]}))
            .send()
            .await
            .unwrap();

        // Assert
        assert_eq!(form.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            form.text()
                .await
                .unwrap()
                .contains("it cannot be entered by hand")
        );
        assert_eq!(api.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = api.json().await.unwrap();
        assert!(
            problem.to_string().contains("it cannot be entered by hand"),
            "{problem}"
        );
        assert!(results_of(&app, &accession).await.is_empty());
        // Worklists leave calculated lines out: only their inputs await entry.
        let worklist = page(&associate, "/worklists").await;
        assert!(worklist.contains("Creatinine"), "{worklist}");
        assert!(!worklist.contains("eGFR (CKD-EPI 2009)"), "{worklist}");
    }
);

both_engines!(
    coded_and_free_text_comments_are_stored_shown_and_audited,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let token = app.token_for("associate").await;
        let accession = booked(&app, &associate, &DANIEL, &["K"]).await;
        let second = booked(&app, &associate, &DANIEL, &["K"]).await;

        // Act: on the form, then through the API.
        let response = enter(
            &associate,
            &accession,
            &[("K", "6.8")],
            &[
                ("comment_codes-K", "HAEM"),
                ("comment-K", "Phoned to ward 7 at 10:05"),
            ],
        )
        .await;
        let api = client()
        .post(format!("{}/api/v1/requests/{second}/results", app.address))
        .bearer_auth(&token)
        .json(&json!({"results": [{"investigation": "K", "value": "4.1", "comment_codes": ["lipm"]}]}))
        .send()
        .await
        .unwrap();

        // Assert
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let html = page(&associate, &format!("/requests/{accession}")).await;
        assert!(
            html.contains("[HAEM] Sample haemolysed: potassium may be falsely raised"),
            "{html}"
        );
        assert!(html.contains("Phoned to ward 7 at 10:05"));
        let request = app
            .ctx
            .store
            .get_request(
                &accession.to_string(),
                app.ctx
                    .store
                    .get_user_by_username("associate")
                    .await
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        let stored = app
            .ctx
            .store
            .list_result_comments(request.id)
            .await
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].code.as_deref(), Some("HAEM"));
        assert_eq!(stored[1].code, None);
        assert_eq!(stored[1].text, "Phoned to ward 7 at 10:05");
        let entered = events(&app, "result.enter").await;
        assert!(
            entered
                .iter()
                .any(|(_, after)| after.as_deref().unwrap().contains("\"HAEM\""))
        );
        assert_eq!(api.status(), StatusCode::CREATED);
        let body: Value = api.json().await.unwrap();
        assert_eq!(body[0]["comments"][0]["code"], "LIPM");
        assert_eq!(body[0]["comments"][0]["text"], "Lipaemic sample");
    }
);

both_engines!(
    an_unknown_or_unstorable_comment_is_refused_with_the_entry_kept,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let accession = booked(&app, &associate, &DANIEL, &["K"]).await;

        // Act
        let unknown = enter(
            &associate,
            &accession,
            &[("K", "4.2")],
            &[("comment_codes-K", "NOPE"), ("comment-K", "typed text")],
        )
        .await;
        let token = app.token_for("associate").await;
        let nul = client()
            .post(format!("{}/api/v1/requests/{accession}/results", app.address))
            .bearer_auth(&token)
            .json(&json!({"results": [{"investigation": "K", "value": "4.2", "comment": "bad\u{0}text"}]}))
            .send()
            .await
            .unwrap();
        let long = "x".repeat(501);
        let too_long = enter(
            &associate,
            &accession,
            &[("K", "4.2")],
            &[("comment-K", &long)],
        )
        .await;

        // Assert
        assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = unknown.text().await.unwrap();
        assert!(
            html.contains("NOPE is not a comment of the department"),
            "{html}"
        );
        assert!(html.contains("id=\"comment_codes-K-error\""));
        assert!(html.contains("value=\"4.2\""));
        assert!(html.contains("value=\"typed text\""));
        assert_eq!(nul.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(nul.text().await.unwrap().contains("NUL"));
        let bell = enter(
            &associate,
            &accession,
            &[("K", "4.2")],
            &[("comment-K", "bad\u{7}text")],
        )
        .await;
        assert_eq!(bell.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bell.text().await.unwrap().contains("cannot be stored"));
        assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            too_long
                .text()
                .await
                .unwrap()
                .contains("at most 500 characters")
        );
        assert!(results_of(&app, &accession).await.is_empty());
    }
);

both_engines!(
    the_comment_library_is_managed_on_its_page_and_audited,
    |app| {
        // Arrange
        app.seed_demo().await;
        let consultant = app.sign_in_demo("consultant").await;
        let associate = app.sign_in_demo("associate").await;
        let blood = app
            .ctx
            .store
            .list_departments()
            .await
            .unwrap()
            .into_iter()
            .find(|department| department.code == "BLOOD")
            .unwrap()
            .id
            .to_string();

        // Act
        let listed = page(&consultant, "/comments").await;
        let added = consultant
            .post(
                "/comments",
                &[
                    ("department", &blood),
                    ("code", "clot"),
                    ("text", "Clotted sample"),
                ],
            )
            .await;
        let duplicate = consultant
            .post(
                "/comments",
                &[("department", &blood), ("code", "CLOT"), ("text", "Again")],
            )
            .await;
        let clot = app
            .ctx
            .store
            .list_comment_codes(
                app.ctx
                    .store
                    .get_user_by_username("consultant")
                    .await
                    .unwrap()
                    .id,
            )
            .await
            .unwrap()
            .into_iter()
            .find(|entry| entry.code == "CLOT")
            .unwrap();
        let deactivated = consultant
            .post(&format!("/comments/{}/deactivate", clot.id), &[])
            .await;
        let accession = booked(&app, &associate, &DANIEL, &["K"]).await;
        let refused = enter(
            &associate,
            &accession,
            &[("K", "4.2")],
            &[("comment_codes-K", "CLOT")],
        )
        .await;

        // Assert
        assert!(listed.contains("Sample haemolysed: potassium may be falsely raised"));
        assert_eq!(added.status(), StatusCode::SEE_OTHER);
        assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            duplicate
                .text()
                .await
                .unwrap()
                .contains(">Again</textarea>")
        );
        assert_eq!(deactivated.status(), StatusCode::SEE_OTHER);
        assert!(page(&consultant, "/comments").await.contains("Inactive"));
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            associate.get("/comments").await.status(),
            StatusCode::FORBIDDEN
        );
        let created = events(&app, "comment_code.create").await;
        assert!(
            created
                .iter()
                .any(|(_, after)| after.as_deref().unwrap().contains("Clotted sample"))
        );
        let changed = events(&app, "comment_code.deactivate").await;
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0.as_deref(), Some(clot.id.to_string().as_str()));
    }
);

both_engines!(egfr_uses_the_age_at_collection_not_at_entry, |app| {
    // Arrange: Simran Kaur (born 21 July 2012) is 17 when her specimen is
    // collected on 20 July 2030 and 18 when the creatinine is entered two
    // days later.
    app.clock.set("2030-07-20T09:00:00Z".parse().unwrap());
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = booked(&app, &associate, &SIMRAN, &["CREA", "EGFR"]).await;
    app.clock.set("2030-07-22T09:00:00Z".parse().unwrap());
    let associate = app.sign_in_demo("associate").await;

    // Act
    let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;

    // Assert: the age at collection (17) decides; no eGFR row.
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let results = results_of(&app, &accession).await;
    assert_eq!(results.len(), 1, "no eGFR row: {results:?}");
    let note = results[0].derived_comment.clone().unwrap();
    assert!(note.contains("aged 17"), "{note}");

    // A specimen collected on the 22nd, when she is 18, gets its eGFR.
    let accession = booked(&app, &associate, &SIMRAN, &["CREA", "EGFR"]).await;
    let response = enter(&associate, &accession, &[("CREA", "80")], &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(results_of(&app, &accession).await.len(), 2);
});
