//! QC set-up pages (issue 4): a quality manager adds a material, a lot, a
//! target and a rule set through the pages; they appear on /qc/setup and in
//! what a QC run is judged with (`benchwork_app::qc::run_setup`). An SD of
//! zero is refused next to the field with the entry kept and nothing stored;
//! a person without ManageQc is refused.

use benchwork_domain::westgard::RuleSet;
use reqwest::StatusCode;

use crate::both_engines;
use crate::flow::actor;
use crate::roles::location;

both_engines!(a_quality_manager_sets_up_qc_through_the_pages, |app| {
    // Arrange
    app.seed_demo().await;
    let session = app.sign_in_demo("quality").await;
    let quality = actor(&app, "quality").await;
    let department = app
        .ctx
        .store
        .list_departments()
        .await
        .unwrap()
        .into_iter()
        .find(|department| quality.in_department(department.id))
        .unwrap();
    let instrument = app
        .ctx
        .store
        .list_instruments(quality.id)
        .await
        .unwrap()
        .into_iter()
        .find(|instrument| instrument.name == "Chemistry analyser 1")
        .unwrap();
    let overview = session.get("/qc").await.text().await.unwrap();
    assert!(overview.contains("href=\"/qc/setup\""), "{overview}");

    // Act: a material and a lot.
    let response = session
        .post(
            "/qc/setup/materials/new",
            &[
                ("department", &department.id.to_string()),
                ("name", "Setup Test Control"),
                ("manufacturer", "Acme Diagnostics"),
                ("level", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/qc/setup");
    let material = app
        .ctx
        .store
        .list_qc_setup_materials(quality.id)
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.name == "Setup Test Control")
        .unwrap();
    let form = session
        .get("/qc/setup/lots/new")
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains(&material.material_id.to_string()), "{form}");
    let response = session
        .post(
            "/qc/setup/lots/new",
            &[
                ("material", &material.material_id.to_string()),
                ("lot_number", "LOT-SETUP-1"),
                ("expires_on", "2027-06-30"),
                ("status", "current"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (lot, _, _, _) = app
        .ctx
        .store
        .list_qc_setup_materials(quality.id)
        .await
        .unwrap()
        .into_iter()
        .find_map(|row| row.lot.filter(|lot| lot.1 == "LOT-SETUP-1"))
        .unwrap();
    let lot = lot.to_string();
    let instrument_id = instrument.id.to_string();

    // Act: an SD of zero is refused.
    let response = session
        .post(
            "/qc/setup/targets/new",
            &[
                ("lot", &lot),
                ("instrument", &instrument_id),
                ("investigation", "UREA"),
                ("mean", "6.25"),
                ("sd", "0"),
            ],
        )
        .await;

    // Assert: the error next to the field, the entry kept, nothing stored.
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("href=\"#sd\""), "{body}");
    assert!(body.contains("id=\"sd-error\""), "{body}");
    assert!(body.contains("value=\"6.25\""), "{body}");
    assert!(body.contains("value=\"UREA\""), "{body}");
    assert!(
        body.contains(&format!("<option value=\"{lot}\" selected>")),
        "{body}"
    );
    assert!(
        app.ctx
            .store
            .list_qc_setup_targets(quality.id)
            .await
            .unwrap()
            .iter()
            .all(|target| target.lot_number != "LOT-SETUP-1")
    );

    // Act: a good target, then a new version of it, and a rule set.
    for (mean, sd) in [("6.25", "0.3"), ("6.5", "0.25")] {
        let response = session
            .post(
                "/qc/setup/targets/new",
                &[
                    ("lot", &lot),
                    ("instrument", &instrument_id),
                    ("investigation", "UREA"),
                    ("mean", mean),
                    ("sd", sd),
                ],
            )
            .await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let response = session
        .post(
            "/qc/setup/rules",
            &[
                ("instrument", &instrument_id),
                ("investigation", "UREA"),
                ("rules", "1-3s/2-2s/R-4s"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let rules = RuleSet::parse("1-3s/2-2s/R-4s").unwrap().codes();

    // Assert: the set-up page shows them.
    let page = session.get("/qc/setup").await.text().await.unwrap();
    assert!(page.contains("QC rules set"), "flash: {page}");
    assert!(
        page.contains("Setup Test Control (Acme Diagnostics)"),
        "{page}"
    );
    assert!(page.contains("LOT-SETUP-1"), "{page}");
    assert!(page.contains("2027-06-30"), "{page}");
    assert!(
        page.contains("lot LOT-SETUP-1: mean 6.5, SD 0.25 (manufacturer, version 2)"),
        "{page}"
    );
    assert!(
        !page.contains("mean 6.25"),
        "only the version in force: {page}"
    );
    assert!(page.contains(&format!("{rules} (version 1)")), "{page}");

    // Assert: a QC run is judged with them.
    let practitioner = actor(&app, "practitioner").await;
    let setup = benchwork_app::qc::run_setup(&app.ctx, &practitioner, &instrument_id, "UREA")
        .await
        .unwrap();
    assert_eq!(setup.rules.codes(), rules);
    let in_use = setup
        .lots
        .iter()
        .find(|in_use| in_use.lot.lot_number == "LOT-SETUP-1")
        .unwrap();
    let target = in_use.target.as_ref().unwrap();
    assert_eq!((target.mean, target.sd, target.version), (6.5, 0.25, 2));
    assert_eq!(in_use.level, 1);
});

both_engines!(a_person_without_manage_qc_cannot_set_up_qc, |app| {
    // Arrange
    app.seed_demo().await;
    let session = app.sign_in_demo("associate").await;

    // Act
    let overview = session.get("/qc").await.text().await.unwrap();
    let page = session.get("/qc/setup").await;
    let form = session.get("/qc/setup/materials/new").await;
    let post = session
        .post(
            "/qc/setup/materials/new",
            &[
                ("name", "Not allowed"),
                ("manufacturer", "Acme"),
                ("level", "1"),
            ],
        )
        .await;

    // Assert
    assert!(!overview.contains("href=\"/qc/setup\""), "{overview}");
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    let quality = actor(&app, "quality").await;
    assert!(
        app.ctx
            .store
            .list_qc_setup_materials(quality.id)
            .await
            .unwrap()
            .iter()
            .all(|row| row.name != "Not allowed")
    );
});
