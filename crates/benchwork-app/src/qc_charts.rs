//! Levey–Jennings charts and QC statistics (issue 4 items 4 and 6): reads
//! only, for people who may view their departments' records.
//!
//! A chart is one instrument × investigation × level over a range of days
//! (Europe/London): the values in run order, each with the target it was
//! judged against, the rules whose points include it, the segments of
//! constant lot and target, and the corrective actions recorded. Where a run
//! holds a second value for the level from a parallel lot, the chart follows
//! the lot it was already drawing and lists the parallel value in
//! `parallel`; the series moves to the new lot when the old one stops.
//!
//! QC values are not patient data, so nothing here records a read
//! (DOMAIN.md: reads of patient-identifiable data are audited).

use std::collections::HashMap;

use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::qc_stats::{self, QcStats, StatPoint};
use benchwork_domain::result::InstrumentId;
use benchwork_domain::staff::Permission;
use benchwork_store::{
    InstrumentRecord, QcCorrectiveRecord, QcPointFilter, QcPointRecord, QcSeriesRecord,
};
use jiff::Timestamp;
use jiff::civil::Date;
use uuid::Uuid;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, require};

/// How many months back a chart or statistics start by default.
pub const DEFAULT_MONTHS: i8 = 3;

/// The longest range one chart covers, in days.
pub const MAX_DAYS: i32 = 731;

/// The chart's filter as typed; `from` and `to` may be empty.
#[derive(Debug, Clone, Default)]
pub struct ChartInput {
    /// Instrument id.
    pub instrument: String,
    /// Investigation code.
    pub investigation: String,
    /// Level, 1 to 3.
    pub level: String,
    /// First day, YYYY-MM-DD; defaults to three months before `to`.
    pub from: String,
    /// Last day (included), YYYY-MM-DD; defaults to today.
    pub to: String,
    /// A lot's id to draw (a parallel lot, say); empty for the lot(s) in
    /// use run after run, as before.
    pub lot: String,
}

/// The statistics' filter as typed.
#[derive(Debug, Clone, Default)]
pub struct StatisticsInput {
    /// Instrument id.
    pub instrument: String,
    /// Investigation code.
    pub investigation: String,
    /// First day, YYYY-MM-DD.
    pub from: String,
    /// Last day (included), YYYY-MM-DD.
    pub to: String,
    /// Allowable total error, percent; empty for no sigma.
    pub tea: String,
}

/// One plotted value.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartPoint {
    /// The run.
    pub run_id: Uuid,
    /// When it was run.
    pub at: Timestamp,
    /// accepted, warning or rejected: the run's decision.
    pub decision: String,
    /// Lot number.
    pub lot: String,
    /// The lot's id.
    pub lot_id: Uuid,
    /// The value.
    pub value: f64,
    /// Its z-score against `target`; `None` while establishing.
    pub z: Option<f64>,
    /// Target mean and SD in force for the value.
    pub target: Option<(f64, f64)>,
    /// Codes of the rules whose points include this value, in report order.
    pub rules: Vec<String>,
}

/// A stretch of consecutive points with one lot and one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Index of its first point.
    pub first: usize,
    /// Index of its last point.
    pub last: usize,
    /// Lot number.
    pub lot: String,
    /// Target mean and SD; while the lot's target is being established,
    /// the running mean and SD of its values so far.
    pub target: Option<(f64, f64)>,
    /// `Some(n)` when `target` is the running mean ± SD of the `n` values
    /// of accepted runs so far of a lot whose target is being established.
    pub establishing: Option<usize>,
}

/// A rule that fired on a run of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartViolation {
    /// When the run was.
    pub at: Timestamp,
    /// Rule code.
    pub rule: String,
    /// Scope, as stored.
    pub scope: String,
    /// How many of its points are on this chart's level.
    pub points_here: usize,
    /// How many points in all.
    pub points: usize,
}

