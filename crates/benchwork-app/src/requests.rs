//! Consent, requests and specimens: recording consent, booking a request in
//! (after positive identification and the consent check), and moving its
//! specimens along the chain of custody, with rejection and its rate.

use benchwork_domain::audit::{AuditAction, AuditEvent};
use benchwork_domain::catalogue::{Priority, SpecimenRequirement};
use benchwork_domain::consent::{ConsentGiver, ConsentMethod, ConsentStatus, may_proceed};
use benchwork_domain::ids::{DepartmentId, PatientId};
use benchwork_domain::request::{
    AccessionNumber, ConsentId, RequestError, RequestId, SpecimenId, SpecimenStatus, reject,
};
use benchwork_domain::staff::{Permission, Role};
use benchwork_store::{
    ConsentRecord, InvestigationVersionRecord, NewConsentRecord, NewRequestItem, NewRequestRecord,
    NewSpecimenRecord, PatientRecord, RequestItemRecord, RequestRecord, SpecimenEventRecord,
    SpecimenRecord, SpecimenStep, StoreError,
};
use serde_json::json;

use crate::notifications::{Message, notify_role};
use crate::patients::PatientInput;
use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// How far back the rejection rate looks.
pub const REJECTION_RATE_DAYS: i64 = 30;

/// A consent decision as typed.
#[derive(Debug, Clone, Default)]
pub struct ConsentInput {
    /// Investigation code.
    pub investigation: String,
    /// `given`, `refused` or `withdrawn`.
    pub status: String,
    /// `verbal`, `written` or `electronic`.
    pub method: String,
    /// `patient`, `parent-guardian` or `other`.
    pub given_by: String,
}

/// A patient's consent decisions and the investigations that need consent.
#[derive(Debug, Clone)]
pub struct ConsentView {
    /// Every decision, newest first.
    pub records: Vec<ConsentRecord>,
    /// Investigations that need consent: (code, name).
    pub options: Vec<(String, String)>,
}

fn patient_event(
    actor: &Actor,
    ctx: &Ctx,
    action: AuditAction,
    event_type: &str,
    patient: PatientId,
) -> AuditEvent {
    let mut event = audit_event(actor, ctx.now(), action, event_type);
    event.patient_id = Some(patient);
    event
}

/// A patient's consent decisions. The read is audited.
pub async fn consents(ctx: &Ctx, actor: &Actor, patient: PatientId) -> AppResult<ConsentView> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let records = ctx.store.list_consents(patient).await?;
    let options = ctx
        .store
        .list_investigations(None)
        .await?
        .into_iter()
        .filter(|record| record.definition.parts().consent_required)
        .map(|record| {
            let parts = record.definition.parts();
            (parts.code.to_string(), parts.name.clone())
        })
        .collect();
    let mut event = patient_event(actor, ctx, AuditAction::Read, "consent.read", patient);
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(patient.to_string());
    ctx.audit_reads.write(event).await?;
    Ok(ConsentView { records, options })
}

/// Records a consent decision for a patient and an investigation that
/// needs it. The person recording it is the actor; the latest decision wins.
pub async fn record_consent(
    ctx: &Ctx,
    actor: &Actor,
    patient: PatientId,
    input: &ConsentInput,
) -> AppResult<()> {
    require(ctx, actor, Permission::BookRequests).await?;
    let patient_record = ctx.store.get_patient(patient).await?;
    let mut errors = Vec::new();
    let investigation = match ctx
        .store
        .get_investigation_by_code(input.investigation.trim())
        .await
    {
        Ok(record) if record.definition.parts().consent_required => Some(record),
        Ok(_) | Err(StoreError::NotFound) => {
            errors.push(FieldError::new(
                "investigation",
                "choose an investigation that needs consent",
            ));
            None
        }
        Err(error) => return Err(error.into()),
    };
    let status = ConsentStatus::parse(&input.status);
    if status.is_none() {
        errors.push(FieldError::new(
            "consent_status",
            "choose whether consent was given, refused or withdrawn",
        ));
    }
    let method = ConsentMethod::parse(&input.method);
    if method.is_none() {
        errors.push(FieldError::new(
            "method",
            "choose how consent was expressed",
        ));
    }
    let given_by = ConsentGiver::parse(&input.given_by);
    if given_by.is_none() {
        errors.push(FieldError::new("given_by", "choose who made the decision"));
    }
    let (Some(investigation), Some(status), Some(method), Some(given_by), true) = (
        investigation,
        status,
        method,
        given_by,
        patient_record.merged_into.is_none(),
    ) else {
        if errors.is_empty() {
            return Err(AppError::Conflict(
                "this record was merged into another: record consent on the current record".into(),
            ));
        }
        return Err(AppError::Invalid(errors));
    };
    let now = ctx.now();
    let record = NewConsentRecord {
        id: ConsentId(new_uuid()),
        patient_id: patient,
        investigation_id: investigation.investigation_id,
        status: status.code().into(),
        method: method.code().into(),
        given_by: given_by.code().into(),
        recorded_by: actor.id,
        recorded_at: now,
    };
    let mut event = patient_event(actor, ctx, AuditAction::Create, "consent.record", patient);
    event.entity_type = Some("Consent".into());
    event.entity_id = Some(record.id.to_string());
    event.after = Some(
        json!({
            "investigation": investigation.definition.parts().code.as_str(),
            "status": record.status, "method": record.method, "given_by": record.given_by,
        })
        .to_string(),
    );
    ctx.store.record_consent(&record, &[event]).await?;
    Ok(())
}

