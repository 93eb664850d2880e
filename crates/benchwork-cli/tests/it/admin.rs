//! Issue 3 administration: the instrument register and panel editing by
//! page and API, and the API's list endpoints used as a client would
//! (consent then booking, worklists, result queues).

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::PatientId;
use benchwork_store::{AuditFilter, PatientSearch};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{api, api_json};
use crate::helpers::TestApp;
use crate::roles::location;

/// Daniel Hughes, a demo patient with no demo requests.
const NHS_NUMBER: &str = "9990000026";

async fn patient_id(app: &TestApp) -> PatientId {
    app.ctx
        .store
        .search_patients(
            &PatientSearch {
                nhs_number: Some(NHS_NUMBER.into()),
                ..Default::default()
            },
            1,
        )
        .await
        .unwrap()
        .remove(0)
        .id
}

async fn department(app: &TestApp, code: &str) -> String {
    app.ctx
        .store
        .list_departments()
        .await
        .unwrap()
        .into_iter()
        .find(|department| department.code == code)
        .unwrap()
        .id
        .to_string()
}

/// The fields named in a problem document's errors.
fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| error["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn events(app: &TestApp, entity_type: &str) -> Vec<AuditEvent> {
    app.seal().await;
    app.ctx
        .store
        .search_audit_events(
            &AuditFilter {
                entity_type: Some(entity_type.into()),
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

/// The member codes a panel form shows, in order: the selected option of
/// each `member_N` list.
fn selected_members(html: &str) -> Vec<String> {
    let mut members = Vec::new();
    for idx in 0.. {
        let Some(start) = html.find(&format!("name=\"member_{idx}\"")) else {
            break;
        };
        let rest = &html[start..];
        let select = &rest[..rest.find("</select>").unwrap()];
        let selected = select
            .split("<option ")
            .find(|option| option.contains(" selected"))
            .expect("a selected option");
        let value = selected
            .strip_prefix("value=\"")
            .and_then(|value| value.split('"').next())
            .unwrap();
        members.push(value.to_owned());
    }
    members
}

both_engines!(
    instruments_are_added_and_corrected_by_page_and_api_and_audited,
    |app| {
        app.seed_demo().await;
        let blood = department(&app, "BLOOD").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let list = practitioner.get("/instruments").await;
        assert_eq!(list.status(), StatusCode::OK);
        let html = list.text().await.unwrap();
        assert!(html.contains("Chemistry analyser 1"), "{html}");
        assert!(
            !html.contains("ECG cart clinic 2"),
            "another department's instrument is not listed"
        );
        let viewer = app
            .ctx
            .store
            .get_user_by_username("practitioner")
            .await
            .unwrap()
            .id;
        let n_before = app.ctx.store.list_instruments(viewer).await.unwrap().len();

        // A duplicate name in the department: refused beside the field,
        // with what was typed kept, and nothing stored.
        let typed = [
            ("department", blood.as_str()),
            ("name", "Chemistry analyser 1"),
            ("discipline", "blood-sciences"),
            ("location", "Bay 9 by the window"),
        ];
        let response = practitioner.post("/instruments", &typed).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("An instrument with this name already exists in the department"),
            "{html}"
        );
        assert!(
            html.contains("id=\"name-error\""),
            "the error is beside the name"
        );
        assert!(html.contains("value=\"Bay 9 by the window\""), "entry kept");
        assert_eq!(
            app.ctx.store.list_instruments(viewer).await.unwrap().len(),
            n_before
        );

        // A new one is added and listed.
        let mut typed = typed;
        typed[1] = ("name", "Chemistry analyser 2");
        let response = practitioner.post("/instruments", &typed).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/instruments");
        let added = app
            .ctx
            .store
            .list_instruments(viewer)
            .await
            .unwrap()
            .into_iter()
            .find(|instrument| instrument.name == "Chemistry analyser 2")
            .expect("the instrument was added");
        assert_eq!(added.location, "Bay 9 by the window");
        let edit_path = format!("/instruments/{}/edit", added.id);
        let form = practitioner.get(&edit_path).await;
        assert_eq!(form.status(), StatusCode::OK);
        assert!(
            form.text()
                .await
                .unwrap()
                .contains("value=\"Chemistry analyser 2\"")
        );

        // Renaming it to a name in use is refused, entry kept; moving it is
        // saved and audited with before and after.
        let response = practitioner
            .post(
                &edit_path,
                &[
                    ("name", "Haematology analyser 1"),
                    ("discipline", "blood-sciences"),
                    ("location", "Bay 4"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(html.contains("already exists in the department"), "{html}");
        assert!(html.contains("value=\"Haematology analyser 1\""));
        assert!(html.contains("value=\"Bay 4\""));
        let response = practitioner
            .post(
                &edit_path,
                &[
                    ("name", "Chemistry analyser 2"),
                    ("discipline", "blood-sciences"),
                    ("location", "Bay 4"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let moved = app
            .ctx
            .store
            .get_instrument(added.id, viewer)
            .await
            .unwrap();
        assert_eq!(moved.location, "Bay 4");
        assert_eq!(moved.name, "Chemistry analyser 2");
        let audit = events(&app, "Instrument").await;
        let edit = audit
            .iter()
            .find(|event| {
                event.event_type == "instrument.edit"
                    && event.entity_id.as_deref() == Some(added.id.to_string().as_str())
            })
            .expect("the correction is audited");
        assert!(
            edit.before
                .as_deref()
                .unwrap()
                .contains("Bay 9 by the window")
        );
        assert!(edit.after.as_deref().unwrap().contains("Bay 4"));
        assert_eq!(
            audit
                .iter()
                .filter(|event| event.event_type == "instrument.edit")
                .count(),
            1,
            "the refused rename wrote nothing"
        );
        // The associate may see the register but not change it.
        let associate = app.sign_in_demo("associate").await;
        assert_eq!(associate.get("/instruments").await.status(), StatusCode::OK);
        assert_eq!(
            associate.post(&edit_path, &typed).await.status(),
            StatusCode::FORBIDDEN
        );

        // The same through the API.
        let token = app.token_for("scientist").await;
        let body = json!({"department_id": blood, "name": "Coagulation analyser 1",
            "discipline": "haematology", "location": "Bay 5"});
        let created = api_json(
            &app,
            &token,
            Method::POST,
            "/api/v1/instruments",
            Some(body.clone()),
            StatusCode::CREATED,
        )
        .await;
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(created["discipline"], "haematology");
        let problem = api_json(
            &app,
            &token,
            Method::POST,
            "/api/v1/instruments",
            Some(body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem_fields(&problem), vec!["name"]);
        let listed = api_json(
            &app,
            &token,
            Method::GET,
            "/api/v1/instruments",
            None,
            StatusCode::OK,
        )
        .await;
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|instrument| instrument["id"] == id.as_str())
        );
        let path = format!("/api/v1/instruments/{id}");
        let renamed = api_json(
            &app,
            &token,
            Method::PUT,
            &path,
            Some(json!({"name": "Coagulation analyser A", "discipline": "haematology", "location": "Bay 5"})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(renamed["name"], "Coagulation analyser A");
        let read = api_json(&app, &token, Method::GET, &path, None, StatusCode::OK).await;
        assert_eq!(read["name"], "Coagulation analyser A");
        let problem = api_json(
            &app,
            &token,
            Method::PUT,
            &path,
            Some(json!({"name": "Coagulation analyser A", "discipline": "nope", "location": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let mut fields = problem_fields(&problem);
        fields.sort();
        assert_eq!(fields, vec!["discipline", "location"]);
        // Another department's instrument is not found by id.
        let cardiac_token = app.token_for("cardiac.associate").await;
        let response = api(&app, &cardiac_token, Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let associate_token = app.token_for("associate").await;
        let response = api(
            &app,
            &associate_token,
            Method::PUT,
            &path,
            Some(json!({"name": "X", "discipline": "haematology", "location": "Y"})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
);

both_engines!(
    panels_are_created_edited_and_reordered_as_versions_by_page_and_api,
    |app| {
        app.seed_demo().await;
        let consultant = app.sign_in_demo("consultant").await;
        let list = consultant.get("/catalogue/panels").await;
        assert_eq!(list.status(), StatusCode::OK);
        assert!(list.text().await.unwrap().contains("Urea and electrolytes"));

        // Building the list with the buttons changes nothing stored.
        let response = consultant
            .post(
                "/catalogue/panels",
                &[
                    ("code", "RENAL"),
                    ("name", "Renal"),
                    ("new_member", "NA"),
                    ("action", "add"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(selected_members(&response.text().await.unwrap()), ["NA"]);
        let response = consultant
            .post(
                "/catalogue/panels",
                &[
                    ("code", "RENAL"),
                    ("name", "Renal"),
                    ("member_0", "NA"),
                    ("member_1", "K"),
                    ("member_2", "UREA"),
                    ("action", "up-1"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert_eq!(selected_members(&html), ["K", "NA", "UREA"]);
        assert!(html.contains("value=\"Renal\""), "the name is kept");
        let response = consultant
            .post(
                "/catalogue/panels",
                &[
                    ("code", "RENAL"),
                    ("name", "Renal"),
                    ("member_0", "K"),
                    ("member_1", "NA"),
                    ("member_2", "UREA"),
                    ("action", "remove-2"),
                ],
            )
            .await;
        assert_eq!(
            selected_members(&response.text().await.unwrap()),
            ["K", "NA"]
        );
        assert!(app.ctx.store.get_panel_by_code("RENAL").await.is_err());

        // A duplicate or unknown member is refused beside it, entry kept.
        let response = consultant
            .post(
                "/catalogue/panels",
                &[
                    ("code", "RENAL"),
                    ("name", "Renal"),
                    ("member_0", "K"),
                    ("member_1", "NOPE"),
                    ("member_2", "K"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert_eq!(selected_members(&html), ["K", "NOPE", "K"]);
        assert!(html.contains("id=\"member_1-error\""), "{html}");
        assert!(html.contains("NOPE is not in the catalogue"), "{html}");
        assert!(html.contains("id=\"member_2-error\""), "{html}");
        assert!(html.contains("K is already in the panel"), "{html}");
        assert!(app.ctx.store.get_panel_by_code("RENAL").await.is_err());

        // Saved as version 1.
        let response = consultant
            .post(
                "/catalogue/panels",
                &[
                    ("code", "RENAL"),
                    ("name", "Renal"),
                    ("member_0", "K"),
                    ("member_1", "NA"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let panel = app.ctx.store.get_panel_by_code("RENAL").await.unwrap();
        assert_eq!(panel.version, 1);
        let codes = |members: &[(String, String)]| {
            members
                .iter()
                .map(|(code, _)| code.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&panel.members), ["K", "NA"]);

        // Edited: moved down and saved as version 2; version 1 is kept.
        let edit = consultant.get("/catalogue/panels/RENAL/edit").await;
        assert_eq!(edit.status(), StatusCode::OK);
        assert_eq!(selected_members(&edit.text().await.unwrap()), ["K", "NA"]);
        let response = consultant
            .post(
                "/catalogue/panels/RENAL/edit",
                &[
                    ("name", "Renal profile"),
                    ("based_on_version", "1"),
                    ("member_0", "K"),
                    ("member_1", "NA"),
                    ("action", "down-0"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert_eq!(selected_members(&html), ["NA", "K"]);
        assert!(html.contains("value=\"1\""), "the version edited is kept");
        let response = consultant
            .post(
                "/catalogue/panels/RENAL/edit",
                &[
                    ("name", "Renal profile"),
                    ("based_on_version", "1"),
                    ("member_0", "NA"),
                    ("member_1", "K"),
                    ("new_member", "CREA"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let panel = app.ctx.store.get_panel_by_code("RENAL").await.unwrap();
        assert_eq!(panel.version, 2);
        assert_eq!(panel.name, "Renal profile");
        assert_eq!(codes(&panel.members), ["NA", "K", "CREA"]);
        let first = app.ctx.store.panel_members(panel.id, 1).await.unwrap();
        assert_eq!(codes(&first), ["K", "NA"], "version 1 is kept as it was");
        // A stale form is refused, nothing written.
        let response = consultant
            .post(
                "/catalogue/panels/RENAL/edit",
                &[
                    ("name", "Renal again"),
                    ("based_on_version", "1"),
                    ("member_0", "K"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let audit = events(&app, "Panel").await;
        let edit = audit
            .iter()
            .find(|event| event.event_type == "catalogue.panel.edit")
            .expect("the edit is audited");
        assert!(edit.before.as_deref().unwrap().contains(r#"["K","NA"]"#));
        assert!(
            edit.after
                .as_deref()
                .unwrap()
                .contains(r#"["NA","K","CREA"]"#)
        );
        // Someone who may only read the catalogue cannot change it.
        let associate = app.sign_in_demo("associate").await;
        assert_eq!(
            associate.get("/catalogue/panels").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            associate.get("/catalogue/panels/RENAL/edit").await.status(),
            StatusCode::FORBIDDEN
        );

        // Through the API.
        let token = app.token_for("quality").await;
        let created = api_json(
            &app,
            &token,
            Method::POST,
            "/api/v1/panels",
            Some(json!({"code": "ELEC", "name": "Electrolytes", "members": ["NA", "K"]})),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(created["version"], 1);
        assert_eq!(created["members"], json!(["NA", "K"]));
        let problem = api_json(
            &app,
            &token,
            Method::POST,
            "/api/v1/panels",
            Some(json!({"code": "ELEC2", "name": "Electrolytes", "members": ["NA", "NOPE", "NA"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem_fields(&problem), vec!["member_1", "member_2"]);
        let edited = api_json(
            &app,
            &token,
            Method::PUT,
            "/api/v1/panels/ELEC",
            Some(json!({"name": "Electrolytes", "members": ["K", "NA", "UREA"], "based_on_version": 1})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(edited["version"], 2);
        assert_eq!(edited["members"], json!(["K", "NA", "UREA"]));
        let response = api(
            &app,
            &token,
            Method::PUT,
            "/api/v1/panels/ELEC",
            Some(json!({"name": "Electrolytes", "members": ["K"], "based_on_version": 1})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let listed = api_json(
            &app,
            &token,
            Method::GET,
            "/api/v1/panels",
            None,
            StatusCode::OK,
        )
        .await;
        let elec = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|panel| panel["code"] == "ELEC")
            .unwrap()
            .clone();
        assert_eq!(elec["members"], json!(["K", "NA", "UREA"]));
        let associate_token = app.token_for("associate").await;
        let response = api(
            &app,
            &associate_token,
            Method::POST,
            "/api/v1/panels",
            Some(json!({"code": "X1", "name": "X", "members": ["K"]})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
);

both_engines!(
    consent_recorded_through_the_api_lets_a_booking_through_and_requests_are_listed,
    |app| {
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
        let token = app.token_for("associate").await;
        let patient = patient_id(&app).await;
        let booking = json!({
            "patient_id": patient.to_string(),
            "identity": {"nhs_number": NHS_NUMBER, "date_of_birth": "1988-11-02"},
            "priority": "routine", "requester_name": "Dr B Jones", "requester_code": "G7654321",
            "location": "Clinic 4", "investigations": ["GENE"],
        });
        let refused = api_json(
            &app,
            &token,
            Method::POST,
            "/api/v1/requests",
            Some(booking.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(refused.to_string().contains("consent"), "{refused}");

        let consents = format!("/api/v1/patients/{patient}/consents");
        let problem = api_json(
            &app,
            &token,
            Method::POST,
            &consents,
            Some(json!({"investigation": "GENE", "status": "maybe", "method": "written", "given_by": "patient"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem_fields(&problem), vec!["consent_status"]);
        let recorded = api_json(
            &app,
            &token,
            Method::POST,
            &consents,
            Some(json!({"investigation": "GENE", "status": "given", "method": "written", "given_by": "patient"})),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(recorded["decisions"][0]["status"], "given");
        assert_eq!(recorded["decisions"][0]["investigation"], "GENE");
        let read = api_json(&app, &token, Method::GET, &consents, None, StatusCode::OK).await;
        assert_eq!(read["decisions"].as_array().unwrap().len(), 1);
        assert!(
            read["requiring_consent"]
                .as_array()
                .unwrap()
                .iter()
                .any(|option| option["code"] == "GENE")
        );
        let unknown = format!("/api/v1/patients/{}/consents", uuid::Uuid::new_v4());
        let response = api(&app, &token, Method::GET, &unknown, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        // With consent given, the same booking goes through.
        let booked = api_json(
            &app,
            &token,
            Method::POST,
            "/api/v1/requests",
            Some(booking),
            StatusCode::CREATED,
        )
        .await;
        let accession = booked["accession"].as_str().unwrap().to_owned();

        // The request list, filtered.
        let listed = api_json(
            &app,
            &token,
            Method::GET,
            "/api/v1/requests?status=registered&department=BLOOD",
            None,
            StatusCode::OK,
        )
        .await;
        let found = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|request| request["accession"] == accession.as_str())
            .expect("the new request is listed");
        assert_eq!(found["patient_id"], patient.to_string());
        assert_eq!(found["nhs_number"], NHS_NUMBER);
        // The consent was audited as a change, and the consents and the
        // listed request as reads of the patient's record.
        app.seal().await;
        let about_patient: Vec<String> = app
            .ctx
            .store
            .search_audit_events(
                &AuditFilter {
                    patient_id: Some(patient),
                    actor_name: Some("associate".into()),
                    ..Default::default()
                },
                1000,
                0,
            )
            .await
            .unwrap()
            .events
            .into_iter()
            .map(|(_, event)| event.event_type)
            .collect();
        for event_type in ["consent.record", "consent.read", "request.list"] {
            assert!(
                about_patient.iter().any(|seen| seen == event_type),
                "{event_type} in {about_patient:?}"
            );
        }
        let other_status = api_json(
            &app,
            &token,
            Method::GET,
            "/api/v1/requests?status=reported",
            None,
            StatusCode::OK,
        )
        .await;
        assert!(
            other_status.as_array().unwrap().is_empty(),
            "{other_status}"
        );
        for bad in ["status=Not%20a%20status", "department=CARDIAC"] {
            let problem = api_json(
                &app,
                &token,
                Method::GET,
                &format!("/api/v1/requests?{bad}"),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(problem_fields(&problem).len(), 1, "{bad}: {problem}");
        }
        // The cardiac associate does not see BLOOD's requests.
        let cardiac = app.token_for("cardiac.associate").await;
        let theirs = api_json(
            &app,
            &cardiac,
            Method::GET,
            "/api/v1/requests",
            None,
            StatusCode::OK,
        )
        .await;
        assert!(
            !theirs
                .as_array()
                .unwrap()
                .iter()
                .any(|request| request["accession"] == accession.as_str())
        );
    }
);

both_engines!(worklists_and_result_queues_through_the_api, |app| {
    app.seed_demo().await;
    let token = app.token_for("associate").await;
    let patient = patient_id(&app).await;
    let booked = api_json(
        &app,
        &token,
        Method::POST,
        "/api/v1/requests",
        Some(json!({
            "patient_id": patient.to_string(),
            "identity": {"nhs_number": NHS_NUMBER, "date_of_birth": "1988-11-02"},
            "priority": "urgent", "requester_name": "Dr B Jones", "requester_code": "G7654321",
            "location": "Ward 2", "investigations": ["NA", "K"],
        })),
        StatusCode::CREATED,
    )
    .await;
    let accession = booked["accession"].as_str().unwrap().to_owned();
    let specimen = booked["specimens"][0]["id"].as_str().unwrap().to_owned();
    let chemistry = app
        .ctx
        .store
        .list_instruments(
            app.ctx
                .store
                .get_user_by_username("associate")
                .await
                .unwrap()
                .id,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|instrument| instrument.name == "Chemistry analyser 1")
        .unwrap();
    let worklist_path = format!("/api/v1/worklists?instrument={}", chemistry.id);
    let lines_of = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|line| line["accession"] == accession.as_str())
            .map(|line| line["investigation"].as_str().unwrap().to_owned())
            .collect()
    };
    // Not yet received: not on the worklist.
    let list = api_json(
        &app,
        &token,
        Method::GET,
        &worklist_path,
        None,
        StatusCode::OK,
    )
    .await;
    assert!(lines_of(&list).is_empty(), "{list}");
    for step in ["collected", "received"] {
        api_json(
            &app,
            &token,
            Method::POST,
            &format!("/api/v1/specimens/{specimen}/events"),
            Some(json!({"step": step})),
            StatusCode::OK,
        )
        .await;
    }
    let list = api_json(
        &app,
        &token,
        Method::GET,
        &worklist_path,
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lines_of(&list), ["NA", "K"], "{list}");
    let list = api_json(
        &app,
        &token,
        Method::GET,
        "/api/v1/worklists?discipline=blood-sciences",
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lines_of(&list), ["NA", "K"]);
    let list = api_json(
        &app,
        &token,
        Method::GET,
        "/api/v1/worklists?discipline=haematology",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(lines_of(&list).is_empty());
    for bad in [
        "discipline=astrology".to_owned(),
        format!("instrument={}", uuid::Uuid::new_v4()),
    ] {
        let problem = api_json(
            &app,
            &token,
            Method::GET,
            &format!("/api/v1/worklists?{bad}"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem_fields(&problem).len(), 1, "{bad}");
    }

    // Measured: on the verification queue.
    api_json(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/requests/{accession}/results"),
        Some(json!({"results": [{"investigation": "K", "value": "4.2",
                "instrument": chemistry.id.to_string()}]})),
        StatusCode::CREATED,
    )
    .await;
    let list = api_json(
        &app,
        &token,
        Method::GET,
        &worklist_path,
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        lines_of(&list),
        ["NA"],
        "a resulted line leaves the worklist"
    );
    let practitioner = app.token_for("practitioner").await;
    let in_queue = |queue: &Value| -> Vec<Value> {
        queue
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["accession"] == accession.as_str())
            .cloned()
            .collect()
    };
    let queue = api_json(
        &app,
        &practitioner,
        Method::GET,
        "/api/v1/results/queue?stage=verify",
        None,
        StatusCode::OK,
    )
    .await;
    let waiting = in_queue(&queue);
    assert_eq!(waiting.len(), 1, "{queue}");
    assert_eq!(waiting[0]["investigation"], "K");
    assert_eq!(waiting[0]["value"], "4.2");
    let id = waiting[0]["id"].as_str().unwrap().to_owned();
    let queue = api_json(
        &app,
        &practitioner,
        Method::GET,
        "/api/v1/results/queue?stage=authorise",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(in_queue(&queue).is_empty(), "not verified yet");

    // Verified: on the authorisation queue of someone else.
    api_json(
        &app,
        &practitioner,
        Method::POST,
        &format!("/api/v1/results/{id}/verify"),
        Some(json!({})),
        StatusCode::OK,
    )
    .await;
    let queue = api_json(
        &app,
        &practitioner,
        Method::GET,
        "/api/v1/results/queue?stage=verify",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(in_queue(&queue).is_empty(), "verified: no longer to verify");
    let queue = api_json(
        &app,
        &practitioner,
        Method::GET,
        "/api/v1/results/queue?stage=authorise",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(in_queue(&queue).is_empty(), "not offered to its verifier");
    let consultant = app.token_for("consultant").await;
    let queue = api_json(
        &app,
        &consultant,
        Method::GET,
        "/api/v1/results/queue?stage=authorise",
        None,
        StatusCode::OK,
    )
    .await;
    let waiting = in_queue(&queue);
    assert_eq!(waiting.len(), 1, "{queue}");
    assert_eq!(waiting[0]["id"], id.as_str());

    let problem = api_json(
        &app,
        &consultant,
        Method::GET,
        "/api/v1/results/queue?stage=later",
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem_fields(&problem), vec!["stage"]);
    let apprentice = app.token_for("apprentice").await;
    let response = api(
        &app,
        &apprentice,
        Method::GET,
        "/api/v1/results/queue?stage=verify",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
});
