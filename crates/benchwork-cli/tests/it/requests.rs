//! Consent, requests and specimens: booking in after positive
//! identification and the consent check, accession numbers and specimen
//! ids, the chain of custody, rejection with its notification and rate,
//! department scoping and the audit trail.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::PatientId;
use benchwork_domain::request::AccessionNumber;
use benchwork_store::{AuditFilter, PatientSearch};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{Session, TestApp, client};
use crate::roles::location;

/// Daniel Hughes, a demo patient with no demo requests.
const NHS_NUMBER: &str = "9990000026";
const DATE_OF_BIRTH: &str = "02/11/1988";

async fn patient_id(app: &TestApp, nhs_number: &str) -> PatientId {
    app.ctx
        .store
        .search_patients(
            &PatientSearch {
                nhs_number: Some(nhs_number.into()),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap()
        .remove(0)
        .id
}

async fn n_requests(app: &TestApp) -> usize {
    let consultant = app
        .ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap();
    app.ctx
        .store
        .list_requests(consultant.id, 1000)
        .await
        .unwrap()
        .len()
}

async fn events_of(app: &TestApp, patient: PatientId) -> Vec<AuditEvent> {
    app.seal().await;
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

/// Books a request through the form; returns the response.
async fn book(
    session: &Session,
    patient: PatientId,
    identity: &[(&'static str, &'static str)],
    investigations: &[&str],
) -> reqwest::Response {
    let mut fields: Vec<(&str, &str)> = identity.to_vec();
    fields.extend([
        ("priority", "urgent"),
        ("requester_name", "Dr A Patel"),
        ("requester_code", "C1234567"),
        ("location", "Ward 7"),
        ("clinical_details", "Chest pain"),
    ]);
    for investigation in investigations {
        fields.push(("investigations", investigation));
    }
    session
        .post(&format!("/patients/{patient}/requests"), &fields)
        .await
}

const IDENTITY: [(&str, &str); 2] = [("nhs_number", NHS_NUMBER), ("date_of_birth", DATE_OF_BIRTH)];

/// Books U&E, haemoglobin, CRP and an ECG PR interval; returns the accession.
async fn book_standard(app: &TestApp, session: &Session) -> AccessionNumber {
    let patient = patient_id(app, NHS_NUMBER).await;
    let response = book(
        session,
        patient,
        &IDENTITY,
        &["panel:UE", "HB", "CRP", "PR"],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    AccessionNumber::parse(to.strip_prefix("/requests/").expect("to the request page"))
        .expect("an accession number")
}

both_engines!(a_request_is_booked_only_after_the_identity_check, |app| {
    // Arrange
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let patient = patient_id(&app, NHS_NUMBER).await;
    let page = associate.get(&format!("/patients/{patient}")).await;
    assert!(page.text().await.unwrap().contains("Book in a request"));
    let form = associate
        .get(&format!("/patients/{patient}/requests/new"))
        .await;
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(form.contains("Urea and electrolytes"));
    assert!(form.contains("Cardiac physiology"));
    let n_before = n_requests(&app).await;

    // Act: a contradicting date of birth.
    let response = book(
        &associate,
        patient,
        &[("nhs_number", NHS_NUMBER), ("date_of_birth", "03/11/1988")],
        &["panel:UE"],
    )
    .await;

    // Assert: refused, what was typed kept, nothing stored.
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("nhsuk-error-summary"), "{page}");
    assert!(page.contains("value=\"03/11/1988\""));
    assert!(page.contains("value=\"C1234567\""));
    assert_eq!(n_requests(&app).await, n_before);

    // Missing fields are each named.
    let response = associate
        .post(
            &format!("/patients/{patient}/requests"),
            &[("nhs_number", NHS_NUMBER), ("date_of_birth", DATE_OF_BIRTH)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    for field in ["priority", "requester_name", "location", "investigations"] {
        assert!(page.contains(&format!("href=\"#{field}\"")), "{field}");
    }
    assert_eq!(n_requests(&app).await, n_before);

    // Act: the identifiers match.
    let accession = book_standard(&app, &associate).await;

    // Assert: one specimen per specimen type and container, none for the ECG.
    assert!(accession.to_string().starts_with("BW"));
    assert_eq!(n_requests(&app).await, n_before + 1);
    let page = associate
        .get(&format!("/requests/{accession}"))
        .await
        .text()
        .await
        .unwrap();
    let serum = accession.specimen_id(1);
    let edta = accession.specimen_id(2);
    assert!(page.contains(&serum), "{page}");
    assert!(page.contains(&edta));
    assert!(!page.contains(&accession.specimen_id(3)));
    assert!(page.contains("No specimen"));
    assert!(page.contains("Potassium"));
    assert!(page.contains("Urgent"));
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
    let items = app.ctx.store.list_request_items(request.id).await.unwrap();
    assert_eq!(
        items.len(),
        8,
        "five U&E members (eGFR included), HB, CRP and PR"
    );
    assert_eq!(
        items
            .iter()
            .filter(|item| item.specimen_code.as_deref() == Some(serum.as_str()))
            .count(),
        6
    );

    // The next booking gets the next number.
    let next = book_standard(&app, &associate).await;
    assert_ne!(next, accession);
    assert!(next > accession);

    // Audited: the identity checks (one failed), the bookings and the reads.
    let events = events_of(&app, patient).await;
    let count = |event_type: &str| {
        events
            .iter()
            .filter(|event| event.event_type == event_type)
            .count()
    };
    assert_eq!(count("request.book"), 2);
    assert!(count("patient.identity-check") >= 3);
    assert!(count("request.read") >= 1);
    assert!(events.iter().any(|event| {
        event.event_type == "request.book"
            && event.entity_id.as_deref() == Some(accession.to_string().as_str())
            && event
                .after
                .as_deref()
                .is_some_and(|after| after.contains(&serum))
    }));
});

both_engines!(refused_consent_stops_booking_with_a_message, |app| {
    // Arrange: an investigation that needs consent.
    app.seed_demo().await;
    let consultant = benchwork_app::auth::actor_from(
        &app.ctx
            .store
            .get_user_by_username("consultant")
            .await
            .unwrap(),
        None,
    )
    .unwrap();
    let mut input = benchwork_app::demo::demo_investigation_input(
        benchwork_app::demo::DEMO_CATALOGUE
            .iter()
            .find(|row| row.code == "HBA1C")
            .unwrap(),
    );
    input.code = "GENE".into();
    input.name = "Genetic test (demo)".into();
    input.loinc = String::new();
    input.consent_required = true;
    benchwork_app::catalogue::create(&app.ctx, &consultant, &input)
        .await
        .unwrap();
    let associate = app.sign_in_demo("associate").await;
    let patient = patient_id(&app, NHS_NUMBER).await;
    let n_before = n_requests(&app).await;

    // No consent recorded: refused, saying what to do.
    let response = book(&associate, patient, &IDENTITY, &["GENE", "K"]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("needs consent and none is recorded"),
        "{page}"
    );
    assert_eq!(n_requests(&app).await, n_before);

    // Refused consent.
    let consent = |status: &'static str| {
        [
            ("investigation", "GENE"),
            ("consent_status", status),
            ("method", "verbal"),
            ("given_by", "patient"),
        ]
    };
    let response = associate
        .post(&format!("/patients/{patient}/consent"), &consent("refused"))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = associate
        .get(&format!("/patients/{patient}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Refused"));
    assert!(page.contains("Verbal"));
    let response = book(&associate, patient, &IDENTITY, &["GENE"]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("consent is refused"), "{page}");
    assert!(page.contains("do not proceed"));
    assert_eq!(n_requests(&app).await, n_before);

    // Consent for an investigation that does not need it is refused.
    let mut other = consent("given");
    other[0].1 = "K";
    let response = associate
        .post(&format!("/patients/{patient}/consent"), &other)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Given, then withdrawn: the latest decision wins.
    associate
        .post(&format!("/patients/{patient}/consent"), &consent("given"))
        .await;
    let response = book(&associate, patient, &IDENTITY, &["GENE"]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    associate
        .post(
            &format!("/patients/{patient}/consent"),
            &consent("withdrawn"),
        )
        .await;
    let response = book(&associate, patient, &IDENTITY, &["GENE"]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("withdrawn"));
    assert_eq!(n_requests(&app).await, n_before + 1);

    // History is kept, and each decision audited.
    assert_eq!(app.ctx.store.list_consents(patient).await.unwrap().len(), 3);
    let events = events_of(&app, patient).await;
    assert_eq!(
        events
            .iter()
            .filter(|event| event.event_type == "consent.record")
            .count(),
        3
    );
});

both_engines!(the_chain_of_custody_refuses_a_step_out_of_order, |app| {
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = book_standard(&app, &associate).await;
    let serum = accession.specimen_id(1);
    let path = format!("/specimens/{serum}/events");

    // The specimen page shows the label and the next step.
    let page = associate
        .get(&format!("/specimens/{serum}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "{page}");
    assert!(page.contains("id=\"step-collected\""));
    assert!(!page.contains("id=\"step-received\""));

    // Received before collected is refused.
    let response = associate.post(&path, &[("step", "received")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("cannot be marked Received")
    );

    for step in [
        "collected",
        "received",
        "accepted",
        "in-process",
        "stored",
        "disposed",
    ] {
        let response = associate.post(&path, &[("step", step)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{step}");
    }
    let response = associate.post(&path, &[("step", "stored")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let page = associate
        .get(&format!("/specimens/{serum}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Disposed"));
    let specimen = app
        .ctx
        .store
        .get_specimen(
            &serum,
            app.ctx
                .store
                .get_user_by_username("associate")
                .await
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    let steps = app
        .ctx
        .store
        .list_specimen_events(specimen.id)
        .await
        .unwrap();
    assert_eq!(steps.len(), 7, "expected plus six steps");
    assert!(steps.iter().all(|step| !step.by_name.is_empty()));

    // Each step is audited against the patient.
    let events = events_of(&app, specimen.patient_id).await;
    for step in [
        "collected",
        "received",
        "accepted",
        "in-process",
        "stored",
        "disposed",
    ] {
        assert!(
            events
                .iter()
                .any(|event| event.event_type == format!("specimen.{step}")
                    && event.entity_id.as_deref() == Some(serum.as_str())),
            "{step}"
        );
    }
});

both_engines!(a_rejection_needs_a_reason_notifies_and_counts, |app| {
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = book_standard(&app, &associate).await;
    let edta = accession.specimen_id(2);
    let path = format!("/specimens/{edta}/events");
    for step in ["collected", "received"] {
        assert_eq!(
            associate.post(&path, &[("step", step)]).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let response = associate.post(&path, &[("step", "rejected")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("href=\"#reason\""));
    let response = associate
        .post(
            &path,
            &[
                ("step", "rejected"),
                ("reason", "other"),
                ("reason_text", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = associate
        .post(
            &path,
            &[
                ("step", "rejected"),
                ("reason", "clotted"),
                ("reason_text", "Clot seen on inversion"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = associate
        .get(&format!("/specimens/{edta}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Clotted: Clot seen on inversion"), "{page}");
    // A rejected specimen cannot be accepted afterwards.
    let response = associate.post(&path, &[("step", "accepted")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The department's practitioners are told.
    let practitioner = app
        .ctx
        .store
        .get_user_by_username("practitioner")
        .await
        .unwrap();
    let inbox = app
        .ctx
        .store
        .list_notifications(practitioner.id, false, 50)
        .await
        .unwrap();
    assert!(
        inbox
            .iter()
            .any(|notification| notification.title.contains(&edta)
                && notification.title.contains("Clotted")),
        "{inbox:?}"
    );
    let cardiac = app
        .ctx
        .store
        .get_user_by_username("cardiac.associate")
        .await
        .unwrap();
    assert!(
        app.ctx
            .store
            .list_notifications(cardiac.id, false, 50)
            .await
            .unwrap()
            .iter()
            .all(|notification| !notification.title.contains(&edta))
    );

    // The demo received one specimen; this one was received and rejected.
    let page = associate.get("/requests").await.text().await.unwrap();
    assert!(page.contains("50.0%"), "{page}");
    assert!(page.contains(&accession.to_string()));
    // After 30 days the steps no longer count (asked of the action: the
    // session would have timed out).
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 31));
    let actor = benchwork_app::auth::actor_from(
        &app.ctx
            .store
            .get_user_by_username("associate")
            .await
            .unwrap(),
        None,
    )
    .unwrap();
    let (_, rates) = benchwork_app::requests::list(&app.ctx, &actor)
        .await
        .unwrap();
    assert!(rates.iter().all(|rate| rate.n_received == 0), "{rates:?}");
    assert_eq!(rates[0].percent(), "no specimens received");

    let events = events_of(&app, patient_id(&app, NHS_NUMBER).await).await;
    assert!(events.iter().any(|event| {
        event.event_type == "specimen.rejected"
            && event
                .after
                .as_deref()
                .is_some_and(|after| after.contains("clotted"))
    }));
});

both_engines!(another_departments_request_is_not_found, |app| {
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let accession = book_standard(&app, &associate).await;
    let serum = accession.specimen_id(1);
    let cardiac = app.sign_in_demo("cardiac.associate").await;
    for path in [
        format!("/requests/{accession}"),
        format!("/specimens/{serum}"),
    ] {
        assert_eq!(
            cardiac.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let response = cardiac
        .post(
            &format!("/specimens/{serum}/events"),
            &[("step", "collected")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let page = cardiac.get("/requests").await.text().await.unwrap();
    assert!(!page.contains(&accession.to_string()));
    let token = app.token_for("cardiac.associate").await;
    let response = client()
        .get(format!("{}/api/v1/requests/{accession}", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Unchanged.
    let page = associate
        .get(&format!("/specimens/{serum}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"specimen-status\">Expected<"));
});

both_engines!(requests_and_specimens_through_the_api, |app| {
    app.seed_demo().await;
    let token = app.token_for("associate").await;
    let patient = patient_id(&app, NHS_NUMBER).await;
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = client()
            .request(method, format!("{}{path}", app.address))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let mut body = json!({
        "patient_id": patient.to_string(),
        "identity": {"nhs_number": NHS_NUMBER, "date_of_birth": "1988-11-03"},
        "priority": "routine", "requester_name": "Dr B Jones", "requester_code": "G7654321",
        "location": "GP surgery", "panels": ["FBC"], "investigations": ["FEV1"],
    });
    let response = call(
        reqwest::Method::POST,
        "/api/v1/requests".into(),
        Some(body.clone()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    body["identity"]["date_of_birth"] = json!("1988-11-02");
    let response = call(reqwest::Method::POST, "/api/v1/requests".into(), Some(body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let accession = created["accession"].as_str().unwrap().to_owned();
    assert_eq!(created["specimens"].as_array().unwrap().len(), 1);
    assert_eq!(created["investigations"].as_array().unwrap().len(), 4);
    let specimen = created["specimens"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(specimen, format!("S{accession}-1"));

    let read: Value = call(
        reqwest::Method::GET,
        format!("/api/v1/requests/{accession}"),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(read["accession"], accession);

    let path = format!("/api/v1/specimens/{specimen}/events");
    let response = call(
        reqwest::Method::POST,
        path.clone(),
        Some(json!({"step": "accepted"})),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = call(
        reqwest::Method::POST,
        path,
        Some(json!({"step": "collected"})),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let moved: Value = response.json().await.unwrap();
    assert_eq!(moved["status"], "collected");
});

both_engines!(a_duplicate_accession_number_is_refused_clearly, |app| {
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    let n_before = n_requests(&app).await;
    // Someone resets the counter behind the application's back: the next
    // number is already taken, and the unique constraint refuses it.
    app.sql("UPDATE counter SET value = 0 WHERE name LIKE 'accession-%'")
        .await;
    let patient = patient_id(&app, NHS_NUMBER).await;
    let response = book(&associate, patient, &IDENTITY, &["K"]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        response.text().await.unwrap().contains("already in use"),
        "the message says what happened"
    );
    assert_eq!(n_requests(&app).await, n_before, "nothing stored");
});