/// A request as typed on the booking form or sent to the API.
#[derive(Debug, Clone, Default)]
pub struct BookingInput {
    /// The identifiers read from the request form or wristband, checked
    /// against the patient's record before anything is booked.
    pub identity: PatientInput,
    /// Department id; may be empty for someone in one department only.
    pub department: String,
    /// `routine` or `urgent`.
    pub priority: String,
    /// Requester's name.
    pub requester_name: String,
    /// Requester's code (GMC, NMC or local).
    pub requester_code: String,
    /// Ward, clinic or practice.
    pub location: String,
    /// Requesting setting code (`inpatient`, `outpatient`, `emergency`,
    /// `primary-care`); empty means hospital, not stated. It decides which
    /// alert limits apply (primary-care CRP).
    pub setting: String,
    /// Clinical details.
    pub clinical_details: String,
    /// Investigation codes.
    pub investigations: Vec<String>,
    /// Panel codes (each expands to its members).
    pub panels: Vec<String>,
}

fn required_text(
    text: &str,
    field: &str,
    what: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = text.trim();
    if text.is_empty() {
        errors.push(FieldError::new(field, format!("enter the {what}")));
    } else if text.chars().count() > max
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.push(FieldError::new(
            field,
            format!("enter at most {max} characters of plain text for the {what}"),
        ));
    }
    text.to_owned()
}

/// The investigations chosen, panels expanded to their members, each once
/// and in the order chosen.
async fn resolve_investigations(
    ctx: &Ctx,
    input: &BookingInput,
    errors: &mut Vec<FieldError>,
) -> AppResult<Vec<InvestigationVersionRecord>> {
    let mut codes: Vec<String> = Vec::new();
    if !input.panels.is_empty() {
        let panels = ctx.store.list_panels().await?;
        for code in &input.panels {
            match panels.iter().find(|panel| panel.code == code.trim()) {
                Some(panel) => codes.extend(panel.members.iter().map(|(code, _)| code.clone())),
                None => errors.push(FieldError::new(
                    "investigations",
                    format!("{} is not a panel in the catalogue", code.trim()),
                )),
            }
        }
    }
    codes.extend(
        input
            .investigations
            .iter()
            .map(|code| code.trim().to_owned()),
    );
    let mut found: Vec<InvestigationVersionRecord> = Vec::new();
    for code in codes {
        if found
            .iter()
            .any(|record| record.definition.parts().code.as_str() == code)
        {
            continue;
        }
        match ctx.store.get_investigation_by_code(&code).await {
            Ok(record) => found.push(record),
            Err(StoreError::NotFound) => errors.push(FieldError::new(
                "investigations",
                format!("{code} is not an investigation in the catalogue"),
            )),
            Err(error) => return Err(error.into()),
        }
    }
    if found.is_empty() && errors.iter().all(|error| error.field != "investigations") {
        errors.push(FieldError::new(
            "investigations",
            "choose at least one investigation or panel",
        ));
    }
    Ok(found)
}

