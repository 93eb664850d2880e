//! `spawn_app`: the real application on 127.0.0.1:0 with a fresh database,
//! SQLite in a temporary folder or a new PostgreSQL database, a manual
//! clock, and no background loop (tests seal the audit trail and run jobs
//! themselves).

use std::sync::Arc;

use benchwork_app::{Ctx, ManualClock};
use benchwork_cli::config::{Config, DatabaseUrl};
use benchwork_cli::{Application, open_context};
use jiff::Timestamp;

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL, as two tests
/// (`NAME::sqlite` and `NAME::postgres`).
#[macro_export]
macro_rules! both_engines {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::helpers::spawn_app_on_postgres().await else {
                    return;
                };
                $body
            }
        }
    };
}

/// The PostgreSQL admin URL, or `None` when PostgreSQL tests are not
/// configured. With `BENCHWORK_TEST_REQUIRE_POSTGRES=1` (set by the full
/// test command and CI) a missing URL fails the test instead of skipping.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("BENCHWORK_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("BENCHWORK_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "BENCHWORK_TEST_REQUIRE_POSTGRES=1 but BENCHWORK_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot run"
            );
            eprintln!(
                "PostgreSQL tests skipped: BENCHWORK_TEST_POSTGRES_URL is not set (scripts/test sets it)"
            );
            None
        }
    }
}

/// A URL for database `name` on the admin URL's server.
pub fn postgres_url_for(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("valid PostgreSQL admin URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Creates a uniquely named PostgreSQL database and returns its URL and a
/// guard that drops it.
pub async fn create_postgres_database() -> Option<(String, PgDatabaseGuard)> {
    let admin = postgres_admin_url()?;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("connecting to the PostgreSQL admin database");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .expect("creating a test database");
    pool.close().await;
    Some((
        postgres_url_for(&admin, &name),
        PgDatabaseGuard { admin, name },
    ))
}

/// Drops its test database when dropped.
pub struct PgDatabaseGuard {
    admin: String,
    name: String,
}

impl Drop for PgDatabaseGuard {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; use a separate thread with
        // its own runtime for the async clean-up.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// A running application.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub ctx: Ctx,
    pub clock: Arc<ManualClock>,
    pub engine: Engine,
    /// The database URL (for the CLI and raw SQL).
    pub database_url: String,
    pub config: Config,
    pub data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _pg: Option<PgDatabaseGuard>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The configuration tests run with: port 0, cheap password hashing.
pub fn test_config(data_dir: &std::path::Path, database_url: Option<&str>) -> Config {
    let mut config = Config::default();
    config.data_dir = data_dir.to_path_buf();
    config.server.addr = "127.0.0.1:0".into();
    config.auth.argon2_memory_kib = 64;
    config.auth.argon2_iterations = 1;
    if let Some(url) = database_url {
        config.database.url = DatabaseUrl::new(url);
    }
    config
}

async fn start(
    engine: Engine,
    database_url: Option<String>,
    pg: Option<PgDatabaseGuard>,
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("a temporary folder");
    let config = test_config(data_dir.path(), database_url.as_deref());
    let clock = Arc::new(ManualClock::new(
        "2026-11-25T09:00:00Z"
            .parse::<Timestamp>()
            .expect("a timestamp"),
    ));
    let ctx = open_context(&config, clock.clone())
        .await
        .expect("opening the test database");
    let application = Application::build(&config, ctx.clone())
        .await
        .expect("building the application");
    let address = format!(
        "http://{}",
        application.local_addr().expect("a bound address")
    );
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = application
            .run(false, async move {
                let _ = stopped.await;
            })
            .await;
    });
    TestApp {
        address,
        ctx,
        clock,
        engine,
        database_url: config.effective_database_url().expose().to_owned(),
        config,
        data_dir,
        shutdown: Some(shutdown),
        _pg: pg,
    }
}

/// Starts the application on a fresh database of `engine`. Panics for
/// PostgreSQL when it is not configured; use [`spawn_app_on_postgres`].
pub async fn spawn_app(engine: Engine) -> TestApp {
    match engine {
        Engine::Sqlite => start(Engine::Sqlite, None, None).await,
        Engine::Postgres => spawn_app_on_postgres()
            .await
            .expect("PostgreSQL is configured"),
    }
}

/// Starts the application on a fresh PostgreSQL database, or `None` when
/// PostgreSQL tests are not configured (and not required).
pub async fn spawn_app_on_postgres() -> Option<TestApp> {
    let (url, guard) = create_postgres_database().await?;
    Some(start(Engine::Postgres, Some(url), Some(guard)).await)
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// The anti-forgery token in a page (the first `csrf_token` field).
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the page has a csrf_token field") + marker.len();
    let end = html[start..].find('"').expect("the csrf_token value ends");
    html[start..start + end].to_owned()
}

/// A signed-in person's client.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub address: String,
}

