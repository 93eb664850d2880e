//! QC lots and targets over their life (issue 4 item 1): a parallel lot's
//! target established from the first N values of accepted runs, then fixed.
//! Values of rejected runs do not count; while the target is established the
//! lot's values are recorded but do not decide the run; the Nth value writes
//! the mean and sample SD as a new target version in the run's transaction,
//! audited and notified to the quality managers. A lot that is not parallel,
//! or N outside 10 to 100, is refused with nothing stored.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{actor, api_get_json as get, api_post_json as post};
use crate::helpers::TestApp;

/// The demo K series: the chemistry analyser, the level 1 material, and the
/// current lots as (lot id, mean, SD), level 1 first.
struct Series {
    instrument: String,
    material_1: String,
    lots: Vec<(String, f64, f64)>,
}

async fn demo_series(app: &TestApp, token: &str) -> Series {
    let quality = actor(app, "quality").await;
    let (_, instruments) = get(app, token, "/api/v1/instruments").await;
    let instrument = instruments
        .as_array()
        .unwrap()
        .iter()
        .find(|instrument| instrument["name"] == "Chemistry analyser 1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let material_1 = app
        .ctx
        .store
        .list_qc_setup_materials(quality.id)
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.name == "Lyphochek Assayed Chemistry Control" && row.level == 1)
        .unwrap()
        .material_id
        .to_string();
    let (_, runs) = get(
        app,
        token,
        &format!("/api/v1/qc/runs?instrument={instrument}&investigation=K"),
    )
    .await;
    let values = runs[0]["values"].as_array().unwrap();
    let lots = vec![
        (values[0]["lot_id"].as_str().unwrap().to_owned(), 3.50, 0.07),
        (values[1]["lot_id"].as_str().unwrap().to_owned(), 6.20, 0.10),
    ];
    Series {
        instrument,
        material_1,
        lots,
    }
}

/// A K run: the current lots at `z` SDs, plus extra (lot, value) pairs.
async fn run(
    app: &TestApp,
    token: &str,
    series: &Series,
    z: [f64; 2],
    extra: &[(&str, f64)],
) -> (StatusCode, Value) {
    let mut values: Vec<Value> = series
        .lots
        .iter()
        .zip(z)
        .map(|((lot, mean, sd), z)| json!({ "lot": lot, "value": ((mean + z * sd) * 1000.0).round() / 1000.0 }))
        .collect();
    for (lot, value) in extra {
        values.push(json!({ "lot": lot, "value": value }));
    }
    post(
        app,
        token,
        "/api/v1/qc/runs",
        json!({ "instrument": series.instrument, "investigation": "K", "values": values }),
    )
    .await
}

