//! Alert (critical) limits (issue 6 item 1): the approved version decides
//! the critical limits copied into a result at entry, for the patient's age
//! at collection and the request's setting; a proposal changes nothing until
//! a clinical lead other than the proposer approves it; bad limits are
//! refused with the entry kept and nothing stored.

use benchwork_domain::request::AccessionNumber;
use benchwork_store::ResultRecord;
use reqwest::StatusCode;

use crate::both_engines;
use crate::flow::{DANIEL, SIMRAN, patient_id, results_of, specimen_steps};
use crate::helpers::{Session, TestApp, client};
use crate::roles::location;

/// Books `code` through the form for the patient, from `setting` (empty:
/// not chosen), moves the specimen to received and enters `value`; returns
/// the result.
async fn result_for(
    app: &TestApp,
    identity: &[(&'static str, &'static str); 2],
    setting: &str,
    code: &str,
    value: &str,
) -> (AccessionNumber, ResultRecord) {
    let associate = &app.sign_in_demo("associate").await;
    let patient = patient_id(app, identity[0].1).await;
    let mut fields: Vec<(&str, &str)> = identity.to_vec();
    fields.extend([
        ("priority", "routine"),
        ("requester_name", "Dr A Patel"),
        ("requester_code", "C1234567"),
        ("location", "Ward 7"),
        ("setting", setting),
        ("investigations", code),
    ]);
    let response = associate
        .post(&format!("/patients/{patient}/requests"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let accession =
        AccessionNumber::parse(location(&response).strip_prefix("/requests/").unwrap()).unwrap();
    specimen_steps(associate, &accession, &["collected", "received"]).await;
    let field = format!("value-{code}");
    let response = associate
        .post(
            &format!("/requests/{accession}/results"),
            &[("code", code), (field.as_str(), value)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{code} {value}");
    let result = results_of(app, &accession).await.remove(0);
    (accession, result)
}

/// The proposal form for potassium with one limit row.
fn potassium_proposal(low: &'static str, high: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("unit", "mmol/L"),
        ("population-1", "any"),
        ("setting-1", "any"),
        ("low-1", low),
        ("high-1", high),
        ("uln_multiple-1", ""),
        ("category-1", "urgent"),
        ("source", "Local critical results policy"),
        ("source_version", "v4, December 2026"),
        ("note", "Raise the low limit"),
    ]
}

async fn versions(app: &TestApp, code: &str) -> Vec<benchwork_store::AlertLimitSetRecord> {
    let investigation = app.ctx.store.get_investigation_by_code(code).await.unwrap();
    app.ctx
        .store
        .alert_limit_sets_of(investigation.investigation_id)
        .await
        .unwrap()
}

async fn count_events(app: &TestApp, event_type: &str) -> usize {
    let filter = benchwork_store::AuditFilter {
        entity_type: Some("AlertLimits".into()),
        ..Default::default()
    };
    app.ctx
        .store
        .search_audit_events(&filter, 1000, 0)
        .await
        .unwrap()
        .events
        .iter()
        .filter(|(_, event)| event.event_type == event_type)
        .count()
}

both_engines!(
    a_critical_potassium_in_an_adult_is_flagged_ll_with_category_urgent,
    |app| {
        // Arrange
        app.seed_demo().await;

        // Act
        let (_, low) = result_for(&app, &DANIEL, "", "K", "2.4").await;
        let (_, at_limit) = result_for(&app, &DANIEL, "", "K", "6.5").await;
        let (_, normal) = result_for(&app, &DANIEL, "", "K", "4.2").await;

        // Assert: LL from the approved demo limits (version 1), inclusive as
        // written, with the category; a normal value carries the limits but no
        // category.
        assert_eq!(low.flag.as_deref(), Some("LL"));
        assert_eq!(
            (low.critical_low, low.critical_high),
            (Some(2.5), Some(6.5))
        );
        assert_eq!(low.alert_limit_version, Some(1));
        assert_eq!(low.critical_category.as_deref(), Some("urgent"));
        assert_eq!(at_limit.flag.as_deref(), Some("HH"));
        assert_eq!(at_limit.critical_category.as_deref(), Some("urgent"));
        assert_eq!(normal.flag.as_deref(), Some("N"));
        assert_eq!(normal.critical_category, None);
        assert_eq!(normal.alert_limit_version, Some(1));
    }
);

both_engines!(
    a_sodium_of_125_is_critical_for_a_child_but_not_for_an_adult,
    |app| {
        // Arrange
        app.seed_demo().await;

        // Act
        let (_, child) = result_for(&app, &SIMRAN, "", "NA", "125").await;
        let (_, adult) = result_for(&app, &DANIEL, "", "NA", "125").await;
        let (_, adult_critical) = result_for(&app, &DANIEL, "", "NA", "120").await;

        // Assert: the child's limit is 130, the adult's 120; the high limit of
        // 160 applies to both.
        assert_eq!(child.flag.as_deref(), Some("LL"));
        assert_eq!(
            (child.critical_low, child.critical_high),
            (Some(130.0), Some(160.0))
        );
        assert_eq!(adult.flag.as_deref(), Some("L"));
        assert_eq!(
            (adult.critical_low, adult.critical_high),
            (Some(120.0), Some(160.0))
        );
        assert_eq!(adult.critical_category, None);
        assert_eq!(adult_critical.flag.as_deref(), Some("LL"));
    }
);

both_engines!(
    a_crp_of_320_is_critical_for_a_primary_care_request_only,
    |app| {
        // Arrange
        app.seed_demo().await;

        // Act
        let (accession, primary) = result_for(&app, &DANIEL, "primary-care", "CRP", "320").await;
        let (_, ward) = result_for(&app, &DANIEL, "inpatient", "CRP", "320").await;
        let (_, not_stated) = result_for(&app, &DANIEL, "", "CRP", "320").await;

        // Assert
        assert_eq!(primary.flag.as_deref(), Some("HH"));
        assert_eq!(primary.critical_high, Some(300.0));
        assert_eq!(primary.critical_category.as_deref(), Some("urgent"));
        for hospital in [&ward, &not_stated] {
            assert_eq!(hospital.flag.as_deref(), Some("H"));
            assert_eq!(hospital.critical_high, None);
        }
        let associate = app.sign_in_demo("associate").await;
        let page = associate
            .get(&format!("/requests/{accession}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Primary care (GP)"),
            "the request shows its setting"
        );
    }
);

both_engines!(
    an_alt_limit_of_15_times_the_upper_limit_is_resolved_at_entry,
    |app| {
        // Arrange
        app.seed_demo().await;

        // Act: the adult ALT upper reference limit is 40 U/L.
        let (_, at_limit) = result_for(&app, &DANIEL, "", "ALT", "600").await;
        let (_, below) = result_for(&app, &DANIEL, "", "ALT", "599").await;

        // Assert
        assert_eq!(at_limit.critical_high, Some(600.0));
        assert_eq!(at_limit.flag.as_deref(), Some("HH"));
        assert_eq!(below.flag.as_deref(), Some("H"));
    }
);

both_engines!(
    a_proposal_needs_a_clinical_lead_other_than_the_proposer,
    |app| {
        // Arrange
        app.seed_demo().await;
        let scientist = app.sign_in_demo("scientist").await;

        // Act: the scientist proposes a low limit of 3.0 mmol/L.
        let response = scientist
            .post("/alert-limits/K/propose", &potassium_proposal("3.0", "6.5"))
            .await;

        // Assert: version 2, not approved, not used: 2.9 is low, not critical.
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let stored = versions(&app, "K").await;
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].version, 2);
        assert!(stored[0].approved_at.is_none());
        assert_eq!(count_events(&app, "alert_limits.proposed").await, 13);
        let (_, before) = result_for(&app, &DANIEL, "", "K", "2.9").await;
        assert_eq!(before.flag.as_deref(), Some("L"));
        assert_eq!(before.alert_limit_version, Some(1));
        let page = scientist.get("/alert-limits/K").await.text().await.unwrap();
        assert!(page.contains("Version 2: Waiting for approval: not used"));
        assert!(
            !page.contains("id=\"approve-2\""),
            "no approve button for the proposer"
        );

        // Act: the proposer, then an associate, try to approve.
        let by_proposer = scientist
            .post("/alert-limits/K/versions/2/approve", &[])
            .await;
        let associate = app.sign_in_demo("associate").await;
        let by_associate = associate
            .post("/alert-limits/K/versions/2/approve", &[])
            .await;
        let token = app.token_for("scientist").await;
        let by_api = client()
            .post(format!(
                "{}/api/v1/alert-limits/K/versions/2/approve",
                app.address
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();

        // Assert: refused, nothing approved.
        assert_eq!(by_proposer.status(), StatusCode::FORBIDDEN);
        assert_eq!(by_associate.status(), StatusCode::FORBIDDEN);
        assert_eq!(by_api.status(), StatusCode::FORBIDDEN);
        assert!(versions(&app, "K").await[0].approved_at.is_none());

        // Act: the consultant approves.
        let consultant = app.sign_in_demo("consultant").await;
        let page = consultant
            .get("/alert-limits/K")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"approve-2\""));
        let response = consultant
            .post("/alert-limits/K/versions/2/approve", &[])
            .await;

        // Assert: in force from now on, audited; 2.9 is now critical.
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let stored = versions(&app, "K").await;
        assert_eq!(
            stored[0].approved_by_name.as_deref(),
            Some(consultant_name(&app).await.as_str())
        );
        assert_eq!(count_events(&app, "alert_limits.approved").await, 13);
        let (_, after) = result_for(&app, &DANIEL, "", "K", "2.9").await;
        assert_eq!(after.flag.as_deref(), Some("LL"));
        assert_eq!(after.alert_limit_version, Some(2));
        assert_eq!(after.critical_low, Some(3.0));
        let again = consultant
            .post("/alert-limits/K/versions/2/approve", &[])
            .await;
        assert_eq!(again.status(), StatusCode::CONFLICT);

        // The API shows the same.
        let body: serde_json::Value = client()
            .get(format!("{}/api/v1/alert-limits/K", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["in_force"], 2);
        assert_eq!(body["versions"][0]["limits"][0]["low"], 3.0);
    }
);

async fn consultant_name(app: &TestApp) -> String {
    app.ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap()
        .display_name
}

async fn refused(session: &Session, path: &str, fields: &[(&str, &str)]) -> String {
    let response = session.post(path, fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    response.text().await.unwrap()
}

both_engines!(bad_alert_limits_are_refused_with_the_entry_kept, |app| {
    // Arrange
    app.seed_demo().await;
    let scientist = app.sign_in_demo("scientist").await;

    // Act: low above high, a different unit, no source.
    let mut fields = potassium_proposal("7", "2");
    fields[0] = ("unit", "mg/dL");
    fields[7] = ("source", "");
    let page = refused(&scientist, "/alert-limits/K/propose", &fields).await;

    // Assert: each problem in the error summary and beside its field, the
    // entry kept, nothing stored.
    assert!(page.contains("There is a problem"));
    for field in ["low-1", "unit", "source"] {
        assert!(page.contains(&format!("href=\"#{field}\"")), "{field}");
    }
    assert!(page.contains("the critical low (7) must be below the critical high (2)"));
    assert!(page.contains("write the limits in mmol/L"));
    assert!(page.contains("value=\"mg/dL\""));
    assert!(page.contains("value=\"7\""));
    assert_eq!(versions(&app, "K").await.len(), 1);

    // Act: a multiple of the upper limit for an investigation without one
    // (FEV1/FVC has a lower limit only).
    let page = refused(
        &scientist,
        "/alert-limits/FEV1-FVC/propose",
        &[
            ("unit", "%"),
            ("population-1", "any"),
            ("setting-1", "any"),
            ("uln_multiple-1", "2"),
            ("category-1", "urgent"),
            ("source", "Local policy"),
            ("source_version", "v1"),
        ],
    )
    .await;

    // Assert
    assert!(page.contains("href=\"#uln_multiple-1\""));
    assert!(page.contains("has no upper reference limit"));
    assert!(versions(&app, "FEV1-FVC").await.is_empty());
    let none = scientist
        .get("/alert-limits/FEV1-FVC")
        .await
        .text()
        .await
        .unwrap();
    assert!(none.contains("has no approved alert limits: its results are never flagged critical"));

    // Act: the same through the API.
    let token = app.token_for("scientist").await;
    let response = client()
        .post(format!("{}/api/v1/alert-limits/K", app.address))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "unit": "mmol/L",
            "limits": [{"population": "any", "setting": "any", "low": 7.0, "high": 2.0, "category": "urgent"}],
            "source": "Local policy",
            "source_version": "v1"
        }))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(versions(&app, "K").await.len(), 1);
    assert_eq!(count_events(&app, "alert_limits.proposed").await, 12);
});

