//! Instruments, worklists and manual result entry: each typed value is
//! checked against its investigation's catalogue version, flagged against
//! the reference interval for the patient's reference sex and age, delta
//! checked against the patient's previous result, and stored with the
//! interval and limits that applied, all results of one submission in one
//! transaction with their audit events.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::catalogue::{Discipline, ResultType};
use benchwork_domain::ids::DepartmentId;
use benchwork_domain::patient::{DateOfBirth, ReferenceSex, age_in_days};
use benchwork_domain::reference::select_interval;
use benchwork_domain::request::{AccessionNumber, SpecimenStatus};
use benchwork_domain::result::{
    InstrumentId, ResultId, default_delta_rule, display_number, parse_value,
};
use benchwork_domain::staff::Permission;
use benchwork_domain::units::{Unit, convert};
use benchwork_store::{
    InstrumentRecord, InvestigationVersionRecord, NewInstrumentRecord, NewResultRecord,
    PatientRecord, ResultRecord, StoreError, WorklistFilter, WorklistRecord,
};
use serde_json::json;

use crate::calculated::{apply_numeric, calculate_lines};
use crate::comments::{comments_json, new_comments, parse_result_comments};
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// Specimen states in which results may be entered.
pub const READY_STATUSES: [SpecimenStatus; 3] = [
    SpecimenStatus::Received,
    SpecimenStatus::Accepted,
    SpecimenStatus::InProcess,
];

fn ready_codes() -> Vec<&'static str> {
    READY_STATUSES.iter().map(|status| status.code()).collect()
}

/// An instrument as typed.
#[derive(Debug, Clone, Default)]
pub struct InstrumentInput {
    /// Department id.
    pub department: String,
    /// Name.
    pub name: String,
    /// Discipline code.
    pub discipline: String,
    /// Location.
    pub location: String,
}

/// Creates an instrument in one of the actor's departments.
pub async fn create_instrument(
    ctx: &Ctx,
    actor: &Actor,
    input: &InstrumentInput,
) -> AppResult<InstrumentId> {
    require(ctx, actor, Permission::ManageInstruments).await?;
    let mut errors = Vec::new();
    let department = match DepartmentId::parse(&input.department) {
        Ok(id) if actor.in_department(id) => Some(id),
        _ => {
            errors.push(FieldError::new(
                "department",
                "select one of your departments",
            ));
            None
        }
    };
    let discipline = Discipline::parse(&input.discipline);
    if discipline.is_none() {
        errors.push(FieldError::new("discipline", "select a discipline"));
    }
    let mut text = |value: &str, field: &str, what: &str| {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                format!("enter the {what} (up to 100 characters)"),
            ));
        }
        value.to_owned()
    };
    let name = text(&input.name, "name", "instrument's name");
    let location = text(&input.location, "location", "instrument's location");
    let (Some(department), Some(discipline), true) = (department, discipline, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };
    let record = NewInstrumentRecord {
        id: InstrumentId(new_uuid()),
        department_id: department,
        name,
        discipline: discipline.code().into(),
        location,
        created_at: ctx.now(),
    };
    let mut event = audit_event(actor, ctx.now(), AuditAction::Create, "instrument.create");
    event.entity_type = Some("Instrument".into());
    event.entity_id = Some(record.id.to_string());
    event.department_id = Some(department);
    event.after = Some(
        json!({ "name": record.name, "discipline": record.discipline, "location": record.location })
            .to_string(),
    );
    match ctx.store.create_instrument(&record, &[event]).await {
        Ok(()) => Ok(record.id),
        Err(StoreError::Conflict { .. }) => Err(AppError::invalid(
            "name",
            "an instrument with this name already exists in the department: choose another name",
        )),
        Err(error) => Err(error.into()),
    }
}

/// The instruments of the actor's departments.
pub async fn instruments(ctx: &Ctx, actor: &Actor) -> AppResult<Vec<InstrumentRecord>> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    Ok(ctx.store.list_instruments(actor.id).await?)
}

