//! Verification and authorisation (issue 3 item 6): enter → verify (by
//! someone else) → authorise (by a third person) on the pages and the API;
//! self-authorisation, verifying twice, authorising an unverified result and
//! authorising as an associate refused; amendment with a mandatory reason
//! that keeps the old version, marks the report amended and notifies; the
//! audit trail at each step; another department's result not found.

use benchwork_domain::request::AccessionNumber;
use benchwork_store::{AuditFilter, ResultRecord};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{DANIEL, api_post, book, enter, page, results_of, specimen_steps};
use crate::helpers::{Session, TestApp};

/// Books potassium for Daniel Hughes with `priority`, collects and receives
/// the specimen, and enters `value`; returns the accession number.
async fn resulted(
    app: &TestApp,
    session: &Session,
    priority: &str,
    value: &str,
) -> AccessionNumber {
    let accession = book(app, session, &DANIEL, priority, &["K"]).await;
    specimen_steps(session, &accession, &["collected", "received"]).await;
    let response = enter(session, &accession, &[("K", value)], &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    accession
}

async fn result_of(app: &TestApp, accession: &AccessionNumber) -> ResultRecord {
    results_of(app, accession).await.remove(0)
}

async fn event_types(app: &TestApp, id: &str) -> Vec<(String, String)> {
    app.seal().await;
    app.ctx
        .store
        .search_audit_events(
            &AuditFilter {
                entity_type: Some("Result".into()),
                entity_id: Some(id.into()),
                ..Default::default()
            },
            100,
            0,
        )
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|(_, event)| (event.event_type, event.actor_name))
        .collect()
}

both_engines!(
    a_result_is_entered_verified_and_authorised_by_different_people,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let scientist = app.sign_in_demo("scientist").await;
        let routine = resulted(&app, &associate, "routine", "4.2").await;
        let accession = resulted(&app, &associate, "urgent", "5.0").await;
        let id = result_of(&app, &accession).await.id.to_string();

        // The queue shows the urgent result first, with a Verify button on
        // its request page for the practitioner.
        let worklist = page(&practitioner, "/worklists").await;
        let queue = &worklist[worklist.find("id=\"to-verify-list\"").unwrap()..];
        let urgent_at = queue.find(&accession.to_string()).unwrap();
        assert!(urgent_at < queue.find(&routine.to_string()).unwrap());
        let shown = page(&practitioner, &format!("/requests/{accession}")).await;
        assert!(shown.contains("id=\"verify-K\""));
        assert!(!shown.contains("id=\"authorise-K\""));

        // Act + Assert: an associate cannot authorise; nobody can authorise
        // an unverified result.
        let response = associate
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = scientist
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(response.text().await.unwrap().contains("not been verified"));

        // The practitioner verifies; verifying twice is refused.
        let response = practitioner
            .post(&format!("/results/{id}/verify"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(result_of(&app, &accession).await.status, "verified");
        let response = associate.post(&format!("/results/{id}/verify"), &[]).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("already been verified")
        );

        // The verifier cannot authorise (no button, and refused).
        let shown = page(&practitioner, &format!("/requests/{accession}")).await;
        assert!(!shown.contains("id=\"authorise-K\""));
        let response = practitioner
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("You verified this result")
        );

        // A third person authorises and releases it.
        let worklist = page(&scientist, "/worklists").await;
        assert!(
            worklist[worklist.find("id=\"to-authorise-list\"").unwrap()..]
                .contains(&accession.to_string())
        );
        let shown = page(&scientist, &format!("/requests/{accession}")).await;
        assert!(shown.contains("id=\"authorise-K\""));
        let response = scientist
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(result_of(&app, &accession).await.status, "final");
        let shown = page(&associate, &format!("/requests/{accession}")).await;
        assert!(shown.contains("Verified by"));
        assert!(shown.contains("Authorised by"));
        let response = scientist
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);

        // Every step is in the audit trail, with who did it.
        let events = event_types(&app, &id).await;
        for (event_type, actor) in [
            ("result.enter", "associate"),
            ("result.verify", "practitioner"),
            ("result.authorise", "scientist"),
        ] {
            assert!(
                events
                    .iter()
                    .any(|event| event.0 == event_type && event.1 == actor),
                "{event_type} by {actor} in {events:?}"
            );
        }
        assert_eq!(
            events
                .iter()
                .filter(|event| event.0 == "result.authorise")
                .count(),
            2,
            "the refused self-authorisation is recorded too: {events:?}"
        );
    }
);

