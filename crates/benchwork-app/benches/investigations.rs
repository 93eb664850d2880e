//! Benchmark of issue 3's Performance section: with 1,000,000 results across
//! 50,000 patients, (a) a patient's cumulative view through
//! [`benchwork_app::cumulative::cumulative`] and (b) a worklist page through
//! [`benchwork_app::results::worklist`] for one instrument, each beside the
//! equivalent raw indexed SQL run with sqlx directly in the same run; and
//! (c) the throughput of result entry, verification and authorisation
//! through the app functions. See docs/benchmarks.md (Investigations).
//!
//! `cargo bench -p benchwork-app --bench investigations` runs the full size
//! on a temporary SQLite file and exits non-zero when (a) or (b) takes more
//! than [`AIM_RATIO`] times its baseline. `cargo test -p benchwork-app
//! --benches` runs 20,000 results across 1,000 patients as a smoke test: it
//! checks that the app and the raw SQL return the same rows, never a speed.
//!
//! Options (after `--`): `--results N`, `--patients M`; `--postgres
//! ADMIN_URL` to run on a new database `bench_<random>` created through
//! `ADMIN_URL` and dropped at the end.
//!
//! The baselines. The app functions must record every read of patient data
//! durably before they answer (ARCHITECTURE.md, Audit), so the baseline of
//! each read is the same SELECT written by hand plus the same audit rows
//! inserted and committed in one transaction. The SELECT alone is timed and
//! reported as well, so the cost of the audit write is visible.

mod common;

use common::{median, thousands, with_postgres_database};

use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use benchwork_app::results::{ResultInput, worklist};
use benchwork_app::{Actor, Ctx, HashingParams, ManualClock, Settings, auth, cumulative};
use benchwork_domain::ids::PatientId;
use benchwork_store::Store;
use jiff::Timestamp;
use sqlx::{PgPool, QueryBuilder, SqlitePool};
use uuid::Uuid;

/// The aim: each read within this many times its raw baseline.
const AIM_RATIO: f64 = 2.0;

/// Rows per multi-row INSERT, and per transaction, during setup.
const ROWS_PER_INSERT: usize = 500;
const ROWS_PER_TX: usize = 50_000;

/// "Now" for the benchmark: results are spread over the three years before.
const NOW: &str = "2026-11-25T09:00:00Z";

/// Investigation groups a request asks for (panel members or single tests),
/// with how often (out of 100) a request is one of them.
const REQUEST_MIX: &[(u64, &[&str])] = &[
    (40, &["NA", "K", "UREA", "CREA"]),
    (20, &["ALB", "ALT", "ALP", "BILI"]),
    (20, &["HB", "WBC", "PLT"]),
    (10, &["CRP"]),
    (5, &["TSH"]),
    (5, &["GLU"]),
];

