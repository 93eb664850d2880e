//! The JSON API: its OpenAPI document, problem details for every error, an
//! incident's round trip, and account administration.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::{TestApp, client};

/// An API request with a bearer token and an optional raw body.
async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<(&str, String)>,
) -> reqwest::Response {
    let mut request = client()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some((content_type, body)) = body {
        request = request
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
    }
    request.send().await.expect("API request")
}

async fn call_json(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    call(
        app,
        token,
        method,
        path,
        Some(("application/json", body.to_string())),
    )
    .await
}

/// Asserts an RFC 9457 problem with `status`, and returns its body.
async fn assert_problem(response: reqwest::Response, status: StatusCode, why: &str) -> Value {
    assert_eq!(response.status(), status, "{why}");
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "{why}"
    );
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|error| panic!("{why}: the body is not JSON: {error}"));
    assert!(body["type"].is_string(), "{why}: {body}");
    assert!(body["title"].is_string(), "{why}: {body}");
    assert_eq!(body["status"], status.as_u16(), "{why}: {body}");
    body
}

async fn department_id(app: &TestApp, code: &str) -> String {
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

both_engines!(openapi_document_lists_every_api_route, |app| {
    // Public: a client reads it before it has a token.
    let response = client()
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let document: Value = response.json().await.unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/api/v1/me", &["get"][..]),
        ("/api/v1/users", &["get", "post"]),
        ("/api/v1/users/{id}", &["get"]),
        ("/api/v1/incidents", &["get", "post"]),
        ("/api/v1/incidents/{id}", &["get", "patch"]),
        ("/api/v1/notifications", &["get"]),
        ("/api/v1/audit-events", &["get"]),
    ] {
        let operations = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is documented"));
        for method in methods {
            assert!(
                operations.get(*method).is_some(),
                "{method} {path} is documented"
            );
        }
    }
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert!(
        schemes.values().any(|scheme| scheme["type"] == "http"
            && scheme["scheme"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .as_deref()
                == Some("bearer")),
        "a bearer scheme: {schemes:?}"
    );
    assert!(
        document["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "the bearer scheme applies to the API"
    );
    assert!(
        document["components"]["schemas"].get("Problem").is_some(),
        "problem details are described"
    );

    // Every path the API router serves (read from the route definitions
    // in benchwork-web's api*.rs), with every method it answers (asked of
    // the server: an unserved method is 405, a served one 401 without a
    // token), is in the document.
    let documented: std::collections::BTreeMap<String, &Value> = paths
        .iter()
        .map(|(path, operations)| (without_parameter_names(path), operations))
        .collect();
    let served = served_api_paths();
    assert!(
        served.len() >= 20,
        "the route definitions were found: {served:?}"
    );
    let mut missing = Vec::new();
    for path in served.iter().filter(|path| *path != "/openapi.json") {
        let key = without_parameter_names(&format!("/api/v1{path}"));
        let concrete = key.replace("{}", "x");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let response = client()
                .request(method.clone(), format!("{}{concrete}", app.address))
                .send()
                .await
                .unwrap();
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            let name = method.as_str().to_ascii_lowercase();
            if documented
                .get(&key)
                .is_none_or(|operations| operations.get(&name).is_none())
            {
                missing.push(format!("{method} /api/v1{path} ({})", response.status()));
            }
        }
    }
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
});

/// A path with its parameter names left out (`/users/{}`), so that the
/// router's and the document's names need not match.
fn without_parameter_names(path: &str) -> String {
    let mut out = String::new();
    let mut in_name = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_name = true;
                out.push_str("{}");
            }
            '}' => in_name = false,
            _ if in_name => {}
            _ => out.push(c),
        }
    }
    out
}

