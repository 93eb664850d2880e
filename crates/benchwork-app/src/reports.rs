//! The report of a request for the requesting clinician (issue 3 item 7;
//! ISO 15189:2022 7.4): assembled from the request, its specimens, results,
//! sign-offs and replaced versions into a plain
//! [`benchwork_report::ReportDocument`], which the pages, the JSON API and
//! the PDF all show. Only authorised results show a value
//! (`benchwork_domain::report::line_outcome`). Reading a report is a read of
//! the patient's data and is audited, like reading the request.

use benchwork_domain::audit::AuditAction;
use benchwork_domain::catalogue::Priority;
use benchwork_domain::ids::PatientId;
use benchwork_domain::patient::{AdministrativeSex, NhsNumber};
use benchwork_domain::reference::Flag;
use benchwork_domain::report::{LineOutcome, line_outcome, report_status};
use benchwork_domain::request::{AccessionNumber, RejectionReason, SpecimenStatus};
use benchwork_domain::result::display_number;
use benchwork_domain::result_state::ResultStatus;
use benchwork_domain::staff::Permission;
use benchwork_domain::time::display_london;
use benchwork_report::{
    ReportAmendment, ReportDocument, ReportLine, ReportPatient, ReportRequest, ReportSpecimen,
    SignOff,
};
use benchwork_store::{PatientRecord, ResultRecord, SpecimenRecord};
use jiff::Timestamp;

use crate::{Actor, AppError, AppResult, Ctx, audit_event, require};

/// A report and whose it is.
#[derive(Debug, Clone)]
pub struct Report {
    /// The document shown on screen, in the API and in the PDF.
    pub document: ReportDocument,
    /// The patient.
    pub patient_id: PatientId,
}

/// The report of a request of the actor's departments. Needs the same
/// permission as reading the request; another department's request is
/// `NotFound`. The read is audited (`report.read`).
pub async fn report(ctx: &Ctx, actor: &Actor, accession: &str) -> AppResult<Report> {
    assemble(ctx, actor, accession, "report.read").await
}

/// The report as PDF bytes, with the report. The download is audited
/// (`report.download`), so the trail tells a copy that left the system
/// from one read on screen.
pub async fn report_pdf(ctx: &Ctx, actor: &Actor, accession: &str) -> AppResult<(Report, Vec<u8>)> {
    let report = assemble(ctx, actor, accession, "report.download").await?;
    let pdf = benchwork_report::render_pdf(&report.document).map_err(|error| {
        AppError::Internal(anyhow::Error::new(error).context("making the PDF report"))
    })?;
    Ok((report, pdf))
}