#[derive(Debug)]
struct Options {
    bench_mode: bool,
    n_results: u64,
    n_patients: u64,
    postgres_admin_url: Option<String>,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("investigations: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let options = parse_options(std::env::args().skip(1))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    let options = &options;
    let report = runtime.block_on(async {
        match &options.postgres_admin_url {
            Some(admin_url) => {
                with_postgres_database(admin_url, |url| async move { measure(&url, options).await })
                    .await
            }
            None => {
                let folder = tempfile::tempdir().context("creating a temporary folder")?;
                let path = folder.path().join("benchwork-bench.db");
                let path = path
                    .to_str()
                    .context("the temporary folder's path is not valid UTF-8")?;
                measure(&format!("sqlite://{path}"), options).await
            }
        }
    })?;
    report.print();
    if options.bench_mode && !report.met() {
        eprintln!("investigations: a read took more than {AIM_RATIO} times its raw baseline");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_options(args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut bench_mode = false;
    let mut n_results = None;
    let mut n_patients = None;
    let mut postgres_admin_url = None;
    let mut args = args;
    let number = |flag: &str, value: Option<String>| -> anyhow::Result<u64> {
        let value = value.with_context(|| format!("{flag} needs a number"))?;
        let number: u64 = value
            .replace('_', "")
            .parse()
            .with_context(|| format!("{flag} {value}: expected a whole number"))?;
        if number == 0 {
            bail!("{flag} must be at least 1");
        }
        Ok(number)
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Passed by `cargo bench`; `cargo test --benches` passes nothing.
            "--bench" => bench_mode = true,
            "--results" => n_results = Some(number("--results", args.next())?),
            "--patients" => n_patients = Some(number("--patients", args.next())?),
            "--postgres" => {
                postgres_admin_url = Some(args.next().context("--postgres needs an admin URL")?);
            }
            other => eprintln!("investigations: ignoring argument {other:?}"),
        }
    }
    let n_results = n_results.unwrap_or(if bench_mode { 1_000_000 } else { 20_000 });
    let n_patients = n_patients.unwrap_or(if bench_mode { 50_000 } else { 1_000 });
    if n_results < 4 * n_patients {
        bail!("--results must be at least four per patient (a U&E each)");
    }
    Ok(Options {
        bench_mode,
        n_results,
        n_patients,
        postgres_admin_url,
    })
}

/// A raw connection pool beside the store, for the bulk load and the
/// baselines (sqlx directly, no benchwork code).
enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

macro_rules! on_raw {
    ($raw:expr, |$pool:ident| $body:expr) => {
        match $raw {
            Raw::Sqlite($pool) => $body,
            Raw::Postgres($pool) => $body,
        }
    };
}

async fn open_raw(url: &str) -> anyhow::Result<Raw> {
    if url.starts_with("sqlite:") {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        Ok(Raw::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?,
        ))
    } else {
        Ok(Raw::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .connect(url)
                .await?,
        ))
    }
}

/// SplitMix64: deterministic, so every run builds the same data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn uuid(&mut self) -> Uuid {
        let bytes = ((u128::from(self.next()) << 64) | u128::from(self.next())).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// What the bulk load needs to know about a catalogue investigation.
#[derive(Debug, Clone)]
struct Investigation {
    id: Uuid,
    code: &'static str,
    unit: &'static str,
    low: Option<f64>,
    high: Option<f64>,
    critical: (Option<f64>, Option<f64>),
    source: &'static str,
}

struct PatientRow {
    id: Uuid,
    family: String,
    dob: String,
    sex: &'static str,
}

struct RequestRow {
    id: Uuid,
    accession: String,
    patient: Uuid,
    priority: &'static str,
    at: i64,
    specimen: Uuid,
    specimen_status: &'static str,
    /// Derived from its lines as the application derives it
    /// (benchwork_domain::request_status).
    status: &'static str,
}

struct ItemRow {
    request: Uuid,
    position: i64,
    investigation: Uuid,
    specimen: Uuid,
    at: i64,
}

struct ResultRow {
    id: Uuid,
    request: Uuid,
    position: i64,
    patient: Uuid,
    investigation: usize,
    value: f64,
    flag: &'static str,
    analysed_at: i64,
    status: &'static str,
}

/// The people and ids the load and the measurements use.
struct World {
    department: Uuid,
    associate: Actor,
    practitioner: Actor,
    scientist: Actor,
    instrument: String,
    investigations: Vec<Investigation>,
    /// Patients with at least one potassium, for the cumulative view.
    patients: Vec<Uuid>,
    /// Accession numbers of received requests awaiting results, for (c).
    pending: Vec<String>,
}

fn flag_of(value: f64, investigation: &Investigation) -> &'static str {
    let (critical_low, critical_high) = investigation.critical;
    if critical_low.is_some_and(|limit| value <= limit) {
        "LL"
    } else if critical_high.is_some_and(|limit| value >= limit) {
        "HH"
    } else if investigation.low.is_some_and(|low| value < low) {
        "L"
    } else if investigation.high.is_some_and(|high| value > high) {
        "H"
    } else {
        "N"
    }
}

