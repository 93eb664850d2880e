//! Turnaround (issue 3 item 8) and the request status history.
//!
//! The report: for one of the actor's departments and a range of days
//! (Europe/London), the request lines whose clock started in the range,
//! grouped by month (of the start, London time), investigation, priority
//! and target; for each group the count, median and 90th percentile of the
//! lines released so far, and how many were within target
//! (`benchwork_domain::turnaround`). Below it, the lines open now past
//! their target, whatever the range: what the bench must chase.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::catalogue::Priority;
use benchwork_domain::ids::{DepartmentId, PatientId};
use benchwork_domain::staff::Permission;
use benchwork_domain::turnaround::{TurnaroundSummary, london_month, summarise};
use benchwork_store::{
    RequestRecord, RequestStatusEventRecord, TurnaroundLineRecord, TurnaroundLines,
};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, require};

/// How many months back the report starts by default.
pub const DEFAULT_MONTHS: i8 = 3;

/// The longest range one report covers, in days.
pub const MAX_DAYS: i32 = 731;

/// The report's filter as typed; empty fields take their defaults.
#[derive(Debug, Clone, Default)]
pub struct TurnaroundInput {
    /// Department id; defaults to the actor's first department.
    pub department: String,
    /// First day, YYYY-MM-DD; defaults to three months before `to`.
    pub from: String,
    /// Last day (included), YYYY-MM-DD; defaults to today.
    pub to: String,
}

/// One investigation × priority × target of one month.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnaroundGroup {
    /// Investigation code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Priority.
    pub priority: Priority,
    /// Target, minutes.
    pub target_minutes: i64,
    /// Lines started in the month, released or not.
    pub n_started: usize,
    /// Figures over the released lines; `None` when none is released yet.
    pub summary: Option<TurnaroundSummary>,
}

/// One month of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnaroundMonth {
    /// Its first day.
    pub month: Date,
    /// Groups by investigation code, then priority.
    pub groups: Vec<TurnaroundGroup>,
}

/// A line open past its target now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueLine {
    /// Accession number.
    pub accession: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Investigation code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Priority.
    pub priority: Priority,
    /// When its clock started.
    pub started_at: Timestamp,
    /// Target, minutes.
    pub target_minutes: i64,
    /// Time elapsed so far, seconds.
    pub elapsed_seconds: i64,
}

/// The turnaround report.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnaroundReport {
    /// The department.
    pub department_id: DepartmentId,
    /// Its name.
    pub department_name: String,
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
    /// Months, oldest first.
    pub months: Vec<TurnaroundMonth>,
    /// Open lines past target, most overdue first.
    pub overdue: Vec<OverdueLine>,
}

/// Month, investigation code, priority code and target minutes.
type GroupKey = (Date, String, &'static str, i64);

/// Name, lines started, durations of the released lines in seconds.
type GroupLines = (String, usize, Vec<i64>);

fn london() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC)
}

fn start_of(day: Date) -> AppResult<Timestamp> {
    day.to_zoned(london())
        .map(|zoned| zoned.timestamp())
        .map_err(|error| AppError::Internal(error.into()))
}

fn priority_and_target(line: &TurnaroundLineRecord) -> AppResult<(Priority, i64)> {
    let priority = Priority::parse(&line.priority).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "stored priority {:?} is not known",
            line.priority
        ))
    })?;
    let target = match priority {
        Priority::Routine => line.target_routine_minutes,
        Priority::Urgent => line.target_urgent_minutes,
    };
    Ok((priority, target))
}