async fn parallel_lot(app: &TestApp, token: &str, series: &Series, number: &str) -> String {
    let (status, lot) = post(
        app,
        token,
        "/api/v1/qc/lots",
        json!({ "material": series.material_1, "lot_number": number, "expires_on": "2099-12-31", "status": "parallel" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{lot}");
    lot["id"].as_str().unwrap().to_owned()
}

fn mean_and_sample_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    (mean, (ss / (n - 1.0)).sqrt())
}

both_engines!(
    a_parallel_lots_target_is_established_from_the_first_n_accepted_values_then_fixed,
    |app| {
        // Arrange
        app.seed_demo().await;
        let quality = app.token_for("quality").await;
        let associate = app.token_for("associate").await;
        let series = demo_series(&app, &quality).await;
        let lot = parallel_lot(&app, &quality, &series, "P-EST-1").await;
        let target = |lot: &str, n: Value| {
            json!({ "lot": lot, "instrument": series.instrument, "investigation": "K",
                    "source": "establishing", "establish_n": n })
        };

        // Act: refusals first: a current lot, N out of range, a mean too.
        let (status, problem) = post(
            &app,
            &quality,
            "/api/v1/qc/targets",
            target(&series.lots[0].0, json!(10)),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("only a parallel lot"),
            "{problem}"
        );
        for n in [9, 101] {
            let (status, problem) =
                post(&app, &quality, "/api/v1/qc/targets", target(&lot, json!(n))).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert!(problem.to_string().contains("10 to 100"), "{problem}");
        }
        let mut with_mean = target(&lot, json!(10));
        with_mean["mean"] = json!(3.6);
        let (status, _) = post(&app, &quality, "/api/v1/qc/targets", with_mean).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let setup = app
            .sign_in_demo("quality")
            .await
            .get("/qc/setup")
            .await
            .text()
            .await
            .unwrap();
        assert!(!setup.contains("being established"), "nothing stored");

        // Act: establish from the first 10 values.
        let (status, body) = post(
            &app,
            &quality,
            "/api/v1/qc/targets",
            target(&lot, json!(10)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["source"], "establishing");
        assert!(body["mean"].is_null() && body["sd"].is_null(), "{body}");

        // Nine accepted runs with a parallel value each, and one rejected
        // run (level 1 at +3.5 SD) whose parallel value must not count.
        let values: Vec<f64> = (0..10).map(|i| 3.60 + 0.01 * f64::from(i)).collect();
        for (i, value) in values[..9].iter().enumerate() {
            app.clock.advance(jiff::SignedDuration::from_mins(10));
            // Alternating sides, so that no x-rule fires.
            let z = if i % 2 == 0 { [0.1, -0.1] } else { [-0.1, 0.1] };
            let (status, body) = run(&app, &associate, &series, z, &[(&lot, *value)]).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            assert_eq!(body["decision"], "accepted", "run {i}: {body}");
            let parallel = body["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["lot_id"] == lot.as_str())
                .unwrap();
            assert_eq!(parallel["decides"], false, "{parallel}");
            assert!(parallel["z"].is_null(), "{parallel}");
        }
        app.clock.advance(jiff::SignedDuration::from_mins(10));
        let (status, body) = run(&app, &associate, &series, [3.5, 0.1], &[(&lot, 9.99)]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["decision"], "rejected");
        let setup = app
            .sign_in_demo("quality")
            .await
            .get("/qc/setup")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            setup.contains("target being established from runs, 9 of 10 values"),
            "{setup}"
        );
        // The chart of the parallel lot: its values against the running
        // mean ± SD of the nine accepted ones, labelled as such; the default
        // chart still draws the current lot.
        let chart_path = format!(
            "/api/v1/qc/charts?instrument={}&investigation=K&level=1",
            series.instrument
        );
        let (status, chart) = get(&app, &quality, &format!("{chart_path}&lot={lot}")).await;
        assert_eq!(status, StatusCode::OK, "{chart}");
        let points = chart["points"].as_array().unwrap();
        assert_eq!(points.len(), 10, "{chart}");
        assert!(points.iter().all(|p| p["lot"] == "P-EST-1"), "{chart}");
        let segment = &chart["segments"][0];
        assert_eq!(segment["establishing_from"], 9, "{chart}");
        let (running_mean, running_sd) = mean_and_sample_sd(&values[..9]);
        assert!((segment["target_mean"].as_f64().unwrap() - running_mean).abs() < 1e-9);
        assert!((segment["target_sd"].as_f64().unwrap() - running_sd).abs() < 1e-9);
        let z0 = points[0]["z"].as_f64().expect("z against the running mean");
        assert!((z0 - (values[0] - running_mean) / running_sd).abs() < 1e-9);
        let (_, default_chart) = get(&app, &quality, &chart_path).await;
        assert!(
            default_chart["points"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["lot"] == "26431"),
            "{default_chart}"
        );
        let svg = app
            .sign_in_demo("quality")
            .await
            .get(&format!(
                "/qc/charts.svg?instrument={}&investigation=K&level=1&lot={lot}",
                series.instrument
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            svg.contains("Lot P-EST-1: target being established (running mean"),
            "{svg}"
        );
        assert!(svg.contains("of 9 values so far"), "{svg}");

        let lot_id = benchwork_domain::qc_hold::QcLotId::parse(&lot).unwrap();
        let instrument = benchwork_domain::result::InstrumentId::parse(&series.instrument).unwrap();
        let k = app
            .ctx
            .store
            .get_investigation_by_code("K")
            .await
            .unwrap()
            .investigation_id;
        assert_eq!(
            app.ctx
                .store
                .current_qc_target(lot_id, instrument, k)
                .await
                .unwrap(),
            None
        );

        // Act: the tenth accepted value.
        app.clock.advance(jiff::SignedDuration::from_mins(10));
        let (status, body) =
            run(&app, &associate, &series, [-0.2, 0.2], &[(&lot, values[9])]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["decision"], "accepted", "{body}");

        // Assert: a new version with the mean and sample SD of the ten.
        let established = app
            .ctx
            .store
            .current_qc_target(lot_id, instrument, k)
            .await
            .unwrap()
            .expect("established");
        let (mean, sd) = mean_and_sample_sd(&values);
        assert_eq!(established.source, "established");
        assert_eq!(established.version, 2);
        assert!((established.mean - mean).abs() < 1e-9, "{established:?}");
        assert!((established.sd - sd).abs() < 1e-9, "{established:?} {sd}");
        assert!((sd - 0.030_276_503_5).abs() < 1e-9, "known value {sd}");
        let setup = app
            .sign_in_demo("quality")
            .await
            .get("/qc/setup")
            .await
            .text()
            .await
            .unwrap();
        assert!(!setup.contains("being established"), "{setup}");
        assert!(setup.contains("established, version 2"), "{setup}");
        app.seal().await;
        let events = app
            .ctx
            .store
            .search_audit_events(
                &benchwork_store::AuditFilter {
                    entity_type: Some("QcTarget".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .unwrap()
            .events;
        assert!(
            events
                .iter()
                .any(|(_, event)| event.event_type == "qc.target.established"),
            "{events:?}"
        );
        let quality_actor = actor(&app, "quality").await;
        let inbox = app
            .ctx
            .store
            .list_notifications(quality_actor.id, false, 50)
            .await
            .unwrap();
        assert!(
            inbox.iter().any(|n| n
                .title
                .starts_with("QC target established: K level 1 lot P-EST-1")),
            "{inbox:?}"
        );

        // Then fixed: later values are judged against it (z, still not
        // deciding while the lot is parallel) and do not change it.
        app.clock.advance(jiff::SignedDuration::from_mins(10));
        let (status, body) = run(&app, &associate, &series, [0.1, 0.1], &[(&lot, 3.70)]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let parallel = body["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["lot_id"] == lot.as_str())
            .unwrap()
            .clone();
        let z = parallel["z"]
            .as_f64()
            .expect("z against the established target");
        assert!((z - (3.70 - mean) / sd).abs() < 1e-9, "{parallel}");
        let after = app
            .ctx
            .store
            .current_qc_target(lot_id, instrument, k)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after, established);
    }
);

both_engines!(
    a_parallel_lot_is_made_current_only_with_every_target_and_lots_are_retired_with_a_reason,
    |app| {
        // Arrange: a parallel level 1 lot with a target for K only, where
        // the current lot has K, NA, CREA and GLU.
        app.seed_demo().await;
        let quality = app.token_for("quality").await;
        let associate = app.token_for("associate").await;
        let series = demo_series(&app, &quality).await;
        let old = series.lots[0].0.clone();
        let lot = parallel_lot(&app, &quality, &series, "P-NEW-1").await;
        let manufacturer = |code: &str, mean: f64, sd: f64| json!({ "lot": lot, "instrument": series.instrument, "investigation": code, "mean": mean, "sd": sd });
        let (status, body) = post(
            &app,
            &quality,
            "/api/v1/qc/targets",
            manufacturer("K", 3.55, 0.07),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // Act: promotion refused, naming the gaps; nothing changes.
        let (status, problem) = post(
            &app,
            &quality,
            &format!("/api/v1/qc/lots/{lot}/promote"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let text = problem.to_string();
        for code in ["NA on", "CREA on", "GLU on"] {
            assert!(text.contains(code), "{text}");
        }
        assert!(!text.contains("K on"), "{text}");
        let lot_status = |id: String| {
            let app = &app;
            async move {
                let id = benchwork_domain::qc_hold::QcLotId::parse(&id).unwrap();
                let quality = actor(app, "quality").await;
                app.ctx
                    .store
                    .get_qc_lot(id, quality.id)
                    .await
                    .unwrap()
                    .0
                    .status
            }
        };
        assert_eq!(lot_status(lot.clone()).await, "parallel");
        assert_eq!(lot_status(old.clone()).await, "current");
        // A current lot cannot be promoted either.
        let (status, problem) = post(
            &app,
            &quality,
            &format!("/api/v1/qc/lots/{old}/promote"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("only a parallel lot"),
            "{problem}"
        );

        // Act: the other targets, then promotion through the page.
        for (code, mean, sd) in [("NA", 122.0, 1.5), ("CREA", 85.0, 3.5), ("GLU", 4.8, 0.12)] {
            let (status, body) = post(
                &app,
                &quality,
                "/api/v1/qc/targets",
                manufacturer(code, mean, sd),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let session = app.sign_in_demo("quality").await;
        let setup = session.get("/qc/setup").await.text().await.unwrap();
        assert!(
            setup.contains(&format!("href=\"/qc/setup/lots/{lot}/promote\"")),
            "{setup}"
        );
        let confirm = session
            .get(&format!("/qc/setup/lots/{lot}/promote"))
            .await
            .text()
            .await
            .unwrap();
        assert!(confirm.contains("will be retired"), "{confirm}");
        let response = session
            .post(&format!("/qc/setup/lots/{lot}/promote"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        // Assert: the new lot current, the old one retired, audited.
        assert_eq!(lot_status(lot.clone()).await, "current");
        assert_eq!(lot_status(old.clone()).await, "retired");
        app.seal().await;
        let events = app
            .ctx
            .store
            .search_audit_events(
                &benchwork_store::AuditFilter {
                    entity_type: Some("QcLot".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .unwrap()
            .events;
        assert!(
            events
                .iter()
                .any(|(_, event)| event.event_type == "qc.lot.promote"),
            "{events:?}"
        );

        // A run no longer takes the retired lot's value; the new lot decides.
        let (status, problem) = run(&app, &associate, &series, [0.1, -0.1], &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("not a lot in use"),
            "{problem}"
        );
        let new_series = Series {
            instrument: series.instrument.clone(),
            material_1: series.material_1.clone(),
            lots: vec![(lot.clone(), 3.55, 0.07), series.lots[1].clone()],
        };
        let (status, body) = run(&app, &associate, &new_series, [0.1, -0.1], &[]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let first = &body["values"][0];
        assert_eq!(first["lot_id"], lot.as_str(), "{body}");
        assert_eq!(first["decides"], true, "{body}");

        // Act: retiring needs a reason (page: 422 with the error summary,
        // nothing stored); then retired through the API; not twice.
        let level_2 = series.lots[1].0.clone();
        let response = session
            .post(
                &format!("/qc/setup/lots/{level_2}/retire"),
                &[("reason", "  ")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(body.contains("nhsuk-error-summary"), "{body}");
        assert!(body.contains("href=\"#reason\""), "{body}");
        assert_eq!(lot_status(level_2.clone()).await, "current");
        let (status, body) = post(
            &app,
            &quality,
            &format!("/api/v1/qc/lots/{level_2}/retire"),
            json!({ "reason": "Vial stability exceeded" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "retired");
        assert_eq!(lot_status(level_2.clone()).await, "retired");
        let (status, problem) = post(
            &app,
            &quality,
            &format!("/api/v1/qc/lots/{level_2}/retire"),
            json!({ "reason": "again" }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem.to_string().contains("already retired"), "{problem}");
    }
);
