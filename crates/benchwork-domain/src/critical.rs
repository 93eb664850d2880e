//! Critical-result communication (issue 6; DOMAIN.md §4): the deadline of
//! a task, the communication attempt and its validation, who may close a
//! task without a call, the escalation chain, and the compliance figures.
//!
//! A task opens when a critically flagged result is technically verified;
//! it closes only with a successful attempt whose read-back was confirmed
//! or a senior decision, or is cancelled when the result is withdrawn.

use jiff::{SignedDuration, Timestamp};

use crate::alert_limits::CriticalCategory;
use crate::staff::Role;

/// Minutes allowed to communicate a result of this category: the alert
/// limit's category ([`CriticalCategory::deadline_minutes`]); `None` (a
/// result entered before categories were recorded) or an unknown code is
/// treated as the most urgent, 60 minutes (RCPath G158: "communicate
/// within 1 hour").
pub fn deadline_minutes(category: Option<&str>) -> i64 {
    category
        .and_then(CriticalCategory::parse)
        .map_or(CriticalCategory::Urgent.deadline_minutes(), |category| {
            category.deadline_minutes()
        })
}

/// The deadline of a task opened at `verified_at`.
pub fn deadline(verified_at: Timestamp, category: Option<&str>) -> Timestamp {
    verified_at
        .checked_add(SignedDuration::from_mins(deadline_minutes(category)))
        .unwrap_or(verified_at)
}

coded_enum!(
    /// What came of one attempt to communicate.
    AttemptOutcome {
        /// Spoke to the recipient (or told them in person).
        Successful => ("successful", "Successful: result given"),
        /// Nobody answered.
        NoAnswer => ("no-answer", "No answer"),
        /// The line was busy.
        Engaged => ("engaged", "Engaged"),
        /// The number reached the wrong person or place.
        WrongNumber => ("wrong-number", "Wrong number"),
        /// A message asking to call back was left (the result itself is
        /// never left in a message).
        LeftMessage => ("left-message", "Left a message to call back"),
    }
);

coded_enum!(
    /// Where a task is.
    TaskStatus {
        /// Communication pending.
        Open => ("open", "Communication pending"),
        /// Communicated (or closed by a senior decision).
        Closed => ("closed", "Closed"),
        /// The result was withdrawn or recalled.
        Cancelled => ("cancelled", "Cancelled"),
    }
);

/// The most a free-text field may hold.
pub const MAX_TEXT: usize = 500;

/// A validated communication attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When the call (or conversation) happened.
    pub at: Timestamp,
    /// Who was called.
    pub recipient_name: String,
    /// Their role (e.g. FY1 doctor, ward nurse in charge, GP).
    pub recipient_role: String,
    /// Where (ward, practice).
    pub recipient_location: String,
    /// Phone number or "in person".
    pub contact: String,
    /// Outcome.
    pub outcome: AttemptOutcome,
    /// Whether the recipient read the result back.
    pub read_back: bool,
    /// Free text.
    pub note: String,
}

impl Attempt {
    /// Whether this attempt closes the task.
    pub fn closes(&self) -> bool {
        self.outcome == AttemptOutcome::Successful && self.read_back
    }
}

/// Why an attempt or a decision was refused, per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalError {
    /// The form field.
    pub field: &'static str,
    /// What to do.
    pub message: String,
}

fn error(field: &'static str, message: &str) -> CriticalError {
    CriticalError {
        field,
        message: message.to_owned(),
    }
}

fn text(
    value: &str,
    field: &'static str,
    missing: &str,
    errors: &mut Vec<CriticalError>,
) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push(error(field, missing));
    } else if value.chars().count() > MAX_TEXT {
        errors.push(error(field, "must be 500 characters or fewer"));
    }
    value.to_owned()
}