async fn assemble(
    ctx: &Ctx,
    actor: &Actor,
    accession: &str,
    event_type: &str,
) -> AppResult<Report> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let accession = AccessionNumber::parse(accession).map_err(|_| AppError::NotFound)?;
    let request = ctx
        .store
        .get_request(&accession.to_string(), actor.id)
        .await?;
    let patient = ctx.store.get_patient(request.patient_id).await?;
    let items = ctx.store.list_request_items(request.id).await?;
    let slots = ctx.store.list_result_slots(request.id).await?;
    let specimens = ctx.store.list_request_specimens(request.id).await?;
    let results = ctx.store.list_results(request.id).await?;
    let reviews = ctx.store.list_result_reviews(request.id).await?;
    let versions = ctx.store.list_result_versions(request.id).await?;
    let report_amended_at = ctx.store.report_amended_at(request.id).await?;
    let withdrawn = ctx.store.withdrawn_results(request.id).await?;
    let mut custody = Vec::with_capacity(specimens.len());
    for specimen in &specimens {
        custody.push(ctx.store.list_specimen_events(specimen.id).await?);
    }

    // Record the read before anything is returned.
    let mut event = audit_event(actor, ctx.now(), AuditAction::Read, event_type);
    event.patient_id = Some(patient.id);
    event.entity_type = Some("Request".into());
    event.entity_id = Some(request.accession.clone());
    event.department_id = Some(request.department_id);
    ctx.audit_reads.write(event).await?;

    let first_at = |events: &[benchwork_store::SpecimenEventRecord], status: SpecimenStatus| {
        events
            .iter()
            .filter(|event| event.status == status.code())
            .map(|event| event.at)
            .min()
    };
    let report_specimens: Vec<ReportSpecimen> = specimens
        .iter()
        .zip(&custody)
        .map(|(specimen, events)| ReportSpecimen {
            id: specimen.code.clone(),
            description: format!("{}, {}", specimen.specimen_type, specimen.container),
            collected_at: first_at(events, SpecimenStatus::Collected).map(display_london),
            received_at: first_at(events, SpecimenStatus::Received).map(display_london),
            rejection: rejection(specimen),
        })
        .collect();
    let received_at = custody
        .iter()
        .filter_map(|events| first_at(events, SpecimenStatus::Received))
        .min();

    let mut outcomes = Vec::with_capacity(items.len());
    let mut lines = Vec::with_capacity(items.len());
    for (item, slot) in items.iter().zip(&slots) {
        let result = results
            .iter()
            .find(|result| result.position == slot.position);
        let review = result.and_then(|result| reviews.iter().find(|review| review.id == result.id));
        let status = result.and_then(|result| ResultStatus::parse(&result.status));
        let specimen = slot
            .specimen_code
            .as_ref()
            .and_then(|code| specimens.iter().find(|specimen| &specimen.code == code));
        let rejected =
            specimen.is_some_and(|specimen| specimen.status == SpecimenStatus::Rejected.code());
        let outcome = line_outcome(status, rejected);
        outcomes.push(outcome);
        let mut line = ReportLine {
            code: item.code.clone(),
            investigation: item.name.clone(),
            value: None,
            unit: None,
            flag: None,
            reference_interval: None,
            status: String::new(),
            note: None,
            comments: Vec::new(),
            verified: None,
            authorised: None,
            amended: None,
        };
        match (outcome, result) {
            (LineOutcome::Reported, Some(result)) => {
                line.value = Some(value_of(result));
                line.unit = result.unit.clone();
                line.flag = abnormal_flag(result.flag.as_deref());
                line.reference_interval = Some(interval_of(result));
                line.status = status
                    .map(|status| status.label().to_owned())
                    .unwrap_or_default();
                line.comments.extend(result.flag_note.clone());
                line.comments.extend(result.derived_comment.clone());
                if !result.comment.trim().is_empty() {
                    line.comments.push(result.comment.clone());
                }
                if let Some(review) = review {
                    line.verified = review
                        .verified
                        .as_ref()
                        .map(|(_, by, at)| sign_off(by, *at));
                    line.authorised = review
                        .authorised
                        .as_ref()
                        .map(|(_, by, at)| sign_off(by, *at));
                    line.amended = review.amended.as_ref().map(|(by, at, _)| sign_off(by, *at));
                }
            }
            (LineOutcome::SpecimenRejected, _) => {
                line.status = "Specimen rejected".into();
                line.note = Some(format!(
                    "specimen rejected: {}",
                    specimen
                        .and_then(rejection)
                        .unwrap_or_else(|| "reason not recorded".into())
                ));
            }
            (_, Some(result)) if withdrawn.contains(&result.id) => {
                line.status = "Withdrawn".into();
                line.note = Some(
                    "withdrawn after a failed QC run: not reported; a repeat is needed".into(),
                );
            }
            _ => {
                line.status = "To follow".into();
                line.note = Some("to follow".into());
            }
        }
        lines.push(line);
    }

    let amendments: Vec<ReportAmendment> = versions
        .iter()
        .filter_map(|version| {
            let result = results
                .iter()
                .find(|result| result.id == version.result_id)?;
            Some(ReportAmendment {
                code: result.code.clone(),
                investigation: result.name.clone(),
                version: version.version,
                previous_value: format!(
                    "{}{}{}",
                    previous_value(result, &version.value_text),
                    result
                        .unit
                        .as_ref()
                        .map(|unit| format!(" {unit}"))
                        .unwrap_or_default(),
                    abnormal_flag(version.flag.as_deref())
                        .map(|flag| format!(" {flag}"))
                        .unwrap_or_default()
                ),
                reason: version.superseded_reason.clone(),
                by: version.superseded_by_name.clone(),
                at: display_london(version.superseded_at),
            })
        })
        .collect();
    let any_amended = report_amended_at.is_some()
        || results
            .iter()
            .any(|result| result.status == ResultStatus::Amended.code());
    let status = report_status(&outcomes, any_amended);
    let document = ReportDocument {
        laboratory: request.department_name.clone(),
        status: status.code().into(),
        status_label: status.label().into(),
        issued_at: display_london(ctx.now()),
        patient: patient_of(&patient),
        request: ReportRequest {
            accession: request.accession.clone(),
            requester: format!("{} ({})", request.requester_name, request.requester_code),
            location: request.location.clone(),
            clinical_details: if request.clinical_details.trim().is_empty() {
                "None given".into()
            } else {
                request.clinical_details.clone()
            },
            priority: Priority::parse(&request.priority)
                .map(|priority| priority.label().to_owned())
                .unwrap_or_else(|| request.priority.clone()),
            booked_at: display_london(request.created_at),
            received_at: received_at.map(display_london),
        },
        specimens: report_specimens,
        lines,
        amendments,
    };
    Ok(Report {
        document,
        patient_id: patient.id,
    })
}

