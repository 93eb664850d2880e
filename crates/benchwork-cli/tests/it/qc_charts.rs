//! Levey–Jennings charts and QC statistics (issue 4 items 4 and 6). The QC
//! write side is built in parallel, so the QC history is inserted here with
//! raw SQL (a fixture in this file only): urea level 1 (no demo QC, which covers K, NA, CREA and GLU) on the demo
//! chemistry analyser, ten runs in October 2026 on lot L1 (target 4.00 ±
//! 0.10), one rejected run in November (1-3s), then three runs on lot L2
//! (target 4.20 ± 0.12); and QC on the cardiac department's ECG cart, which
//! a blood sciences associate must not find.

use benchwork_domain::result::InstrumentId;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::both_engines;
use crate::helpers::{Engine, TestApp, client};

/// Ten level-1 values, October 2026, lot L1. Mean 4.05, SD 0.158114, CV
/// 3.904 %, bias 1.25 % against 4.00, sigma at TEa 10 %: 2.241.
const OCTOBER: [f64; 10] = [4.0, 4.2, 3.9, 4.1, 4.3, 3.8, 4.0, 4.1, 4.2, 3.9];

/// An id as an SQL literal for the engine: a 16-byte BLOB on SQLite, a
/// UUID on PostgreSQL.
fn id(app: &TestApp, id: Uuid) -> String {
    match app.engine {
        Engine::Sqlite => format!("X'{}'", id.simple()),
        Engine::Postgres => format!("'{id}'"),
    }
}

/// Microseconds since the epoch of an RFC 3339 instant.
fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_microsecond()
}

pub(crate) struct Fixture {
    pub(crate) chemistry: InstrumentId,
    pub(crate) ecg: InstrumentId,
}

/// One lot of a level-1 material with its target on `instrument`.
#[allow(clippy::too_many_arguments)]
async fn lot(
    app: &TestApp,
    material: Uuid,
    instrument: InstrumentId,
    investigation: Uuid,
    user: Uuid,
    number: &str,
    mean: f64,
    sd: f64,
) -> (Uuid, Uuid) {
    let (lot, target) = (Uuid::now_v7(), Uuid::now_v7());
    let created = at("2026-09-01T08:00:00Z");
    app.sql(&format!(
        "INSERT INTO qc_lot (id, material_id, lot_number, expires_on, status, created_by, created_at, updated_at) \
         VALUES ({}, {}, '{number}', '2027-12-31', 'current', {}, {created}, {created})",
        id(app, lot),
        id(app, material),
        id(app, user)
    ))
    .await;
    app.sql(&format!(
        "INSERT INTO qc_target (id, lot_id, instrument_id, investigation_id, version, mean, sd, source, set_by, set_at) \
         VALUES ({}, {}, {}, {}, 1, {mean}, {sd}, 'manufacturer', {}, {created})",
        id(app, target),
        id(app, lot),
        id(app, instrument.0),
        id(app, investigation),
        id(app, user)
    ))
    .await;
    (lot, target)
}

