//! Internal quality control: Westgard multirules over z-scores (DOMAIN.md
//! §3.4), the sigma metric (§3.5) and the rule selection it suggests.
//!
//! A QC value becomes a z-score against the target of its lot, level and
//! instrument ([`QcTarget::z`]); a run is the z-scores of the levels run
//! together ([`RunZ`]); [`evaluate`] judges the newest run of a history
//! against a [`RuleSet`] and returns every rule that fired with the points
//! involved ([`Violation`]) and the run's [`RunDecision`]. Every point is
//! evaluated against every selected rule: 1-2s is a warning, never a gate to
//! the others.
//!
//! Conventions (each a decision to confirm with the quality lead, recorded in
//! docs/design/2026-11-25-quality-control.md):
//! - limits are strict: a value exactly at 2 SD does not exceed 2 SD;
//! - a value exactly at the mean is on neither side, so it breaks a run of
//!   values on one side of the mean (x-rules);
//! - a violation is reported only when it involves a point of the judged run,
//!   so an old pattern is never reported again;
//! - which earlier runs count as history (for example whether rejected runs
//!   do) is the caller's decision: [`evaluate`] judges what it is given;
//! - "across levels" means the values of all levels in run order (run by run,
//!   level by level within a run): 4-1s across levels with two levels is the
//!   last two runs of both levels.

use std::collections::BTreeSet;
use std::fmt;

/// Why a target or a quality goal was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QcError {
    /// The target mean is not a finite number.
    #[error("enter the target mean as a number")]
    InvalidMean,
    /// The SD is zero, negative or not a number.
    #[error("enter the target SD as a number greater than zero")]
    InvalidSd,
    /// A coefficient of variation of zero or less.
    #[error("the CV must be greater than zero")]
    InvalidCv,
    /// An allowable total error, bias or CV that is not a finite number.
    #[error("enter allowable total error, bias and CV as percentages")]
    InvalidGoal,
    /// A rule code that does not exist.
    #[error(
        "{0} is not a Westgard rule: use 1-2s, 1-3s, 2-2s, R-4s, 4-1s, 2of3-2s, 3-1s, 6x, 8x, 9x, 10x or 12x"
    )]
    UnknownRule(String),
    /// A rule set with no rejection rule.
    #[error("choose at least one rule that rejects a run (1-2s only warns)")]
    NoRejectionRule,
}

/// The target of one QC material level on one instrument: mean and SD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QcTarget {
    mean: f64,
    sd: f64,
}

impl QcTarget {
    /// Checks a target: a finite mean and an SD greater than zero.
    pub fn new(mean: f64, sd: f64) -> Result<QcTarget, QcError> {
        if !mean.is_finite() {
            return Err(QcError::InvalidMean);
        }
        if !sd.is_finite() || sd <= 0.0 {
            return Err(QcError::InvalidSd);
        }
        Ok(QcTarget { mean, sd })
    }

    /// The target mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The target SD.
    pub fn sd(&self) -> f64 {
        self.sd
    }

    /// How many SDs `value` lies from the mean.
    pub fn z(&self, value: f64) -> f64 {
        (value - self.mean) / self.sd
    }
}

/// One Westgard rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// One value beyond 2 SD: a warning.
    OneTwoS,
    /// One value beyond 3 SD: random error.
    OneThreeS,
    /// Two consecutive values beyond the same 2 SD limit.
    TwoTwoS,
    /// In one run, one value above +2 SD and another below −2 SD.
    RFourS,
    /// Four consecutive values beyond the same 1 SD limit.
    FourOneS,
    /// Two of three values beyond the same 2 SD limit (three levels).
    TwoOfThreeTwoS,
    /// Three consecutive values beyond the same 1 SD limit (three levels).
    ThreeOneS,
    /// Six consecutive values on one side of the mean (three levels).
    SixX,
    /// Eight consecutive values on one side of the mean.
    EightX,
    /// Nine consecutive values on one side of the mean (three levels).
    NineX,
    /// Ten consecutive values on one side of the mean.
    TenX,
    /// Twelve consecutive values on one side of the mean.
    TwelveX,
}

