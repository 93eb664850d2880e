//! Access control: a route × role matrix generated from the scheme of
//! delegation (`Role::permissions`), and department scoping of records read
//! or changed by id.

use benchwork_app::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD};
use benchwork_domain::staff::{Permission, Role};
use benchwork_store::IncidentFilter;
use reqwest::{Method, StatusCode, header};

use crate::both_engines;
use crate::helpers::{Session, TestApp, client, csrf_of};

/// What a route needs.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// Any signed-in person or token holder.
    SignedIn,
    /// At least one of these permissions.
    AnyOf(&'static [Permission]),
}

impl Need {
    fn allows(self, role: Role) -> bool {
        match self {
            Need::SignedIn => true,
            Need::AnyOf(needed) => needed
                .iter()
                .any(|permission| role.permissions().contains(permission)),
        }
    }
}

const VIEW_RECORDS: Need = Need::AnyOf(&[Permission::ViewDepartmentRecords]);
const RAISE: Need = Need::AnyOf(&[Permission::RaiseIncident]);
const MANAGE_INCIDENTS: Need = Need::AnyOf(&[Permission::ManageIncidents]);
const VIEW_AUDIT: Need = Need::AnyOf(&[Permission::ViewAuditTrail]);
const VIEW_STAFF: Need = Need::AnyOf(&[Permission::ViewStaff]);
const MANAGE_STAFF: Need = Need::AnyOf(&[Permission::ManageStaff]);
const VIEW_PATIENTS: Need = Need::AnyOf(&[Permission::ViewPatients]);
const REGISTER_PATIENTS: Need = Need::AnyOf(&[Permission::RegisterPatients]);
const MERGE_PATIENTS: Need = Need::AnyOf(&[Permission::MergePatients]);
const VIEW_CATALOGUE: Need = Need::AnyOf(&[Permission::ViewCatalogue]);
const EDIT_CATALOGUE: Need = Need::AnyOf(&[Permission::EditCatalogue]);
const BOOK_REQUESTS: Need = Need::AnyOf(&[Permission::BookRequests]);
const ENTER_RESULTS: Need = Need::AnyOf(&[Permission::EnterResults]);
const VERIFY_RESULTS: Need = Need::AnyOf(&[Permission::VerifyResults]);
const AUTHORISE_RESULTS: Need = Need::AnyOf(&[Permission::AuthoriseResults]);
const MANAGE_INSTRUMENTS: Need = Need::AnyOf(&[Permission::ManageInstruments]);
const VIEW_QC: Need = Need::AnyOf(&[Permission::RecordQc, Permission::ViewDepartmentRecords]);
const RECORD_QC: Need = Need::AnyOf(&[Permission::RecordQc]);
const MANAGE_QC: Need = Need::AnyOf(&[Permission::ManageQc]);
const RELEASE_QC_HOLD: Need = Need::AnyOf(&[Permission::ReleaseQcHold]);
const APPROVE_ALERT_LIMITS: Need = Need::AnyOf(&[Permission::ApproveAlertLimits]);

/// One route of the matrix. Path placeholders: `{user}` (another person's
/// account), `{incident}` (the BLOOD demo incident), `{investigation}` (the
/// demo catalogue's potassium), `{accession}` and `{specimen}` (the first
/// BLOOD demo request and its first specimen), `{notification}` and
/// `{token}` and `{result}` (ids that do not exist). Form posts carry no fields besides the
/// anti-forgery token, so an allowed post is refused as invalid (422) or not
/// found (404) and changes nothing; JSON bodies parse but do not validate.
struct Route {
    method: Method,
    path: &'static str,
    need: Need,
    json: Option<&'static str>,
}

const fn page(method: Method, path: &'static str, need: Need) -> Route {
    Route {
        method,
        path,
        need,
        json: None,
    }
}

const fn api(method: Method, path: &'static str, need: Need, json: Option<&'static str>) -> Route {
    Route {
        method,
        path,
        need,
        json,
    }
}