/// A Levey–Jennings chart's data.
#[derive(Debug, Clone, PartialEq)]
pub struct QcChart {
    /// The instrument.
    pub instrument: InstrumentRecord,
    /// Investigation code.
    pub investigation_code: String,
    /// Its name.
    pub investigation_name: String,
    /// Level.
    pub level: i64,
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
    /// The lot asked for, if one was.
    pub lot: Option<Uuid>,
    /// Values in run order.
    pub points: Vec<ChartPoint>,
    /// Values of a parallel lot in the same runs, not plotted.
    pub parallel: Vec<ChartPoint>,
    /// Stretches of one lot and target, in order.
    pub segments: Vec<Segment>,
    /// Rules that fired on the runs shown, on any level.
    pub violations: Vec<ChartViolation>,
    /// Corrective actions recorded in the range.
    pub corrective: Vec<QcCorrectiveRecord>,
}

/// One row of the statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsRow {
    /// First day of the month (per month), or `None` for the comparison.
    pub month: Option<Date>,
    /// The instrument's name.
    pub instrument: String,
    /// Level.
    pub level: u8,
    /// Lot number.
    pub lot: String,
    /// The figures.
    pub stats: QcStats,
}

/// QC statistics for one instrument and investigation.
#[derive(Debug, Clone, PartialEq)]
pub struct QcStatistics {
    /// The instrument.
    pub instrument: InstrumentRecord,
    /// Investigation code.
    pub investigation_code: String,
    /// Its name.
    pub investigation_name: String,
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
    /// The allowable total error used for sigma, percent.
    pub tea_percent: Option<f64>,
    /// By month, level and lot, for the instrument.
    pub by_month: Vec<StatisticsRow>,
    /// By instrument, level and lot over the range, every instrument of the
    /// actor's departments with this investigation's QC.
    pub comparison: Vec<StatisticsRow>,
}

/// The series with QC values the actor may chart.
pub async fn series(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<QcSeriesRecord>> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    Ok(ctx.store.list_qc_series(actor.id).await?)
}

fn london() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC)
}

fn start_of(day: Date) -> AppResult<Timestamp> {
    day.to_zoned(london())
        .map(|zoned| zoned.timestamp())
        .map_err(|error| AppError::Internal(error.into()))
}

/// Dates as typed, defaulted, checked: (from, to), errors by field.
fn parse_range(from: &str, to: &str, today: Date, errors: &mut Vec<FieldError>) -> (Date, Date) {
    let day = |text: &str, field: &str, errors: &mut Vec<FieldError>| -> Option<Date> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = text.parse::<Date>().ok();
        if parsed.is_none() {
            errors.push(FieldError::new(
                field,
                "enter a date as YYYY-MM-DD, for example 2026-11-25",
            ));
        }
        parsed
    };
    let n_errors = errors.len();
    let from_typed = day(from, "from", errors);
    let to_typed = day(to, "to", errors);
    let to = to_typed.unwrap_or(today);
    let from = from_typed.unwrap_or_else(|| {
        to.checked_sub(jiff::Span::new().months(DEFAULT_MONTHS))
            .unwrap_or(to)
    });
    if errors.len() == n_errors {
        if from > to {
            errors.push(FieldError::new(
                "to",
                "the end date must be on or after the start date",
            ));
        } else if (to - from).get_days() > MAX_DAYS {
            errors.push(FieldError::new(
                "from",
                "choose a range of at most two years",
            ));
        }
    }
    (from, to)
}

/// The instrument id and investigation code as typed, checked for form.
fn parse_series(
    instrument: &str,
    investigation: &str,
    errors: &mut Vec<FieldError>,
) -> (Option<InstrumentId>, String) {
    let instrument = InstrumentId::parse(instrument.trim()).ok();
    if instrument.is_none() {
        errors.push(FieldError::new("instrument", "select an instrument"));
    }
    let investigation = investigation.trim().to_owned();
    if investigation.is_empty() {
        errors.push(FieldError::new("investigation", "select an investigation"));
    }
    (instrument, investigation)
}

/// A parsed chart filter: instrument, investigation code, level, from, to.
type ChartFilter = (InstrumentId, String, i64, Date, Date);

/// A parsed statistics filter: instrument, investigation code, from, to,
/// allowable total error.
type StatisticsFilter = (InstrumentId, String, Date, Date, Option<f64>);

