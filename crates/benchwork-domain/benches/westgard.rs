//! Benchmark of the Westgard rule engine (issue 4, Performance):
//! [`benchwork_domain::westgard::evaluate`] with the full two-level rule set
//! over N QC points read from SQLite, beside a baseline that reads the same
//! points in the same order and only sums them, in the same run. See
//! docs/benchmarks.md (Westgard rule engine).
//!
//! `cargo bench -p benchwork-domain --bench westgard` runs ten million
//! points (five million runs of two levels) from a temporary SQLite file and
//! exits non-zero when evaluation runs at less than [`AIM_PERCENT`] of the
//! baseline. `cargo test -p benchwork-domain --benches` runs the same code
//! on 20,000 points as a smoke test: it checks that the sliding history of
//! the last [`HISTORY`] runs gives the same decisions and rules as the full
//! history and that the generated shifts are caught, never a speed.
//!
//! Options (after `--`): `--points N` (even).

use std::collections::VecDeque;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use benchwork_domain::westgard::{QcTarget, RuleSet, RunDecision, RunZ, evaluate};
use rusqlite::Connection;

/// The aim: evaluation at no less than this share of the speed of
/// reading the same points.
const AIM_PERCENT: f64 = 25.0;

/// Runs kept as history: the engine looks back at most 12 values of a level
/// (12x), and with two levels per run 12 runs hold 12 values of each.
const HISTORY: usize = 12;

/// Points per insert transaction during setup.
const INSERT_BATCH: u64 = 100_000;

/// Timed runs per measurement; the fastest is reported (the machine is
/// shared, and a slower run measures the neighbours, not the code).
const N_RUNS: usize = 2;

/// The two levels' targets (a potassium: low and high control).
const TARGETS: [(f64, f64); 2] = [(3.5, 0.1), (6.5, 0.15)];

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("westgard: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    /// Run by `cargo bench`: ten million points, and the aim is enforced.
    bench_mode: bool,
    n_points: u64,
}

fn parse_options(args: impl Iterator<Item = String>) -> BenchResult<Options> {
    let mut bench_mode = false;
    let mut n_points = None;
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Passed by `cargo bench`; `cargo test --benches` passes nothing.
            "--bench" => bench_mode = true,
            "--points" => {
                let value = args.next().ok_or("--points needs a number")?;
                let value: u64 = value
                    .replace('_', "")
                    .parse()
                    .map_err(|_| format!("--points {value}: expected a whole number"))?;
                if value < 2 || !value.is_multiple_of(2) {
                    return Err("--points must be an even number of at least 2".into());
                }
                n_points = Some(value);
            }
            other => eprintln!("westgard: ignoring argument {other:?}"),
        }
    }
    Ok(Options {
        bench_mode,
        n_points: n_points.unwrap_or(if bench_mode { 10_000_000 } else { 20_000 }),
    })
}

