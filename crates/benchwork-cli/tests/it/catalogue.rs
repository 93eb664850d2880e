//! The investigation catalogue: the demo catalogue, versioned edits that
//! keep every old version, refused input that stores nothing, who may edit,
//! and the audit trail of changes.

use benchwork_store::AuditFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::api;
use crate::helpers::TestApp;

async fn catalogue_events(app: &TestApp) -> Vec<benchwork_domain::audit::AuditEvent> {
    app.ctx
        .store
        .search_audit_events(
            &AuditFilter {
                entity_type: Some("Investigation".into()),
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

fn new_investigation() -> Value {
    json!({
        "code": "LAC",
        "name": "Lactate",
        "loinc": "2524-7",
        "discipline": "blood-sciences",
        "method": "Lactate oxidase",
        "unit": "mmol/L",
        "decimal_places": 1,
        "reportable_low": 0.2,
        "reportable_high": 15.0,
        "specimen_type": "Plasma",
        "container": "Fluoride oxalate (grey top)",
        "tat_routine_minutes": 120,
        "tat_urgent_minutes": 30,
        "reference_intervals": [
            {"sex": null, "age_from_days": 0, "low": 0.5, "high": 2.2, "source": "Manufacturer"}
        ],
        "critical_limits": {"high": 4.0, "source": "Local policy v1"}
    })
}

both_engines!(
    the_demo_catalogue_has_coded_investigations_and_panels,
    |app| {
        app.seed_demo().await;
        let token = app.token_for("associate").await;
        let response = api(
            &app,
            &token,
            reqwest::Method::GET,
            "/api/v1/investigations",
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let list: Value = response.json().await.unwrap();
        let find = |code: &str| {
            list.as_array()
                .unwrap()
                .iter()
                .find(|item| item["code"] == code)
                .cloned()
                .unwrap_or_else(|| panic!("{code} is in the demo catalogue"))
        };
        let potassium = find("K");
        assert_eq!(potassium["loinc"], "2823-3");
        assert_eq!(potassium["unit"], "mmol/L");
        assert_eq!(potassium["reference_intervals"][0]["low"], 3.5);
        assert_eq!(potassium["reference_intervals"][0]["high"], 5.3);
        assert_eq!(potassium["critical_limits"]["low"], 2.5);
        assert_eq!(potassium["critical_limits"]["high"], 6.5);
        assert!(
            potassium["critical_limits"]["source"]
                .as_str()
                .unwrap()
                .starts_with("RCPath G158 (2017)")
        );
        assert_eq!(find("NA")["loinc"], "2951-2");
        assert_eq!(find("HB")["discipline"], "haematology");
        let creatinine = find("CREA");
        assert_eq!(
            creatinine["reference_intervals"].as_array().unwrap().len(),
            2
        );
        // Physiological measurements have no specimen.
        let qtc = find("QTC");
        assert_eq!(qtc["specimen_type"], Value::Null);
        assert_eq!(qtc["discipline"], "cardiac-physiology");
        assert_eq!(find("FEV1")["discipline"], "respiratory-physiology");
        // Filtered by discipline.
        let haematology: Value = api(
            &app,
            &token,
            reqwest::Method::GET,
            "/api/v1/investigations?discipline=haematology",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(
            haematology
                .as_array()
                .unwrap()
                .iter()
                .all(|item| item["discipline"] == "haematology")
        );
        assert!(!haematology.as_array().unwrap().is_empty());
        let panels: Value = api(&app, &token, reqwest::Method::GET, "/api/v1/panels", None)
            .await
            .json()
            .await
            .unwrap();
        let ue = panels
            .as_array()
            .unwrap()
            .iter()
            .find(|panel| panel["code"] == "UE")
            .expect("the U&E panel");
        assert_eq!(ue["members"], json!(["NA", "K", "UREA", "CREA", "EGFR"]));
        for code in ["LFT", "BONE", "FBC", "COAG"] {
            assert!(
                panels.as_array().unwrap().iter().any(|p| p["code"] == code),
                "{code}"
            );
        }
        // The pages show it too.
        let associate = app.sign_in_demo("associate").await;
        let page = associate.get("/catalogue").await;
        assert_eq!(page.status(), StatusCode::OK);
        let text = page.text().await.unwrap();
        assert!(text.contains("Potassium"));
        assert!(text.contains("2823-3"));
        let page = associate.get("/catalogue/K").await.text().await.unwrap();
        assert!(page.contains("RCPath G158 (2017)"));
        assert!(page.contains("3.5"));
        assert!(
            !page.contains("Edit this investigation"),
            "an associate cannot edit"
        );
    }
);

both_engines!(an_edit_makes_version_2_and_keeps_version_1, |app| {
    app.seed_demo().await;
    let token = app.token_for("scientist").await;
    let before: Value = api(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/investigations/K",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(before["version"], 1);
    // A new version with a different upper limit, through the form.
    let scientist = app.sign_in_demo("scientist").await;
    let form_page = scientist.get("/catalogue/K/edit").await;
    assert_eq!(form_page.status(), StatusCode::OK);
    let form = form_page.text().await.unwrap();
    assert!(
        form.contains("value=\"5.3\""),
        "the form starts from version 1"
    );
    let mut fields = vec![
        ("name", "Potassium"),
        ("loinc", "2823-3"),
        ("discipline", "blood-sciences"),
        ("method", "Indirect ion-selective electrode"),
        ("result_type", "numeric"),
        ("unit", "mmol/L"),
        ("decimal_places", "1"),
        ("reportable_low", "1"),
        ("reportable_high", "10"),
        ("specimen_type", "Serum"),
        ("container", "Serum gel (gold top)"),
        ("tat_routine", "240"),
        ("tat_urgent", "60"),
        ("competency_code", "BS-CHEM-AUTO"),
        ("sop_code", "SOP-BS-010"),
        ("interval_0_sex", ""),
        ("interval_0_age_from", "18y"),
        ("interval_0_age_to", ""),
        ("interval_0_low", "3.5"),
        ("interval_0_high", "5.1"),
        ("interval_0_source", "Local verification 2026"),
        ("critical_low", "2.5"),
        ("critical_high", "6.5"),
        ("critical_source", "RCPath G158 (2017), approved locally"),
        ("based_on_version", "1"),
    ];
    let response = scientist.post("/catalogue/K/edit", &fields).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );

    let after: Value = api(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/investigations/K",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(after["version"], 2);
    assert_eq!(after["reference_intervals"][0]["high"], 5.1);
    let versions = after["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1]["version"], 1);
    assert_eq!(
        versions[1]["reference_intervals"],
        before["reference_intervals"]
    );
    assert_eq!(versions[1]["created_at"], before["created_at"]);
    // Version 1 is also unchanged in the store, and the database refuses
    // to change it.
    let current = app.ctx.store.get_investigation_by_code("K").await.unwrap();
    let version_1 = app
        .ctx
        .store
        .get_investigation_version(current.investigation_id, 1)
        .await
        .unwrap();
    assert_eq!(
        version_1.definition.parts().reference_intervals[0].high(),
        Some(5.3)
    );
    app.sql_fails("UPDATE investigation_version SET name = 'changed' WHERE version = 1")
        .await;
    app.sql_fails("DELETE FROM investigation_version").await;
    // The page shows the history and the old version.
    let page = scientist.get("/catalogue/K").await.text().await.unwrap();
    assert!(page.contains("Version 2"), "{page}");
    let old = scientist.get("/catalogue/K?version=1").await;
    assert_eq!(old.status(), StatusCode::OK);
    assert!(old.text().await.unwrap().contains("5.3"));

    // Editing from version 1 again is a conflict, not a silent overwrite.
    fields.retain(|(name, _)| *name != "interval_0_high");
    fields.push(("interval_0_high", "5.2"));
    let response = scientist.post("/catalogue/K/edit", &fields).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // Through the API: version 3, with before and after in the audit trail.
    let mut body = after.clone();
    body["reference_intervals"][0]["high"] = json!(5.0);
    body["based_on_version"] = json!(2);
    let response = api(
        &app,
        &token,
        reqwest::Method::PUT,
        "/api/v1/investigations/K",
        Some(body),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let version_3: Value = response.json().await.unwrap();
    assert_eq!(version_3["version"], 3);

    app.seal().await;
    let events = catalogue_events(&app).await;
    let edits: Vec<_> = events
        .iter()
        .filter(|event| event.event_type == "catalogue.investigation.edit")
        .collect();
    assert_eq!(edits.len(), 2);
    assert!(
        edits.iter().all(|event| event.entity_id.as_deref()
            == Some(current.investigation_id.to_string().as_str()))
    );
    let scientist_edit = edits
        .iter()
        .find(|event| {
            event.actor_name == "scientist"
                && event
                    .detail
                    .as_deref()
                    .is_some_and(|d| d.ends_with("replaced by version 2"))
        })
        .expect("the form edit is audited");
    let before_json: Value =
        serde_json::from_str(scientist_edit.before.as_deref().unwrap()).unwrap();
    let after_json: Value = serde_json::from_str(scientist_edit.after.as_deref().unwrap()).unwrap();
    assert_eq!(before_json["reference_intervals"][0]["high"], "5.3");
    assert_eq!(after_json["reference_intervals"][0]["high"], "5.1");
    assert!(
        events
            .iter()
            .filter(|event| event.event_type == "catalogue.investigation.create")
            .count()
            >= 30,
        "the demo catalogue's creation is audited"
    );
});

both_engines!(
    bad_catalogue_input_is_refused_and_nothing_is_stored,
    |app| {
        app.seed_demo().await;
        let n_before = app.ctx.store.list_investigations(None).await.unwrap().len();
        let scientist = app.sign_in_demo("scientist").await;
        let response = scientist
            .post(
                "/catalogue",
                &[
                    ("code", "LAC"),
                    ("name", "Lactate"),
                    ("loinc", "2524-8"),
                    ("discipline", "astrology"),
                    ("result_type", "numeric"),
                    ("unit", "mmol/L"),
                    ("decimal_places", "-1"),
                    ("reportable_low", "15"),
                    ("reportable_high", "0.2"),
                    ("tat_routine", "120"),
                    ("tat_urgent", "30"),
                    ("interval_0_low", "2.2"),
                    ("interval_0_high", "0.5"),
                    ("interval_0_source", "Manufacturer"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("nhsuk-error-summary"));
        for field in ["loinc", "discipline", "decimal_places", "interval_0_low"] {
            assert!(
                page.contains(&format!("href=\"#{field}\"")),
                "{field}: {page}"
            );
        }
        assert!(page.contains("check digit is wrong"));
        assert!(page.contains("value=\"2524-8\""), "what was typed is kept");
        assert!(page.contains("value=\"-1\""));
        assert!(page.contains("value=\"Lactate\""));
        // Low above high in the reportable range, alone.
        let response = scientist
            .post(
                "/catalogue",
                &[
                    ("code", "LAC"),
                    ("name", "Lactate"),
                    ("discipline", "blood-sciences"),
                    ("unit", "mmol/L"),
                    ("decimal_places", "1"),
                    ("reportable_low", "15"),
                    ("reportable_high", "0.2"),
                    ("tat_routine", "120"),
                    ("tat_urgent", "30"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("href=\"#reportable_low\""), "{page}");
        assert!(page.contains("value=\"15\""));

        // The API: problem details naming each field.
        let token = app.token_for("scientist").await;
        for (field, value, expected) in [
            ("loinc", json!("2524-8"), "loinc"),
            ("discipline", json!("astrology"), "discipline"),
            ("decimal_places", json!(-1), "decimal_places"),
            ("reportable_low", json!(20.0), "reportable_low"),
        ] {
            let mut body = new_investigation();
            body[field] = value;
            let response = api(
                &app,
                &token,
                reqwest::Method::POST,
                "/api/v1/investigations",
                Some(body),
            )
            .await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field}"
            );
            let problem: Value = response.json().await.unwrap();
            assert!(
                problem["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|error| error["field"] == expected),
                "{field}: {problem}"
            );
        }
        assert_eq!(
            app.ctx.store.list_investigations(None).await.unwrap().len(),
            n_before,
            "nothing was stored"
        );
        // A valid one is stored, once; its code cannot be taken again.
        let response = api(
            &app,
            &token,
            reqwest::Method::POST,
            "/api/v1/investigations",
            Some(new_investigation()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["version"], 1);
        assert_eq!(created["loinc"], "2524-7");
        let response = api(
            &app,
            &token,
            reqwest::Method::POST,
            "/api/v1/investigations",
            Some(new_investigation()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            app.ctx.store.list_investigations(None).await.unwrap().len(),
            n_before + 1
        );
        app.seal().await;
        assert!(catalogue_events(&app).await.iter().any(|event| {
            event.event_type == "catalogue.investigation.create" && event.actor_name == "scientist"
        }));
    }
);

both_engines!(an_associate_reads_the_catalogue_but_cannot_edit_it, |app| {
    app.seed_demo().await;
    let token = app.token_for("associate").await;
    let response = api(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/investigations/K",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let current: Value = response.json().await.unwrap();
    let response = api(
        &app,
        &token,
        reqwest::Method::POST,
        "/api/v1/investigations",
        Some(new_investigation()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut body = current.clone();
    body["name"] = json!("Potassium (changed)");
    let response = api(
        &app,
        &token,
        reqwest::Method::PUT,
        "/api/v1/investigations/K",
        Some(body),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let associate = app.sign_in_demo("associate").await;
    assert_eq!(
        associate.get("/catalogue/K/edit").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        associate
            .post("/catalogue/K/edit", &[("name", "Changed")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        associate.get("/catalogue/new").await.status(),
        StatusCode::FORBIDDEN
    );
    let after = app.ctx.store.get_investigation_by_code("K").await.unwrap();
    assert_eq!(after.version, 1);
    assert_eq!(after.definition.name(), "Potassium");
    // An unknown investigation is not found.
    let response = api(
        &app,
        &token,
        reqwest::Method::GET,
        "/api/v1/investigations/NOPE",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
});