async fn load(ctx: &Ctx, raw: &Raw, options: &Options) -> anyhow::Result<World> {
    benchwork_app::demo::seed(ctx)
        .await
        .context("seeding the demo")?;
    let store = &ctx.store;
    let actor = |name: &'static str| async move {
        let user = store.get_user_by_username(name).await?;
        anyhow::Ok(auth::actor_from(&user, Some("bench".into()))?)
    };
    let associate = actor("associate").await?;
    let practitioner = actor("practitioner").await?;
    let scientist = actor("scientist").await?;
    let department = associate
        .departments
        .first()
        .context("the demo associate has a department")?
        .0;
    let instrument = benchwork_app::results::instruments(ctx, &associate)
        .await?
        .into_iter()
        .find(|instrument| instrument.discipline == "blood-sciences")
        .context("the demo chemistry analyser")?
        .id
        .to_string();
    let mut investigations = Vec::new();
    for row in benchwork_app::demo::DEMO_CATALOGUE {
        if !REQUEST_MIX
            .iter()
            .any(|(_, codes)| codes.contains(&row.code))
        {
            continue;
        }
        let (low, high) = row
            .intervals
            .iter()
            .find(|(sex, _, _)| sex.is_empty() || *sex == "female")
            .map(|(_, low, high)| (*low, *high))
            .unwrap_or((None, None));
        let id: Uuid = on_raw!(raw, |pool| sqlx::query_scalar(
            "SELECT id FROM investigation WHERE code = $1"
        )
        .bind(row.code)
        .fetch_one(pool)
        .await?);
        investigations.push(Investigation {
            id,
            code: row.code,
            unit: row.unit,
            low,
            high,
            critical: row.critical,
            source: row.interval_source,
        });
    }
    let index_of = |code: &str| {
        investigations
            .iter()
            .position(|investigation| investigation.code == code)
    };

    // Generate: each patient gets a share of the results, as requests
    // drawn from REQUEST_MIX (the first always a U&E), spread over three
    // years; about one request in a hundred is received but not resulted.
    let now: Timestamp = NOW.parse()?;
    let now_micros = now.as_microsecond();
    let three_years = 3 * 365 * 24 * 3_600 * 1_000_000_i64;
    let mut rng = SplitMix64(0x696e_7665_7374_6967);
    let mut patients = Vec::new();
    let mut requests = Vec::new();
    let mut items = Vec::new();
    let mut results = Vec::new();
    let mut pending = Vec::new();
    let mut with_potassium = Vec::new();
    let mut sequence = 0_i64;
    let per_patient = options.n_results / options.n_patients;
    let mut extra = options.n_results % options.n_patients;
    for patient_idx in 0..options.n_patients {
        let id = rng.uuid();
        patients.push(PatientRow {
            id,
            family: format!("BENCH{patient_idx:06}"),
            dob: format!(
                "{}-{:02}-{:02}",
                1930 + rng.below(75),
                1 + rng.below(12),
                1 + rng.below(28)
            ),
            sex: if rng.below(2) == 0 { "female" } else { "male" },
        });
        let mut quota = per_patient + u64::from(extra > 0);
        extra = extra.saturating_sub(1);
        let mut first = true;
        while quota > 0 {
            let group: &[&str] = if first {
                REQUEST_MIX[0].1
            } else {
                let mut pick = rng.below(100);
                let mut chosen = REQUEST_MIX[0].1;
                for (weight, codes) in REQUEST_MIX {
                    if pick < *weight {
                        chosen = codes;
                        break;
                    }
                    pick -= weight;
                }
                chosen
            };
            let group = &group[..group.len().min(usize::try_from(quota)?)];
            if group.contains(&"K") {
                with_potassium.push(id);
            }
            first = false;
            sequence += 1;
            let at = now_micros - (rng.unit() * three_years as f64) as i64 - 3_600_000_000;
            let is_pending = rng.below(100) == 0;
            let mut request = RequestRow {
                id: rng.uuid(),
                accession: format!("BW25-{sequence:06}"),
                patient: id,
                priority: if rng.below(10) == 0 {
                    "urgent"
                } else {
                    "routine"
                },
                at,
                specimen: rng.uuid(),
                specimen_status: if is_pending { "received" } else { "stored" },
                status: "in-progress",
            };
            let mut n_final = 0;
            for (position, code) in group.iter().enumerate() {
                let investigation = index_of(code).context("a benchmark investigation")?;
                items.push(ItemRow {
                    request: request.id,
                    position: position as i64 + 1,
                    investigation: investigations[investigation].id,
                    specimen: request.specimen,
                    at,
                });
                if is_pending {
                    continue;
                }
                let spec = &investigations[investigation];
                let centre = match (spec.low, spec.high) {
                    (Some(low), Some(high)) => (low + high) / 2.0,
                    (None, Some(high)) => high * 0.6,
                    (Some(low), None) => low * 1.2,
                    (None, None) => 10.0,
                };
                // Mostly normal, a tail either side.
                let value =
                    (centre * (0.55 + 0.9 * rng.unit() * rng.unit() + 0.3 * rng.unit())).max(0.1);
                let value = (value * 10.0).round() / 10.0;
                results.push(ResultRow {
                    id: rng.uuid(),
                    request: request.id,
                    position: position as i64 + 1,
                    patient: id,
                    investigation,
                    value,
                    flag: flag_of(value, spec),
                    analysed_at: at + 2 * 3_600_000_000,
                    status: match rng.below(100) {
                        0..3 => "measured",
                        3..5 => "verified",
                        _ => {
                            n_final += 1;
                            "final"
                        }
                    },
                });
            }
            request.status = if is_pending || n_final == 0 {
                "in-progress"
            } else if n_final == group.len() {
                "completed"
            } else {
                "partially-reported"
            };
            if is_pending {
                pending.push(request.accession.clone());
            } else {
                quota = quota.saturating_sub(group.len() as u64);
            }
            requests.push(request);
        }
    }
    with_potassium.dedup();
    println!(
        "generated {} patients, {} requests ({} awaiting results), {} request lines, {} results",
        patients.len(),
        requests.len(),
        pending.len(),
        items.len(),
        results.len()
    );

    let started = Instant::now();
    let department_id = department;
    let created_by = associate.id.0;
    let verifier = practitioner.id.0;
    let authoriser = scientist.id.0;
    let created = now_micros - three_years - 1;
    on_raw!(raw, |pool| {
        for chunk in patients.chunks(ROWS_PER_TX) {
            let mut tx = pool.begin().await?;
            for rows in chunk.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO patient (id, family_name, given_name, family_key, date_of_birth, administrative_sex, \
                     reference_sex, created_at, updated_at) ",
                );
                insert.push_values(rows, |mut row, patient| {
                    row.push_bind(patient.id)
                        .push_bind(patient.family.clone())
                        .push_bind("Bench")
                        .push_bind(patient.family.clone())
                        .push_bind(patient.dob.clone())
                        .push_bind(patient.sex)
                        .push_bind(patient.sex)
                        .push_bind(created)
                        .push_bind(created);
                });
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        for chunk in requests.chunks(ROWS_PER_TX) {
            let mut tx = pool.begin().await?;
            for rows in chunk.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO lab_request (id, accession, patient_id, department_id, requester_name, requester_code, \
                     location, clinical_details, priority, status, created_by, created_at, updated_at) ",
                );
                insert.push_values(rows, |mut row, request| {
                    row.push_bind(request.id)
                        .push_bind(request.accession.clone())
                        .push_bind(request.patient)
                        .push_bind(department_id)
                        .push_bind("Dr A Patel")
                        .push_bind("C1234567")
                        .push_bind("GP surgery")
                        .push_bind("")
                        .push_bind(request.priority)
                        .push_bind(request.status)
                        .push_bind(created_by)
                        .push_bind(request.at)
                        .push_bind(request.at);
                });
                insert.build().execute(&mut *tx).await?;
                let mut insert = QueryBuilder::new(
                    "INSERT INTO specimen (id, specimen_code, request_id, specimen_type, container, status, created_at, \
                     updated_at) ",
                );
                insert.push_values(rows, |mut row, request| {
                    row.push_bind(request.specimen)
                        .push_bind(format!("S{}-1", request.accession))
                        .push_bind(request.id)
                        .push_bind("Serum")
                        .push_bind("Serum gel (gold top)")
                        .push_bind(request.specimen_status)
                        .push_bind(request.at)
                        .push_bind(request.at);
                });
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        for chunk in items.chunks(ROWS_PER_TX) {
            let mut tx = pool.begin().await?;
            for rows in chunk.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO request_item (request_id, position, investigation_id, investigation_version, specimen_id, \
                     created_at) ",
                );
                insert.push_values(rows, |mut row, item| {
                    row.push_bind(item.request)
                        .push_bind(item.position)
                        .push_bind(item.investigation)
                        .push_bind(1_i64)
                        .push_bind(item.specimen)
                        .push_bind(item.at);
                });
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        for chunk in results.chunks(ROWS_PER_TX) {
            let mut tx = pool.begin().await?;
            for rows in chunk.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO result (id, request_id, position, patient_id, investigation_id, investigation_version, \
                     value_text, value_number, unit, reference_low, reference_high, reference_source, critical_low, \
                     critical_high, flag, delta_outcome, analysed_at, produced_by, status, comment, created_at, \
                     verified_by, verified_at, authorised_by, authorised_at) ",
                );
                insert.push_values(rows, |mut row, result| {
                    let spec = &investigations[result.investigation];
                    let verified = result.status != "measured";
                    let authorised = result.status == "final";
                    row.push_bind(result.id)
                        .push_bind(result.request)
                        .push_bind(result.position)
                        .push_bind(result.patient)
                        .push_bind(spec.id)
                        .push_bind(1_i64)
                        .push_bind(format!("{:.1}", result.value))
                        .push_bind(result.value)
                        .push_bind(spec.unit)
                        .push_bind(spec.low)
                        .push_bind(spec.high)
                        .push_bind(spec.source)
                        .push_bind(spec.critical.0)
                        .push_bind(spec.critical.1)
                        .push_bind(result.flag)
                        .push_bind("passed")
                        .push_bind(result.analysed_at)
                        .push_bind(created_by)
                        .push_bind(result.status)
                        .push_bind("")
                        .push_bind(result.analysed_at)
                        .push_bind(verified.then_some(verifier))
                        .push_bind(verified.then_some(result.analysed_at + 600_000_000))
                        .push_bind(authorised.then_some(authoriser))
                        .push_bind(authorised.then_some(result.analysed_at + 1_200_000_000));
                });
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        sqlx::raw_sql("ANALYZE").execute(pool).await?;
    });
    println!(
        "setup (not timed): bulk insert and ANALYZE in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut rng = SplitMix64(0x7061_7469_656e_7473);
    let mut sample = Vec::new();
    while sample.len() < 200.min(with_potassium.len()) {
        let candidate = with_potassium[rng.below(with_potassium.len() as u64) as usize];
        if !sample.contains(&candidate) {
            sample.push(candidate);
        }
    }
    Ok(World {
        department,
        associate,
        practitioner,
        scientist,
        instrument,
        investigations,
        patients: sample,
        pending,
    })
}