/// A run with one level-1 value, and the rules that fired on it.
#[allow(clippy::too_many_arguments)]
async fn run(
    app: &TestApp,
    department: Uuid,
    instrument: InstrumentId,
    investigation: Uuid,
    user: Uuid,
    when: &str,
    (lot, target, mean, sd): (Uuid, Uuid, f64, f64),
    value: f64,
    decision: &str,
    rules: &[&str],
) -> Uuid {
    let run = Uuid::now_v7();
    app.sql(&format!(
        "INSERT INTO qc_run (id, department_id, instrument_id, investigation_id, run_at, operator_id, decision, rules, comment, created_at) \
         VALUES ({}, {}, {}, {}, {}, {}, '{decision}', '1-2s/1-3s/2-2s/R-4s/4-1s/10x', '', {})",
        id(app, run),
        id(app, department),
        id(app, instrument.0),
        id(app, investigation),
        at(when),
        id(app, user),
        at(when)
    ))
    .await;
    app.sql(&format!(
        "INSERT INTO qc_value (run_id, level, lot_id, target_id, value, z) VALUES ({}, 1, {}, {}, {value}, {})",
        id(app, run),
        id(app, lot),
        id(app, target),
        (value - mean) / sd
    ))
    .await;
    for (position, rule) in rules.iter().enumerate() {
        app.sql(&format!(
            "INSERT INTO qc_violation (run_id, position, rule, scope, points) VALUES ({}, {position}, '{rule}', 'point', '[{{\"run\": \"{run}\", \"level\": 1}}]')",
            id(app, run),
        ))
        .await;
    }
    run
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    app.seed_demo().await;
    let store = &app.ctx.store;
    let user = store.get_user_by_username("associate").await.unwrap().id.0;
    let cardiac = store
        .get_user_by_username("cardiac.associate")
        .await
        .unwrap()
        .id;
    let investigation = store
        .get_investigation_by_code("UREA")
        .await
        .unwrap()
        .investigation_id
        .0;
    let chemistry = store
        .list_instruments(benchwork_domain::ids::UserId(user))
        .await
        .unwrap()
        .into_iter()
        .find(|instrument| instrument.name == "Chemistry analyser 1")
        .unwrap();
    let ecg = store
        .list_instruments(cardiac)
        .await
        .unwrap()
        .into_iter()
        .find(|instrument| instrument.name == "ECG cart clinic 2")
        .unwrap();
    let department = chemistry.department_id.0;
    let material = Uuid::now_v7();
    app.sql(&format!(
        "INSERT INTO qc_material (id, department_id, name, manufacturer, level, created_by, created_at) \
         VALUES ({}, {}, 'Lyphochek Assayed Chemistry', 'Bio-Rad', 1, {}, {})",
        id(app, material),
        id(app, department),
        id(app, user),
        at("2026-09-01T08:00:00Z")
    ))
    .await;
    let (l1, t1) = lot(
        app,
        material,
        chemistry.id,
        investigation,
        user,
        "L1",
        4.0,
        0.1,
    )
    .await;
    let (l2, t2) = lot(
        app,
        material,
        chemistry.id,
        investigation,
        user,
        "L2",
        4.2,
        0.12,
    )
    .await;
    for (day, value) in OCTOBER.iter().enumerate() {
        // 4.3 is 3.0 SD on paper but 2.99999 in binary: a 1-2s warning.
        let (decision, rules): (&str, &[&str]) = if *value == 4.3 {
            ("warning", &["1-2s"])
        } else {
            ("accepted", &[])
        };
        run(
            app,
            department,
            chemistry.id,
            investigation,
            user,
            &format!("2026-10-{:02}T09:00:00Z", day + 1),
            (l1, t1, 4.0, 0.1),
            *value,
            decision,
            rules,
        )
        .await;
    }
    run(
        app,
        department,
        chemistry.id,
        investigation,
        user,
        "2026-11-02T09:00:00Z",
        (l1, t1, 4.0, 0.1),
        4.35,
        "rejected",
        &["1-2s", "1-3s"],
    )
    .await;
    for (day, value) in [(3, 4.25), (4, 4.1), (5, 4.3)] {
        run(
            app,
            department,
            chemistry.id,
            investigation,
            user,
            &format!("2026-11-{day:02}T09:00:00Z"),
            (l2, t2, 4.2, 0.12),
            value,
            "accepted",
            &[],
        )
        .await;
    }
    // The cardiac department's instrument has QC too.
    let cardiac_material = Uuid::now_v7();
    app.sql(&format!(
        "INSERT INTO qc_material (id, department_id, name, manufacturer, level, created_by, created_at) \
         VALUES ({}, {}, 'Cardiac control', 'Acme', 1, {}, {})",
        id(app, cardiac_material),
        id(app, ecg.department_id.0),
        id(app, user),
        at("2026-09-01T08:00:00Z")
    ))
    .await;
    let (l3, t3) = lot(
        app,
        cardiac_material,
        ecg.id,
        investigation,
        user,
        "C1",
        1.0,
        0.1,
    )
    .await;
    run(
        app,
        ecg.department_id.0,
        ecg.id,
        investigation,
        user,
        "2026-10-02T09:00:00Z",
        (l3, t3, 1.0, 0.1),
        1.05,
        "accepted",
        &[],
    )
    .await;
    Fixture {
        chemistry: chemistry.id,
        ecg: ecg.id,
    }
}