/// Books a request in for a patient: checks the identifiers typed against
/// the record (two must match, none contradict), the fields, and consent for
/// each investigation that needs it; then allocates an accession number and
/// one specimen per distinct specimen type and container. Nothing is stored
/// unless every check passes.
pub async fn book(
    ctx: &Ctx,
    actor: &Actor,
    patient: PatientId,
    input: &BookingInput,
) -> AppResult<AccessionNumber> {
    require(ctx, actor, Permission::BookRequests).await?;
    let mut errors = Vec::new();
    match crate::patients::confirm_identity(ctx, actor, patient, &input.identity).await {
        Ok(_) => {}
        Err(AppError::Invalid(identity_errors)) => {
            errors.extend(identity_errors.into_iter().map(|error| {
                if error.field == "identity" {
                    FieldError::new("nhs_number", error.message)
                } else {
                    error
                }
            }))
        }
        Err(error) => return Err(error),
    }
    let department = match input.department.trim() {
        "" if actor.departments.len() == 1 => Some(actor.departments[0]),
        text => match DepartmentId::parse(text) {
            Ok(id) if actor.in_department(id) => Some(id),
            _ => {
                errors.push(FieldError::new(
                    "department",
                    "select one of your departments",
                ));
                None
            }
        },
    };
    let priority = Priority::parse(&input.priority);
    if priority.is_none() {
        errors.push(FieldError::new(
            "priority",
            "choose whether the request is routine or urgent",
        ));
    }
    let requester_name = required_text(
        &input.requester_name,
        "requester_name",
        "requester's name",
        100,
        &mut errors,
    );
    let requester_code = required_text(
        &input.requester_code,
        "requester_code",
        "requester's code",
        20,
        &mut errors,
    );
    let location = required_text(&input.location, "location", "location", 100, &mut errors);
    let setting = match input.setting.trim() {
        "" => Some(benchwork_domain::alert_limits::RequestSetting::Hospital),
        code => {
            let setting = benchwork_domain::alert_limits::RequestSetting::parse(code);
            if setting.is_none() {
                errors.push(FieldError::new(
                    "setting",
                    "choose where the request comes from: hospital inpatient, outpatient, emergency department or primary care",
                ));
            }
            setting
        }
    };
    let clinical_details = input.clinical_details.trim().to_owned();
    if clinical_details.chars().count() > 1000 {
        errors.push(FieldError::new(
            "clinical_details",
            "enter at most 1000 characters of clinical details",
        ));
    }
    let investigations = resolve_investigations(ctx, input, &mut errors).await?;
    let (Some(department), Some(priority), Some(setting), true) =
        (department, priority, setting, errors.is_empty())
    else {
        return Err(AppError::Invalid(errors));
    };

    // Consent: the latest decision for each investigation that needs it.
    let consents = ctx.store.list_consents(patient).await?;
    for record in &investigations {
        let parts = record.definition.parts();
        let latest = consents
            .iter()
            .find(|consent| consent.investigation_id == record.investigation_id)
            .and_then(|consent| ConsentStatus::parse(&consent.status));
        may_proceed(&parts.name, parts.consent_required, latest)
            .map_err(|error| AppError::invalid("investigations", error))?;
    }

    let now = ctx.now();
    let year = now
        .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
        .year();
    let sequence = ctx.store.next_counter(&format!("accession-{year}")).await?;
    let accession = AccessionNumber::new(year, sequence).map_err(|error| {
        AppError::Conflict(format!("no accession number can be allocated: {error}"))
    })?;
    let mut specimens: Vec<NewSpecimenRecord> = Vec::new();
    let mut items = Vec::new();
    for record in &investigations {
        let specimen = match &record.definition.parts().specimen {
            SpecimenRequirement::None => None,
            SpecimenRequirement::Specimen {
                specimen_type,
                container,
            } => Some(
                match specimens.iter().position(|specimen| {
                    specimen.specimen_type == *specimen_type && specimen.container == *container
                }) {
                    Some(index) => index,
                    None => {
                        specimens.push(NewSpecimenRecord {
                            id: SpecimenId(new_uuid()),
                            code: accession.specimen_id(specimens.len() + 1),
                            specimen_type: specimen_type.clone(),
                            container: container.clone(),
                        });
                        specimens.len() - 1
                    }
                },
            ),
        };
        items.push(NewRequestItem {
            investigation_id: record.investigation_id,
            investigation_version: record.version,
            specimen,
        });
    }
    let request = NewRequestRecord {
        id: RequestId(new_uuid()),
        accession: accession.to_string(),
        patient_id: patient,
        department_id: department,
        requester_name,
        requester_code,
        location,
        setting: setting.code().into(),
        clinical_details,
        priority: priority.code().into(),
        items,
        specimens,
        created_by: actor.id,
        created_at: now,
    };
    let mut event = patient_event(actor, ctx, AuditAction::Create, "request.book", patient);
    event.entity_type = Some("Request".into());
    event.entity_id = Some(request.accession.clone());
    event.department_id = Some(department);
    event.after = Some(
        json!({
            "accession": request.accession,
            "priority": request.priority,
            "requester": format!("{} ({})", request.requester_name, request.requester_code),
            "location": request.location,
            "setting": request.setting,
            "investigations": investigations.iter().map(|record| record.definition.parts().code.as_str()).collect::<Vec<_>>(),
            "specimens": request.specimens.iter().map(|specimen| specimen.code.as_str()).collect::<Vec<_>>(),
        })
        .to_string(),
    );
    match ctx.store.create_request(&request, &[event]).await {
        Ok(()) => Ok(accession),
        Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(format!(
            "accession number {accession} is already in use: book the request again to get a new number, and tell the system administrator"
        ))),
        Err(error) => Err(error.into()),
    }
}