/// The paths of every `.route("...")` in benchwork-web's API modules.
fn served_api_paths() -> Vec<String> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benchwork-web/src");
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("benchwork-web sources") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("api") || !name.ends_with(".rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for part in text.split(".route(").skip(1) {
            let Some(rest) = part.trim_start().strip_prefix('"') else {
                continue;
            };
            if let Some(route) = rest.split('"').next() {
                paths.push(route.to_owned());
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

both_engines!(api_errors_are_problem_details, |app| {
    app.seed_demo().await;
    let token = app.token_for("practitioner").await;
    let blood = department_id(&app, "BLOOD").await;
    let valid = json!({
        "department_id": blood, "kind": "incident", "category": "other", "severity": "low",
        "title": "A valid incident", "description": "To check the error cases against",
    });
    let created = call_json(&app, &token, Method::POST, "/api/v1/incidents", &valid).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let incident = format!("/api/v1/incidents/{id}");

    // A body that is not JSON at all: 400.
    for body in ["{not json", "", "{\"title\": ", "\u{0}"] {
        let response = call(
            &app,
            &token,
            Method::POST,
            "/api/v1/incidents",
            Some(("application/json", body.into())),
        )
        .await;
        let problem =
            assert_problem(response, StatusCode::BAD_REQUEST, &format!("body {body:?}")).await;
        assert_eq!(problem["type"], "/api/v1/problems/invalid-json");
    }
    // A body that is not declared as JSON: 415.
    let response = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/incidents",
        Some(("text/plain", valid.to_string())),
    )
    .await;
    assert_problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "text/plain body",
    )
    .await;
    // JSON of the wrong shape or types.
    let mut wrong_types = valid.clone();
    wrong_types["department_id"] = json!(42);
    wrong_types["title"] = json!(["a", "list"]);
    for (body, why) in [
        (json!({}), "missing fields"),
        (json!({"title": "only a title"}), "missing fields"),
        (wrong_types, "wrong types"),
        (json!([valid.clone()]), "an array"),
        (json!(null), "null"),
        (json!("a string"), "a string"),
    ] {
        let response = call_json(&app, &token, Method::POST, "/api/v1/incidents", &body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, why).await;
        let response = call_json(&app, &token, Method::PATCH, &incident, &body).await;
        assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("PATCH with {why}"),
        )
        .await;
    }
    // JSON of the right shape with invalid values: each field named.
    let response = call_json(
        &app,
        &token,
        Method::POST,
        "/api/v1/incidents",
        &json!({"department_id": "not-a-uuid", "kind": "x", "category": "y", "severity": "z", "title": "", "description": ""}),
    )
    .await;
    let problem =
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid values").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "department",
        "kind",
        "category",
        "severity",
        "title",
        "description",
    ] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    for (body, why) in [
        (json!({"status": "finished"}), "unknown status"),
        (json!({"status": "closed"}), "closing without an outcome"),
        (
            json!({"status": "closed", "outcome": "   "}),
            "closing with a blank outcome",
        ),
        (
            json!({"status": "under-investigation", "owner_id": "not-a-uuid"}),
            "malformed owner",
        ),
        (
            json!({"status": "under-investigation", "owner_id": uuid::Uuid::new_v4().to_string()}),
            "unknown owner",
        ),
    ] {
        let response = call_json(&app, &token, Method::PATCH, &incident, &body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, why).await;
    }

    // Unknown and malformed ids, unknown routes.
    let unknown = uuid::Uuid::new_v4();
    let admin = app.token_for("admin").await;
    for path in [
        format!("/api/v1/users/{unknown}"),
        "/api/v1/users/1%20OR%201=1".to_owned(),
    ] {
        let response = call(&app, &admin, Method::GET, &path, None).await;
        assert_problem(response, StatusCode::NOT_FOUND, &path).await;
    }
    for (method, path) in [
        (Method::GET, format!("/api/v1/incidents/{unknown}")),
        (Method::GET, "/api/v1/incidents/not-a-uuid".to_owned()),
        (Method::GET, "/api/v1/nothing-here".to_owned()),
        (Method::GET, "/api/v1/incidents/a/b".to_owned()),
        (Method::GET, "/api/v2/incidents".to_owned()),
    ] {
        let response = call(&app, &token, method.clone(), &path, None).await;
        assert_problem(response, StatusCode::NOT_FOUND, &format!("{method} {path}")).await;
    }
    // An encoded NUL anywhere in the address is refused as invalid.
    {
        let response = call(&app, &token, Method::GET, "/api/v1/incidents/%00", None).await;
        assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "GET /api/v1/incidents/%00",
        )
        .await;
    }
    for path in [
        format!("/api/v1/incidents/{unknown}"),
        "/api/v1/incidents/not-a-uuid".to_owned(),
    ] {
        let response = call_json(
            &app,
            &token,
            Method::PATCH,
            &path,
            &json!({"status": "closed", "outcome": "x"}),
        )
        .await;
        assert_problem(response, StatusCode::NOT_FOUND, &format!("PATCH {path}")).await;
    }
    // A bad audit filter is named.
    let auditor = app.token_for("auditor").await;
    let response = call(
        &app,
        &auditor,
        Method::GET,
        "/api/v1/audit-events?from=yesterday&to=2026-13-45",
        None,
    )
    .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "bad dates").await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    for query in [
        "limit=-5",
        "limit=abc&offset=-1",
        "offset=99999999999999999999",
        "limit=100000",
    ] {
        let response = call(
            &app,
            &auditor,
            Method::GET,
            &format!("/api/v1/audit-events?{query}"),
            None,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
    }
    // A repeated query parameter takes the first value; an unknown status is 422.
    let response = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/incidents?status=open&status=closed",
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = call(
        &app,
        &token,
        Method::GET,
        "/api/v1/incidents?status=bogus",
        None,
    )
    .await;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown status filter",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "status");
    // A method the path does not have: 405 problem details.
    for (method, path) in [
        (Method::DELETE, incident.clone()),
        (Method::PUT, "/api/v1/me".to_owned()),
    ] {
        let response = call(&app, &token, method.clone(), &path, None).await;
        assert_problem(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} {path}"),
        )
        .await;
    }
    // A body over the 1 MiB limit: 413.
    let oversized = format!("{{\"title\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let response = call(
        &app,
        &token,
        Method::POST,
        "/api/v1/incidents",
        Some(("application/json", oversized)),
    )
    .await;
    assert_problem(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a body over the limit",
    )
    .await;

    // Nothing above was stored or changed.
    let response = call(&app, &token, Method::GET, &incident, None).await;
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["status"], "open");
    assert_eq!(stored["title"], "A valid incident");
    let listed: Value = call(&app, &token, Method::GET, "/api/v1/incidents", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "the demo incident and the valid one"
    );
});