/// Parses the chart's filter: (instrument, investigation code, level, from, to).
fn parse_chart_input(input: &ChartInput, today: Date) -> Result<ChartFilter, Vec<FieldError>> {
    let mut errors = Vec::new();
    let (instrument, investigation) =
        parse_series(&input.instrument, &input.investigation, &mut errors);
    let level = input
        .level
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|level| (1..=3).contains(level));
    if level.is_none() {
        errors.push(FieldError::new("level", "select level 1, 2 or 3"));
    }
    let (from, to) = parse_range(&input.from, &input.to, today, &mut errors);
    match (instrument, level, errors.is_empty()) {
        (Some(instrument), Some(level), true) => Ok((instrument, investigation, level, from, to)),
        _ => Err(errors),
    }
}

/// Parses the statistics' filter: (instrument, code, from, to, TEa).
fn parse_statistics_input(
    input: &StatisticsInput,
    today: Date,
) -> Result<StatisticsFilter, Vec<FieldError>> {
    let mut errors = Vec::new();
    let (instrument, investigation) =
        parse_series(&input.instrument, &input.investigation, &mut errors);
    let (from, to) = parse_range(&input.from, &input.to, today, &mut errors);
    let tea = input.tea.trim().trim_end_matches('%').trim();
    let tea = if tea.is_empty() {
        None
    } else {
        let parsed = tea
            .parse::<f64>()
            .ok()
            .filter(|tea| tea.is_finite() && *tea > 0.0 && *tea <= 100.0);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "tea",
                "enter the allowable total error as a percentage above 0 and up to 100, for example 10",
            ));
        }
        parsed
    };
    match (instrument, errors.is_empty()) {
        (Some(instrument), true) => Ok((instrument, investigation, from, to, tea)),
        _ => Err(errors),
    }
}

/// The instrument (another department's is not found) and the
/// investigation (an unknown code is refused on its field).
async fn load_series(
    ctx: &Ctx,
    actor: &Actor,
    instrument: InstrumentId,
    code: &str,
) -> AppResult<(InstrumentRecord, InvestigationId, String, String)> {
    let instrument = ctx.store.get_instrument(instrument, actor.id).await?;
    let investigation = match ctx.store.get_investigation_by_code(code).await {
        Ok(investigation) => investigation,
        Err(benchwork_store::StoreError::NotFound) => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "investigation",
                "select an investigation from the catalogue",
            )]));
        }
        Err(error) => return Err(error.into()),
    };
    Ok((
        instrument,
        investigation.investigation_id,
        investigation.definition.code().to_string(),
        investigation.definition.name().to_owned(),
    ))
}

fn point_of(record: &QcPointRecord) -> ChartPoint {
    ChartPoint {
        run_id: record.run_id,
        at: record.run_at,
        decision: record.decision.clone(),
        lot: record.lot_number.clone(),
        lot_id: record.lot_id,
        value: record.value,
        z: record.z,
        target: record.target_mean.zip(record.target_sd),
        rules: Vec::new(),
    }
}

/// Reads the stored points of a violation: (run, level) pairs.
fn violation_points(points: &str) -> AppResult<Vec<(Uuid, i64)>> {
    let parsed: serde_json::Value = serde_json::from_str(points)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("stored QC points: {error}")))?;
    parsed
        .as_array()
        .into_iter()
        .flatten()
        .map(|point| {
            let run = point["run"]
                .as_str()
                .and_then(|run| Uuid::parse_str(run).ok());
            let level = point["level"].as_i64();
            run.zip(level).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "stored QC point {point} is not run and level"
                ))
            })
        })
        .collect()
}