impl Rule {
    /// Every rule, in the order they are reported.
    pub const ALL: [Rule; 12] = [
        Rule::OneTwoS,
        Rule::OneThreeS,
        Rule::TwoTwoS,
        Rule::RFourS,
        Rule::FourOneS,
        Rule::TwoOfThreeTwoS,
        Rule::ThreeOneS,
        Rule::SixX,
        Rule::EightX,
        Rule::NineX,
        Rule::TenX,
        Rule::TwelveX,
    ];

    /// The usual notation: `1-3s`, `R-4s`, `2of3-2s`, `10x`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::OneTwoS => "1-2s",
            Rule::OneThreeS => "1-3s",
            Rule::TwoTwoS => "2-2s",
            Rule::RFourS => "R-4s",
            Rule::FourOneS => "4-1s",
            Rule::TwoOfThreeTwoS => "2of3-2s",
            Rule::ThreeOneS => "3-1s",
            Rule::SixX => "6x",
            Rule::EightX => "8x",
            Rule::NineX => "9x",
            Rule::TenX => "10x",
            Rule::TwelveX => "12x",
        }
    }

    /// Reads the notation, ignoring case and the subscript-free spellings
    /// `13s`, `22s`, `R4s`, `41s`.
    pub fn parse(text: &str) -> Result<Rule, QcError> {
        let key: String = text
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != '_' && *c != ' ')
            .collect::<String>()
            .to_ascii_lowercase();
        Rule::ALL
            .into_iter()
            .find(|rule| rule.code().replace('-', "").to_ascii_lowercase() == key)
            .ok_or_else(|| QcError::UnknownRule(text.trim().to_owned()))
    }

    /// True for the one rule that only warns (1-2s).
    pub fn is_warning(self) -> bool {
        self == Rule::OneTwoS
    }

    /// What kind of error the rule points to.
    pub fn error_kind(self) -> &'static str {
        match self {
            Rule::OneTwoS => "warning",
            Rule::OneThreeS | Rule::RFourS => "random error",
            _ => "systematic error",
        }
    }

    /// For the rules over consecutive values: how many values, and the
    /// limit in SD they must all be beyond on one side (0 for the mean).
    fn consecutive(self) -> Option<(usize, f64)> {
        match self {
            Rule::FourOneS => Some((4, 1.0)),
            Rule::ThreeOneS => Some((3, 1.0)),
            Rule::SixX => Some((6, 0.0)),
            Rule::EightX => Some((8, 0.0)),
            Rule::NineX => Some((9, 0.0)),
            Rule::TenX => Some((10, 0.0)),
            Rule::TwelveX => Some((12, 0.0)),
            _ => None,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The rules applied to one investigation on one instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    rules: BTreeSet<Rule>,
}

impl RuleSet {
    /// A rule set: at least one rule must reject (1-2s alone only warns).
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Result<RuleSet, QcError> {
        let rules: BTreeSet<Rule> = rules.into_iter().collect();
        if rules.iter().all(|rule| rule.is_warning()) {
            return Err(QcError::NoRejectionRule);
        }
        Ok(RuleSet { rules })
    }

    /// Reads rule codes separated by commas, slashes or spaces.
    pub fn parse(text: &str) -> Result<RuleSet, QcError> {
        let rules = text
            .split([',', '/', ' ', ';'])
            .filter(|part| !part.trim().is_empty())
            .map(Rule::parse)
            .collect::<Result<Vec<_>, _>>()?;
        RuleSet::new(rules)
    }

    /// The classic multirule for two levels per run:
    /// 1-2s (warning) / 1-3s / 2-2s / R-4s / 4-1s / 10x.
    pub fn two_level() -> RuleSet {
        RuleSet {
            rules: [
                Rule::OneTwoS,
                Rule::OneThreeS,
                Rule::TwoTwoS,
                Rule::RFourS,
                Rule::FourOneS,
                Rule::TenX,
            ]
            .into(),
        }
    }

    /// The multirule for three levels per run:
    /// 1-2s (warning) / 1-3s / 2of3-2s / R-4s / 3-1s / 6x.
    pub fn three_level() -> RuleSet {
        RuleSet {
            rules: [
                Rule::OneTwoS,
                Rule::OneThreeS,
                Rule::TwoOfThreeTwoS,
                Rule::RFourS,
                Rule::ThreeOneS,
                Rule::SixX,
            ]
            .into(),
        }
    }

    /// True when the set holds `rule`.
    pub fn contains(&self, rule: Rule) -> bool {
        self.rules.contains(&rule)
    }

    /// The rules, in report order.
    pub fn rules(&self) -> impl Iterator<Item = Rule> + '_ {
        self.rules.iter().copied()
    }

    /// The codes joined with slashes, as written on a QC policy: `1-3s/2-2s/R-4s`.
    pub fn codes(&self) -> String {
        self.rules
            .iter()
            .map(|rule| rule.code())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The z-scores of one run, one per level (material); `None` for a level
/// not run this time.
#[derive(Debug, Clone, PartialEq)]
pub struct RunZ {
    /// By level, in the instrument's level order.
    pub z: Vec<Option<f64>>,
}

impl RunZ {
    /// A run with every level present.
    pub fn of(z: &[f64]) -> RunZ {
        RunZ {
            z: z.iter().copied().map(Some).collect(),
        }
    }
}

/// One point: the run (index into the history given to [`evaluate`]) and the
/// level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PointRef {
    /// Index of the run in the history, oldest first.
    pub run: usize,
    /// Index of the level.
    pub level: usize,
}

/// Where a rule looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// One point alone (1-2s, 1-3s).
    Point,
    /// Levels of the judged run.
    WithinRun,
    /// One level across consecutive runs.
    AcrossRuns {
        /// The level.
        level: usize,
    },
    /// All levels across consecutive runs.
    AcrossRunsAndLevels,
}

