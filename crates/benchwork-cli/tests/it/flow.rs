//! Steps of the investigation path shared by the test modules: the demo
//! patients' identities, booking through the form, moving the first specimen
//! through its custody steps, entering results on the form, reading the
//! results back, and plain page and API reads.

use benchwork_domain::ids::PatientId;
use benchwork_domain::request::AccessionNumber;
use benchwork_store::{PatientSearch, ResultRecord};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Session, TestApp, client};
use crate::roles::location;

/// Daniel Hughes: male, born 2 November 1988 (25 on 1 June 2014).
pub const DANIEL: [(&str, &str); 2] = [
    ("nhs_number", "9990000026"),
    ("date_of_birth", "02/11/1988"),
];
/// Grace Okafor: female, born 12 March 1954 (60 on 1 June 2014).
pub const GRACE: [(&str, &str); 2] = [
    ("nhs_number", "9990000018"),
    ("date_of_birth", "12/03/1954"),
];
/// Simran Kaur: female, born 21 July 2012.
pub const SIMRAN: [(&str, &str); 2] = [
    ("nhs_number", "9990000034"),
    ("date_of_birth", "21/07/2012"),
];

/// The demo patient with this NHS number.
pub async fn patient_id(app: &TestApp, nhs_number: &str) -> PatientId {
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

/// Books `investigations` with `priority` through the form for the patient
/// identified by `identity` (NHS number first); returns the accession number.
pub async fn book(
    app: &TestApp,
    session: &Session,
    identity: &[(&'static str, &'static str); 2],
    priority: &str,
    investigations: &[&str],
) -> AccessionNumber {
    let patient = patient_id(app, identity[0].1).await;
    let mut fields: Vec<(&str, &str)> = identity.to_vec();
    fields.extend([
        ("priority", priority),
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
    AccessionNumber::parse(location(&response).strip_prefix("/requests/").unwrap()).unwrap()
}

/// Moves the request's first specimen through `steps` (a rejection is
/// coded haemolysed).
pub async fn specimen_steps(session: &Session, accession: &AccessionNumber, steps: &[&str]) {
    let path = format!("/specimens/{}/events", accession.specimen_id(1));
    for step in steps {
        let mut fields = vec![("step", *step)];
        if *step == "rejected" {
            fields.push(("reason", "haemolysed"));
        }
        let response = session.post(&path, &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "step {step}");
    }
}

/// Posts the entry form: one value per investigation code, plus any other
/// fields (comments, instruments).
pub async fn enter(
    session: &Session,
    accession: &AccessionNumber,
    values: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (code, value) in values {
        fields.push(("code".into(), (*code).into()));
        fields.push((format!("value-{code}"), (*value).into()));
    }
    for (key, value) in extra {
        fields.push(((*key).into(), (*value).into()));
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    session
        .post(&format!("/requests/{accession}/results"), &fields)
        .await
}

/// The request's results, read from the store as the demo consultant.
pub async fn results_of(app: &TestApp, accession: &AccessionNumber) -> Vec<ResultRecord> {
    let consultant = app
        .ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap();
    let request = app
        .ctx
        .store
        .get_request(&accession.to_string(), consultant.id)
        .await
        .unwrap();
    app.ctx.store.list_results(request.id).await.unwrap()
}

/// A page's HTML.
pub async fn page(session: &Session, path: &str) -> String {
    session.get(path).await.text().await.unwrap()
}

/// GET on the API with a bearer token.
pub async fn api_get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// An API call with a bearer token and, if given, a JSON body.
pub async fn api(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = client()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("API request")
}

/// A POST on the API with a JSON body.
pub async fn api_post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    api(app, token, Method::POST, path, Some(body)).await
}

/// An API call: its status and its body as JSON (the text as a JSON string
/// when it is not JSON).
pub async fn api_status_json(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let response = api(app, token, method, path, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// An API call that must answer `status`; its JSON body (`Null` when the
/// body is not JSON).
pub async fn api_json(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: StatusCode,
) -> Value {
    let (got, body) = api_status_json(app, token, method.clone(), path, body).await;
    assert_eq!(got, status, "{method} {path}: {body}");
    match body {
        Value::String(_) => Value::Null,
        body => body,
    }
}

/// A POST on the API that must succeed; its JSON body.
pub async fn api_post_ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, body) = api_status_json(app, token, Method::POST, path, Some(body)).await;
    assert!(status.is_success(), "POST {path}: {status} {body}");
    body
}

/// The id of the request's result for the investigation `code`.
pub async fn result_id(app: &TestApp, accession: &AccessionNumber, code: &str) -> String {
    results_of(app, accession)
        .await
        .into_iter()
        .find(|result| result.code == code)
        .unwrap_or_else(|| panic!("no {code} result on {accession}"))
        .id
        .to_string()
}

/// A POST on the API: its status and JSON body.
pub async fn api_post_json(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    api_status_json(app, token, Method::POST, path, Some(body)).await
}

/// A GET on the API: its status and JSON body.
pub async fn api_get_json(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    api_status_json(app, token, Method::GET, path, None).await
}

/// A demo account as an app actor, for calling the app directly.
pub async fn actor(app: &TestApp, username: &str) -> benchwork_app::Actor {
    let user = app.ctx.store.get_user_by_username(username).await.unwrap();
    benchwork_app::auth::actor_from(&user, None).unwrap()
}