both_engines!(self_authorisation_is_refused_through_the_api, |app| {
    // Arrange: the scientist produces the result, the practitioner
    // verifies it.
    app.seed_demo().await;
    let scientist = app.sign_in_demo("scientist").await;
    let accession = resulted(&app, &scientist, "routine", "4.4").await;
    let id = result_of(&app, &accession).await.id.to_string();
    let practitioner = app.token_for("practitioner").await;
    let scientist = app.token_for("scientist").await;
    let consultant = app.token_for("consultant").await;
    let associate = app.token_for("associate").await;

    // Act + Assert
    let response = api_post(
        &app,
        &consultant,
        &format!("/api/v1/results/{id}/authorise"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = api_post(
        &app,
        &practitioner,
        &format!("/api/v1/results/{id}/verify"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "verified");
    let response = api_post(
        &app,
        &practitioner,
        &format!("/api/v1/results/{id}/verify"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = api_post(
        &app,
        &associate,
        &format!("/api/v1/results/{id}/authorise"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = api_post(
        &app,
        &scientist,
        &format!("/api/v1/results/{id}/authorise"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("you produced this result"),
        "{problem}"
    );
    assert_eq!(result_of(&app, &accession).await.status, "verified");
    let response = api_post(
        &app,
        &consultant,
        &format!("/api/v1/results/{id}/authorise"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "final");
    assert_eq!(result_of(&app, &accession).await.status, "final");
});

both_engines!(
    an_amendment_needs_a_reason_keeps_the_old_version_and_notifies,
    |app| {
        // Arrange: an authorised result.
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let consultant = app.sign_in_demo("consultant").await;
        let accession = resulted(&app, &associate, "routine", "4.2").await;
        let id = result_of(&app, &accession).await.id.to_string();
        let amend_path = format!("/results/{id}/amend");
        let accession_text = accession.to_string();

        // A result not yet released cannot be amended.
        let response = consultant
            .post(
                &amend_path,
                &[
                    ("accession", &accession_text),
                    ("value", "4.8"),
                    ("reason", "typo"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        practitioner
            .post(&format!("/results/{id}/verify"), &[])
            .await;
        let response = consultant
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let shown = page(&consultant, &format!("/requests/{accession}")).await;
        assert!(shown.contains("id=\"amend-K\""));
        assert!(!shown.contains("id=\"report-amended\""));

        // Act: no reason.
        let response = consultant
            .post(
                &amend_path,
                &[
                    ("accession", &accession_text),
                    ("value", "6.9"),
                    ("reason", " "),
                ],
            )
            .await;

        // Assert: refused next to the field, the value kept, nothing changed.
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Enter the reason for the amendment"),
            "{body}"
        );
        assert!(body.contains("value=\"6.9\""));
        let result = result_of(&app, &accession).await;
        assert_eq!(
            (result.value_text.as_str(), result.status.as_str()),
            ("4.2", "final")
        );
        // An impossible value is refused too.
        let response = consultant
            .post(
                &amend_path,
                &[
                    ("accession", &accession_text),
                    ("value", "-1"),
                    ("reason", "typo"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Act: with a reason.
        let response = consultant
            .post(
                &amend_path,
                &[
                    ("accession", &accession_text),
                    ("value", "6.9"),
                    ("reason", "transcription error: wrong sample"),
                ],
            )
            .await;

        // Assert: a new version, flagged again; the old one kept and shown.
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let result = result_of(&app, &accession).await;
        assert_eq!(result.value_text, "6.9");
        assert_eq!(result.status, "amended");
        assert_eq!(result.flag.as_deref(), Some("HH"));
        let shown = page(&associate, &format!("/requests/{accession}")).await;
        assert!(shown.contains("id=\"report-amended\""));
        let history = &shown[shown.find("id=\"history-K\"").unwrap()..];
        assert!(history.contains("Version 1: 4.2"));
        assert!(history.contains("transcription error: wrong sample"));
        assert!(shown.contains("Amended by"));

        // The department's practitioners are notified.
        let practitioner_user = app
            .ctx
            .store
            .get_user_by_username("practitioner")
            .await
            .unwrap();
        let inbox = app
            .ctx
            .store
            .list_notifications(practitioner_user.id, true, 50)
            .await
            .unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.title.contains("Amended result") && n.title.contains(&accession_text)),
            "{inbox:?}"
        );

        // Amended again through the API: version 3; both old versions kept.
        let token = app.token_for("scientist").await;
        let response = api_post(
            &app,
            &token,
            &format!("/api/v1/results/{id}/amend"),
            json!({"value": "7.0"}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let response = api_post(
            &app,
            &token,
            &format!("/api/v1/results/{id}/amend"),
            json!({"value": "5.1", "reason": "repeat analysis on a fresh aliquot"}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["status"].as_str(), body["version"].as_i64()),
            (Some("amended"), Some(3))
        );
        let shown = page(&associate, &format!("/requests/{accession}")).await;
        let history = &shown[shown.find("id=\"history-K\"").unwrap()..];
        assert!(history.contains("Version 1: 4.2"));
        assert!(history.contains("Version 2: 6.9"));
        let events = event_types(&app, &id).await;
        assert_eq!(
            events
                .iter()
                .filter(|event| event.0 == "result.amend")
                .count(),
            2,
            "{events:?}"
        );
    }
);

both_engines!(another_departments_result_is_not_found, |app| {
    // Arrange: a BLOOD result; a cardiac associate and practitioner.
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = resulted(&app, &associate, "routine", "4.2").await;
    let id = result_of(&app, &accession).await.id.to_string();
    crate::roles::create_person(
        &app,
        "cardiac.practitioner",
        benchwork_domain::staff::Role::Practitioner,
        &["CARDIAC"],
    )
    .await;
    let cardiac = app.sign_in_demo("cardiac.associate").await;
    let token = app.token_for("cardiac.practitioner").await;

    // Act + Assert
    let response = cardiac.post(&format!("/results/{id}/verify"), &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api_post(
        &app,
        &token,
        &format!("/api/v1/results/{id}/verify"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api_post(
        &app,
        &token,
        &format!("/api/v1/results/{id}/authorise"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let worklist = page(&cardiac, "/worklists").await;
    assert!(!worklist.contains(&accession.to_string()));
    assert_eq!(result_of(&app, &accession).await.status, "measured");
});