impl Session {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    /// Posts a form with the session's anti-forgery token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &self.csrf));
        self.client
            .post(format!("{}{path}", self.address))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }
}

impl TestApp {
    /// Creates the demo department (staff of every role, password
    /// `benchwork-demo`).
    pub async fn seed_demo(&self) {
        benchwork_app::demo::seed(&self.ctx)
            .await
            .expect("seeding the demo department");
    }

    /// Seals pending audit events.
    pub async fn seal(&self) -> usize {
        benchwork_app::audit::seal_audit(&self.ctx)
            .await
            .expect("sealing")
    }

    /// Runs due jobs.
    pub async fn run_due_jobs(&self) -> usize {
        benchwork_app::jobs::run_due_jobs(&self.ctx, &benchwork_app::jobs::JobRegistry::standard())
            .await
            .expect("running jobs")
    }

    /// Posts the sign-in form.
    pub async fn post_sign_in(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(format!("{}/sign-in", self.address))
            .send()
            .await
            .expect("GET /sign-in")
            .text()
            .await
            .expect("sign-in page");
        let csrf = csrf_of(&page);
        client
            .post(format!("{}/sign-in", self.address))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("POST /sign-in")
    }

    /// Signs in and returns the session, panicking if sign-in fails.
    pub async fn sign_in(&self, username: &str, password: &str) -> Session {
        let client = client();
        let response = self.post_sign_in(&client, username, password).await;
        assert_eq!(
            response.status(),
            reqwest::StatusCode::SEE_OTHER,
            "signing in as {username}"
        );
        let home = client
            .get(format!("{}/", self.address))
            .send()
            .await
            .expect("GET /")
            .text()
            .await
            .expect("home page");
        Session {
            csrf: csrf_of(&home),
            client,
            address: self.address.clone(),
        }
    }

    /// Signs in as a demo account.
    pub async fn sign_in_demo(&self, username: &str) -> Session {
        self.sign_in(username, benchwork_app::demo::DEMO_PASSWORD)
            .await
    }

    /// A new API token for a demo account.
    pub async fn token_for(&self, username: &str) -> String {
        let user = self
            .ctx
            .store
            .get_user_by_username(username)
            .await
            .expect("the account exists");
        benchwork_app::auth::issue_api_token(
            &self.ctx,
            &benchwork_app::staff::operator("test"),
            user.id,
            "test",
        )
        .await
        .expect("issuing a token")
        .token
    }

    /// Runs the `benchwork` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_benchwork"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .arg("--database-url")
            .arg(&self.database_url)
            .env("BENCHWORK_AUTH__ARGON2_MEMORY_KIB", "64")
            .env("BENCHWORK_AUTH__ARGON2_ITERATIONS", "1")
            .env("BENCHWORK_LOG", "warn");
        command.output().expect("running the benchwork binary")
    }

    /// Runs raw SQL against the database, as someone with database access
    /// would (tamper tests).
    pub async fn sql(&self, sql: &str) -> u64 {
        self.ctx
            .store
            .execute_raw_for_tests(sql)
            .await
            .expect("raw SQL")
    }

    /// Raw SQL that is expected to fail.
    pub async fn sql_fails(&self, sql: &str) -> String {
        match self.ctx.store.execute_raw_for_tests(sql).await {
            Ok(n) => panic!("expected {sql:?} to fail, it affected {n} rows"),
            Err(error) => format!("{error:#}"),
        }
    }
}