/// Builds the Levey–Jennings chart's data.
pub async fn chart(ctx: &Ctx, actor: &Actor, input: &ChartInput) -> AppResult<QcChart> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let today = ctx.now().to_zoned(london()).date();
    let (instrument_id, code, level, from, to) =
        parse_chart_input(input, today).map_err(AppError::Invalid)?;
    let (instrument, investigation_id, investigation_code, investigation_name) =
        load_series(ctx, actor, instrument_id, &code).await?;
    let (since, until) = (
        start_of(from)?,
        start_of(to.tomorrow().map_err(|e| AppError::Internal(e.into()))?)?,
    );
    let records = ctx
        .store
        .qc_points(
            actor.id,
            QcPointFilter {
                instrument: Some(instrument_id),
                investigation: investigation_id,
                level: Some(level),
                from: since,
                to: until,
            },
        )
        .await?;
    let chosen_lot = match input.lot.trim() {
        "" => None,
        text => Some(Uuid::parse_str(text).map_err(|_| {
            AppError::Invalid(vec![FieldError::new("lot", "select a lot of this series")])
        })?),
    };
    // One plotted value per run: the chosen lot, or else the lot already
    // drawn when the run has it.
    let mut points: Vec<ChartPoint> = Vec::new();
    let mut parallel: Vec<ChartPoint> = Vec::new();
    let mut index = 0;
    while index < records.len() {
        let run_id = records[index].run_id;
        let end = records[index..]
            .iter()
            .position(|record| record.run_id != run_id)
            .map_or(records.len(), |offset| index + offset);
        let run = &records[index..end];
        let previous_lot = points.last().map(|point| point.lot.clone());
        let chosen = match chosen_lot {
            Some(lot) => run.iter().position(|record| record.lot_id == lot),
            None => Some(
                run.iter()
                    .position(|record| Some(&record.lot_number) == previous_lot.as_ref())
                    .unwrap_or(0),
            ),
        };
        for (position, record) in run.iter().enumerate() {
            if Some(position) == chosen {
                points.push(point_of(record));
            } else {
                parallel.push(point_of(record));
            }
        }
        index = end;
    }
    let mut segments: Vec<Segment> = Vec::new();
    for (index, point) in points.iter().enumerate() {
        match segments.last_mut() {
            Some(segment) if segment.lot == point.lot && segment.target == point.target => {
                segment.last = index;
            }
            _ => segments.push(Segment {
                first: index,
                last: index,
                lot: point.lot.clone(),
                target: point.target,
                establishing: None,
            }),
        }
    }
    // A stretch without a target (the lot's target is being established) is
    // drawn against the running mean ± SD of its values of accepted runs so
    // far, labelled as such; its points get z-scores against it.
    for segment in segments
        .iter_mut()
        .filter(|segment| segment.target.is_none())
    {
        let mut moments = qc_stats::Moments::default();
        for point in &points[segment.first..=segment.last] {
            if point.decision != "rejected" {
                moments
                    .push(point.value)
                    .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
            }
        }
        if let (Some(mean), Ok(sd)) = (moments.mean(), moments.sd())
            && sd > 0.0
        {
            segment.target = Some((mean, sd));
            segment.establishing = Some(moments.n());
            for point in &mut points[segment.first..=segment.last] {
                point.z = Some((point.value - mean) / sd);
            }
        }
    }
    let position: HashMap<Uuid, usize> = points
        .iter()
        .enumerate()
        .map(|(index, point)| (point.run_id, index))
        .collect();
    let mut violations = Vec::new();
    for record in ctx
        .store
        .qc_violations(actor.id, instrument_id, investigation_id, since, until)
        .await?
    {
        let involved = violation_points(&record.points)?;
        let mut points_here = 0;
        for (run, point_level) in &involved {
            if *point_level != level {
                continue;
            }
            if let Some(index) = position.get(run) {
                points_here += 1;
                if !points[*index].rules.contains(&record.rule) {
                    points[*index].rules.push(record.rule.clone());
                }
            }
        }
        let at = records
            .iter()
            .find(|point| point.run_id == record.run_id)
            .map(|point| point.run_at);
        if let Some(at) = at {
            violations.push(ChartViolation {
                at,
                rule: record.rule,
                scope: record.scope,
                points_here,
                points: involved.len(),
            });
        }
    }
    let corrective = ctx
        .store
        .qc_corrective_actions(actor.id, instrument_id, investigation_id, since, until)
        .await?;
    Ok(QcChart {
        instrument,
        investigation_code,
        investigation_name,
        level,
        from,
        to,
        lot: chosen_lot,
        points,
        parallel,
        segments,
        violations,
        corrective,
    })
}

fn stat_point(record: &QcPointRecord) -> StatPoint {
    StatPoint {
        at: record.run_at,
        instrument: record.instrument_name.clone(),
        level: u8::try_from(record.level).unwrap_or(0),
        lot: record.lot_number.clone(),
        value: record.value,
        target_mean: record.target_mean,
    }
}