fn run() -> BenchResult<ExitCode> {
    let options = parse_options(std::env::args().skip(1))?;
    let folder = tempfile::tempdir()?;
    let path = folder.path().join("westgard-bench.db");
    let started = Instant::now();
    let connection = Connection::open(&path)?;
    generate(&connection, options.n_points)?;
    println!(
        "generated {} points in {:.1} s",
        thousands(options.n_points as f64),
        started.elapsed().as_secs_f64()
    );

    let rules = RuleSet::two_level();
    let mut baseline = Vec::new();
    let mut evaluation = Vec::new();
    let mut outcome = None;
    for _ in 0..N_RUNS {
        let (elapsed, (n, sum)) = timed(|| read_and_sum(&connection))?;
        if n != options.n_points {
            return Err(format!("read {n} points, expected {}", options.n_points).into());
        }
        println!("baseline: read {n} points (sum {sum:.3}) in {elapsed:?}");
        baseline.push(elapsed);
        let (elapsed, counts) = timed(|| read_and_evaluate(&connection, &rules, false))?;
        println!(
            "evaluation: {} runs, {} rejected, {} warnings, {} violations in {elapsed:?}",
            counts.runs, counts.rejected, counts.warnings, counts.violations
        );
        evaluation.push(elapsed);
        outcome = Some(counts);
    }
    let counts = outcome.ok_or("no timed run")?;
    if counts.runs * 2 != options.n_points || counts.rejected == 0 {
        return Err("the evaluation saw the wrong number of runs or caught no shift".into());
    }
    if !options.bench_mode {
        // Smoke: the sliding history decides exactly as the full history.
        let full = read_and_evaluate(&connection, &rules, true)?;
        if full != counts {
            return Err(format!(
                "the sliding history of {HISTORY} runs disagrees with the full history: {counts:?} vs {full:?}"
            )
            .into());
        }
        println!("smoke: the sliding history agrees with the full history");
    }
    let baseline_rate = rate(options.n_points, fastest(&baseline));
    let evaluation_rate = rate(options.n_points, fastest(&evaluation));
    let ratio = 100.0 * evaluation_rate / baseline_rate;
    println!();
    println!(
        "| points     | evaluate points/s | baseline points/s | ratio   | aim ({AIM_PERCENT} %) |"
    );
    println!("|------------|-------------------|-------------------|---------|-----------|");
    println!(
        "| {:<10} | {:>17} | {:>17} | {:>5.1} % | {:<9} |",
        thousands(options.n_points as f64),
        thousands(evaluation_rate),
        thousands(baseline_rate),
        ratio,
        if ratio >= AIM_PERCENT {
            "met"
        } else {
            "NOT met"
        }
    );
    if options.bench_mode && ratio < AIM_PERCENT {
        eprintln!(
            "westgard: evaluation ran at {ratio:.1} % of reading the points, below the aim of {AIM_PERCENT} %"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn timed<T>(body: impl FnOnce() -> BenchResult<T>) -> BenchResult<(Duration, T)> {
    let started = Instant::now();
    let value = body()?;
    Ok((started.elapsed(), value))
}

fn fastest(durations: &[Duration]) -> Duration {
    durations.iter().copied().min().unwrap_or_default()
}

fn rate(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// SplitMix64: a small deterministic generator, so that every run reads the
/// same points without the OS's randomness.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A qc_value-like table: (run, level, value), filled with two levels per
/// run around [`TARGETS`], with a shift of 1.5 SD in one level for 20 runs
/// about every 2,000 runs and a rare outlier.
fn generate(connection: &Connection, n_points: u64) -> BenchResult<()> {
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE qc_point (run INTEGER NOT NULL, level INTEGER NOT NULL, value REAL NOT NULL,
         PRIMARY KEY (run, level)) WITHOUT ROWID;",
    )?;
    let mut random = SplitMix64(4);
    let n_runs = n_points / 2;
    let mut shift: [(u64, f64); 2] = [(0, 0.0), (0, 0.0)];
    let mut run = 0;
    while run < n_runs {
        let transaction = connection.unchecked_transaction()?;
        {
            let mut insert = transaction
                .prepare("INSERT INTO qc_point (run, level, value) VALUES (?1, ?2, ?3)")?;
            let end = (run + INSERT_BATCH / 2).min(n_runs);
            while run < end {
                for (level, (mean, sd)) in TARGETS.iter().enumerate() {
                    if shift[level].0 == 0 && random.next().is_multiple_of(4_000) {
                        let side = if random.next().is_multiple_of(2) {
                            1.5
                        } else {
                            -1.5
                        };
                        shift[level] = (20, side);
                    }
                    let mut z = random.normal();
                    if shift[level].0 > 0 {
                        shift[level].0 -= 1;
                        z += shift[level].1;
                    }
                    if random.next().is_multiple_of(5_000) {
                        z = 3.5;
                    }
                    insert.execute(rusqlite::params![
                        run as i64,
                        level as i64 + 1,
                        mean + z * sd
                    ])?;
                }
                run += 1;
            }
        }
        transaction.commit()?;
    }
    Ok(())
}

const READ_SQL: &str = "SELECT run, level, value FROM qc_point ORDER BY run, level";

/// The baseline: every point in run order, summed.
fn read_and_sum(connection: &Connection) -> BenchResult<(u64, f64)> {
    let mut statement = connection.prepare(READ_SQL)?;
    let mut rows = statement.query([])?;
    let (mut n, mut sum) = (0_u64, 0.0_f64);
    while let Some(row) = rows.next()? {
        let _run: i64 = row.get(0)?;
        let _level: i64 = row.get(1)?;
        let value: f64 = row.get(2)?;
        n += 1;
        sum += value;
    }
    Ok((n, sum))
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    runs: u64,
    rejected: u64,
    warnings: u64,
    violations: u64,
    /// A checksum of the rules that fired, run by run, so that two ways of
    /// evaluating compare rule for rule.
    digest: u64,
}

/// The same points, turned into z-scores against their level's target and
/// judged run by run over a history of the last [`HISTORY`] runs (or the
/// whole history, for the smoke comparison).
fn read_and_evaluate(
    connection: &Connection,
    rules: &RuleSet,
    full_history: bool,
) -> BenchResult<Counts> {
    let targets = [
        QcTarget::new(TARGETS[0].0, TARGETS[0].1)?,
        QcTarget::new(TARGETS[1].0, TARGETS[1].1)?,
    ];
    let mut statement = connection.prepare(READ_SQL)?;
    let mut rows = statement.query([])?;
    let mut history: VecDeque<RunZ> = VecDeque::with_capacity(HISTORY + 1);
    let mut counts = Counts::default();
    let mut current: Option<(i64, [Option<f64>; 2])> = None;
    let judge = |history: &mut VecDeque<RunZ>, z: [Option<f64>; 2], counts: &mut Counts| {
        history.push_back(RunZ { z: z.to_vec() });
        if !full_history && history.len() > HISTORY {
            history.pop_front();
        }
        let evaluation = evaluate(history.make_contiguous(), rules);
        counts.runs += 1;
        match evaluation.decision {
            RunDecision::Reject => counts.rejected += 1,
            RunDecision::Warning => counts.warnings += 1,
            RunDecision::Accept => {}
        }
        counts.violations += evaluation.violations.len() as u64;
        for violation in &evaluation.violations {
            counts.digest = counts
                .digest
                .wrapping_mul(31)
                .wrapping_add(violation.rule as u64 + 1)
                .wrapping_add((violation.points.len() as u64) << 8);
        }
    };
    while let Some(row) = rows.next()? {
        let run: i64 = row.get(0)?;
        let level: i64 = row.get(1)?;
        let value: f64 = row.get(2)?;
        let index = usize::try_from(level - 1)
            .ok()
            .filter(|l| *l < 2)
            .ok_or("bad level")?;
        match &mut current {
            Some((at, z)) if *at == run => z[index] = Some(targets[index].z(value)),
            _ => {
                if let Some((_, z)) = current.take() {
                    judge(&mut history, z, &mut counts);
                }
                let mut z = [None, None];
                z[index] = Some(targets[index].z(value));
                current = Some((run, z));
            }
        }
    }
    if let Some((_, z)) = current.take() {
        judge(&mut history, z, &mut counts);
    }
    Ok(counts)
}
