//! Calculated results (issue 3 item 5; DOMAIN.md 3.2, 3.3): a request line
//! whose catalogue version names a formula is produced, never typed, when
//! its inputs on the same request are recorded, in the same transaction as
//! the input, by the same person, with its own interval and flags. When an
//! input is missing, invalid or refused by the formula, the line says why
//! it was not calculated.

use std::collections::HashMap;

use benchwork_domain::calculation::calculate;
use benchwork_domain::catalogue::{Calculation, ResultType};
use benchwork_domain::patient::{age_in_days, age_in_years};
use benchwork_domain::reference::{
    DeltaOutcome, DeltaRule, Flag, delta_check, flag, select_interval,
};
use benchwork_domain::result::ResultId;
use benchwork_store::{
    InvestigationVersionRecord, NewResultRecord, PatientRecord, RequestRecord, ResultSlotRecord,
};

use crate::results::{age_and_sex, age_date};
use crate::{AppResult, Ctx, new_uuid};

/// An input's value as recorded: its number and unit, or `None` when the
/// request has no result for it yet.
pub(crate) type InputValue = Option<(Option<f64>, Option<String>)>;

/// Calculates `calculation` from the inputs found (by investigation code),
/// for a patient of `age_years` and `sex`. Returns the value at full
/// precision and the derivation shown with the result ("from CREA 80
/// umol/L"), or why it was not calculated.
pub(crate) fn derive(
    calculation: &Calculation,
    inputs: &HashMap<String, InputValue>,
    age_years: Option<i32>,
    sex: benchwork_domain::patient::ReferenceSex,
) -> Result<(f64, String), String> {
    let formula = calculation.formula;
    let mut numbers = Vec::new();
    let mut used = Vec::new();
    for (code, needed) in calculation.inputs.iter().zip(formula.inputs()) {
        let code = code.as_str();
        let Some(Some((number, unit))) = inputs.get(code) else {
            return Err(format!("waiting for the {code} result"));
        };
        let Some(number) = number else {
            return Err(format!("the {code} result is not a number"));
        };
        if unit.as_deref() != Some(needed.unit) {
            return Err(format!(
                "the {code} result is in {}, but the formula needs the {} in {}",
                unit.as_deref().unwrap_or("no unit"),
                needed.what,
                needed.unit
            ));
        }
        numbers.push(*number);
        used.push(format!("{code} {number} {}", needed.unit));
    }
    let value = calculate(formula, &numbers, age_years, sex).map_err(|error| error.to_string())?;
    Ok((
        value,
        format!(
            "Calculated by formula {} from {}",
            formula.version(),
            used.join(", ")
        ),
    ))
}

/// Fills a numeric result's unit, interval, critical limits, flag and delta
/// check from its catalogue version, for the patient's reference sex and age
/// today; the critical limits from the approved alert limits for the age and
/// the request's `setting`. The delta check uses the version's own rule when it has one,
/// otherwise `default_rule`.
// The request's setting joined the inputs with the alert limits (issue 6).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_numeric(
    ctx: &Ctx,
    record: &mut NewResultRecord,
    version: &InvestigationVersionRecord,
    number: f64,
    patient: &PatientRecord,
    default_rule: &DeltaRule,
    age_on: jiff::civil::Date,
    setting: &str,
) -> AppResult<()> {
    let parts = version.definition.parts();
    let (delta_rule, whose) = match &parts.delta_rule {
        Some(rule) => (rule, "this investigation's rule"),
        None => (default_rule, "the default rule"),
    };
    let ResultType::Numeric { unit, .. } = &parts.result_type else {
        return Ok(());
    };
    let (dob, sex) = age_and_sex(patient);
    record.unit = Some(unit.clone());
    let selected = match dob {
        Some(dob) => select_interval(&parts.reference_intervals, sex, age_in_days(dob, age_on))
            .map_err(|error| error.to_string()),
        None => Err("the patient has no date of birth: the result is not flagged".into()),
    };
    let interval = match &selected {
        Ok(interval) => {
            record.reference_low = interval.low();
            record.reference_high = interval.high();
            record.reference_source = Some(interval.source().to_owned());
            Some(*interval)
        }
        Err(note) => {
            record.flag_note = Some(note.clone());
            None
        }
    };
    // The critical limits come from the investigation's approved alert
    // limits only (issue 6 item 1), for the age at collection and the
    // request's setting, a multiple of the upper limit resolved against the
    // interval chosen above.
    let critical = crate::alert_limits::critical_for_result(
        ctx,
        record,
        dob.map(|dob| age_in_years(dob, age_on)),
        setting,
        interval.and_then(|interval| interval.high()),
        number,
    )
    .await?;
    let result_flag = flag(number, interval, critical.as_ref());
    record.flag = result_flag.code().map(str::to_owned);
    if result_flag == Flag::Unflagged && record.flag_note.is_none() {
        record.flag_note = Some("no interval applies: the result is not flagged".into());
    }
    let previous = ctx
        .store
        .previous_numeric_result(patient.id, record.investigation_id, record.analysed_at)
        .await?;
    let (outcome, detail) = match delta_check(previous, (number, record.analysed_at), delta_rule) {
        DeltaOutcome::NotApplicable => ("not-applicable", None),
        DeltaOutcome::Passed => ("passed", None),
        DeltaOutcome::Failed { change, percent } => (
            "failed",
            Some(format!(
                "changed by {change:+.2} {unit}{} since the previous result: check the sample's identity and the patient (limit {} within {} days, {whose})",
                percent
                    .map(|percent| format!(" ({percent:+.0}%)"))
                    .unwrap_or_default(),
                describe_limits(delta_rule, unit),
                delta_rule.window_days(),
            )),
        ),
    };
    record.delta_outcome = Some(outcome.into());
    record.delta_detail = detail;
    Ok(())
}

