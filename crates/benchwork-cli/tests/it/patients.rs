//! Patients: registration with NHS-number validation, search, audited
//! reads, positive identification and merging duplicates.

use benchwork_domain::audit::{AuditAction, AuditOutcome};
use benchwork_store::{AuditFilter, PatientSearch};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;

async fn patient_id(
    app: &TestApp,
    nhs_number: Option<&str>,
    hospital_number: Option<&str>,
) -> String {
    let found = app
        .ctx
        .store
        .search_patients(
            &PatientSearch {
                nhs_number: nhs_number.map(str::to_owned),
                hospital_number: hospital_number.map(str::to_owned),
                ..Default::default()
            },
            5,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{nhs_number:?} {hospital_number:?}");
    found[0].id.to_string()
}

async fn patient_events(app: &TestApp, id: &str) -> Vec<benchwork_domain::audit::AuditEvent> {
    let patient = benchwork_domain::ids::PatientId::parse(id).unwrap();
    app.ctx
        .store
        .search_audit_events(
            &AuditFilter {
                patient_id: Some(patient),
                ..Default::default()
            },
            1000,
            0,
        )
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|(_, event)| event)
        .collect()
}

both_engines!(a_patient_is_registered_with_a_checked_nhs_number, |app| {
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    // A wrong check digit, a future date of birth and no sex: each named,
    // and what was typed is kept.
    let response = associate
        .post(
            "/patients",
            &[
                ("nhs_number", "943 476 5910"),
                ("family_name", "Smith"),
                ("given_name", "Jo"),
                ("date_of_birth", "01/01/2099"),
                ("sex", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("nhsuk-error-summary"));
    assert!(page.contains("check digit is wrong"), "{page}");
    assert!(page.contains("href=\"#date_of_birth\""));
    assert!(page.contains("href=\"#sex\""));
    assert!(
        page.contains("value=\"943 476 5910\""),
        "the NHS number typed is kept"
    );
    assert!(page.contains("value=\"Smith\""));

    // Valid: registered, shown as 3-3-4, and audited with the patient's id.
    let response = associate
        .post(
            "/patients",
            &[
                ("nhs_number", "9434765919"),
                ("hospital_number", "H123456"),
                ("family_name", "Smith"),
                ("given_name", "Jo"),
                ("date_of_birth", "31/03/1980"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let page = associate.get(&location).await.text().await.unwrap();
    assert!(page.contains("943 476 5919"));
    assert!(page.contains("SMITH, Jo"));
    assert!(page.contains("31/03/1980"));
    let id = location.trim_start_matches("/patients/").to_owned();
    app.seal().await;
    let events = patient_events(&app, &id).await;
    assert!(
        events
            .iter()
            .any(|event| event.event_type == "patient.register"
                && event.action == AuditAction::Create)
    );
    assert!(
        events
            .iter()
            .any(|event| event.event_type == "patient.read" && event.actor_name == "associate")
    );

    // The same NHS number again is refused next to the field.
    let response = associate
        .post(
            "/patients",
            &[
                ("nhs_number", "943-476-5919"),
                ("family_name", "Smyth"),
                ("given_name", "Jo"),
                ("date_of_birth", "31/03/1980"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("already registered")
    );
    // A patient needs an identifier besides name and date of birth.
    let response = associate
        .post(
            "/patients",
            &[
                ("family_name", "Doe"),
                ("given_name", "Alex"),
                ("date_of_birth", "1990-01-01"),
                ("sex", "other"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

both_engines!(
    patients_are_found_by_identifier_or_by_name_and_date_of_birth,
    |app| {
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let by_nhs = associate
            .get("/patients?nhs_number=999+000+0018")
            .await
            .text()
            .await
            .unwrap();
        assert!(by_nhs.contains("OKAFOR, Grace"), "{by_nhs}");
        let by_hospital = associate
            .get("/patients?hospital_number=RX1000004")
            .await
            .text()
            .await
            .unwrap();
        assert!(by_hospital.contains("NOWAK, Piotr"));
        let by_name = associate
            .get("/patients?family_name=hughes&date_of_birth=02%2F11%2F1988")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            by_name.contains("2 patients found"),
            "both Daniel Hughes records: {by_name}"
        );
        // Browsing by name alone is refused (minimum necessary).
        let response = associate.get("/patients?family_name=hughes").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("family name and date of birth together")
        );
        // Every patient shown was recorded as read.
        app.seal().await;
        let okafor = patient_id(&app, Some("9990000018"), None).await;
        assert!(
            patient_events(&app, &okafor)
                .await
                .iter()
                .any(|event| event.event_type == "patient.search"
                    && event.action == AuditAction::Read
                    && event.actor_name == "associate")
        );
    }
);

both_engines!(
    identity_needs_two_matching_identifiers_and_no_contradiction,
    |app| {
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let id = patient_id(&app, Some("9990000042"), None).await;
        let path = format!("/patients/{id}/confirm");
        // NHS number and date of birth match.
        let response = associate
            .post(
                &path,
                &[
                    ("nhs_number", "9990000042"),
                    ("date_of_birth", "30/01/1971"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("id=\"identity-confirmed\"")
        );
        // One identifier is not enough.
        let response = associate
            .post(&path, &[("date_of_birth", "30/01/1971")])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Two match but the name contradicts the record: refused.
        let response = associate
            .post(
                &path,
                &[
                    ("nhs_number", "9990000042"),
                    ("date_of_birth", "30/01/1971"),
                    ("family_name", "Novak"),
                    ("given_name", "Piotr"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("nhsuk-error-summary")
        );
        app.seal().await;
        let checks: Vec<_> = patient_events(&app, &id)
            .await
            .into_iter()
            .filter(|event| event.event_type == "patient.identity-check")
            .collect();
        assert_eq!(checks.len(), 3);
        assert_eq!(
            checks
                .iter()
                .filter(|event| event.outcome == AuditOutcome::MinorFailure)
                .count(),
            2
        );
    }
);

both_engines!(a_duplicate_is_merged_and_both_histories_are_kept, |app| {
    app.seed_demo().await;
    let survivor = patient_id(&app, Some("9990000026"), None).await;
    let duplicate = patient_id(&app, None, Some("RX1000099")).await;
    // An associate may not merge (hazard H01).
    let associate = app.sign_in_demo("associate").await;
    let response = associate
        .post(
            &format!("/patients/{duplicate}/merge"),
            &[("survivor", &survivor), ("reason", "same person")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A practitioner must say why.
    let practitioner = app.sign_in_demo("practitioner").await;
    let response = practitioner
        .post(
            &format!("/patients/{duplicate}/merge"),
            &[("survivor", &survivor), ("reason", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Records with different NHS numbers are different people.
    let other = patient_id(&app, Some("9990000042"), None).await;
    let response = practitioner
        .post(
            &format!("/patients/{survivor}/merge"),
            &[("survivor", &other), ("reason", "typo")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("different NHS numbers")
    );

    let response = practitioner
        .post(
            &format!("/patients/{duplicate}/merge"),
            &[
                ("survivor", &survivor),
                (
                    "reason",
                    "Same name, date of birth and address; registered twice at ED",
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let survivor_page = practitioner
        .get(&format!("/patients/{survivor}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(survivor_page.contains("Records merged into this one"));
    assert!(survivor_page.contains("RX1000099"));
    let duplicate_page = practitioner
        .get(&format!("/patients/{duplicate}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(duplicate_page.contains("id=\"merged-notice\""));
    // The merged record is kept but no longer changed or merged again.
    let response = practitioner
        .post(
            &format!("/patients/{duplicate}/edit"),
            &[
                ("hospital_number", "RX1000099"),
                ("family_name", "Hughes"),
                ("given_name", "Dan"),
                ("date_of_birth", "1988-11-02"),
                ("sex", "male"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = practitioner
        .post(
            &format!("/patients/{duplicate}/merge"),
            &[("survivor", &other), ("reason", "again")],
        )
        .await;
    assert!(response.status().is_client_error());
    // Searching by the duplicate's hospital number still finds it, marked merged.
    let found = practitioner
        .get("/patients?hospital_number=RX1000099")
        .await
        .text()
        .await
        .unwrap();
    assert!(found.contains("Merged"));
    app.seal().await;
    let merges: Vec<_> = patient_events(&app, &duplicate)
        .await
        .into_iter()
        .filter(|event| event.event_type == "patient.merge")
        .collect();
    assert_eq!(merges.len(), 1);
    assert!(
        merges[0]
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("registered twice")
    );
    assert!(merges[0].before.is_some() && merges[0].after.is_some());
});

both_engines!(patients_through_the_api, |app| {
    app.seed_demo().await;
    let token = app.token_for("associate").await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/patients", app.address))
        .bearer_auth(&token)
        .json(&json!({
            "nhs_number": "9990000050", "hospital_number": "RX2000001", "hospital_authority": "RX1",
            "family_name": "O'Brien", "given_name": "Siobhán", "date_of_birth": "1966-06-06", "sex": "female"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["reference_sex"], "female");
    assert_eq!(created["identifiers"][0]["value"], "RX2000001");
    let id = created["id"].as_str().unwrap().to_owned();
    let found: Value = client
        .get(format!(
            "{}/api/v1/patients?family_name=o%27brien&date_of_birth=1966-06-06",
            app.address
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let check = client
        .post(format!("{}/api/v1/patients/{id}/identity-check", app.address))
        .bearer_auth(&token)
        .json(&json!({"hospital_number": "RX2000001", "family_name": "O’Brien", "given_name": "Siobhán"}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), StatusCode::OK);
    let bad = client
        .post(format!("{}/api/v1/patients", app.address))
        .bearer_auth(&token)
        .json(&json!({"nhs_number": "1234567890", "family_name": "X", "given_name": "Y", "date_of_birth": "1990-01-01", "sex": "male"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "nhs_number");
    // An auditor may read but not register.
    let auditor = app.token_for("auditor").await;
    let read = client
        .get(format!("{}/api/v1/patients/{id}", app.address))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let refused = client
        .post(format!("{}/api/v1/patients", app.address))
        .bearer_auth(&auditor)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
});