/// The worklist: request lines of the actor's departments awaiting a
/// result, urgent first then oldest first, optionally for one department,
/// discipline or instrument (an instrument stands for its department and
/// discipline). Each patient shown is recorded as read.
pub async fn worklist(
    ctx: &Ctx,
    actor: &Actor,
    department: &str,
    discipline: &str,
    instrument: &str,
) -> AppResult<Vec<WorklistRecord>> {
    require(ctx, actor, Permission::EnterResults).await?;
    let mut filter = WorklistFilter {
        department_id: DepartmentId::parse(department).ok(),
        discipline: Discipline::parse(discipline).map(|discipline| discipline.code().to_owned()),
    };
    if let Ok(id) = InstrumentId::parse(instrument)
        && let Some(found) = ctx
            .store
            .list_instruments(actor.id)
            .await?
            .into_iter()
            .find(|record| record.id == id)
    {
        filter.department_id = Some(found.department_id);
        filter.discipline = Some(found.discipline);
    }
    let rows = ctx
        .store
        .worklist(actor.id, &filter, &ready_codes(), 500)
        .await?;
    let events = rows
        .iter()
        .map(|row| {
            let mut event = audit_event(actor, ctx.now(), AuditAction::Read, "worklist.read");
            event.patient_id = Some(row.patient_id);
            event.entity_type = Some("Request".into());
            event.entity_id = Some(row.accession.clone());
            event
        })
        .collect();
    ctx.audit_reads.write_all(events).await?;
    Ok(rows)
}

/// One line of the entry form: what the person needs beside the input.
#[derive(Debug, Clone)]
pub struct EntryLine {
    /// Investigation code (the form field is `value-CODE`).
    pub code: String,
    /// Name.
    pub name: String,
    /// Unit, for numeric results.
    pub unit: Option<String>,
    /// The interval that would apply now, as text, or why none does.
    pub interval: String,
    /// Allowed codes, for coded results.
    pub codes: Vec<String>,
    /// Why no result can be entered yet (specimen not received, rejected),
    /// or `None` when it can.
    pub blocked: Option<String>,
}

/// A result as typed: on the entry form or sent to the API.
#[derive(Debug, Clone, Default)]
pub struct ResultInput {
    /// Investigation code.
    pub investigation: String,
    /// The value as typed.
    pub value: String,
    /// Instrument id, or empty.
    pub instrument: String,
    /// Free-text comment.
    pub comment: String,
    /// Codes of the department's comment library to add.
    pub comment_codes: Vec<String>,
    /// The UCUM unit the value is in (an analyser or another laboratory may
    /// send another unit), or empty for the catalogue's unit.
    pub unit: String,
}

/// The value of `input` in the catalogue's unit: the typed text when no
/// other unit was given, otherwise the number converted by UCUM and shown to
/// the catalogue's decimal places, with a note of what was received.
fn in_catalogue_unit(
    input: &ResultInput,
    result_type: &ResultType,
) -> Result<(String, Option<String>), String> {
    let given = input.unit.trim();
    if given.is_empty() {
        return Ok((input.value.clone(), None));
    }
    let ResultType::Numeric {
        unit,
        decimal_places,
    } = result_type
    else {
        return Err(format!(
            "{} is not a numeric investigation: send it without a unit",
            input.investigation.trim()
        ));
    };
    let from = Unit::parse(given).map_err(|error| error.to_string())?;
    let to = Unit::parse(unit).map_err(|error| error.to_string())?;
    if from == to {
        return Ok((input.value.clone(), None));
    }
    let number = match parse_value(&input.value, result_type, None) {
        Ok(value) => value.number(),
        Err(error) => return Err(error.to_string()),
    }
    .ok_or_else(|| "enter the result as a number".to_owned())?;
    let converted = convert(number, &from, &to).map_err(|error| error.to_string())?;
    let text = display_number(converted, *decimal_places);
    Ok((
        text.clone(),
        Some(format!(
            "Received as {} {from}; converted to {text} {to} (UCUM)",
            input.value.trim()
        )),
    ))
}

pub(crate) fn age_and_sex(patient: &PatientRecord) -> (Option<DateOfBirth>, ReferenceSex) {
    let dob = patient
        .date_of_birth
        .parse::<jiff::civil::Date>()
        .ok()
        .map(DateOfBirth::from_stored);
    let sex = ReferenceSex::parse(&patient.reference_sex).unwrap_or(ReferenceSex::Unknown);
    (dob, sex)
}