both_engines!(
    an_amended_value_is_flagged_with_the_limits_copied_into_the_result,
    |app| {
        // Arrange: a CRP of 320 on a ward request is H (the CRP critical
        // limit applies to primary-care requests only), and is released.
        app.seed_demo().await;
        let (accession, ward) = result_for(&app, &DANIEL, "inpatient", "CRP", "320").await;
        let (primary_accession, primary) =
            result_for(&app, &DANIEL, "primary-care", "CRP", "320").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let consultant = app.sign_in_demo("consultant").await;
        for result in [&ward, &primary] {
            let id = result.id;
            practitioner
                .post(&format!("/results/{id}/verify"), &[])
                .await;
            let response = consultant
                .post(&format!("/results/{id}/authorise"), &[])
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        }

        // Act: both amended to 330.
        for (result, accession) in [(&ward, &accession), (&primary, &primary_accession)] {
            let accession = accession.to_string();
            let response = consultant
                .post(
                    &format!("/results/{}/amend", result.id),
                    &[
                        ("accession", accession.as_str()),
                        ("value", "330"),
                        ("reason", "transcription error"),
                    ],
                )
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        }

        // Assert: the ward value stays H, the primary-care value stays HH.
        let ward_after = results_of(&app, &accession)
            .await
            .into_iter()
            .find(|result| result.code == "CRP")
            .unwrap();
        assert_eq!(ward_after.value_text, "330");
        assert_eq!(ward_after.flag.as_deref(), Some("H"));
        let primary_after = results_of(&app, &primary_accession)
            .await
            .into_iter()
            .find(|result| result.code == "CRP")
            .unwrap();
        assert_eq!(primary_after.flag.as_deref(), Some("HH"));
    }
);