/// Every page route. `POST /sign-out` comes last: it ends the session.
fn page_routes() -> Vec<Route> {
    vec![
        page(Method::GET, "/", Need::SignedIn),
        page(Method::GET, "/account/password", Need::SignedIn),
        page(Method::POST, "/account/password", Need::SignedIn),
        page(
            Method::POST,
            "/notifications/{notification}/read",
            Need::SignedIn,
        ),
        page(Method::GET, "/staff", VIEW_STAFF),
        page(Method::POST, "/staff", MANAGE_STAFF),
        page(Method::GET, "/staff/new", MANAGE_STAFF),
        page(Method::GET, "/staff/{user}", VIEW_STAFF),
        page(Method::GET, "/staff/{user}/edit", MANAGE_STAFF),
        page(Method::POST, "/staff/{user}/edit", MANAGE_STAFF),
        page(Method::POST, "/staff/{user}/disable", MANAGE_STAFF),
        page(Method::POST, "/staff/{user}/enable", MANAGE_STAFF),
        page(Method::POST, "/staff/{user}/password", MANAGE_STAFF),
        page(Method::POST, "/staff/{user}/tokens", MANAGE_STAFF),
        page(
            Method::POST,
            "/staff/{user}/tokens/{token}/revoke",
            MANAGE_STAFF,
        ),
        page(Method::GET, "/departments", MANAGE_STAFF),
        page(Method::POST, "/departments", MANAGE_STAFF),
        page(Method::GET, "/audit", VIEW_AUDIT),
        page(Method::GET, "/audit/export.csv", VIEW_AUDIT),
        // The list is also open to those who may only raise incidents.
        page(
            Method::GET,
            "/incidents",
            Need::AnyOf(&[Permission::ViewDepartmentRecords, Permission::RaiseIncident]),
        ),
        page(Method::POST, "/incidents", RAISE),
        page(Method::GET, "/incidents/new", RAISE),
        page(Method::GET, "/incidents/{incident}", VIEW_RECORDS),
        page(Method::POST, "/incidents/{incident}", MANAGE_INCIDENTS),
        page(Method::GET, "/patients", VIEW_PATIENTS),
        page(Method::POST, "/patients", REGISTER_PATIENTS),
        page(Method::GET, "/patients/new", REGISTER_PATIENTS),
        page(Method::GET, "/patients/{patient}", VIEW_PATIENTS),
        page(Method::GET, "/patients/{patient}/edit", REGISTER_PATIENTS),
        page(Method::POST, "/patients/{patient}/edit", REGISTER_PATIENTS),
        page(Method::POST, "/patients/{patient}/confirm", VIEW_PATIENTS),
        page(Method::POST, "/patients/{patient}/merge", MERGE_PATIENTS),
        page(Method::GET, "/catalogue", VIEW_CATALOGUE),
        page(Method::POST, "/catalogue", EDIT_CATALOGUE),
        page(Method::GET, "/catalogue/new", EDIT_CATALOGUE),
        page(Method::GET, "/catalogue/{investigation}", VIEW_CATALOGUE),
        page(
            Method::GET,
            "/catalogue/{investigation}/edit",
            EDIT_CATALOGUE,
        ),
        page(
            Method::POST,
            "/catalogue/{investigation}/edit",
            EDIT_CATALOGUE,
        ),
        page(Method::POST, "/patients/{patient}/consent", BOOK_REQUESTS),
        page(
            Method::GET,
            "/patients/{patient}/requests/new",
            BOOK_REQUESTS,
        ),
        page(Method::POST, "/patients/{patient}/requests", BOOK_REQUESTS),
        page(Method::GET, "/requests", VIEW_RECORDS),
        page(Method::GET, "/requests/{accession}", VIEW_RECORDS),
        page(Method::POST, "/requests/{accession}/results", ENTER_RESULTS),
        page(Method::GET, "/worklists", ENTER_RESULTS),
        page(Method::POST, "/results/{result}/verify", VERIFY_RESULTS),
        page(
            Method::POST,
            "/results/{result}/authorise",
            AUTHORISE_RESULTS,
        ),
        page(Method::POST, "/results/{result}/amend", AUTHORISE_RESULTS),
        page(Method::GET, "/specimens/{specimen}", VIEW_RECORDS),
        page(Method::POST, "/specimens/{specimen}/events", BOOK_REQUESTS),
        // Turnaround and request status (issue 3 item 8).
        page(Method::GET, "/turnaround", VIEW_RECORDS),
        // Issue 3 administration: the instrument register and panels (the
        // instrument id does not exist: allowed roles get 404).
        page(Method::GET, "/instruments", VIEW_RECORDS),
        page(Method::POST, "/instruments", MANAGE_INSTRUMENTS),
        page(Method::GET, "/instruments/new", MANAGE_INSTRUMENTS),
        page(
            Method::GET,
            "/instruments/0190c0de-0000-7000-8000-000000000000/edit",
            MANAGE_INSTRUMENTS,
        ),
        page(
            Method::POST,
            "/instruments/0190c0de-0000-7000-8000-000000000000/edit",
            MANAGE_INSTRUMENTS,
        ),
        page(Method::GET, "/catalogue/panels", VIEW_CATALOGUE),
        page(Method::POST, "/catalogue/panels", EDIT_CATALOGUE),
        page(Method::GET, "/catalogue/panels/new", EDIT_CATALOGUE),
        page(Method::GET, "/catalogue/panels/UE/edit", EDIT_CATALOGUE),
        page(Method::POST, "/catalogue/panels/UE/edit", EDIT_CATALOGUE),
        // Reports (issue 3 item 7).
        page(Method::GET, "/requests/{accession}/report", VIEW_RECORDS),
        page(
            Method::GET,
            "/requests/{accession}/report.pdf",
            VIEW_RECORDS,
        ),
        // Calculated results and comments (issue 3 item 5): the department
        // comment library. Before sign-out, which must stay last.
        page(Method::GET, "/comments", EDIT_CATALOGUE),
        page(Method::POST, "/comments", EDIT_CATALOGUE),
        page(
            Method::POST,
            "/comments/{result}/deactivate",
            EDIT_CATALOGUE,
        ),
        // Cumulative view (issue 3 item 7).
        page(Method::GET, "/patients/{patient}/results", VIEW_RECORDS),
        page(Method::GET, "/patients/{patient}/results/K", VIEW_RECORDS),
        // QC charts (issue 4): Levey–Jennings charts and statistics.
        page(Method::GET, "/qc/charts", VIEW_RECORDS),
        page(
            Method::GET,
            "/qc/charts?instrument={result}&investigation=K&level=1",
            VIEW_RECORDS,
        ),
        page(
            Method::GET,
            "/qc/charts.svg?instrument={result}&investigation=K&level=1",
            VIEW_RECORDS,
        ),
        page(Method::GET, "/qc/statistics", VIEW_RECORDS),
        // QC core (issue 4). Before sign-out, which must stay last.
        page(Method::GET, "/qc", VIEW_QC),
        page(Method::GET, "/qc/runs/new", RECORD_QC),
        page(Method::POST, "/qc/runs", RECORD_QC),
        page(Method::GET, "/qc/runs/{result}", VIEW_QC),
        page(Method::GET, "/qc/holds/{result}", VIEW_PATIENTS),
        page(
            Method::POST,
            "/qc/holds/{result}/corrective-action",
            RELEASE_QC_HOLD,
        ),
        page(Method::POST, "/qc/holds/{result}/reviews", RELEASE_QC_HOLD),
        // QC set-up pages (issue 4). Before sign-out, which must stay last.
        page(Method::GET, "/qc/setup", MANAGE_QC),
        page(Method::GET, "/qc/setup/materials/new", MANAGE_QC),
        page(Method::POST, "/qc/setup/materials/new", MANAGE_QC),
        page(Method::GET, "/qc/setup/lots/new", MANAGE_QC),
        page(Method::POST, "/qc/setup/lots/new", MANAGE_QC),
        page(Method::GET, "/qc/setup/targets/new", MANAGE_QC),
        page(Method::POST, "/qc/setup/targets/new", MANAGE_QC),
        page(Method::GET, "/qc/setup/rules", MANAGE_QC),
        page(Method::POST, "/qc/setup/rules", MANAGE_QC),
        // Alert limits (issue 6 item 1). Before sign-out, which must stay last.
        page(Method::GET, "/alert-limits", VIEW_CATALOGUE),
        page(Method::GET, "/alert-limits/{investigation}", VIEW_CATALOGUE),
        page(
            Method::GET,
            "/alert-limits/{investigation}/propose",
            EDIT_CATALOGUE,
        ),
        page(
            Method::POST,
            "/alert-limits/{investigation}/propose",
            EDIT_CATALOGUE,
        ),
        page(
            Method::POST,
            "/alert-limits/{investigation}/versions/99/approve",
            APPROVE_ALERT_LIMITS,
        ),
        // Critical results (issue 6). Before sign-out, which must stay last.
        page(Method::GET, "/critical", VIEW_PATIENTS),
        page(Method::GET, "/critical/compliance", VIEW_RECORDS),
        page(Method::GET, "/critical/escalation", VIEW_RECORDS),
        page(Method::GET, "/critical/{result}", VIEW_PATIENTS),
        page(Method::POST, "/critical/{result}/attempts", ENTER_RESULTS),
        page(Method::POST, "/critical/{result}/decision", VIEW_PATIENTS),
        page(Method::POST, "/critical/{result}/take", ENTER_RESULTS),
        // QC lot life cycle (issue 4). Before sign-out, which must stay last.
        page(Method::GET, "/qc/setup/lots/{result}/promote", MANAGE_QC),
        page(Method::POST, "/qc/setup/lots/{result}/promote", MANAGE_QC),
        page(Method::GET, "/qc/setup/lots/{result}/retire", MANAGE_QC),
        page(Method::POST, "/qc/setup/lots/{result}/retire", MANAGE_QC),
        page(Method::POST, "/sign-out", Need::SignedIn),
    ]
}