both_engines!(api_incident_round_trip, |app| {
    app.seed_demo().await;
    let blood = department_id(&app, "BLOOD").await;
    let associate = app.token_for("associate").await;
    let response = call_json(
        &app,
        &associate,
        Method::POST,
        "/api/v1/incidents",
        &json!({
            "department_id": blood, "kind": "nonconformity", "category": "quality-control", "severity": "no-harm",
            "title": "IQC rejected on the morning run", "description": "Level 2 potassium outside 3SD; run repeated.",
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "open");
    assert_eq!(created["department_id"], blood.as_str());
    assert_eq!(created["raised_by"], "Asha Associate");
    assert!(created["reference"].as_str().unwrap().starts_with("INC-"));

    let response = call(
        &app,
        &associate,
        Method::GET,
        &format!("/api/v1/incidents/{id}"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let fetched: Value = response.json().await.unwrap();
    assert_eq!(fetched, created);

    // An associate may not change it; a practitioner closes it.
    let close =
        json!({"status": "closed", "outcome": "Reagent lot replaced; run repeated and accepted."});
    let response = call_json(
        &app,
        &associate,
        Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        &close,
    )
    .await;
    assert_problem(response, StatusCode::FORBIDDEN, "an associate closing").await;
    let practitioner = app.token_for("practitioner").await;
    let response = call_json(
        &app,
        &practitioner,
        Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        &close,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let closed: Value = response.json().await.unwrap();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["outcome"], close["outcome"]);
    assert!(closed["closed_at"].is_string());
    let listed: Value = call(
        &app,
        &associate,
        Method::GET,
        "/api/v1/incidents?status=closed",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());

    // The quality manager was notified.
    let quality = app.token_for("quality").await;
    let inbox: Value = call(&app, &quality, Method::GET, "/api/v1/notifications", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["link"] == format!("/incidents/{id}").as_str()),
        "{inbox}"
    );

    // The auditor reads both changes as FHIR AuditEvents, sealed or not.
    app.seal().await;
    let auditor = app.token_for("auditor").await;
    let response = call(
        &app,
        &auditor,
        Method::GET,
        &format!("/api/v1/audit-events?record={id}"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let bundle: Value = response.json().await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let entries = bundle["entry"].as_array().expect("entries");
    assert!(!entries.is_empty());
    let mut actions = Vec::new();
    for entry in entries {
        let resource = &entry["resource"];
        assert_eq!(resource["resourceType"], "AuditEvent", "{resource}");
        assert_eq!(
            resource["entity"][0]["what"]["reference"],
            format!("Incident/{id}").as_str(),
            "{resource}"
        );
        actions.push(resource["action"].as_str().unwrap().to_owned());
    }
    assert!(actions.contains(&"C".to_owned()), "{actions:?}");
    assert!(actions.contains(&"U".to_owned()), "{actions:?}");
    // Others may not read the audit trail.
    let response = call(
        &app,
        &practitioner,
        Method::GET,
        &format!("/api/v1/audit-events?record={id}"),
        None,
    )
    .await;
    assert_problem(
        response,
        StatusCode::FORBIDDEN,
        "a practitioner reading the audit trail",
    )
    .await;
});

both_engines!(admin_creates_accounts_through_the_api, |app| {
    app.seed_demo().await;
    let blood = department_id(&app, "BLOOD").await;
    let admin = app.token_for("admin").await;
    let new_person = json!({
        "username": "Jo.Bloggs",
        "display_name": "Jo Bloggs",
        "roles": ["associate", "apprentice"],
        "departments": [blood],
        "password": "a temporary passphrase",
    });
    let response = call_json(&app, &admin, Method::POST, "/api/v1/users", &new_person).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["username"], "jo.bloggs", "usernames are lowered");
    assert_eq!(created["kind"], "person");
    let mut roles: Vec<&str> = created["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    roles.sort_unstable();
    assert_eq!(roles, ["apprentice", "associate"]);
    assert_eq!(created["departments"], json!([blood]));
    assert_eq!(created["disabled"], false);
    assert!(
        created.get("password").is_none() && created.get("password_hash").is_none(),
        "{created}"
    );
    let id = created["id"].as_str().unwrap().to_owned();

    let response = call(
        &app,
        &admin,
        Method::GET,
        &format!("/api/v1/users/{id}"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), created);
    let all: Value = call(&app, &admin, Method::GET, "/api/v1/users", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|user| user["id"] == id.as_str())
    );

    // The new person must choose their own password at first sign-in.
    let browser = client();
    let response = app
        .post_sign_in(&browser, "jo.bloggs", "a temporary passphrase")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/account/password");

    // The same username again, in any case, is refused on the field.
    let mut duplicate = new_person.clone();
    duplicate["username"] = json!("JO.BLOGGS");
    duplicate["display_name"] = json!("Another Jo");
    let response = call_json(&app, &admin, Method::POST, "/api/v1/users", &duplicate).await;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a duplicate username",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "username", "{problem}");

    // A system identity needs no password and no role.
    let response = call_json(
        &app,
        &admin,
        Method::POST,
        "/api/v1/users",
        &json!({"username": "analyser.haem1", "display_name": "Haematology analyser 1", "kind": "system", "departments": [blood]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let system: Value = response.json().await.unwrap();
    assert_eq!(system["kind"], "system");

    // Invalid accounts: each problem named by its field.
    for (body, expected) in [
        (
            json!({"username": "1bad name", "display_name": "", "roles": ["wizard"], "departments": ["nowhere"], "password": "short"}),
            &["username", "display_name", "roles", "departments"][..],
        ),
        (
            json!({"username": "pat", "display_name": "Pat", "roles": [], "password": "a long enough passphrase"}),
            &["roles"],
        ),
        (
            json!({"username": "pat", "display_name": "Pat", "roles": ["associate"], "password": "short"}),
            &["password"],
        ),
        (
            json!({"username": "pat", "display_name": "Pat", "roles": ["associate"], "password": "pat pat pat pat pat"}),
            &["password"],
        ),
        (
            json!({"username": "pat", "display_name": "Pat", "kind": "robot", "roles": ["associate"], "password": "a long enough passphrase"}),
            &["kind"],
        ),
    ] {
        let response = call_json(&app, &admin, Method::POST, "/api/v1/users", &body).await;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            &body.to_string(),
        )
        .await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for field in expected {
            assert!(fields.contains(field), "{field} in {fields:?} for {body}");
        }
    }
    assert!(
        app.ctx.store.get_user_by_username("pat").await.is_err(),
        "no invalid account was stored"
    );

    // Only administrators create accounts.
    let manager = app.token_for("manager").await;
    let mut other = new_person.clone();
    other["username"] = json!("made.by.manager");
    let response = call_json(&app, &manager, Method::POST, "/api/v1/users", &other).await;
    assert_problem(
        response,
        StatusCode::FORBIDDEN,
        "a service manager creating an account",
    )
    .await;
    assert!(
        app.ctx
            .store
            .get_user_by_username("made.by.manager")
            .await
            .is_err()
    );
});

// PostgreSQL refuses text containing a NUL byte ("invalid byte sequence for
// encoding UTF8: 0x00"), which used to surface as a 500 there while SQLite
// stored the byte. NUL is now refused at the edge (URL, form, JSON) and by
// the domain's text checks, on both engines alike.
both_engines!(
    issue_2_text_with_a_nul_byte_is_refused_not_a_server_error,
    |app| {
        app.seed_demo().await;
        let blood = department_id(&app, "BLOOD").await;
        let practitioner = app.token_for("practitioner").await;
        let auditor = app.token_for("auditor").await;
        let mut statuses = Vec::new();
        let incident = json!({
            "department_id": blood, "kind": "incident", "category": "other", "severity": "low",
            "title": "nul\u{0}title", "description": "d",
        });
        let response = call_json(
            &app,
            &practitioner,
            Method::POST,
            "/api/v1/incidents",
            &incident,
        )
        .await;
        statuses.push(("API incident title", response.status()));
        for query in ["person=%00", "record=%00"] {
            let response = call(
                &app,
                &auditor,
                Method::GET,
                &format!("/api/v1/audit-events?{query}"),
                None,
            )
            .await;
            statuses.push(("API audit filter", response.status()));
        }
        let response = call(
            &app,
            &practitioner,
            Method::GET,
            "/api/v1/incidents?status=%00",
            None,
        )
        .await;
        statuses.push(("API incident status filter", response.status()));
        let form = app.sign_in_demo("practitioner").await;
        let response = form
            .post(
                "/incidents",
                &[
                    ("department", blood.as_str()),
                    ("kind", "incident"),
                    ("category", "other"),
                    ("severity", "low"),
                    ("title", "nul\u{0}t"),
                    ("description", "d"),
                ],
            )
            .await;
        statuses.push(("incident form title", response.status()));
        let quality = app.sign_in_demo("quality").await;
        statuses.push((
            "audit page filter",
            quality.get("/audit?record=%00").await.status(),
        ));
        statuses.push((
            "audit CSV filter",
            quality.get("/audit/export.csv?person=%00").await.status(),
        ));
        let admin = app.sign_in_demo("admin").await;
        let response = admin
            .post("/departments", &[("code", "NUL"), ("name", "nul\u{0}name")])
            .await;
        statuses.push(("department form name", response.status()));
        let system = app
            .ctx
            .store
            .get_user_by_username("analyser.chem1")
            .await
            .unwrap()
            .id;
        let response = admin
            .post(
                &format!("/staff/{system}/tokens"),
                &[("label", "nul\u{0}label")],
            )
            .await;
        statuses.push(("token form label", response.status()));

        for (what, status) in statuses {
            assert!(status.is_client_error(), "{what}: {status}");
        }
        // Nothing with a NUL was stored.
        let titles: Vec<String> = app
            .ctx
            .store
            .list_incidents(
                app.ctx
                    .store
                    .get_user_by_username("practitioner")
                    .await
                    .unwrap()
                    .id,
                &Default::default(),
                100,
            )
            .await
            .unwrap()
            .into_iter()
            .map(|incident| incident.title)
            .collect();
        assert!(
            titles.iter().all(|title| !title.contains('\0')),
            "{titles:?}"
        );
        assert!(
            app.ctx
                .store
                .list_departments()
                .await
                .unwrap()
                .iter()
                .all(|department| department.code != "NUL")
        );
    }
);
