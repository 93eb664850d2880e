//! The `benchwork` binary's subcommands, run as a user would.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{Engine, spawn_app};

fn benchwork() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_benchwork"));
    command.env("BENCHWORK_LOG", "warn");
    command
}

#[test]
fn config_check_redacts_the_database_password() {
    let folder = tempfile::tempdir().unwrap();
    // An unreachable server: the configuration is printed before connecting.
    let output = benchwork()
        .current_dir(folder.path())
        .args([
            "config",
            "check",
            "--database-url",
            "postgres://benchwork:s3cret-pass@127.0.0.1:1/benchwork",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("postgres://benchwork:****@127.0.0.1:1/benchwork"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("s3cret-pass") && !stderr.contains("s3cret-pass"),
        "{stdout}{stderr}"
    );
}

#[test]
fn config_layers_apply_in_order() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("benchwork.toml"),
        "data_dir = \"from-file\"\n[server]\naddr = \"127.0.0.1:9001\"\n[auth]\nidle_timeout_minutes = 20\n",
    )
    .unwrap();
    let output = benchwork()
        .current_dir(folder.path())
        .env("BENCHWORK_AUTH__IDLE_TIMEOUT_MINUTES", "15")
        .env("BENCHWORK_SERVER__ADDR", "127.0.0.1:9002")
        .args([
            "config",
            "check",
            "--data-dir",
            folder.path().join("from-flag").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Flag beats file; environment beats file.
    assert!(stdout.contains("from-flag"), "{stdout}");
    assert!(stdout.contains("addr = \"127.0.0.1:9002\""), "{stdout}");
    assert!(stdout.contains("idle_timeout_minutes = 15"), "{stdout}");
    assert!(stdout.contains("synchronous=FULL"), "{stdout}");
}

#[test]
fn config_example_lists_every_key() {
    let output = benchwork().args(["config", "example"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    for key in [
        "data_dir",
        "[database]",
        "url",
        "[server]",
        "addr",
        "[auth]",
        "idle_timeout_minutes",
        "[audit]",
        "head_file",
    ] {
        assert!(stdout.contains(key), "missing {key}");
    }
}

#[tokio::test]
async fn the_operator_adds_an_administrator_who_can_sign_in() {
    let app = spawn_app(Engine::Sqlite).await;
    let department = app.cli(&["department", "add", "MICRO", "Microbiology"]);
    assert!(
        department.status.success(),
        "{}",
        String::from_utf8_lossy(&department.stderr)
    );
    let mut child = benchwork()
        .args([
            "user",
            "add",
            "--username",
            "first.admin",
            "--name",
            "First Admin",
            "--role",
            "administrator",
            "--department",
            "MICRO",
        ])
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .arg("--database-url")
        .arg(&app.database_url)
        .env("BENCHWORK_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("BENCHWORK_AUTH__ARGON2_ITERATIONS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long first password\n")
        .unwrap();
    let added = child.wait_with_output().unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let session = app.sign_in("first.admin", "a long first password").await;
    assert_eq!(session.get("/staff").await.status(), 200);

    // A token for a machine client works against the API.
    let token = app.cli(&["user", "token", "first.admin", "--label", "script"]);
    assert!(token.status.success());
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Disabling from the command line ends the session at once.
    let disabled = app.cli(&["user", "disable", "first.admin"]);
    assert!(disabled.status.success());
    assert_eq!(session.get("/staff").await.status(), 303);

    // Bad input is a clear message and a non-zero exit, not a panic.
    let bad = app.cli(&[
        "user",
        "add",
        "--username",
        "x",
        "--name",
        "",
        "--role",
        "wizard",
    ]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("username") && stderr.contains("unknown role 'wizard'"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn migrate_creates_the_database_and_is_repeatable() {
    let folder = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = benchwork()
            .args(["migrate", "--data-dir", folder.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(folder.path().join("benchwork.db").exists());
}