pub(crate) fn today(ctx: &Ctx) -> jiff::civil::Date {
    london_date(ctx.now())
}

/// The date of an instant in the laboratory's time zone.
pub(crate) fn london_date(at: jiff::Timestamp) -> jiff::civil::Date {
    at.to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

/// The day on which a patient's age is taken for a result (DOMAIN.md 3.2:
/// age at collection): when the specimen was collected, or, for a
/// measurement without a specimen or a collection not recorded, when it is
/// measured. Reference intervals, flags and calculations use it, so a result
/// entered days after collection around a birthday gets the interval of the
/// patient's age when the sample was taken.
pub(crate) fn age_date(
    collected_at: Option<jiff::Timestamp>,
    measured_at: jiff::Timestamp,
) -> jiff::civil::Date {
    london_date(collected_at.unwrap_or(measured_at))
}

fn interval_text(low: Option<f64>, high: Option<f64>, places: u8) -> String {
    match (low, high) {
        (Some(low), Some(high)) => format!(
            "{} to {}",
            display_number(low, places),
            display_number(high, places)
        ),
        (Some(low), None) => format!("≥ {}", display_number(low, places)),
        (None, Some(high)) => format!("≤ {}", display_number(high, places)),
        (None, None) => "None".into(),
    }
}

fn blocked_reason(specimen_code: &str, status: &str) -> Option<String> {
    let status = SpecimenStatus::parse(status)?;
    if READY_STATUSES.contains(&status) {
        return None;
    }
    Some(if status == SpecimenStatus::Rejected {
        format!(
            "specimen {specimen_code} was rejected: results cannot be recorded on a rejected specimen; ask the requester for a repeat specimen"
        )
    } else {
        format!(
            "specimen {specimen_code} is {}: receive it in the laboratory before entering results",
            status.label().to_lowercase()
        )
    })
}

/// The lines of a request still awaiting a result, with what entry needs.
pub async fn entry_lines(
    ctx: &Ctx,
    actor: &Actor,
    request: &benchwork_store::RequestRecord,
    patient: &PatientRecord,
) -> AppResult<Vec<EntryLine>> {
    require(ctx, actor, Permission::EnterResults).await?;
    let (dob, sex) = age_and_sex(patient);
    let mut lines = Vec::new();
    for slot in ctx.store.list_result_slots(request.id).await? {
        if slot.has_result {
            continue;
        }
        let version = ctx
            .store
            .get_investigation_version(slot.investigation_id, slot.investigation_version)
            .await?;
        let parts = version.definition.parts();
        let (unit, places, codes) = match &parts.result_type {
            ResultType::Numeric {
                unit,
                decimal_places,
            } => (Some(unit.clone()), *decimal_places, Vec::new()),
            ResultType::Coded { codes } => (None, 0, codes.clone()),
            ResultType::Text => (None, 0, Vec::new()),
        };
        let interval = match dob {
            _ if unit.is_none() => "Not applicable".to_owned(),
            Some(dob) => match select_interval(
                &parts.reference_intervals,
                sex,
                age_in_days(dob, age_date(slot.collected_at, ctx.now())),
            ) {
                Ok(interval) => interval_text(interval.low(), interval.high(), places),
                Err(error) => error.to_string(),
            },
            None => "No date of birth: not flagged".into(),
        };
        lines.push(EntryLine {
            code: slot.code.clone(),
            name: parts.name.clone(),
            unit,
            interval,
            codes,
            blocked: match (
                &parts.calculation,
                &slot.specimen_code,
                &slot.specimen_status,
            ) {
                (Some(calculation), _, _) => Some(format!(
                    "calculated by {} when {} {} recorded: not entered by hand",
                    calculation.formula.label(),
                    calculation
                        .inputs
                        .iter()
                        .map(|input| input.as_str())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    if calculation.inputs.len() == 1 {
                        "is"
                    } else {
                        "are"
                    }
                )),
                (None, Some(code), Some(status)) => blocked_reason(code, status),
                _ => None,
            },
        });
    }
    Ok(lines)
}

/// The results of a request, in the order booked.
pub async fn results_of(
    ctx: &Ctx,
    request: &benchwork_store::RequestRecord,
) -> AppResult<Vec<ResultRecord>> {
    Ok(ctx.store.list_results(request.id).await?)
}

/// The comments on a request's results, oldest first, for a request the
/// actor has already been allowed to read.
pub async fn comments_of(
    ctx: &Ctx,
    request: &benchwork_store::RequestRecord,
) -> AppResult<Vec<benchwork_store::ResultCommentRecord>> {
    Ok(ctx.store.list_result_comments(request.id).await?)
}

fn value_field(code: &str) -> String {
    format!("value-{code}")
}

/// Records the typed results of a request in one transaction, each with
/// its audit event. Lines left empty are skipped; nothing is stored unless
/// every value typed is valid and every specimen is ready.
pub async fn enter(
    ctx: &Ctx,
    actor: &Actor,
    accession: &str,
    inputs: &[ResultInput],
) -> AppResult<usize> {
    require(ctx, actor, Permission::EnterResults).await?;
    let accession = AccessionNumber::parse(accession).map_err(|_| AppError::NotFound)?;
    let request = ctx
        .store
        .get_request(&accession.to_string(), actor.id)
        .await?;
    let patient = ctx.store.get_patient(request.patient_id).await?;
    let slots = ctx.store.list_result_slots(request.id).await?;
    let instruments = ctx.store.list_instruments(actor.id).await?;
    let now = ctx.now();
    let delta_rule = default_delta_rule().map_err(|error| AppError::Internal(error.into()))?;
    let mut errors = Vec::new();
    let library = ctx
        .store
        .active_comment_codes(request.department_id)
        .await?;
    let mut records: Vec<(NewResultRecord, InvestigationVersionRecord)> = Vec::new();
    let mut result_comments = Vec::new();
    let mut entry_comments = Vec::new();
    let inputs: Vec<&ResultInput> = inputs
        .iter()
        .filter(|input| !input.value.trim().is_empty())
        .collect();
    if inputs.is_empty() {
        return Err(AppError::invalid("results", "enter at least one result"));
    }
    for input in inputs {
        let code = input.investigation.trim();
        let field = value_field(code);
        let Some(slot) = slots.iter().find(|slot| slot.code == code) else {
            errors.push(FieldError::new(
                &field,
                format!("{code} is not an investigation on this request"),
            ));
            continue;
        };
        if slot.has_result {
            errors.push(FieldError::new(
                &field,
                format!("{code} already has a result: amendments come with verification"),
            ));
            continue;
        }
        if let (Some(specimen), Some(status)) = (&slot.specimen_code, &slot.specimen_status)
            && let Some(reason) = blocked_reason(specimen, status)
        {
            errors.push(FieldError::new(&field, reason));
            continue;
        }
        let version = ctx
            .store
            .get_investigation_version(slot.investigation_id, slot.investigation_version)
            .await?;
        let parts = version.definition.parts();
        if let Some(calculation) = &parts.calculation {
            errors.push(FieldError::new(
                &field,
                format!(
                    "{code} is calculated by {} from {}: it cannot be entered by hand; enter its inputs instead",
                    calculation.formula.label(),
                    calculation
                        .inputs
                        .iter()
                        .map(|input| input.as_str())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            ));
            continue;
        }
        let (typed, conversion) = match in_catalogue_unit(input, &parts.result_type) {
            Ok(converted) => converted,
            Err(error) => {
                errors.push(FieldError::new(&field, error));
                continue;
            }
        };
        let value = match parse_value(&typed, &parts.result_type, parts.reportable_range.as_ref()) {
            Ok(value) => value,
            Err(error) => {
                errors.push(FieldError::new(&field, error));
                continue;
            }
        };
        let instrument = match input.instrument.trim() {
            "" => None,
            text => match InstrumentId::parse(text).ok().and_then(|id| {
                instruments
                    .iter()
                    .find(|record| record.id == id && record.department_id == request.department_id)
            }) {
                Some(found) => Some(found.id),
                None => {
                    errors.push(FieldError::new(
                        &format!("instrument-{code}"),
                        "select an instrument of the request's department",
                    ));
                    continue;
                }
            },
        };
        let mut comments = parse_result_comments(
            &library,
            &input.comment_codes,
            &input.comment,
            &format!("comment_codes-{code}"),
            &format!("comment-{code}"),
            &mut errors,
        );
        comments.extend(conversion.map(|note| (None, note)));
        let comment = comments
            .iter()
            .find(|(code, _)| code.is_none())
            .map(|(_, text)| text.clone())
            .unwrap_or_default();
        let mut record = NewResultRecord {
            id: ResultId(new_uuid()),
            request_id: request.id,
            position: slot.position,
            patient_id: patient.id,
            investigation_id: slot.investigation_id,
            investigation_version: slot.investigation_version,
            value_text: value.text().to_owned(),
            value_number: value.number(),
            unit: None,
            reference_low: None,
            reference_high: None,
            reference_source: None,
            critical_low: None,
            critical_high: None,
            alert_limit_version: None,
            critical_category: None,
            flag: None,
            flag_note: None,
            delta_outcome: None,
            delta_detail: None,
            derived_comment: None,
            instrument_id: instrument,
            analysed_at: now,
            produced_by: actor.id,
            status: "measured".into(),
            comment,
        };
        if let Some(number) = value.number() {
            let age_on = age_date(slot.collected_at, now);
            apply_numeric(
                ctx,
                &mut record,
                &version,
                number,
                &patient,
                &delta_rule,
                age_on,
                &request.setting,
            )
            .await?;
        }
        result_comments.extend(new_comments(record.id, 1, &comments, actor.id, now));
        entry_comments.push(comments_json(&comments));
        records.push((record, version));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut events: Vec<_> = records
        .iter()
        .zip(&entry_comments)
        .map(|((record, version), comments)| {
            let mut event = audit_event(actor, now, AuditAction::Create, "result.enter");
            event.patient_id = Some(patient.id);
            event.department_id = Some(request.department_id);
            event.entity_type = Some("Result".into());
            event.entity_id = Some(record.id.to_string());
            event.after = Some(
                json!({
                    "accession": request.accession,
                    "investigation": version.definition.parts().code.as_str(),
                    "version": record.investigation_version,
                    "value": record.value_text,
                    "unit": record.unit,
                    "flag": record.flag,
                    "reference_low": record.reference_low,
                    "reference_high": record.reference_high,
                    "delta": record.delta_outcome,
                    "instrument": record.instrument_id.map(|id| id.to_string()),
                    "comment": record.comment,
                    "comments": comments,
                })
                .to_string(),
            );
            event
        })
        .collect();
    let calculated =
        calculate_lines(ctx, &request, &patient, &slots, &mut records, &delta_rule).await?;
    for (record, version, derivation) in &calculated {
        let mut event = audit_event(actor, now, AuditAction::Create, "result.calculate");
        event.patient_id = Some(patient.id);
        event.department_id = Some(request.department_id);
        event.entity_type = Some("Result".into());
        event.entity_id = Some(record.id.to_string());
        event.after = Some(
            json!({
                "accession": request.accession,
                "investigation": version.definition.parts().code.as_str(),
                "version": record.investigation_version,
                "value": record.value_text,
                "value_number": record.value_number,
                "unit": record.unit,
                "flag": record.flag,
                "reference_low": record.reference_low,
                "reference_high": record.reference_high,
                "calculation": derivation,
            })
            .to_string(),
        );
        events.push(event);
    }
    records.extend(
        calculated
            .into_iter()
            .map(|(record, version, _)| (record, version)),
    );
    let records: Vec<NewResultRecord> = records.into_iter().map(|(record, _)| record).collect();
    match ctx
        .store
        .record_results_with_comments(&records, &result_comments, &ready_codes(), &events)
        .await
    {
        Ok(()) => Ok(records.len()),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(
            "someone else entered a result or changed a specimen meanwhile: reload the page and check".into(),
        )),
        Err(error) => Err(error.into()),
    }
}
