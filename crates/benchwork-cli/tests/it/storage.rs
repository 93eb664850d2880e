//! Storage: engine settings, migrations, health, backup.

use crate::both_engines;
use crate::helpers::{Engine, spawn_app};

#[tokio::test]
async fn sqlite_runs_with_wal_full_sync_and_foreign_keys() {
    let app = spawn_app(Engine::Sqlite).await;
    let settings = app.ctx.store.describe_settings().await.unwrap();
    assert!(settings.contains("journal_mode=wal"), "{settings}");
    assert!(settings.contains("synchronous=FULL"), "{settings}");
    assert!(settings.contains("foreign_keys=on"), "{settings}");
}

#[test]
fn both_engines_have_the_same_migration_versions() {
    let (sqlite, postgres) = benchwork_store::Store::migration_lists();
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration needs a file in both folders, same version and name"
    );
}

both_engines!(readyz_reports_ready_after_migrations, |app| {
    let health = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
});

#[tokio::test]
async fn readyz_is_not_ready_before_migrations() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("fresh.db").display());
    let store = benchwork_store::Store::open(&url).await.unwrap();
    // No migrations table yet: the readiness check must fail, not pass.
    assert!(!store.is_ready().await.unwrap_or(false));
    store.migrate().await.unwrap();
    assert!(store.is_ready().await.unwrap());
}

#[tokio::test]
async fn backup_makes_a_consistent_copy() {
    let app = spawn_app(Engine::Sqlite).await;
    app.seed_demo().await;
    app.seal().await;
    let target = app.data_dir.path().join("copy.db");
    let output = app.cli(&["backup", "--to", target.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The copy opens on its own, has the same accounts, and its audit trail verifies.
    let copy = benchwork_store::Store::connect(&format!("sqlite://{}", target.display()))
        .await
        .unwrap();
    assert_eq!(
        copy.list_users().await.unwrap().len(),
        app.ctx.store.list_users().await.unwrap().len()
    );
    let report = benchwork_app::audit::verify_chain(&copy, None)
        .await
        .unwrap()
        .unwrap();
    assert!(report.n_events > 0);
    // A second backup to the same file is refused rather than overwriting it.
    let again = app.cli(&["backup", "--to", target.to_str().unwrap()]);
    assert!(!again.status.success());
}