/// Checks an attempt as typed. `at` is the parsed time (None when missing
/// or unreadable, reported by the caller as `at_error`), `now` the clock,
/// `resulted_at` when the result was verified.
#[allow(clippy::too_many_arguments)]
pub fn check_attempt(
    at: Result<Timestamp, String>,
    now: Timestamp,
    resulted_at: Timestamp,
    recipient_name: &str,
    recipient_role: &str,
    recipient_location: &str,
    contact: &str,
    outcome: &str,
    read_back: &str,
    note: &str,
) -> Result<Attempt, Vec<CriticalError>> {
    let mut errors = Vec::new();
    let at = match at {
        Ok(at) if at > now => {
            errors.push(error("at", "the time of the call cannot be in the future"));
            None
        }
        Ok(at) if at < resulted_at => {
            errors.push(error(
                "at",
                "the time of the call cannot be before the result was verified",
            ));
            None
        }
        Ok(at) => Some(at),
        Err(message) => {
            errors.push(CriticalError {
                field: "at",
                message,
            });
            None
        }
    };
    let recipient_name = text(
        recipient_name,
        "recipient_name",
        "enter the name of the person called",
        &mut errors,
    );
    let recipient_role = text(
        recipient_role,
        "recipient_role",
        "enter their role, for example FY1 doctor or nurse in charge",
        &mut errors,
    );
    let recipient_location = text(
        recipient_location,
        "recipient_location",
        "enter where they are, for example the ward or practice",
        &mut errors,
    );
    let contact = text(
        contact,
        "contact",
        "enter the phone number called, or \"in person\"",
        &mut errors,
    );
    let outcome = AttemptOutcome::parse(outcome);
    if outcome.is_none() {
        errors.push(error("outcome", "choose the outcome of the call"));
    }
    let read_back = match read_back.trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            errors.push(error(
                "read_back",
                "say whether the recipient read the result back",
            ));
            None
        }
    };
    if read_back == Some(true)
        && outcome.is_some_and(|outcome| outcome != AttemptOutcome::Successful)
    {
        errors.push(error(
            "read_back",
            "a read-back is only possible when the call was successful",
        ));
    }
    let note = note.trim().to_owned();
    if note.chars().count() > MAX_TEXT {
        errors.push(error("note", "must be 500 characters or fewer"));
    }
    match (at, outcome, read_back, errors.is_empty()) {
        (Some(at), Some(outcome), Some(read_back), true) => Ok(Attempt {
            at,
            recipient_name,
            recipient_role,
            recipient_location,
            contact,
            outcome,
            read_back,
            note,
        }),
        _ => Err(errors),
    }
}

/// Who may close a task with a documented decision that no call is
/// needed: clinical scientists and consultants (DOMAIN.md §2.1: the
/// escalation point for critical results). ⚠ The local scheme of
/// delegation may differ.
pub fn may_decide(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|role| matches!(role, Role::ClinicalScientist | Role::Consultant))
}

/// Checks the reason of a senior decision.
pub fn check_decision_reason(reason: &str) -> Result<String, CriticalError> {
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(error(
            "reason",
            "say why no call is needed, for example \"patient already in ED, result known\"",
        ));
    }
    if reason.chars().count() > MAX_TEXT {
        return Err(error("reason", "must be 500 characters or fewer"));
    }
    Ok(reason.to_owned())
}

/// One step of a department's escalation chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationStep {
    /// 1, 2, 3...
    pub level: i64,
    /// Minutes after the task's deadline.
    pub after_minutes: i64,
    /// Roles notified.
    pub roles: Vec<Role>,
    /// Whether the step raises an incident (the final deadline).
    pub raises_incident: bool,
}

impl EscalationStep {
    /// When this step is due for a task with `deadline`.
    pub fn due(&self, deadline: Timestamp) -> Timestamp {
        deadline
            .checked_add(SignedDuration::from_mins(self.after_minutes))
            .unwrap_or(deadline)
    }
}