/// The flag as printed: L, H, LL or HH. A value within the interval
/// (`N`) is printed without a flag, as reports conventionally do, so that
/// the abnormal ones stand out.
fn abnormal_flag(code: Option<&str>) -> Option<String> {
    match Flag::parse(code)? {
        Flag::Normal | Flag::Unflagged => None,
        flag => flag.code().map(str::to_owned),
    }
}

fn sign_off(by: &str, at: Timestamp) -> SignOff {
    SignOff {
        by: by.to_owned(),
        at: display_london(at),
    }
}

fn places(result: &ResultRecord) -> u8 {
    result
        .decimal_places
        .and_then(|places| u8::try_from(places).ok())
        .unwrap_or(0)
}

/// The value with the decimal places of the catalogue version it was
/// produced against; coded and text results as recorded.
fn value_of(result: &ResultRecord) -> String {
    match result.value_number {
        Some(value) => display_number(value, places(result)),
        None => result.value_text.clone(),
    }
}

fn previous_value(result: &ResultRecord, value_text: &str) -> String {
    match (result.value_number, value_text.trim().parse::<f64>()) {
        (Some(_), Ok(value)) => display_number(value, places(result)),
        _ => value_text.to_owned(),
    }
}

/// The interval that applied, copied with the result.
fn interval_of(result: &ResultRecord) -> String {
    let shown = |value: f64| display_number(value, places(result));
    let range = match (result.reference_low, result.reference_high) {
        (Some(low), Some(high)) => format!("{} to {}", shown(low), shown(high)),
        (None, Some(high)) => format!("up to {}", shown(high)),
        (Some(low), None) => format!("{} and above", shown(low)),
        (None, None) => return "None applied".into(),
    };
    match &result.reference_source {
        Some(source) if !source.trim().is_empty() => format!("{range} ({source})"),
        _ => range,
    }
}

fn rejection(specimen: &SpecimenRecord) -> Option<String> {
    let code = specimen.rejection_reason.as_deref()?;
    let label = RejectionReason::parse(code)
        .map(|reason| reason.label().to_owned())
        .unwrap_or_else(|| code.to_owned());
    Some(match &specimen.rejection_text {
        Some(text) if !text.trim().is_empty() => format!("{label}: {text}"),
        _ => label,
    })
}

fn patient_of(patient: &PatientRecord) -> ReportPatient {
    ReportPatient {
        name: format!(
            "{}, {}",
            patient.family_name.to_uppercase(),
            patient.given_name
        ),
        nhs_number: patient
            .nhs_number
            .as_deref()
            .and_then(|digits| NhsNumber::parse(digits).ok())
            .map(|number| number.to_string())
            .unwrap_or_else(|| "Not known".into()),
        hospital_numbers: patient
            .identifiers
            .iter()
            .map(|(authority, value)| format!("{value} ({authority})"))
            .collect(),
        date_of_birth: patient
            .date_of_birth
            .parse::<jiff::civil::Date>()
            .map(|date| date.strftime("%-d %b %Y").to_string())
            .unwrap_or_else(|_| patient.date_of_birth.clone()),
        sex: AdministrativeSex::parse(&patient.administrative_sex)
            .map(|sex| sex.label().to_owned())
            .unwrap_or_else(|_| patient.administrative_sex.clone()),
    }
}