/// Every API route that needs a token (the OpenAPI document is public).
fn api_routes() -> Vec<Route> {
    vec![
        api(Method::GET, "/api/v1/me", Need::SignedIn, None),
        api(Method::GET, "/api/v1/notifications", Need::SignedIn, None),
        api(Method::GET, "/api/v1/users", VIEW_STAFF, None),
        api(
            Method::POST,
            "/api/v1/users",
            MANAGE_STAFF,
            Some(r#"{"username": "", "display_name": ""}"#),
        ),
        api(Method::GET, "/api/v1/users/{user}", VIEW_STAFF, None),
        api(Method::GET, "/api/v1/incidents", VIEW_RECORDS, None),
        api(
            Method::POST,
            "/api/v1/incidents",
            RAISE,
            Some(
                r#"{"department_id": "", "kind": "", "category": "", "severity": "", "title": "", "description": ""}"#,
            ),
        ),
        api(
            Method::GET,
            "/api/v1/incidents/{incident}",
            VIEW_RECORDS,
            None,
        ),
        api(
            Method::PATCH,
            "/api/v1/incidents/{incident}",
            MANAGE_INCIDENTS,
            Some(r#"{"status": ""}"#),
        ),
        api(Method::GET, "/api/v1/audit-events", VIEW_AUDIT, None),
        api(
            Method::GET,
            "/api/v1/patients?nhs_number=9990000018",
            VIEW_PATIENTS,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/patients",
            REGISTER_PATIENTS,
            Some("{}"),
        ),
        api(
            Method::GET,
            "/api/v1/patients/{patient}",
            VIEW_PATIENTS,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/patients/{patient}/identity-check",
            VIEW_PATIENTS,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/patients/{patient}/merge",
            MERGE_PATIENTS,
            Some(r#"{"survivor": "", "reason": ""}"#),
        ),
        api(Method::GET, "/api/v1/investigations", VIEW_CATALOGUE, None),
        api(
            Method::POST,
            "/api/v1/investigations",
            EDIT_CATALOGUE,
            Some("{}"),
        ),
        api(
            Method::GET,
            "/api/v1/investigations/{investigation}",
            VIEW_CATALOGUE,
            None,
        ),
        api(
            Method::PUT,
            "/api/v1/investigations/{investigation}",
            EDIT_CATALOGUE,
            Some("{}"),
        ),
        api(Method::GET, "/api/v1/panels", VIEW_CATALOGUE, None),
        api(Method::POST, "/api/v1/requests", BOOK_REQUESTS, Some("{}")),
        api(
            Method::GET,
            "/api/v1/requests/{accession}",
            VIEW_RECORDS,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/requests/{accession}/results",
            ENTER_RESULTS,
            Some(r#"{"results": []}"#),
        ),
        api(
            Method::POST,
            "/api/v1/specimens/{specimen}/events",
            BOOK_REQUESTS,
            Some(r#"{"step": ""}"#),
        ),
        api(
            Method::POST,
            "/api/v1/results/{result}/verify",
            VERIFY_RESULTS,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/results/{result}/authorise",
            AUTHORISE_RESULTS,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/results/{result}/amend",
            AUTHORISE_RESULTS,
            Some(r#"{"value": "", "reason": ""}"#),
        ),
        // Turnaround and request status (issue 3 item 8).
        api(Method::GET, "/api/v1/turnaround", VIEW_RECORDS, None),
        // Issue 3 administration: instruments, panels and the list gaps.
        api(Method::GET, "/api/v1/instruments", VIEW_RECORDS, None),
        api(
            Method::POST,
            "/api/v1/instruments",
            MANAGE_INSTRUMENTS,
            Some("{}"),
        ),
        api(
            Method::GET,
            "/api/v1/instruments/0190c0de-0000-7000-8000-000000000000",
            VIEW_RECORDS,
            None,
        ),
        api(
            Method::PUT,
            "/api/v1/instruments/0190c0de-0000-7000-8000-000000000000",
            MANAGE_INSTRUMENTS,
            Some("{}"),
        ),
        api(Method::POST, "/api/v1/panels", EDIT_CATALOGUE, Some("{}")),
        api(Method::PUT, "/api/v1/panels/UE", EDIT_CATALOGUE, Some("{}")),
        api(Method::GET, "/api/v1/requests", VIEW_RECORDS, None),
        api(
            Method::GET,
            "/api/v1/patients/{patient}/consents",
            VIEW_PATIENTS,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/patients/{patient}/consents",
            BOOK_REQUESTS,
            Some("{}"),
        ),
        api(Method::GET, "/api/v1/worklists", ENTER_RESULTS, None),
        api(
            Method::GET,
            "/api/v1/results/queue?stage=verify",
            VERIFY_RESULTS,
            None,
        ),
        api(
            Method::GET,
            "/api/v1/results/queue?stage=authorise",
            AUTHORISE_RESULTS,
            None,
        ),
        // Reports (issue 3 item 7).
        api(
            Method::GET,
            "/api/v1/requests/{accession}/report",
            VIEW_RECORDS,
            None,
        ),
        api(
            Method::GET,
            "/api/v1/requests/{accession}/report.pdf",
            VIEW_RECORDS,
            None,
        ),
        // Cumulative view (issue 3 item 7).
        api(
            Method::GET,
            "/api/v1/patients/{patient}/results",
            VIEW_RECORDS,
            None,
        ),
        api(
            Method::GET,
            "/api/v1/patients/{patient}/results?investigation=K",
            VIEW_RECORDS,
            None,
        ),
        // QC charts (issue 4): Levey–Jennings chart data and statistics.
        api(
            Method::GET,
            "/api/v1/qc/charts?instrument={result}&investigation=K&level=1",
            VIEW_RECORDS,
            None,
        ),
        api(
            Method::GET,
            "/api/v1/qc/statistics?instrument={result}&investigation=K",
            VIEW_RECORDS,
            None,
        ),
        // QC core (issue 4).
        api(Method::POST, "/api/v1/qc/materials", MANAGE_QC, Some("{}")),
        api(Method::POST, "/api/v1/qc/lots", MANAGE_QC, Some("{}")),
        api(Method::POST, "/api/v1/qc/targets", MANAGE_QC, Some("{}")),
        api(Method::PUT, "/api/v1/qc/rules", MANAGE_QC, Some("{}")),
        api(Method::POST, "/api/v1/qc/runs", RECORD_QC, Some("{}")),
        api(Method::GET, "/api/v1/qc/runs", VIEW_QC, None),
        api(Method::GET, "/api/v1/qc/holds", VIEW_QC, None),
        api(
            Method::GET,
            "/api/v1/qc/holds/{result}",
            VIEW_PATIENTS,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/qc/holds/{result}/corrective-action",
            RELEASE_QC_HOLD,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/qc/holds/{result}/reviews",
            RELEASE_QC_HOLD,
            Some("{}"),
        ), // Critical results (issue 6).
        api(Method::GET, "/api/v1/critical-tasks", VIEW_PATIENTS, None),
        api(
            Method::GET,
            "/api/v1/critical-tasks/{result}",
            VIEW_PATIENTS,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/critical-tasks/{result}/take",
            ENTER_RESULTS,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/critical-tasks/{result}/attempts",
            ENTER_RESULTS,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/critical-tasks/{result}/decision",
            VIEW_PATIENTS,
            Some("{}"),
        ),
        // Alert limits (issue 6 item 1).
        api(
            Method::GET,
            "/api/v1/alert-limits/{investigation}",
            VIEW_CATALOGUE,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/alert-limits/{investigation}",
            EDIT_CATALOGUE,
            Some("{}"),
        ),
        api(
            Method::POST,
            "/api/v1/alert-limits/{investigation}/versions/99/approve",
            APPROVE_ALERT_LIMITS,
            None,
        ),
        // QC lot life cycle (issue 4).
        api(
            Method::POST,
            "/api/v1/qc/lots/{result}/promote",
            MANAGE_QC,
            None,
        ),
        api(
            Method::POST,
            "/api/v1/qc/lots/{result}/retire",
            MANAGE_QC,
            Some("{}"),
        ),
    ]
}

/// The ids the path placeholders stand for.
struct Targets {
    patient: String,
    user: String,
    incident: String,
    investigation: String,
    accession: String,
    specimen: String,
    notification: String,
    token: String,
    result: String,
}

impl Targets {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{patient}", &self.patient)
            .replace("{user}", &self.user)
            .replace("{incident}", &self.incident)
            .replace("{investigation}", &self.investigation)
            .replace("{accession}", &self.accession)
            .replace("{specimen}", &self.specimen)
            .replace("{notification}", &self.notification)
            .replace("{token}", &self.token)
            .replace("{result}", &self.result)
    }
}

/// The demo account that holds `role` (the first, so `associate` rather
/// than `cardiac.associate`).
fn account_for(role: Role) -> &'static str {
    DEMO_ACCOUNTS
        .iter()
        .find(|account| account.role == role)
        .unwrap_or_else(|| panic!("the demo has an account for {role:?}"))
        .username
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

async fn send_page(session: &Session, method: &Method, path: &str) -> reqwest::Response {
    if *method == Method::POST {
        session.post(path, &[]).await
    } else {
        session.get(path).await
    }
}

async fn send_api(
    app: &TestApp,
    token: Option<&str>,
    route: &Route,
    path: &str,
) -> reqwest::Response {
    let mut request = client().request(route.method.clone(), format!("{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(json) = route.json {
        request = request
            .header(header::CONTENT_TYPE, "application/json")
            .body(json);
    }
    request.send().await.expect("API request")
}

/// A person with no other role or department than those given, created by
/// the operator (so without a forced password change).
pub(crate) async fn create_person(
    app: &TestApp,
    username: &str,
    role: Role,
    departments: &[&str],
) -> benchwork_store::UserRecord {
    let all = app.ctx.store.list_departments().await.unwrap();
    let departments = departments
        .iter()
        .map(|code| {
            all.iter()
                .find(|department| department.code == *code)
                .expect("a demo department")
                .id
                .to_string()
        })
        .collect();
    benchwork_app::staff::create_account_unchecked(
        &app.ctx,
        &benchwork_app::staff::operator("test"),
        &benchwork_app::staff::AccountInput {
            username: username.into(),
            display_name: format!("Test {username}"),
            kind: "person".into(),
            roles: vec![role.code().into()],
            departments,
            password: DEMO_PASSWORD.into(),
        },
    )
    .await
    .expect("creating a test account")
}

both_engines!(
    route_role_matrix_refuses_what_each_role_must_not_do,
    |app| {
        app.seed_demo().await;
        // Another person's account to act on, so that "my own account" never
        // grants access.
        let target = create_person(&app, "matrix.target", Role::Apprentice, &["BLOOD"]).await;
        let consultant = app
            .ctx
            .store
            .get_user_by_username("consultant")
            .await
            .unwrap();
        let blood = app
            .ctx
            .store
            .list_departments()
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.code == "BLOOD")
            .unwrap();
        let incident = app
            .ctx
            .store
            .list_incidents(consultant.id, &IncidentFilter::default(), 500)
            .await
            .unwrap()
            .into_iter()
            .find(|incident| incident.department_id == blood.id)
            .expect("the BLOOD demo incident");
        let patient = app
            .ctx
            .store
            .search_patients(
                &benchwork_store::PatientSearch {
                    nhs_number: Some("9990000018".into()),
                    ..Default::default()
                },
                1,
            )
            .await
            .unwrap()
            .remove(0);
        let request = app
            .ctx
            .store
            .list_requests(consultant.id, 500)
            .await
            .unwrap()
            .into_iter()
            .filter(|request| request.department_id == blood.id)
            .min_by_key(|request| request.accession.clone())
            .expect("a BLOOD demo request");
        let specimen = app
            .ctx
            .store
            .list_request_specimens(request.id)
            .await
            .unwrap()
            .remove(0);
        let targets = Targets {
            patient: patient.id.to_string(),
            accession: request.accession.clone(),
            specimen: specimen.code.clone(),
            user: target.id.to_string(),
            incident: incident.id.to_string(),
            investigation: "K".into(),
            notification: uuid::Uuid::new_v4().to_string(),
            token: uuid::Uuid::new_v4().to_string(),
            result: uuid::Uuid::new_v4().to_string(),
        };

        let mut failures = Vec::new();
        let mut n_cells = 0;
        for role in Role::ALL {
            let username = account_for(role);
            let session = app.sign_in_demo(username).await;
            for route in page_routes() {
                let path = targets.fill(route.path);
                let response = send_page(&session, &route.method, &path).await;
                let status = response.status();
                let to = location(&response);
                n_cells += 1;
                let cell = format!("{} {path} as {username} ({role:?})", route.method);
                if route.need.allows(role) {
                    if status == StatusCode::FORBIDDEN || status.is_server_error() {
                        failures.push(format!("{cell}: allowed but got {status}"));
                    } else if to.starts_with("/sign-in") && route.path != "/sign-out" {
                        failures.push(format!("{cell}: the session was lost ({status} to {to})"));
                    }
                } else if status != StatusCode::FORBIDDEN {
                    failures.push(format!(
                        "{cell}: must be refused with 403, got {status} {to}"
                    ));
                }
            }
            let token = app.token_for(username).await;
            for route in api_routes() {
                let path = targets.fill(route.path);
                let response = send_api(&app, Some(&token), &route, &path).await;
                let status = response.status();
                n_cells += 1;
                let cell = format!("{} {path} as {username} ({role:?}) by token", route.method);
                if route.need.allows(role) {
                    if status == StatusCode::FORBIDDEN
                        || status.is_server_error()
                        || status == StatusCode::UNAUTHORIZED
                    {
                        failures.push(format!("{cell}: allowed but got {status}"));
                    }
                } else if status != StatusCode::FORBIDDEN {
                    failures.push(format!("{cell}: must be refused with 403, got {status}"));
                } else if content_type(&response) != "application/problem+json" {
                    failures.push(format!(
                        "{cell}: a refusal must be problem details, got {}",
                        content_type(&response)
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {n_cells} cells are wrong:\n{}",
            failures.len(),
            failures.join("\n")
        );
        // The allowed posts changed nothing.
        let target_after = app.ctx.store.get_user(target.id).await.unwrap();
        assert!(
            target_after.disabled_at.is_none(),
            "disable then enable leaves the account enabled"
        );
        assert_eq!(target_after.display_name, target.display_name);
        let incident_after = app
            .ctx
            .store
            .get_incident(incident.id, consultant.id)
            .await
            .unwrap();
        assert_eq!(incident_after.status, "open");
        let specimen_after = app
            .ctx
            .store
            .get_specimen(&specimen.code, consultant.id)
            .await
            .unwrap();
        assert_eq!(
            specimen_after.status, specimen.status,
            "the empty custody forms moved no specimen"
        );
        assert_eq!(
            app.ctx
                .store
                .list_incidents(consultant.id, &IncidentFilter::default(), 500)
                .await
                .unwrap()
                .len(),
            2,
            "no incident was raised by the empty forms"
        );

        // Without a session every page sends the browser to sign in, forms too.
        let anonymous = client();
        for route in page_routes() {
            let path = targets.fill(route.path);
            let response = if route.method == Method::POST {
                anonymous
                    .post(format!("{}{path}", app.address))
                    .form(&[("csrf_token", "not-a-session-token")])
                    .send()
                    .await
                    .unwrap()
            } else {
                anonymous
                    .get(format!("{}{path}", app.address))
                    .send()
                    .await
                    .unwrap()
            };
            let status = response.status();
            let to = location(&response);
            if status != StatusCode::SEE_OTHER || !to.starts_with("/sign-in") {
                failures.push(format!(
                    "{} {path} without a session: expected 303 to /sign-in, got {status} {to}",
                    route.method
                ));
            }
        }
        // Without a token (or with a wrong one) every API route answers 401
        // problem details.
        for token in [None, Some("bwk_not-a-real-token")] {
            for route in api_routes() {
                let path = targets.fill(route.path);
                let response = send_api(&app, token, &route, &path).await;
                let status = response.status();
                let kind = content_type(&response);
                let challenge = response.headers().get(header::WWW_AUTHENTICATE).cloned();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                if status != StatusCode::UNAUTHORIZED
                    || kind != "application/problem+json"
                    || body["status"] != 401
                    || challenge.is_none()
                {
                    failures.push(format!(
                    "{} {path} with token {token:?}: expected 401 problem+json with WWW-Authenticate, got {status} {kind} {body}",
                    route.method
                ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
);

/// Signs in with a temporary password and replaces it, as a person whose
/// account an administrator has just made must.
pub(crate) async fn sign_in_changing_password(
    app: &TestApp,
    username: &str,
    temporary: &str,
    new: &str,
) -> Session {
    let client = client();
    let response = app.post_sign_in(&client, username, temporary).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/account/password",
        "a new account must change its password first"
    );
    let form = client
        .get(format!("{}/account/password", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let csrf = csrf_of(&form.text().await.unwrap());
    let changed = client
        .post(format!("{}/account/password", app.address))
        .form(&[
            ("current_password", temporary),
            ("new_password", new),
            ("confirm_password", new),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        StatusCode::SEE_OTHER,
        "changing the temporary password"
    );
    assert_eq!(location(&changed), "/");
    let home = client
        .get(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    Session {
        csrf: csrf_of(&home.text().await.unwrap()),
        client,
        address: app.address.clone(),
    }
}

async fn api_get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

both_engines!(another_departments_incident_is_not_found_by_id, |app| {
    app.seed_demo().await;
    let departments = app.ctx.store.list_departments().await.unwrap();
    let blood = departments.iter().find(|d| d.code == "BLOOD").unwrap().id;
    let cardiac = departments.iter().find(|d| d.code == "CARDIAC").unwrap().id;
    let consultant = app
        .ctx
        .store
        .get_user_by_username("consultant")
        .await
        .unwrap();
    let all = app
        .ctx
        .store
        .list_incidents(consultant.id, &IncidentFilter::default(), 500)
        .await
        .unwrap();
    let blood_incident = all
        .iter()
        .find(|incident| incident.department_id == blood)
        .expect("a BLOOD incident")
        .clone();
    let cardiac_incident = all
        .iter()
        .find(|incident| incident.department_id == cardiac)
        .expect("a CARDIAC incident")
        .clone();
    let blood_path = format!("/incidents/{}", blood_incident.id);

    // Pages: the cardiac associate cannot open the BLOOD incident by id, and
    // it is in none of their lists; their own department's one is.
    let cardiac_associate = app.sign_in_demo("cardiac.associate").await;
    let response = cardiac_associate.get(&blood_path).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(&blood_incident.title),
        "a 404 page must not show the record"
    );
    for list in ["/incidents", "/"] {
        let response = cardiac_associate.get(list).await;
        assert_eq!(response.status(), StatusCode::OK, "{list}");
        let text = response.text().await.unwrap();
        assert!(
            !text.contains(&blood_incident.title),
            "{list} shows another department's incident"
        );
        assert!(
            !text.contains(&blood_incident.id.to_string()),
            "{list} links another department's incident"
        );
        assert!(
            text.contains(&cardiac_incident.title),
            "{list} shows the person's own department's incident"
        );
    }
    // The BLOOD associate does see it, by id and in the list.
    let associate = app.sign_in_demo("associate").await;
    let response = associate.get(&blood_path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(&blood_incident.title)
    );
    let list = associate.get("/incidents").await.text().await.unwrap();
    assert!(list.contains(&blood_incident.title));
    assert!(
        !list.contains(&cardiac_incident.title),
        "the BLOOD associate does not see CARDIAC's incident"
    );

    // API: the same by id and in the list.
    let cardiac_token = app.token_for("cardiac.associate").await;
    let response = api_get(&app, &cardiac_token, &format!("/api/v1{blood_path}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(content_type(&response), "application/problem+json");
    let listed: serde_json::Value = api_get(&app, &cardiac_token, "/api/v1/incidents")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![cardiac_incident.id.to_string().as_str()]);
    let associate_token = app.token_for("associate").await;
    let response = api_get(&app, &associate_token, &format!("/api/v1{blood_path}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen: serde_json::Value = response.json().await.unwrap();
    assert_eq!(seen["title"], blood_incident.title.as_str());

    // A practitioner of CARDIAC only (made by an administrator through the
    // API) may manage incidents, but not BLOOD's: not found, by API and by
    // form, and the record is unchanged.
    let admin_token = app.token_for("admin").await;
    let created = client()
        .post(format!("{}/api/v1/users", app.address))
        .bearer_auth(&admin_token)
        .json(&serde_json::json!({
            "username": "cardiac.practitioner",
            "display_name": "Cameron Cardiac",
            "roles": ["practitioner"],
            "departments": [cardiac.to_string()],
            "password": "temporary passphrase 2026",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let practitioner_token = app.token_for("cardiac.practitioner").await;
    let patch = |id: String, body: serde_json::Value| {
        let address = app.address.clone();
        let token = practitioner_token.clone();
        async move {
            client()
                .patch(format!("{address}/api/v1/incidents/{id}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let response = patch(
        blood_incident.id.to_string(),
        serde_json::json!({"status": "closed", "outcome": "closed from the wrong department"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(content_type(&response), "application/problem+json");
    let response = api_get(&app, &practitioner_token, &format!("/api/v1{blood_path}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let practitioner = sign_in_changing_password(
        &app,
        "cardiac.practitioner",
        "temporary passphrase 2026",
        "a passphrase of my own 77",
    )
    .await;
    let response = practitioner
        .post(
            &blood_path,
            &[
                ("status", "closed"),
                ("owner", ""),
                ("outcome", "closed from the wrong department"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        practitioner.get(&blood_path).await.status(),
        StatusCode::NOT_FOUND
    );
    let unchanged = app
        .ctx
        .store
        .get_incident(blood_incident.id, consultant.id)
        .await
        .unwrap();
    assert_eq!(unchanged.status, "open");
    assert_eq!(unchanged.outcome, None);
    assert_eq!(unchanged.updated_at, blood_incident.updated_at);

    // Their own department's incident they can manage.
    let response = patch(
        cardiac_incident.id.to_string(),
        serde_json::json!({"status": "under-investigation"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Someone else's notification cannot be read or marked by id either.
    let quality_token = app.token_for("quality").await;
    let inbox: serde_json::Value = api_get(&app, &quality_token, "/api/v1/notifications")
        .await
        .json()
        .await
        .unwrap();
    let notification = inbox[0]["id"]
        .as_str()
        .expect("the quality manager was notified")
        .to_owned();
    let response = cardiac_associate
        .post(&format!("/notifications/{notification}/read"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let inbox: serde_json::Value = api_get(&app, &quality_token, "/api/v1/notifications")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox[0]["read"], false, "still unread for its recipient");
});