/// The chain used for a department that has none stored: at the deadline
/// the practitioners; 30 minutes later clinical scientists and
/// consultants; 60 minutes after the deadline consultants and quality
/// managers, and an incident is raised. ⚠ To be confirmed locally.
pub fn default_chain() -> Vec<EscalationStep> {
    vec![
        EscalationStep {
            level: 1,
            after_minutes: 0,
            roles: vec![Role::Practitioner],
            raises_incident: false,
        },
        EscalationStep {
            level: 2,
            after_minutes: 30,
            roles: vec![Role::ClinicalScientist, Role::Consultant],
            raises_incident: false,
        },
        EscalationStep {
            level: 3,
            after_minutes: 60,
            roles: vec![Role::Consultant, Role::QualityManager],
            raises_incident: true,
        },
    ]
}

/// Parses stored role codes (space-separated).
pub fn parse_roles(codes: &str) -> Vec<Role> {
    codes
        .split_whitespace()
        .filter_map(|code| Role::ALL.into_iter().find(|role| role.code() == code))
        .collect()
}

/// Day (08:00-20:00 London) or night shift.
pub fn shift(at: Timestamp) -> &'static str {
    let hour = match jiff::tz::TimeZone::get("Europe/London") {
        Ok(zone) => at.to_zoned(zone).hour(),
        Err(_) => at.to_zoned(jiff::tz::TimeZone::UTC).hour(),
    };
    if (8..20).contains(&hour) {
        "day"
    } else {
        "night"
    }
}

/// The London month (`2026-12`) of an instant.
pub fn london_month(at: Timestamp) -> String {
    match jiff::tz::TimeZone::get("Europe/London") {
        Ok(zone) => at.to_zoned(zone).strftime("%Y-%m").to_string(),
        Err(_) => at.strftime("%Y-%m").to_string(),
    }
}

/// One closed or cancelled task, for compliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceInput {
    /// When it opened (verification).
    pub opened_at: Timestamp,
    /// Category.
    pub category: Option<String>,
    /// Discipline (department name).
    pub discipline: String,
    /// When communicated, if it was (read-back or senior decision).
    pub communicated_at: Option<Timestamp>,
}

/// One row of the monthly compliance table.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceRow {
    /// London month.
    pub month: String,
    /// Category code (`urgent` when none recorded).
    pub category: String,
    /// Discipline.
    pub discipline: String,
    /// day or night.
    pub shift: String,
    /// Number of tasks (cancelled ones are not counted).
    pub n: usize,
    /// Communicated within target.
    pub n_within: usize,
    /// Percentage within target.
    pub percent_within: f64,
    /// Median minutes to communication (of those communicated).
    pub median_minutes: Option<f64>,
}

/// Groups tasks by month × category × discipline × shift. A task still
/// open counts as not within target once its deadline has passed.
pub fn compliance(tasks: &[ComplianceInput]) -> Vec<ComplianceRow> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(String, String, String, String), Vec<&ComplianceInput>> =
        BTreeMap::new();
    for task in tasks {
        let category = task.category.clone().unwrap_or_else(|| "urgent".to_owned());
        groups
            .entry((
                london_month(task.opened_at),
                category,
                task.discipline.clone(),
                shift(task.opened_at).to_owned(),
            ))
            .or_default()
            .push(task);
    }
    groups
        .into_iter()
        .map(|((month, category, discipline, shift), tasks)| {
            let mut minutes: Vec<f64> = tasks
                .iter()
                .filter_map(|task| {
                    task.communicated_at
                        .map(|at| at.duration_since(task.opened_at).as_secs_f64() / 60.0)
                })
                .collect();
            minutes.sort_by(f64::total_cmp);
            let n_within = tasks
                .iter()
                .filter(|task| {
                    task.communicated_at
                        .is_some_and(|at| at <= deadline(task.opened_at, task.category.as_deref()))
                })
                .count();
            let median_minutes = match minutes.len() {
                0 => None,
                n if n % 2 == 1 => Some(minutes[n / 2]),
                n => Some((minutes[n / 2 - 1] + minutes[n / 2]) / 2.0),
            };
            ComplianceRow {
                month,
                category,
                discipline,
                shift,
                n: tasks.len(),
                n_within,
                percent_within: 100.0 * n_within as f64 / tasks.len() as f64,
                median_minutes,
            }
        })
        .collect()
}