/// A request with its patient, investigations and specimens.
#[derive(Debug, Clone)]
pub struct RequestView {
    /// The request.
    pub request: RequestRecord,
    /// Its patient.
    pub patient: PatientRecord,
    /// Its investigations.
    pub items: Vec<RequestItemRecord>,
    /// Its specimens.
    pub specimens: Vec<SpecimenRecord>,
}

/// A request of the actor's departments by accession number. The read of
/// the patient's data is audited.
pub async fn get(ctx: &Ctx, actor: &Actor, accession: &str) -> AppResult<RequestView> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let accession = AccessionNumber::parse(accession).map_err(|_| AppError::NotFound)?;
    let request = ctx
        .store
        .get_request(&accession.to_string(), actor.id)
        .await?;
    let patient = ctx.store.get_patient(request.patient_id).await?;
    let items = ctx.store.list_request_items(request.id).await?;
    let specimens = ctx.store.list_request_specimens(request.id).await?;
    let mut event = patient_event(actor, ctx, AuditAction::Read, "request.read", patient.id);
    event.entity_type = Some("Request".into());
    event.entity_id = Some(request.accession.clone());
    event.department_id = Some(request.department_id);
    ctx.audit_reads.write(event).await?;
    Ok(RequestView {
        request,
        patient,
        items,
        specimens,
    })
}

/// A department's rejection rate over the last [`REJECTION_RATE_DAYS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionRate {
    /// Department name.
    pub department_name: String,
    /// Specimens received.
    pub n_received: i64,
    /// Specimens rejected.
    pub n_rejected: i64,
}

impl RejectionRate {
    /// Rejected as a percentage of received, one decimal place, or "no
    /// specimens received".
    pub fn percent(&self) -> String {
        if self.n_received == 0 {
            "no specimens received".into()
        } else {
            format!(
                "{:.1}%",
                100.0 * self.n_rejected as f64 / self.n_received as f64
            )
        }
    }
}

/// The requests of the actor's departments, newest first, each with its
/// patient, and each department's rejection rate. Every patient shown is
/// recorded as read.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
) -> AppResult<(Vec<(RequestRecord, PatientRecord)>, Vec<RejectionRate>)> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let requests = ctx.store.list_requests(actor.id, 200).await?;
    let mut rows = Vec::with_capacity(requests.len());
    let mut events = Vec::new();
    for request in requests {
        let patient = ctx.store.get_patient(request.patient_id).await?;
        let mut event = patient_event(actor, ctx, AuditAction::Read, "request.list", patient.id);
        event.entity_type = Some("Request".into());
        event.entity_id = Some(request.accession.clone());
        events.push(event);
        rows.push((request, patient));
    }
    ctx.audit_reads.write_all(events).await?;
    let since = ctx
        .now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * REJECTION_RATE_DAYS))
        .map_err(|error| AppError::Internal(error.into()))?;
    let rates = ctx
        .store
        .rejection_rates(actor.id, since)
        .await?
        .into_iter()
        .map(|rate| RejectionRate {
            department_name: rate.department_name,
            n_received: rate.n_received,
            n_rejected: rate.n_rejected,
        })
        .collect();
    Ok((rows, rates))
}

/// A specimen with its request, patient and chain of custody.
#[derive(Debug, Clone)]
pub struct SpecimenView {
    /// The specimen.
    pub specimen: SpecimenRecord,
    /// Its status.
    pub status: SpecimenStatus,
    /// Its request.
    pub request: RequestRecord,
    /// The patient.
    pub patient: PatientRecord,
    /// Custody steps, oldest first.
    pub events: Vec<SpecimenEventRecord>,
}