async fn api_get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = client()
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn close(value: &Value, expected: f64, tolerance: f64) {
    let actual = value.as_f64().unwrap_or(f64::NAN);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{value} is not {expected} ± {tolerance}"
    );
}

both_engines!(
    the_chart_shows_points_sd_lines_a_1_3s_rejection_and_the_lot_change,
    |app| {
        // Arrange
        let fixture = fixture(&app).await;
        let session = app.sign_in_demo("associate").await;
        let query = format!(
            "instrument={}&investigation=UREA&level=1&from=2026-10-01&to=2026-11-30",
            fixture.chemistry
        );

        // Act
        let response = session.get(&format!("/qc/charts?{query}")).await;

        // Assert
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert_eq!(html.matches("class=\"lj-point ").count(), 14, "{html}");
        assert_eq!(html.matches(" lj-row\"").count(), 14);
        assert_eq!(
            html.matches("class=\"lj-sd-line\"").count(),
            14,
            "mean and ±1/2/3 SD for each of two lots"
        );
        assert_eq!(html.matches("class=\"lj-point lj-rejected\"").count(), 1);
        assert_eq!(html.matches("class=\"lj-point lj-warning\"").count(), 1);
        assert!(
            html.contains(">1-2s 1-3s</text>"),
            "the rejected value carries its rules"
        );
        assert!(html.contains("Lot L2: mean 4.200, SD 0.120"));
        assert!(html.contains("role=\"img\""));
        assert!(html.contains("14 values from"));
        assert!(html.contains("1 rejected run, 1 warning"));
        assert!(html.contains("1 lot change."));
        assert!(html.contains("QC charts"), "the navigation has the link");

        // The export is the SVG alone, as an attachment.
        let response = session.get(&format!("/qc/charts.svg?{query}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("image/svg+xml")
        );
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment; filename=\"levey-jennings-UREA-level-1-")
        );
        let svg = response.text().await.unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"lj-point ").count(), 14);

        // The API gives the same points, with the rules on the rejected value.
        let token = app.token_for("associate").await;
        let (status, chart) = api_get(&app, &token, &format!("/api/v1/qc/charts?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{chart}");
        let points = chart["points"].as_array().unwrap();
        assert_eq!(points.len(), 14);
        assert_eq!(points[10]["decision"], "rejected");
        assert_eq!(points[10]["rules"], serde_json::json!(["1-2s", "1-3s"]));
        close(&points[10]["z"], 3.5, 1e-9);
        assert_eq!(chart["segments"].as_array().unwrap().len(), 2);
        assert_eq!(chart["segments"][1]["lot"], "L2");
        assert_eq!(chart["segments"][1]["first"], 11);
    }
);