/// Parses and defaults the filter; errors name their field.
fn parse_input(
    actor: &Actor,
    input: &TurnaroundInput,
    today: Date,
) -> Result<(DepartmentId, Date, Date), Vec<FieldError>> {
    let mut errors = Vec::new();
    let department = if input.department.trim().is_empty() {
        actor.departments.first().copied()
    } else {
        DepartmentId::parse(&input.department)
            .ok()
            .filter(|id| actor.in_department(*id))
    };
    if department.is_none() {
        errors.push(FieldError::new(
            "department",
            "select one of your departments",
        ));
    }
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
    let to_typed = day(&input.to, "to", &mut errors);
    let from_typed = day(&input.from, "from", &mut errors);
    let to = to_typed.unwrap_or(today);
    let from = from_typed.unwrap_or_else(|| {
        to.checked_sub(jiff::Span::new().months(DEFAULT_MONTHS))
            .unwrap_or(to)
    });
    if errors.is_empty() {
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
    match (department, errors.is_empty()) {
        (Some(department), true) => Ok((department, from, to)),
        _ => Err(errors),
    }
}

/// Builds the turnaround report for one of the actor's departments. Each
/// patient behind an overdue line shown is recorded as read.
pub async fn report(
    ctx: &Ctx,
    actor: &Actor,
    input: &TurnaroundInput,
) -> AppResult<TurnaroundReport> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let now = ctx.now();
    let today = now.to_zoned(london()).date();
    let (department_id, from, to) = parse_input(actor, input, today).map_err(AppError::Invalid)?;
    let department_name = ctx
        .store
        .list_departments()
        .await?
        .into_iter()
        .find(|department| department.id == department_id)
        .map(|department| department.name)
        .ok_or(AppError::NotFound)?;
    let until = to
        .checked_add(jiff::Span::new().days(1))
        .map_err(|error| AppError::Internal(error.into()))?;
    let lines = ctx
        .store
        .turnaround_lines(
            actor.id,
            department_id,
            TurnaroundLines::StartedBetween(start_of(from)?, start_of(until)?),
        )
        .await?;
    let mut months: Vec<TurnaroundMonth> = Vec::new();
    // (month, code, priority, target) → (name, started, released durations).
    let mut groups: std::collections::BTreeMap<GroupKey, GroupLines> =
        std::collections::BTreeMap::new();
    for line in &lines {
        let (priority, target) = priority_and_target(line)?;
        let entry = groups
            .entry((
                london_month(line.started_at),
                line.code.clone(),
                priority.code(),
                target,
            ))
            .or_insert_with(|| (line.name.clone(), 0, Vec::new()));
        entry.1 += 1;
        if let Some(authorised_at) = line.authorised_at {
            entry.2.push(
                authorised_at
                    .duration_since(line.started_at)
                    .as_secs()
                    .max(0),
            );
        }
    }
    for ((month, code, priority, target), (name, n_started, durations)) in groups {
        let group = TurnaroundGroup {
            code,
            name,
            priority: Priority::parse(priority).unwrap_or(Priority::Routine),
            target_minutes: target,
            n_started,
            summary: summarise(&durations, target),
        };
        match months.last_mut() {
            Some(last) if last.month == month => last.groups.push(group),
            _ => months.push(TurnaroundMonth {
                month,
                groups: vec![group],
            }),
        }
    }
    let mut overdue = Vec::new();
    for line in ctx
        .store
        .turnaround_lines(actor.id, department_id, TurnaroundLines::Open)
        .await?
    {
        let (priority, target) = priority_and_target(&line)?;
        let elapsed_seconds = now.duration_since(line.started_at).as_secs();
        if elapsed_seconds > target * 60 {
            overdue.push(OverdueLine {
                accession: line.accession,
                patient_id: line.patient_id,
                code: line.code,
                name: line.name,
                priority,
                started_at: line.started_at,
                target_minutes: target,
                elapsed_seconds,
            });
        }
    }
    overdue.sort_by_key(|line| std::cmp::Reverse(line.elapsed_seconds - line.target_minutes * 60));
    let events = overdue
        .iter()
        .map(|line| {
            let mut event = audit_event(actor, now, AuditAction::Read, "turnaround.overdue.read");
            event.patient_id = Some(line.patient_id);
            event.department_id = Some(department_id);
            event.entity_type = Some("Request".into());
            event.entity_id = Some(line.accession.clone());
            event
        })
        .collect();
    ctx.audit_reads.write_all(events).await?;
    Ok(TurnaroundReport {
        department_id,
        department_name,
        from,
        to,
        months,
        overdue,
    })
}

/// A request's status history, oldest first, for a request the actor has
/// already been allowed to read.
pub async fn status_history(
    ctx: &Ctx,
    request: &RequestRecord,
) -> AppResult<Vec<RequestStatusEventRecord>> {
    Ok(ctx.store.list_request_status_events(request.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use benchwork_domain::ids::UserId;

    fn actor(departments: Vec<DepartmentId>) -> Actor {
        Actor {
            id: UserId(uuid::Uuid::nil()),
            username: "t".into(),
            display_name: "T".into(),
            kind: benchwork_domain::staff::AccountKind::Person,
            roles: Vec::new(),
            departments,
            source_address: None,
            must_change_password: false,
        }
    }

    fn input(department: &str, from: &str, to: &str) -> TurnaroundInput {
        TurnaroundInput {
            department: department.into(),
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn empty_fields_take_the_first_department_and_the_last_three_months() {
        let department = DepartmentId(uuid::Uuid::now_v7());
        let today = jiff::civil::date(2026, 11, 25);
        let parsed = parse_input(&actor(vec![department]), &input("", "", ""), today).unwrap();
        assert_eq!(parsed, (department, jiff::civil::date(2026, 8, 25), today));
    }

    #[test]
    fn bad_dates_another_department_and_a_reversed_range_are_refused_by_field() {
        let department = DepartmentId(uuid::Uuid::now_v7());
        let other = DepartmentId(uuid::Uuid::now_v7());
        let today = jiff::civil::date(2026, 11, 25);
        let me = actor(vec![department]);
        let fields = |result: Result<_, Vec<FieldError>>| -> Vec<String> {
            result
                .unwrap_err()
                .into_iter()
                .map(|error| error.field)
                .collect()
        };
        assert_eq!(
            fields(parse_input(
                &me,
                &input(&other.to_string(), "31/12/2026", ""),
                today
            )),
            vec!["department", "from"]
        );
        assert_eq!(
            fields(parse_input(
                &me,
                &input("", "2026-11-02", "2026-11-01"),
                today
            )),
            vec!["to"]
        );
        assert_eq!(
            fields(parse_input(
                &me,
                &input("", "2020-01-01", "2026-11-01"),
                today
            )),
            vec!["from"]
        );
    }
}