/// "23 min left" or "overdue by 1 h 05 min", for the board.
pub fn time_left(deadline: Timestamp, now: Timestamp) -> String {
    let seconds = deadline.duration_since(now).as_secs();
    let minutes = seconds.unsigned_abs().div_ceil(60);
    let text = if minutes > 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    };
    if seconds >= 0 {
        format!("{text} left")
    } else {
        format!("overdue by {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_default_and_urgent_categories_allow_sixty_minutes() {
        assert_eq!(deadline_minutes(None), 60);
        assert_eq!(deadline_minutes(Some("urgent")), 60);
        assert_eq!(deadline_minutes(Some("same-day")), 240);
        assert_eq!(deadline_minutes(Some("unknown-code")), 60);
        assert_eq!(
            deadline(at("2026-12-06T10:00:00Z"), None),
            at("2026-12-06T11:00:00Z")
        );
    }

    #[test]
    fn an_attempt_needs_a_recipient_and_a_time_not_in_the_future() {
        let now = at("2026-12-06T10:30:00Z");
        let result = at("2026-12-06T10:00:00Z");
        let errors = check_attempt(
            Ok(at("2026-12-06T10:31:00Z")),
            now,
            result,
            "",
            "FY1",
            "Ward 7",
            "1234",
            "successful",
            "yes",
            "",
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field).collect();
        assert_eq!(fields, ["at", "recipient_name"]);
        let attempt = check_attempt(
            Ok(at("2026-12-06T10:20:00Z")),
            now,
            result,
            "Dr Jones",
            "FY1",
            "Ward 7",
            "in person",
            "successful",
            "yes",
            "",
        )
        .unwrap();
        assert!(attempt.closes());
        let before = check_attempt(
            Ok(at("2026-12-06T09:59:00Z")),
            now,
            result,
            "Dr Jones",
            "FY1",
            "Ward 7",
            "1234",
            "no-answer",
            "no",
            "",
        )
        .unwrap_err();
        assert_eq!(before[0].field, "at");
    }

    #[test]
    fn a_read_back_needs_a_successful_call() {
        let now = at("2026-12-06T10:30:00Z");
        let errors = check_attempt(
            Ok(now),
            now,
            now,
            "Dr Jones",
            "FY1",
            "Ward 7",
            "1234",
            "no-answer",
            "yes",
            "",
        )
        .unwrap_err();
        assert_eq!(errors[0].field, "read_back");
    }

    #[test]
    fn only_clinical_scientists_and_consultants_decide() {
        assert!(may_decide(&[Role::Consultant]));
        assert!(may_decide(&[Role::ClinicalScientist]));
        assert!(!may_decide(&[Role::Practitioner, Role::QualityManager]));
    }

    #[test]
    fn compliance_counts_within_target_and_the_median() {
        let opened = at("2026-12-06T10:00:00Z");
        let tasks = vec![
            ComplianceInput {
                opened_at: opened,
                category: None,
                discipline: "Biochemistry".into(),
                communicated_at: Some(at("2026-12-06T10:20:00Z")),
            },
            ComplianceInput {
                opened_at: opened,
                category: None,
                discipline: "Biochemistry".into(),
                communicated_at: Some(at("2026-12-06T11:30:00Z")),
            },
        ];
        let rows = compliance(&tasks);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].n, 2);
        assert_eq!(rows[0].n_within, 1);
        assert_eq!(rows[0].percent_within, 50.0);
        assert_eq!(rows[0].median_minutes, Some(55.0));
        assert_eq!(rows[0].shift, "day");
        assert_eq!(rows[0].month, "2026-12");
    }

    #[test]
    fn time_left_reads_as_a_countdown_or_overdue() {
        let deadline = at("2026-12-06T11:00:00Z");
        assert_eq!(
            time_left(deadline, at("2026-12-06T10:37:00Z")),
            "23 min left"
        );
        assert_eq!(
            time_left(deadline, at("2026-12-06T12:05:00Z")),
            "overdue by 1 h 05 min"
        );
    }
}