/// A delta rule's limits in words: "1 mmol/L", "50%", "1 mmol/L or 50%".
fn describe_limits(rule: &DeltaRule, unit: &str) -> String {
    [
        rule.absolute().map(|limit| format!("{limit} {unit}")),
        rule.percent().map(|limit| format!("{limit}%")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" or ")
}

/// The inputs already recorded on a request, by investigation code.
async fn recorded_inputs(
    ctx: &Ctx,
    request: &RequestRecord,
) -> AppResult<HashMap<String, InputValue>> {
    Ok(ctx
        .store
        .list_results(request.id)
        .await?
        .into_iter()
        .map(|result| (result.code, Some((result.value_number, result.unit))))
        .collect())
}

/// The calculated lines of a request that the results being entered
/// (`records`) complete: one new result each, with its derivation. A line
/// whose formula refuses gets no result; the reason is written on the
/// inputs entered now ("EGFR not calculated: ..."). Lines still waiting for
/// another input are left alone.
pub(crate) async fn calculate_lines(
    ctx: &Ctx,
    request: &RequestRecord,
    patient: &PatientRecord,
    slots: &[ResultSlotRecord],
    records: &mut [(NewResultRecord, InvestigationVersionRecord)],
    delta_rule: &DeltaRule,
) -> AppResult<Vec<(NewResultRecord, InvestigationVersionRecord, String)>> {
    let mut inputs = recorded_inputs(ctx, request).await?;
    for (record, version) in records.iter() {
        inputs.insert(
            version.definition.parts().code.to_string(),
            Some((record.value_number, record.unit.clone())),
        );
    }
    let (dob, sex) = age_and_sex(patient);
    // The inputs' collection: the earliest specimen collection on the request.
    let collected = slots.iter().filter_map(|slot| slot.collected_at).min();
    let age_on = age_date(collected, ctx.now());
    let age_years = dob.map(|dob| age_in_years(dob, age_on));
    let mut calculated = Vec::new();
    for slot in slots.iter().filter(|slot| !slot.has_result) {
        let version = ctx
            .store
            .get_investigation_version(slot.investigation_id, slot.investigation_version)
            .await?;
        let Some(calculation) = version.definition.parts().calculation.clone() else {
            continue;
        };
        let entered_now: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, (_, input))| calculation.inputs.contains(&input.definition.parts().code))
            .map(|(idx, _)| idx)
            .collect();
        let all_recorded = calculation
            .inputs
            .iter()
            .all(|code| matches!(inputs.get(code.as_str()), Some(Some(_))));
        if entered_now.is_empty() || !all_recorded {
            continue;
        }
        match derive(&calculation, &inputs, age_years, sex) {
            Ok((value, derivation)) => {
                let places = match &version.definition.parts().result_type {
                    ResultType::Numeric { decimal_places, .. } => *decimal_places,
                    _ => 0,
                };
                let (first, _) = &records[entered_now[0]];
                let mut record = NewResultRecord {
                    id: ResultId(new_uuid()),
                    request_id: request.id,
                    position: slot.position,
                    patient_id: patient.id,
                    investigation_id: slot.investigation_id,
                    investigation_version: slot.investigation_version,
                    value_text: calculation.formula.display(value, places),
                    value_number: Some(value),
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
                    derived_comment: Some(derivation.clone()),
                    instrument_id: None,
                    analysed_at: first.analysed_at,
                    produced_by: first.produced_by,
                    status: "measured".into(),
                    comment: String::new(),
                };
                apply_numeric(
                    ctx,
                    &mut record,
                    &version,
                    value,
                    patient,
                    delta_rule,
                    age_on,
                    &request.setting,
                )
                .await?;
                calculated.push((record, version, derivation));
            }
            Err(reason) => {
                let note = format!("{} not calculated: {reason}", slot.code);
                for idx in entered_now {
                    let record = &mut records[idx].0;
                    record.derived_comment = Some(match record.derived_comment.take() {
                        Some(earlier) => format!("{earlier}; {note}"),
                        None => note.clone(),
                    });
                }
            }
        }
    }
    Ok(calculated)
}

/// Why each calculated line of a request still has no result, by
/// investigation code: "not calculated: waiting for the CA result", or the
/// formula's refusal for the inputs recorded (eGFR for a child).
pub async fn pending_calculations(
    ctx: &Ctx,
    request: &RequestRecord,
    patient: &PatientRecord,
) -> AppResult<Vec<(String, String)>> {
    let inputs = recorded_inputs(ctx, request).await?;
    let (dob, sex) = age_and_sex(patient);
    let slots = ctx.store.list_result_slots(request.id).await?;
    // Age at collection, as `calculate_lines` takes it, so the reason shown
    // is the one the calculation gave.
    let collected = slots.iter().filter_map(|slot| slot.collected_at).min();
    let age_years = dob.map(|dob| age_in_years(dob, age_date(collected, ctx.now())));
    let mut pending = Vec::new();
    for slot in slots {
        if slot.has_result {
            continue;
        }
        let version = ctx
            .store
            .get_investigation_version(slot.investigation_id, slot.investigation_version)
            .await?;
        let Some(calculation) = &version.definition.parts().calculation else {
            continue;
        };
        let reason = match derive(calculation, &inputs, age_years, sex) {
            Err(reason) => reason,
            Ok(_) => "the inputs were recorded before this line could be calculated: amend an input to calculate it".into(),
        };
        pending.push((slot.code.clone(), format!("not calculated: {reason}")));
    }
    Ok(pending)
}
