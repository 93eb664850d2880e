//! Incidents and nonconformities through the web pages: raising,
//! investigating, closing and reopening, and refusing bad input without
//! losing what was typed.

use benchwork_store::IncidentFilter;
use reqwest::StatusCode;

use crate::both_engines;
use crate::helpers::{Session, TestApp};
use crate::roles::location;

async fn department_id(app: &TestApp, code: &str) -> String {
    app.ctx
        .store
        .list_departments()
        .await
        .unwrap()
        .into_iter()
        .find(|department| department.code == code)
        .expect("a demo department")
        .id
        .to_string()
}

/// How many incidents there are (seen by the consultant, who is in both
/// demo departments).
async fn n_incidents(app: &TestApp) -> usize {
    let consultant = app
        .ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap();
    app.ctx
        .store
        .list_incidents(consultant.id, &IncidentFilter::default(), 500)
        .await
        .unwrap()
        .len()
}

/// The `<dd id="incident-status">` text of an incident page.
fn status_on(page: &str) -> &str {
    let marker = "id=\"incident-status\">";
    let start = page.find(marker).expect("the status is shown") + marker.len();
    &page[start..start + page[start..].find('<').unwrap()]
}

async fn update(
    session: &Session,
    path: &str,
    status: &str,
    owner: &str,
    outcome: &str,
) -> reqwest::Response {
    session
        .post(
            path,
            &[("status", status), ("owner", owner), ("outcome", outcome)],
        )
        .await
}

