//! Several app servers on one PostgreSQL database: their writes and reads
//! interleave, each seals the audit trail on its own timer, and the result
//! must still be one gap-free, valid chain.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use benchwork_app::SystemClock;
use benchwork_cli::open_context;

use crate::helpers::{create_postgres_database, test_config};

/// Kills the server processes when dropped, also when the test panics.
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("a local address").port()
}

/// Starts `benchwork serve` on `port` against `database_url`.
fn start_server(port: u16, database_url: &str, data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_benchwork"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database_url,
            "--data-dir",
        ])
        .arg(data_dir)
        .env("BENCHWORK_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("BENCHWORK_AUTH__ARGON2_ITERATIONS", "1")
        .env("BENCHWORK_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting benchwork serve")
}

/// Polls `/healthz` until it answers 200, for at most 15 seconds.
async fn wait_until_healthy(client: &reqwest::Client, servers: &mut Servers, base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        for child in &mut servers.0 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("a server exited before it was ready: {status}");
            }
        }
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status() == reqwest::StatusCode::OK
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{base} did not become healthy within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many `incident.raise` events the trail holds.
async fn count_raised(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_event WHERE event_type = 'incident.raise'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

const N_INCIDENTS: usize = 100;
const N_WRITERS: usize = 10;
const N_AUDIT_READS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_writing_at_once_leave_one_valid_chain() {
    let Some((url, _database)) = create_postgres_database().await else {
        return;
    };

    // Seed once, with cheap password hashing.
    let seed_dir = tempfile::tempdir().unwrap();
    let config = test_config(seed_dir.path(), Some(&url));
    let ctx = open_context(&config, Arc::new(SystemClock)).await.unwrap();
    benchwork_app::demo::seed(&ctx).await.unwrap();
    benchwork_app::audit::seal_audit(&ctx).await.unwrap();
    let operator = benchwork_app::staff::operator("test");
    let mut tokens = Vec::new();
    for username in ["associate", "auditor"] {
        let user = ctx.store.get_user_by_username(username).await.unwrap();
        let issued =
            benchwork_app::auth::issue_api_token(&ctx, &operator, user.id, "concurrency test")
                .await
                .unwrap();
        tokens.push(issued.token);
    }
    let (associate_token, auditor_token) = (tokens[0].clone(), tokens[1].clone());
    let blood = ctx
        .store
        .list_departments()
        .await
        .unwrap()
        .into_iter()
        .find(|department| department.code == "BLOOD")
        .unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let raised_by_seed = count_raised(&pool).await;

    // Two real servers on the same database, each with its own data folder.
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let ports = [free_port(), free_port()];
    let mut servers = Servers(Vec::new());
    for (port, dir) in ports.iter().zip(&dirs) {
        servers.0.push(start_server(*port, &url, dir.path()));
    }
    let bases: Vec<String> = ports
        .iter()
        .map(|port| format!("http://127.0.0.1:{port}"))
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for base in &bases {
        wait_until_healthy(&client, &mut servers, base).await;
    }

    // Writers raise incidents through both servers while an auditor reads
    // the trail through both.
    let bases = Arc::new(bases);
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..N_WRITERS {
        let (client, bases, token) = (client.clone(), bases.clone(), associate_token.clone());
        let department_id = blood.id.to_string();
        tasks.spawn(async move {
            for i in (writer..N_INCIDENTS).step_by(N_WRITERS) {
                let base = &bases[i % bases.len()];
                let response = client
                    .post(format!("{base}/api/v1/incidents"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({
                        "department_id": department_id,
                        "kind": "near-miss",
                        "category": "other",
                        "severity": "no-harm",
                        "title": format!("Concurrent incident {i}"),
                        "description": format!("Raised by writer {writer} through {base}."),
                    }))
                    .send()
                    .await
                    .expect("POST /api/v1/incidents");
                let status = response.status();
                assert_eq!(
                    status,
                    reqwest::StatusCode::CREATED,
                    "{}",
                    response.text().await.unwrap_or_default()
                );
            }
        });
    }
    for i in 0..N_AUDIT_READS {
        let (client, bases, token) = (client.clone(), bases.clone(), auditor_token.clone());
        tasks.spawn(async move {
            let base = &bases[i % bases.len()];
            let response = client
                .get(format!("{base}/api/v1/audit-events?limit=20"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("GET /api/v1/audit-events");
            assert_eq!(response.status(), reqwest::StatusCode::OK);
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }

    // Each server seals every second: wait until everything is sealed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ctx.store.count_unsealed_audit_events().await.unwrap() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the servers did not seal every event within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(servers);

    let report = benchwork_app::audit::verify_chain(&ctx.store, None)
        .await
        .unwrap()
        .unwrap_or_else(|fault| panic!("the chain is broken: {fault}"));
    let n_rows = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_event")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(report.n_unsealed, 0);
    assert_eq!(report.n_events, n_rows as u64, "every row is in the chain");
    let seqs: Vec<Option<i64>> = sqlx::query_scalar("SELECT seq FROM audit_event ORDER BY seq")
        .fetch_all(&pool)
        .await
        .unwrap();
    let expected: Vec<Option<i64>> = (1..=n_rows).map(Some).collect();
    assert_eq!(seqs, expected, "sequence numbers run from 1 with no gap");
    let raised = count_raised(&pool).await;
    assert!(raised >= N_INCIDENTS as i64);
    assert_eq!(
        raised - raised_by_seed,
        N_INCIDENTS as i64,
        "one incident.raise event per incident"
    );
    let n_searches = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_event WHERE event_type = 'audit.search' AND action = 'R'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        n_searches, N_AUDIT_READS as i64,
        "one read event per audit search"
    );
    pool.close().await;

    let output = Command::new(env!("CARGO_BIN_EXE_benchwork"))
        .args(["audit", "verify", "--database-url", &url, "--data-dir"])
        .arg(seed_dir.path())
        .env("BENCHWORK_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains(&format!("audit trail intact: {n_rows} events"))
    );
}