/// QC statistics per month and lot for one instrument, and the comparison
/// across lots and instruments of the actor's departments.
pub async fn statistics(
    ctx: &Ctx,
    actor: &Actor,
    input: &StatisticsInput,
) -> AppResult<QcStatistics> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let today = ctx.now().to_zoned(london()).date();
    let (instrument_id, code, from, to, tea_percent) =
        parse_statistics_input(input, today).map_err(AppError::Invalid)?;
    let (instrument, investigation_id, investigation_code, investigation_name) =
        load_series(ctx, actor, instrument_id, &code).await?;
    let (since, until) = (
        start_of(from)?,
        start_of(to.tomorrow().map_err(|e| AppError::Internal(e.into()))?)?,
    );
    let all = ctx
        .store
        .qc_points(
            actor.id,
            QcPointFilter {
                instrument: None,
                investigation: investigation_id,
                level: None,
                from: since,
                to: until,
            },
        )
        .await?;
    let mine: Vec<StatPoint> = all
        .iter()
        .filter(|record| record.instrument_name == instrument.name)
        .map(stat_point)
        .collect();
    let every: Vec<StatPoint> = all.iter().map(stat_point).collect();
    let invalid = |error: qc_stats::StatsError| AppError::Internal(error.into());
    let by_month = qc_stats::by_month_and_lot(&mine, tea_percent)
        .map_err(invalid)?
        .into_iter()
        .map(|((month, level, lot), stats)| StatisticsRow {
            month: Some(month),
            instrument: instrument.name.clone(),
            level,
            lot,
            stats,
        })
        .collect();
    let comparison = qc_stats::by_instrument_and_lot(&every, tea_percent)
        .map_err(invalid)?
        .into_iter()
        .map(|((name, level, lot), stats)| StatisticsRow {
            month: None,
            instrument: name,
            level,
            lot,
            stats,
        })
        .collect();
    Ok(QcStatistics {
        instrument,
        investigation_code,
        investigation_name,
        from,
        to,
        tea_percent,
        by_month,
        comparison,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<T>(result: Result<T, Vec<FieldError>>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|error| error.field).collect(),
        }
    }

    #[test]
    fn the_chart_filter_is_refused_field_by_field() {
        let today = jiff::civil::date(2026, 11, 25);
        let input = ChartInput {
            instrument: "not an id".into(),
            investigation: " ".into(),
            level: "4".into(),
            from: "25/11/2026".into(),
            to: String::new(),
            lot: String::new(),
        };
        assert_eq!(
            fields(parse_chart_input(&input, today)),
            vec!["instrument", "investigation", "level", "from"]
        );
    }

    #[test]
    fn empty_dates_cover_the_last_three_months_and_a_reversed_range_is_refused() {
        let today = jiff::civil::date(2026, 11, 25);
        let mut errors = Vec::new();
        assert_eq!(
            parse_range("", "", today, &mut errors),
            (jiff::civil::date(2026, 8, 25), today)
        );
        assert!(errors.is_empty());
        parse_range("2026-11-02", "2026-11-01", today, &mut errors);
        assert_eq!(errors[0].field, "to");
    }

    #[test]
    fn the_allowable_total_error_must_be_a_percentage() {
        let today = jiff::civil::date(2026, 11, 25);
        let id = Uuid::now_v7().to_string();
        let input = |tea: &str| StatisticsInput {
            instrument: id.clone(),
            investigation: "K".into(),
            from: String::new(),
            to: String::new(),
            tea: tea.into(),
        };
        assert_eq!(
            fields(parse_statistics_input(&input("0"), today)),
            vec!["tea"]
        );
        assert_eq!(
            fields(parse_statistics_input(&input("ten"), today)),
            vec!["tea"]
        );
        assert_eq!(
            parse_statistics_input(&input("10 %"), today).unwrap().4,
            Some(10.0)
        );
        assert_eq!(parse_statistics_input(&input(""), today).unwrap().4, None);
    }

    #[test]
    fn stored_violation_points_are_read_as_run_and_level() {
        let run = Uuid::now_v7();
        let text = format!(r#"[{{"run": "{run}", "level": 1}}, {{"run": "{run}", "level": 2}}]"#);
        assert_eq!(violation_points(&text).unwrap(), vec![(run, 1), (run, 2)]);
        assert!(violation_points(r#"[{"run": 3}]"#).is_err());
    }
}