impl Scope {
    /// A sentence fragment for people.
    pub fn describe(self) -> String {
        match self {
            Scope::Point => "one value".into(),
            Scope::WithinRun => "within the run, across levels".into(),
            Scope::AcrossRuns { level } => format!("across runs, level {}", level + 1),
            Scope::AcrossRunsAndLevels => "across runs and levels".into(),
        }
    }
}

/// A rule that fired, with the points involved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Where it looked.
    pub scope: Scope,
    /// The points, oldest first.
    pub points: Vec<PointRef>,
}

/// What the run's evaluation decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunDecision {
    /// No rule fired.
    Accept,
    /// Only 1-2s fired: accept after inspection.
    Warning,
    /// A rejection rule fired: patient results are held.
    Reject,
}

/// The evaluation of the judged run.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Every rule that fired, in report order.
    pub violations: Vec<Violation>,
    /// The decision that follows.
    pub decision: RunDecision,
}

impl Evaluation {
    /// The distinct rules that fired.
    pub fn rules(&self) -> BTreeSet<Rule> {
        self.violations.iter().map(|v| v.rule).collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    High,
    Low,
}

/// The side of `limit` SD the value is beyond, strictly.
fn beyond(z: f64, limit: f64) -> Option<Side> {
    if z > limit {
        Some(Side::High)
    } else if z < -limit {
        Some(Side::Low)
    } else {
        None
    }
}

/// Judges the last run of `history` (oldest first) against `rules`. An empty
/// history is accepted with nothing to report.
pub fn evaluate(history: &[RunZ], rules: &RuleSet) -> Evaluation {
    let mut violations = Vec::new();
    if let Some(current) = history.len().checked_sub(1) {
        let points = |run: usize| -> Vec<(PointRef, f64)> {
            history[run]
                .z
                .iter()
                .enumerate()
                .filter_map(|(level, z)| {
                    z.filter(|z| z.is_finite())
                        .map(|z| (PointRef { run, level }, z))
                })
                .collect()
        };
        let now = points(current);
        if now.is_empty() {
            return Evaluation {
                violations,
                decision: RunDecision::Accept,
            };
        }
        let levels: Vec<usize> = now.iter().map(|(point, _)| point.level).collect();
        // No rule looks further back than this many values.
        const WINDOW: usize = 12;
        // One level's last values (at most WINDOW), oldest first, ending with
        // the judged run; computed once per level of the judged run, as
        // several rules read them.
        let by_level: Vec<Vec<(PointRef, f64)>> = levels
            .iter()
            .map(|&level| {
                let mut series: Vec<(PointRef, f64)> = Vec::with_capacity(WINDOW);
                for run in (0..=current).rev() {
                    if series.len() == WINDOW {
                        break;
                    }
                    if let Some(z) = history[run]
                        .z
                        .get(level)
                        .copied()
                        .flatten()
                        .filter(|z| z.is_finite())
                    {
                        series.push((PointRef { run, level }, z));
                    }
                }
                series.reverse();
                series
            })
            .collect();
        // The last values of all levels, run by run (at most WINDOW).
        let interleaved: Vec<(PointRef, f64)> = {
            let mut tail = Vec::with_capacity(WINDOW);
            'runs: for run in (0..=current).rev() {
                for (level, z) in history[run].z.iter().enumerate().rev() {
                    if let Some(z) = z.filter(|z| z.is_finite()) {
                        if tail.len() == WINDOW {
                            break 'runs;
                        }
                        tail.push((PointRef { run, level }, z));
                    }
                }
                if tail.len() == WINDOW {
                    break;
                }
            }
            tail.reverse();
            tail
        };

        for rule in rules.rules() {
            match rule {
                Rule::OneTwoS | Rule::OneThreeS => {
                    let limit = if rule == Rule::OneTwoS { 2.0 } else { 3.0 };
                    for (point, z) in &now {
                        if beyond(*z, limit).is_some() {
                            violations.push(Violation {
                                rule,
                                scope: Scope::Point,
                                points: vec![*point],
                            });
                        }
                    }
                }
                Rule::RFourS => {
                    let high = now
                        .iter()
                        .filter(|(_, z)| *z > 2.0)
                        .max_by(|a, b| a.1.total_cmp(&b.1));
                    let low = now
                        .iter()
                        .filter(|(_, z)| *z < -2.0)
                        .min_by(|a, b| a.1.total_cmp(&b.1));
                    if let (Some(high), Some(low)) = (high, low) {
                        let mut points = vec![high.0, low.0];
                        points.sort();
                        violations.push(Violation {
                            rule,
                            scope: Scope::WithinRun,
                            points,
                        });
                    }
                }
                Rule::TwoTwoS | Rule::TwoOfThreeTwoS => {
                    // Within the run: two levels beyond the same 2 SD limit.
                    for side in [Side::High, Side::Low] {
                        let same: Vec<PointRef> = now
                            .iter()
                            .filter(|(_, z)| beyond(*z, 2.0) == Some(side))
                            .map(|(point, _)| *point)
                            .collect();
                        if same.len() >= 2 {
                            violations.push(Violation {
                                rule,
                                scope: Scope::WithinRun,
                                points: same,
                            });
                        }
                    }
                    // Across runs within each level: the last 2 (2-2s), or
                    // 2 of the last 3 (2of3-2s) including the judged run's.
                    let window = if rule == Rule::TwoTwoS { 2 } else { 3 };
                    for (&level, series) in levels.iter().zip(&by_level) {
                        let tail = &series[series.len().saturating_sub(window)..];
                        if tail.len() < 2 {
                            continue;
                        }
                        let Some(side) = beyond(tail[tail.len() - 1].1, 2.0) else {
                            continue;
                        };
                        let same: Vec<PointRef> = tail
                            .iter()
                            .filter(|(_, z)| beyond(*z, 2.0) == Some(side))
                            .map(|(point, _)| *point)
                            .collect();
                        let needed = 2;
                        if same.len() >= needed
                            && (rule == Rule::TwoOfThreeTwoS || same.len() == tail.len())
                        {
                            violations.push(Violation {
                                rule,
                                scope: Scope::AcrossRuns { level },
                                points: same,
                            });
                        }
                    }
                }
                _ => {
                    let Some((n, limit)) = rule.consecutive() else {
                        continue;
                    };
                    for (&level, series) in levels.iter().zip(&by_level) {
                        if let Some(points) = run_of(series, n, limit) {
                            violations.push(Violation {
                                rule,
                                scope: Scope::AcrossRuns { level },
                                points,
                            });
                        }
                    }
                    if let Some(points) = run_of(&interleaved, n, limit) {
                        let spans_levels = points.iter().any(|p| p.level != points[0].level);
                        let spans_runs = points.iter().any(|p| p.run != points[0].run);
                        if spans_levels {
                            violations.push(Violation {
                                rule,
                                scope: if spans_runs {
                                    Scope::AcrossRunsAndLevels
                                } else {
                                    Scope::WithinRun
                                },
                                points,
                            });
                        }
                    }
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    let decision = if violations.iter().any(|v| !v.rule.is_warning()) {
        RunDecision::Reject
    } else if violations.is_empty() {
        RunDecision::Accept
    } else {
        RunDecision::Warning
    };
    Evaluation {
        violations,
        decision,
    }
}

/// The last `n` values of `series` when all are beyond `limit` SD on the same
/// side (for `limit` 0: on the same side of the mean, a value at the mean
/// breaking the run).
fn run_of(series: &[(PointRef, f64)], n: usize, limit: f64) -> Option<Vec<PointRef>> {
    if series.len() < n {
        return None;
    }
    let tail = &series[series.len() - n..];
    let side = beyond(tail[0].1, limit)?;
    tail.iter()
        .all(|(_, z)| beyond(*z, limit) == Some(side))
        .then(|| tail.iter().map(|(point, _)| *point).collect())
}

/// The sigma metric at a decision level: (allowable total error − |bias|) /
/// CV, all in percent.
pub fn sigma_metric(tea_percent: f64, bias_percent: f64, cv_percent: f64) -> Result<f64, QcError> {
    if ![tea_percent, bias_percent, cv_percent]
        .iter()
        .all(|v| v.is_finite())
        || tea_percent <= 0.0
    {
        return Err(QcError::InvalidGoal);
    }
    if cv_percent <= 0.0 {
        return Err(QcError::InvalidCv);
    }
    Ok((tea_percent - bias_percent.abs()) / cv_percent)
}

/// A rule selection suggested by the sigma metric (Westgard Sigma Rules),
/// with the number of control measurements per run it assumes. ⚠ A
/// suggestion for the quality lead to approve, never applied by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigmaSuggestion {
    /// The rules.
    pub rules: RuleSet,
    /// Control measurements per run (levels × repeats) the rules assume.
    pub measurements_per_run: u8,
    /// The sigma band, for people.
    pub band: &'static str,
}

/// Suggests rules from the sigma metric for a method with two or three
/// levels per run: 6σ and above 1-3s alone; 5σ adds 2-2s (or 2of3-2s) and
/// R-4s; 4σ adds 4-1s (or 3-1s); below 4σ the full multirule with 8x (or 6x).
pub fn rules_for_sigma(sigma: f64, levels: u8) -> SigmaSuggestion {
    let three = levels >= 3;
    let n = if three { 3 } else { 2 };
    let pair = if three {
        Rule::TwoOfThreeTwoS
    } else {
        Rule::TwoTwoS
    };
    let ones = if three {
        Rule::ThreeOneS
    } else {
        Rule::FourOneS
    };
    let x = if three { Rule::SixX } else { Rule::EightX };
    let (rules, measurements_per_run, band): (Vec<Rule>, u8, &'static str) = if sigma >= 6.0 {
        (vec![Rule::OneThreeS], n, "6 sigma or more: world class")
    } else if sigma >= 5.0 {
        (
            vec![Rule::OneThreeS, pair, Rule::RFourS],
            n,
            "5 to 6 sigma: excellent",
        )
    } else if sigma >= 4.0 {
        (
            vec![Rule::OneThreeS, pair, Rule::RFourS, ones],
            if three { 3 } else { 4 },
            "4 to 5 sigma: good",
        )
    } else {
        (
            vec![Rule::OneThreeS, pair, Rule::RFourS, ones, x],
            if three { 6 } else { 4 },
            "below 4 sigma: marginal or poor; the full multirule and more controls",
        )
    };
    SigmaSuggestion {
        // Every band starts with 1-3s, a rejection rule.
        rules: RuleSet {
            rules: rules.into_iter().collect(),
        },
        measurements_per_run,
        band,
    }
}

#[cfg(test)]
mod tests;