both_engines!(an_incident_can_be_raised_investigated_and_closed, |app| {
    app.seed_demo().await;
    let blood = department_id(&app, "BLOOD").await;
    let associate = app.sign_in_demo("associate").await;
    let form = associate.get("/incidents/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(
        form.contains(&format!("<option value=\"{blood}\" selected>")),
        "the person's only department is chosen"
    );
    assert!(
        !form.contains(&department_id(&app, "CARDIAC").await),
        "only the person's own departments are offered"
    );

    let title = "Haemolysed potassium sample released";
    let response = associate
        .post(
            "/incidents",
            &[
                ("department", blood.as_str()),
                ("kind", "incident"),
                ("category", "patient-safety"),
                ("severity", "low"),
                ("title", title),
                (
                    "description",
                    "A haemolysed sample was analysed and the potassium released before the check.",
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let path = location(&response);
    let id = path
        .strip_prefix("/incidents/")
        .expect("sent to the new incident");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{path}");
    let page = associate.get(&path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("nhsuk-notification-banner--success"),
        "a success banner"
    );
    assert!(page.contains("reported"));
    assert!(page.contains(title));
    assert_eq!(status_on(&page), "Open");
    assert!(
        !page.contains("id=\"update-incident\""),
        "an associate cannot manage incidents"
    );
    // The banner is shown once.
    assert!(
        !associate
            .get(&path)
            .await
            .text()
            .await
            .unwrap()
            .contains("nhsuk-notification-banner--success")
    );

    // The quality manager is told at once, on the home page, with a link.
    let quality = app.sign_in_demo("quality").await;
    let home = quality.get("/").await.text().await.unwrap();
    assert!(
        home.contains(title),
        "the quality manager's inbox names the incident"
    );
    assert!(
        home.contains(&format!("href=\"{path}\"")),
        "and links to it"
    );

    // A practitioner takes it on.
    let practitioner = app.sign_in_demo("practitioner").await;
    let owner = app
        .ctx
        .store
        .get_user_by_username("practitioner")
        .await
        .unwrap()
        .id
        .to_string();
    let response = update(&practitioner, &path, "under-investigation", &owner, "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), path);
    let page = practitioner.get(&path).await.text().await.unwrap();
    assert_eq!(status_on(&page), "Under investigation");
    assert!(page.contains("Priya Practitioner"));

    // Closing needs an outcome; what was chosen is kept.
    let response = update(&practitioner, &path, "closed", &owner, "   ").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("nhsuk-error-summary"));
    assert!(page.contains("href=\"#outcome\""));
    assert!(
        page.contains("<option value=\"closed\" selected>"),
        "the chosen status is kept"
    );
    assert!(
        page.contains(&format!("<option value=\"{owner}\" selected>")),
        "the chosen owner is kept"
    );
    let stored = app
        .ctx
        .store
        .get_incident_unscoped(benchwork_domain::ids::IncidentId::parse(id).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.status, "under-investigation", "nothing was saved");

    let outcome = "Sample rejected at the analyser from now on; staff retrained";
    let response = update(&practitioner, &path, "closed", &owner, outcome).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = practitioner.get(&path).await.text().await.unwrap();
    assert_eq!(status_on(&page), "Closed");
    assert!(page.contains(outcome));
    let stored = app
        .ctx
        .store
        .get_incident_unscoped(benchwork_domain::ids::IncidentId::parse(id).unwrap())
        .await
        .unwrap();
    assert!(stored.closed_at.is_some());
    // A closed incident is not in the home page's open list.
    let home = associate.get("/").await.text().await.unwrap();
    assert!(!home.contains(&format!("href=\"{path}\"")));

    // Reopened: back to investigation, never to open.
    let response = update(&practitioner, &path, "open", &owner, outcome).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("href=\"#status\""));
    assert!(page.contains("<option value=\"open\" selected>"));
    let response = update(&practitioner, &path, "under-investigation", &owner, outcome).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = practitioner.get(&path).await.text().await.unwrap();
    assert_eq!(status_on(&page), "Under investigation");

    // Bad updates are refused field by field, never an error page.
    for (status, owner, why) in [
        ("finished", owner.as_str(), "unknown status"),
        ("under-investigation", "not-a-uuid", "malformed owner"),
        (
            "under-investigation",
            &uuid::Uuid::new_v4().to_string(),
            "unknown owner",
        ),
        (
            "under-investigation",
            &app.ctx
                .store
                .get_user_by_username("cardiac.associate")
                .await
                .unwrap()
                .id
                .to_string(),
            "owner from another department",
        ),
    ] {
        let response = update(&practitioner, &path, status, owner, "").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
    for bad in [
        "not-a-uuid",
        &uuid::Uuid::new_v4().to_string(),
        "..%2F..%2Fetc",
    ] {
        let response = update(
            &practitioner,
            &format!("/incidents/{bad}"),
            "closed",
            "",
            "x",
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(
            practitioner
                .get(&format!("/incidents/{bad}"))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    // An encoded NUL in the address is refused before any handler runs.
    assert_eq!(
        update(&practitioner, "/incidents/%00", "closed", "", "x")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        practitioner.get("/incidents/%00").await.status(),
        StatusCode::BAD_REQUEST
    );

    // Every step is in the audit trail.
    let events = app
        .ctx
        .store
        .search_audit_events(
            &benchwork_store::AuditFilter {
                entity_id: Some(id.to_owned()),
                ..Default::default()
            },
            100,
            0,
        )
        .await
        .unwrap();
    let types: Vec<&str> = events
        .events
        .iter()
        .map(|(_, event)| event.event_type.as_str())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "incident.raise").count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| **t == "incident.update").count(),
        3,
        "{types:?}"
    );
});

both_engines!(bad_incident_input_keeps_what_was_typed, |app| {
    app.seed_demo().await;
    let cardiac = department_id(&app, "CARDIAC").await;
    let associate = app.sign_in_demo("associate").await;
    let before = n_incidents(&app).await;
    let description = "Typed at the bench at ten past nine, before the ward round";
    let response = associate
        .post(
            "/incidents",
            &[
                ("department", cardiac.as_str()),
                ("kind", "near-miss"),
                ("category", "specimen"),
                ("severity", "catastrophic"),
                ("title", "   "),
                ("description", description),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("nhsuk-error-summary"));
    for field in ["title", "severity", "department"] {
        assert!(
            page.contains(&format!("href=\"#{field}\"")),
            "the summary lists {field}"
        );
        assert!(
            page.contains(&format!("id=\"{field}-error\"")),
            "the {field} field shows its error"
        );
    }
    for field in ["kind", "category", "description"] {
        assert!(
            !page.contains(&format!("href=\"#{field}\"")),
            "{field} was fine"
        );
    }
    assert!(
        page.contains(&format!(">{description}</textarea>")),
        "the description typed is kept"
    );
    assert!(
        page.contains("<option value=\"near-miss\" selected>"),
        "the kind chosen is kept"
    );
    assert!(
        page.contains("<option value=\"specimen\" selected>"),
        "the category chosen is kept"
    );
    assert!(
        !page.contains(&cardiac),
        "another department is not offered"
    );
    assert_eq!(n_incidents(&app).await, before, "nothing was stored");

    // Other bad input: every field missing, unknown codes, a malformed
    // department, too much text, markup. Each is refused with 422 and the
    // typed text is escaped, never an error page.
    let blood = department_id(&app, "BLOOD").await;
    let long_title = "t".repeat(201);
    let long_description = "d".repeat(10_001);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![
            ("department", "not-a-uuid"),
            ("kind", "x"),
            ("category", "y"),
            ("severity", "z"),
            ("title", "t"),
            ("description", "d"),
        ],
        vec![
            ("department", blood.as_str()),
            ("kind", "incident"),
            ("category", "other"),
            ("severity", "low"),
            ("title", long_title.as_str()),
            ("description", "d"),
        ],
        vec![
            ("department", blood.as_str()),
            ("kind", "incident"),
            ("category", "other"),
            ("severity", "low"),
            ("title", "t"),
            ("description", long_description.as_str()),
        ],
        vec![
            ("department", "<script>x</script>"),
            ("kind", "incident"),
            ("category", "other"),
            ("severity", "low"),
            ("title", "<b>bold</b>"),
            ("description", ""),
        ],
        vec![
            ("department", blood.as_str()),
            ("department", blood.as_str()),
            ("kind", "incident"),
            ("category", "other"),
            ("severity", "LOW "),
            ("title", "t"),
        ],
    ];
    for fields in &cases {
        let response = associate.post("/incidents", fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("nhsuk-error-summary"), "{fields:?}");
        assert!(
            !page.contains("<b>bold</b>") && !page.contains("<script>x"),
            "typed markup is escaped"
        );
    }
    assert_eq!(n_incidents(&app).await, before, "nothing was stored");
});

both_engines!(the_auditor_cannot_raise_an_incident, |app| {
    app.seed_demo().await;
    let blood = department_id(&app, "BLOOD").await;
    let before = n_incidents(&app).await;
    let auditor = app.sign_in_demo("auditor").await;
    assert_eq!(
        auditor.get("/incidents/new").await.status(),
        StatusCode::FORBIDDEN
    );
    let response = auditor
        .post(
            "/incidents",
            &[
                ("department", blood.as_str()),
                ("kind", "incident"),
                ("category", "other"),
                ("severity", "low"),
                ("title", "Raised by the auditor"),
                ("description", "Read-only roles change nothing"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let token = app.token_for("auditor").await;
    let response = crate::helpers::client()
        .post(format!("{}/api/v1/incidents", app.address))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "department_id": blood, "kind": "incident", "category": "other", "severity": "low",
            "title": "Raised by the auditor", "description": "Read-only roles change nothing",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(n_incidents(&app).await, before);
    // The auditor still reads the incidents, without a way to change them.
    let list = auditor.get("/incidents").await;
    assert_eq!(list.status(), StatusCode::OK);
    let list = list.text().await.unwrap();
    assert!(
        !list.contains("href=\"/incidents/new\""),
        "no link to a form the auditor may not use"
    );
});