/// The raw cumulative query: the patient's potassium results in the
/// viewer's departments, newest first, with the same columns the app reads.
const RAW_CUMULATIVE: &str = "SELECT res.id, res.patient_id, r.accession, d.name AS department_name, i.code, v.name, \
    res.value_text, res.value_number, v.decimal_places, res.unit, res.reference_low, res.reference_high, \
    res.reference_source, res.critical_low, res.critical_high, res.flag, res.flag_note, res.delta_outcome, \
    res.delta_detail, res.analysed_at, res.status, res.version \
    FROM result res JOIN investigation i ON i.id = res.investigation_id \
    JOIN lab_request r ON r.id = res.request_id \
    JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $3 \
    JOIN department d ON d.id = r.department_id \
    JOIN investigation_version v ON v.investigation_id = res.investigation_id AND v.version = res.investigation_version \
    WHERE res.patient_id = $1 AND res.investigation_id = $2 \
    ORDER BY res.analysed_at DESC, res.id DESC LIMIT 1000";

/// The raw worklist query: the same text the store runs, with its
/// parameters bound by hand.
const RAW_WORKLIST: &str = "SELECT r.accession, r.priority, r.created_at, d.name AS department_name, r.patient_id, i.code, v.name, \
    v.discipline, s.specimen_code, s.status AS specimen_status \
    FROM request_item ri JOIN lab_request r ON r.id = ri.request_id \
    JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1 \
    JOIN department d ON d.id = r.department_id \
    JOIN investigation i ON i.id = ri.investigation_id \
    JOIN investigation_version v ON v.investigation_id = ri.investigation_id AND v.version = ri.investigation_version \
    LEFT JOIN specimen s ON s.id = ri.specimen_id \
    LEFT JOIN result res ON res.request_id = ri.request_id AND res.position = ri.position \
    WHERE r.status IN ('registered', 'in-progress', 'partially-reported') \
    AND res.id IS NULL AND v.calculation IS NULL \
    AND (s.id IS NULL OR ',' || $2 || ',' LIKE '%,' || s.status || ',%') \
    AND ($3 = '' OR r.department_id = $4) \
    AND ($5 = '' OR v.discipline = $5) \
    ORDER BY CASE WHEN r.priority = 'urgent' THEN 0 ELSE 1 END, r.created_at, r.accession, ri.position \
    LIMIT $6";

