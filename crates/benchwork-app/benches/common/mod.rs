//! What the benchmarks of this crate share: a throwaway PostgreSQL database
//! per run, and the median and number formatting of their reports.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use benchwork_store::Store;
use uuid::Uuid;

/// Creates a database `bench_<random>` through `admin_url`, runs `body` on
/// its URL, and drops the database whether or not `body` succeeded.
pub async fn with_postgres_database<T, F, Fut>(admin_url: &str, body: F) -> anyhow::Result<T>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let name = format!("bench_{}", Uuid::new_v4().simple());
    let admin = Store::open(admin_url)
        .await
        .context("connecting to PostgreSQL with the admin URL")?;
    admin
        .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
        .await
        .with_context(|| format!("creating the database {name}"))?;
    println!("created PostgreSQL database {name}");
    let outcome = body(url_with_database(admin_url, &name)).await;
    let dropped = admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .with_context(|| format!("dropping the database {name}"));
    admin.close().await;
    let value = outcome?;
    dropped?;
    println!("dropped PostgreSQL database {name}");
    Ok(value)
}

/// `postgres://user@host:port/admin?options` with the database replaced.
pub fn url_with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// The median of some timings (the upper one of an even count).
pub fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// `1234567.8` as `1,234,568`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut grouped = String::new();
    for (idx, digit) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}