fn stored_status(specimen: &SpecimenRecord) -> AppResult<SpecimenStatus> {
    SpecimenStatus::parse(&specimen.status).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "specimen {} has an unknown stored status {}",
            specimen.code,
            specimen.status
        ))
    })
}

/// A specimen of the actor's departments by its printed id. Audited.
pub async fn specimen(ctx: &Ctx, actor: &Actor, code: &str) -> AppResult<SpecimenView> {
    require(ctx, actor, Permission::ViewDepartmentRecords).await?;
    let specimen = ctx.store.get_specimen(code.trim(), actor.id).await?;
    let status = stored_status(&specimen)?;
    let request = ctx.store.get_request(&specimen.accession, actor.id).await?;
    let patient = ctx.store.get_patient(specimen.patient_id).await?;
    let events = ctx.store.list_specimen_events(specimen.id).await?;
    let mut event = patient_event(actor, ctx, AuditAction::Read, "specimen.read", patient.id);
    event.entity_type = Some("Specimen".into());
    event.entity_id = Some(specimen.code.clone());
    event.department_id = Some(specimen.department_id);
    ctx.audit_reads.write(event).await?;
    Ok(SpecimenView {
        specimen,
        status,
        request,
        patient,
        events,
    })
}

/// Moves a specimen to the next step of its chain of custody (`to` is a
/// status code). A rejection needs a coded reason (and a description for
/// "other") and notifies the department's practitioners.
pub async fn record_step(
    ctx: &Ctx,
    actor: &Actor,
    code: &str,
    to: &str,
    reason: &str,
    text: &str,
) -> AppResult<SpecimenRecord> {
    require(ctx, actor, Permission::BookRequests).await?;
    let specimen = ctx.store.get_specimen(code.trim(), actor.id).await?;
    let from = stored_status(&specimen)?;
    let Some(to) = SpecimenStatus::parse(to) else {
        return Err(AppError::invalid("step", "choose the next step"));
    };
    let step_error = |error: RequestError| match error {
        RequestError::ReasonRequired | RequestError::InvalidReasonText => {
            AppError::invalid("reason", error)
        }
        other => AppError::invalid("step", other),
    };
    let (to, rejection) = if to == SpecimenStatus::Rejected {
        let (to, rejection) = reject(from, reason, text).map_err(step_error)?;
        (to, Some(rejection))
    } else {
        (from.step(to).map_err(step_error)?, None)
    };
    let now = ctx.now();
    let mut event = patient_event(
        actor,
        ctx,
        AuditAction::Update,
        &format!("specimen.{}", to.code()),
        specimen.patient_id,
    );
    event.entity_type = Some("Specimen".into());
    event.entity_id = Some(specimen.code.clone());
    event.department_id = Some(specimen.department_id);
    event.before = Some(json!({ "status": from.code() }).to_string());
    event.after = Some(
        json!({
            "status": to.code(),
            "reason": rejection.as_ref().map(|rejection| rejection.reason.code()),
            "reason_text": rejection.as_ref().and_then(|rejection| rejection.text.clone()),
        })
        .to_string(),
    );
    let step = SpecimenStep {
        specimen_id: specimen.id,
        expected_status: from.code().into(),
        status: to.code().into(),
        rejection: rejection
            .as_ref()
            .map(|rejection| (rejection.reason.code().to_owned(), rejection.text.clone())),
        by: actor.id,
        at: now,
    };
    match ctx.store.record_specimen_step(&step, &[event]).await {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => {
            return Err(AppError::Conflict(
                "someone else changed this specimen meanwhile: reload the page and check its state"
                    .into(),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    if let Some(rejection) = &rejection {
        notify_role(
            ctx,
            Role::Practitioner,
            Some(specimen.department_id),
            Message {
                title: format!(
                    "Specimen {} rejected: {}",
                    specimen.code,
                    rejection.reason.label()
                ),
                body: format!(
                    "{} ({}, request {}) was rejected by {}{}. Ask the requester for a repeat specimen.",
                    specimen.code,
                    specimen.specimen_type,
                    specimen.accession,
                    actor.display_name,
                    rejection
                        .text
                        .as_ref()
                        .map(|text| format!(": {text}"))
                        .unwrap_or_default()
                ),
                link: Some(format!("/specimens/{}", specimen.code)),
            },
        )
        .await?;
    }
    Ok(ctx.store.get_specimen(&specimen.code, actor.id).await?)
}