/// Inserts `n` read events the way the audit writer does (one
/// transaction), with plain SQL.
async fn raw_audit(raw: &Raw, actor: &Actor, patients: &[Uuid], at: i64) -> anyhow::Result<()> {
    on_raw!(raw, |pool| {
        let mut tx = pool.begin().await?;
        for rows in patients.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new(
                "INSERT INTO audit_event (id, recorded, action, event_type, outcome, actor_id, actor_name, actor_roles, \
                 source_address, entity_type, entity_id, patient_id, department_id, detail) ",
            );
            insert.push_values(rows, |mut row, patient| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(at)
                    .push_bind("R")
                    .push_bind("patient.results.read")
                    .push_bind(0_i64)
                    .push_bind(actor.id.0)
                    .push_bind(actor.username.clone())
                    .push_bind(actor.role_codes())
                    .push_bind("bench")
                    .push_bind("Patient")
                    .push_bind(patient.to_string())
                    .push_bind(*patient)
                    .push_bind(None::<Uuid>)
                    .push_bind("cumulative results: K (raw baseline)");
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

struct Timing {
    label: &'static str,
    app: Vec<Duration>,
    raw_read: Vec<Duration>,
    raw: Vec<Duration>,
}

impl Timing {
    fn ratio(&self) -> f64 {
        median(&self.app).as_secs_f64() / median(&self.raw).as_secs_f64().max(1e-9)
    }
}

struct Report {
    engine: String,
    n_results: u64,
    n_patients: u64,
    timings: Vec<Timing>,
    n_entered: usize,
    entry_time: Duration,
}

impl Report {
    fn met(&self) -> bool {
        self.timings
            .iter()
            .all(|timing| timing.ratio() <= AIM_RATIO)
    }

    fn print(&self) {
        println!();
        println!(
            "{} results across {} patients on {}",
            thousands(self.n_results as f64),
            thousands(self.n_patients as f64),
            self.engine
        );
        println!(
            "| read            | app median | raw SELECT + audit median | raw SELECT median | ratio | aim ({AIM_RATIO}x) |"
        );
        println!(
            "|-----------------|------------|---------------------------|-------------------|-------|----------|"
        );
        for timing in &self.timings {
            println!(
                "| {:<15} | {:>7.2} ms | {:>22.2} ms | {:>14.2} ms | {:>5.2} | {:<8} |",
                timing.label,
                ms(median(&timing.app)),
                ms(median(&timing.raw)),
                ms(median(&timing.raw_read)),
                timing.ratio(),
                if timing.ratio() <= AIM_RATIO {
                    "met"
                } else {
                    "NOT met"
                }
            );
        }
        println!(
            "result entry + verification + authorisation: {} results in {:.2} s, {:.1} results/s (median {:.1} ms per result)",
            self.n_entered,
            self.entry_time.as_secs_f64(),
            self.n_entered as f64 / self.entry_time.as_secs_f64().max(1e-9),
            ms(self.entry_time) / self.n_entered.max(1) as f64
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

async fn measure(url: &str, options: &Options) -> anyhow::Result<Report> {
    let mode = if options.bench_mode {
        "bench"
    } else {
        "smoke test"
    };
    println!(
        "investigations benchmark ({mode}): {} results across {} patients",
        options.n_results, options.n_patients
    );
    let store = Store::connect(url)
        .await
        .context("opening the benchmark database")?;
    println!("engine: {}", store.describe_settings().await?);
    let clock = Arc::new(ManualClock::new(NOW.parse()?));
    let settings = Settings {
        hashing: HashingParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        ..Settings::default()
    };
    let ctx = Ctx::new(store.clone(), clock, settings);
    let raw = open_raw(url).await?;
    let world = load(&ctx, &raw, options).await?;
    let potassium = world
        .investigations
        .iter()
        .find(|investigation| investigation.code == "K")
        .context("potassium in the catalogue")?
        .id;
    let now_micros = ctx.now().as_microsecond();

    // (a) The cumulative view of each sampled patient: the app function,
    // then the raw SELECT alone, then the raw SELECT with the audit insert.
    let mut cumulative_timing = Timing {
        label: "cumulative view",
        app: Vec::new(),
        raw_read: Vec::new(),
        raw: Vec::new(),
    };
    for patient in &world.patients {
        let started = Instant::now();
        let view = cumulative::cumulative(&ctx, &world.associate, PatientId(*patient), "K").await?;
        cumulative_timing.app.push(started.elapsed());

        let started = Instant::now();
        let ids: Vec<Uuid> = on_raw!(&raw, |pool| sqlx::query_scalar::<_, Uuid>(
            sqlx::AssertSqlSafe(RAW_CUMULATIVE)
        )
        .bind(*patient)
        .bind(potassium)
        .bind(world.associate.id.0)
        .fetch_all(pool)
        .await?);
        cumulative_timing.raw_read.push(started.elapsed());

        let started = Instant::now();
        let n_raw: usize = on_raw!(&raw, |pool| sqlx::query(sqlx::AssertSqlSafe(
            RAW_CUMULATIVE
        ))
        .bind(*patient)
        .bind(potassium)
        .bind(world.associate.id.0)
        .fetch_all(pool)
        .await?
        .len());
        raw_audit(&raw, &world.associate, &[*patient], now_micros).await?;
        cumulative_timing.raw.push(started.elapsed());

        let app_ids: Vec<Uuid> = view.results.iter().map(|result| result.id.0).collect();
        if app_ids != ids || n_raw != ids.len() || ids.is_empty() {
            bail!(
                "the cumulative view of {patient} has {} results, the raw query {}",
                app_ids.len(),
                ids.len()
            );
        }
    }

    // (b) The worklist page for the chemistry analyser (its department and
    // discipline), the same number of times.
    let mut worklist_timing = Timing {
        label: "worklist page",
        app: Vec::new(),
        raw_read: Vec::new(),
        raw: Vec::new(),
    };
    let ready = "received,accepted,in-process";
    let n_worklist_runs = if options.bench_mode { 15 } else { 30 };
    for _ in 0..n_worklist_runs {
        let started = Instant::now();
        let rows = worklist(&ctx, &world.associate, "", "", &world.instrument).await?;
        worklist_timing.app.push(started.elapsed());

        let raw_query = || async {
            let accessions: Vec<(String, Uuid)> = on_raw!(&raw, |pool| sqlx::query_as::<
                _,
                (
                    String,
                    String,
                    i64,
                    String,
                    Uuid,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>
                ),
            >(
                sqlx::AssertSqlSafe(RAW_WORKLIST)
            )
            .bind(world.associate.id.0)
            .bind(ready)
            .bind("yes")
            .bind(world.department)
            .bind("blood-sciences")
            .bind(500_i64)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| (row.0, row.4))
            .collect());
            anyhow::Ok(accessions)
        };
        let started = Instant::now();
        let raw_rows = raw_query().await?;
        worklist_timing.raw_read.push(started.elapsed());

        let started = Instant::now();
        let raw_rows_again = raw_query().await?;
        let patients: Vec<Uuid> = raw_rows_again.iter().map(|row| row.1).collect();
        raw_audit(&raw, &world.associate, &patients, now_micros).await?;
        worklist_timing.raw.push(started.elapsed());

        let app_rows: Vec<(String, Uuid)> = rows
            .iter()
            .map(|row| (row.accession.clone(), row.patient_id.0))
            .collect();
        if app_rows != raw_rows || raw_rows.is_empty() {
            bail!(
                "the worklist has {} lines, the raw query {}",
                app_rows.len(),
                raw_rows.len()
            );
        }
    }

    // (c) Result entry, verification and authorisation through the app
    // functions, by three different people, for requests awaiting results.
    let n_entries = if options.bench_mode { 300 } else { 30 };
    let mut entry_time = Duration::ZERO;
    let mut n_entered = 0;
    for accession in world.pending.iter().take(n_entries) {
        let request = store.get_request(accession, world.associate.id).await?;
        let lines = store.list_result_slots(request.id).await?;
        let inputs: Vec<ResultInput> = lines
            .iter()
            // Calculated lines (eGFR, adjusted calcium) follow their inputs.
            .filter(|line| !matches!(line.code.as_str(), "EGFR" | "ACA"))
            .map(|line| ResultInput {
                investigation: line.code.clone(),
                value: match line.code.as_str() {
                    "NA" => "139",
                    "K" => "4.4",
                    "UREA" => "5.1",
                    "CREA" => "80",
                    "ALB" => "41",
                    "ALT" => "22",
                    "ALP" => "80",
                    "BILI" => "9",
                    "HB" => "135",
                    "WBC" => "6.2",
                    "PLT" => "250",
                    "CRP" => "3",
                    "TSH" => "1.8",
                    _ => "5.0",
                }
                .into(),
                instrument: world.instrument.clone(),
                comment: String::new(),
                comment_codes: Vec::new(),
                unit: String::new(),
            })
            .collect();
        let started = Instant::now();
        let n = benchwork_app::results::enter(&ctx, &world.associate, accession, &inputs).await?;
        entry_time += started.elapsed();
        let ids: Vec<String> = store
            .list_results(request.id)
            .await?
            .into_iter()
            .map(|result| result.id.to_string())
            .collect();
        let started = Instant::now();
        for id in &ids {
            benchwork_app::verification::verify_result(&ctx, &world.practitioner, id).await?;
            benchwork_app::verification::authorise_result(&ctx, &world.scientist, id).await?;
        }
        entry_time += started.elapsed();
        if n != ids.len() {
            bail!("entered {n} results on {accession}, found {}", ids.len());
        }
        n_entered += n;
    }
    if n_entered == 0 {
        bail!("no results were entered");
    }
    let engine = match store.engine() {
        benchwork_store::Engine::Sqlite => "SQLite".to_owned(),
        benchwork_store::Engine::Postgres => "PostgreSQL".to_owned(),
    };
    on_raw!(&raw, |pool| pool.close().await);
    store.close().await;
    Ok(Report {
        engine,
        n_results: options.n_results,
        n_patients: options.n_patients,
        timings: vec![cumulative_timing, worklist_timing],
        n_entered,
        entry_time,
    })
}