both_engines!(
    statistics_of_known_values_are_right_on_the_page_and_in_the_api,
    |app| {
        let fixture = fixture(&app).await;
        let session = app.sign_in_demo("associate").await;
        let query = format!(
            "instrument={}&investigation=UREA&from=2026-10-01&to=2026-11-30&tea=10",
            fixture.chemistry
        );
        let response = session.get(&format!("/qc/statistics?{query}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        // October, level 1, lot L1: n 10, mean 4.050, SD 0.158, CV 3.90 %,
        // bias 1.25 %, sigma (10 − 1.25) / 3.904 = 2.24.
        let october = html
            .split("<td class=\"nhsuk-table__cell\">October 2026</td>")
            .nth(1)
            .expect("an October row");
        let cells: Vec<&str> = october
            .split("</tr>")
            .next()
            .unwrap()
            .split("<td class=\"nhsuk-table__cell\">")
            .skip(1)
            .map(|cell| cell.split("</td>").next().unwrap())
            .collect();
        assert_eq!(
            cells,
            vec![
                "1", "L1", "10", "4.050", "0.158", "3.90", "4.000", "1.25", "2.24"
            ]
        );
        assert!(
            html.contains("an SD needs at least 2 values, there is 1"),
            "November on L1 has one value"
        );

        let token = app.token_for("associate").await;
        let (status, statistics) =
            api_get(&app, &token, &format!("/api/v1/qc/statistics?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{statistics}");
        let by_month = statistics["by_month"].as_array().unwrap();
        assert_eq!(by_month.len(), 3, "October L1, November L1, November L2");
        let row = &by_month[0];
        assert_eq!(row["month"], "2026-10-01");
        assert_eq!(row["n"], 10);
        close(&row["mean"], 4.05, 1e-9);
        close(&row["sd"], 0.025_f64.sqrt(), 1e-9);
        close(&row["cv_percent"], 3.904_046, 1e-5);
        close(&row["bias_percent"], 1.25, 1e-9);
        close(&row["sigma"], 2.241_264, 1e-5);
        assert_eq!(by_month[1]["sd"], Value::Null);
        // The comparison holds the chemistry analyser's two lots only: the
        // cardiac instrument is not the associate's.
        let comparison = statistics["comparison"].as_array().unwrap();
        let lots: Vec<(&str, &str, u64)> = comparison
            .iter()
            .map(|row| {
                (
                    row["instrument"].as_str().unwrap(),
                    row["lot"].as_str().unwrap(),
                    row["n"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            lots,
            vec![
                ("Chemistry analyser 1", "L1", 11),
                ("Chemistry analyser 1", "L2", 3)
            ]
        );
    }
);

both_engines!(
    another_departments_instrument_is_not_found_and_bad_filters_are_refused_by_field,
    |app| {
        let fixture = fixture(&app).await;
        let session = app.sign_in_demo("associate").await;
        let token = app.token_for("associate").await;
        for path in [
            format!(
                "/qc/charts?instrument={}&investigation=UREA&level=1",
                fixture.ecg
            ),
            format!(
                "/qc/charts.svg?instrument={}&investigation=UREA&level=1",
                fixture.ecg
            ),
            format!(
                "/qc/statistics?instrument={}&investigation=UREA",
                fixture.ecg
            ),
        ] {
            let status = session.get(&path).await.status();
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            let (status, _) = api_get(
                &app,
                &token,
                &format!("/api/v1{}", path.replace(".svg", "")),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "/api/v1{path}");
        }
        // The cardiac associate sees their own instrument's chart.
        let cardiac = app.sign_in_demo("cardiac.associate").await;
        let response = cardiac
            .get(&format!(
                "/qc/charts?instrument={}&investigation=UREA&level=1&from=2026-10-01&to=2026-10-31",
                fixture.ecg
            ))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .text()
                .await
                .unwrap()
                .matches("class=\"lj-point ")
                .count(),
            1
        );

        // Bad filters: each refused next to its field, the entry kept.
        let response = session
            .get(&format!(
                "/qc/charts?instrument={}&investigation=UREA&level=7&from=1%2F10%2F2026&to=",
                fixture.chemistry
            ))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(html.contains("There is a problem"));
        assert!(html.contains("<a href=\"#level\">Select level 1, 2 or 3</a>"));
        assert!(html.contains("<a href=\"#from\">Enter a date as YYYY-MM-DD"));
        assert!(html.contains("value=\"1/10/2026\""), "the entry is kept");
        assert!(!html.contains("lj-chart"));
        let response = session
            .get(&format!(
                "/qc/statistics?instrument={}&investigation=UREA&tea=-3",
                fixture.chemistry
            ))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(html.contains("<a href=\"#tea\">Enter the allowable total error"));
        assert!(html.contains("value=\"-3\""));
        let (status, problem) = api_get(
            &app,
            &token,
            &format!(
                "/api/v1/qc/charts?instrument={}&investigation=NOPE&level=1",
                fixture.chemistry
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("investigation"));
    }
);
