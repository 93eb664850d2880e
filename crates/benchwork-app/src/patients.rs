//! Patients: registration, search, reading (always audited), correction,
//! positive identification and merging of duplicates.

use benchwork_domain::audit::{AuditAction, AuditOutcome};
use benchwork_domain::ids::PatientId;
use benchwork_domain::patient::{
    AdministrativeSex, ConfirmedIdentity, DateOfBirth, HospitalNumber, IdentityCheck, NhsNumber,
    PatientIdentifiers, PersonName, ReferenceSex, two_identifiers_match,
};
use benchwork_domain::staff::Permission;
use benchwork_store::{PatientRecord, PatientSearch, PatientWrite, StoreError};
use jiff::civil::Date;

use crate::{Actor, AppError, AppResult, Ctx, FieldError, audit_event, new_uuid, require};

/// The assigning authority used when a hospital number is entered without one.
pub const DEFAULT_AUTHORITY: &str = "LOCAL";

/// Patient details as typed, before validation.
#[derive(Debug, Clone, Default)]
pub struct PatientInput {
    /// NHS number, optional.
    pub nhs_number: String,
    /// Hospital number, optional.
    pub hospital_number: String,
    /// Its assigning authority (default [`DEFAULT_AUTHORITY`]).
    pub hospital_authority: String,
    /// Family name.
    pub family_name: String,
    /// Given name(s).
    pub given_name: String,
    /// Date of birth, `DD/MM/YYYY` or `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Administrative sex code.
    pub sex: String,
    /// Reference sex code; empty = derived from `sex`.
    pub reference_sex: String,
    /// Telephone.
    pub phone: String,
    /// Address.
    pub address: String,
}

/// What to search by, as typed.
#[derive(Debug, Clone, Default)]
pub struct SearchInput {
    /// NHS number.
    pub nhs_number: String,
    /// Hospital number.
    pub hospital_number: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub date_of_birth: String,
}

fn today(ctx: &Ctx) -> Date {
    ctx.now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

fn optional_text(
    text: &str,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.chars().count() > max
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.push(FieldError::new(
            field,
            format!("enter at most {max} characters of plain text"),
        ));
        return None;
    }
    Some(text.to_owned())
}

fn validate(
    ctx: &Ctx,
    input: &PatientInput,
    id: PatientId,
) -> Result<PatientWrite, Vec<FieldError>> {
    let mut errors = Vec::new();
    let nhs_number = match input.nhs_number.trim() {
        "" => None,
        text => NhsNumber::parse(text)
            .map_err(|error| errors.push(FieldError::new("nhs_number", error)))
            .ok(),
    };
    let hospital_number = match input.hospital_number.trim() {
        "" => None,
        text => {
            let authority = match input.hospital_authority.trim() {
                "" => DEFAULT_AUTHORITY,
                authority => authority,
            };
            HospitalNumber::new(text, authority)
                .map_err(|error| errors.push(FieldError::new("hospital_number", error)))
                .ok()
        }
    };
    let name = PersonName::new(&input.family_name, &input.given_name)
        .map_err(|error| {
            let field = if matches!(
                error,
                benchwork_domain::patient::PatientError::InvalidGivenName
            ) {
                "given_name"
            } else {
                "family_name"
            };
            errors.push(FieldError::new(field, error));
        })
        .ok();
    let date_of_birth = DateOfBirth::parse(&input.date_of_birth, today(ctx))
        .map_err(|error| errors.push(FieldError::new("date_of_birth", error)))
        .ok();
    let sex = AdministrativeSex::parse(&input.sex)
        .map_err(|_| errors.push(FieldError::new("sex", "select the patient's sex")))
        .ok();
    let reference_sex = match (input.reference_sex.trim(), sex) {
        ("", Some(sex)) => Some(ReferenceSex::default_for(sex)),
        ("", None) => None,
        (code, _) => ReferenceSex::parse(code)
            .map_err(|_| {
                errors.push(FieldError::new(
                    "reference_sex",
                    "select the sex used for reference ranges",
                ))
            })
            .ok(),
    };
    if nhs_number.is_none()
        && hospital_number.is_none()
        && !errors
            .iter()
            .any(|e| e.field == "nhs_number" || e.field == "hospital_number")
    {
        errors.push(FieldError::new(
            "nhs_number",
            "enter the NHS number or a hospital number: a patient needs at least one identifier besides name and date of birth",
        ));
    }
    let phone = optional_text(&input.phone, "phone", 30, &mut errors);
    let address = optional_text(&input.address, "address", 300, &mut errors);
    match (name, date_of_birth, sex, reference_sex, errors.is_empty()) {
        (Some(name), Some(date_of_birth), Some(sex), Some(reference_sex), true) => {
            Ok(PatientWrite {
                id,
                nhs_number: nhs_number.map(|number| number.as_str().to_owned()),
                family_name: name.family().to_owned(),
                given_name: name.given().to_owned(),
                date_of_birth: date_of_birth.date().to_string(),
                administrative_sex: sex.code().to_owned(),
                reference_sex: reference_sex.code().to_owned(),
                phone,
                address,
                identifiers: hospital_number
                    .map(|number| {
                        vec![(
                            number.assigning_authority().to_owned(),
                            number.value().to_owned(),
                        )]
                    })
                    .unwrap_or_default(),
                at: ctx.now(),
            })
        }
        _ => Err(errors),
    }
}

fn patient_json(patient: &PatientWrite) -> String {
    serde_json::json!({
        "nhs_number": patient.nhs_number,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "date_of_birth": patient.date_of_birth,
        "administrative_sex": patient.administrative_sex,
        "reference_sex": patient.reference_sex,
        "phone": patient.phone,
        "address": patient.address,
        "identifiers": patient.identifiers,
    })
    .to_string()
}

fn record_json(patient: &PatientRecord) -> String {
    serde_json::json!({
        "nhs_number": patient.nhs_number,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "date_of_birth": patient.date_of_birth,
        "administrative_sex": patient.administrative_sex,
        "reference_sex": patient.reference_sex,
        "phone": patient.phone,
        "address": patient.address,
        "identifiers": patient.identifiers,
        "merged_into": patient.merged_into.map(|id| id.to_string()),
    })
    .to_string()
}

fn conflict_errors(constraint: &str) -> Vec<FieldError> {
    if constraint.contains("nhs") {
        vec![FieldError::new(
            "nhs_number",
            "a patient with this NHS number is already registered: search for them",
        )]
    } else {
        vec![FieldError::new(
            "hospital_number",
            "a patient with this hospital number is already registered: search for them",
        )]
    }
}

/// Registers a patient. Refuses an NHS number or hospital number already
/// held by another record.
pub async fn register(ctx: &Ctx, actor: &Actor, input: &PatientInput) -> AppResult<PatientRecord> {
    require(ctx, actor, Permission::RegisterPatients).await?;
    let patient = validate(ctx, input, PatientId(new_uuid())).map_err(AppError::Invalid)?;
    let mut event = audit_event(actor, patient.at, AuditAction::Create, "patient.register");
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(patient.id.to_string());
    event.patient_id = Some(patient.id);
    event.after = Some(patient_json(&patient));
    match ctx.store.create_patient(&patient, &[event]).await {
        Ok(()) => Ok(ctx.store.get_patient(patient.id).await?),
        Err(StoreError::Conflict { constraint }) => {
            Err(AppError::Invalid(conflict_errors(&constraint)))
        }
        Err(error) => Err(error.into()),
    }
}

/// Corrects a patient's details (a current record only).
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: PatientId,
    input: &PatientInput,
) -> AppResult<PatientRecord> {
    require(ctx, actor, Permission::RegisterPatients).await?;
    let before = ctx.store.get_patient(id).await?;
    if before.merged_into.is_some() {
        return Err(AppError::Conflict(
            "this record was merged into another; change that one instead".into(),
        ));
    }
    let mut patient = validate(ctx, input, id).map_err(AppError::Invalid)?;
    // Hospital numbers not shown on the form are kept.
    for held in &before.identifiers {
        if !patient
            .identifiers
            .iter()
            .any(|(authority, _)| authority == &held.0)
        {
            patient.identifiers.push(held.clone());
        }
    }
    let mut event = audit_event(actor, patient.at, AuditAction::Update, "patient.update");
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(id.to_string());
    event.patient_id = Some(id);
    event.before = Some(record_json(&before));
    event.after = Some(patient_json(&patient));
    match ctx.store.update_patient(&patient, &[event]).await {
        Ok(()) => Ok(ctx.store.get_patient(id).await?),
        Err(StoreError::Conflict { constraint }) => {
            Err(AppError::Invalid(conflict_errors(&constraint)))
        }
        Err(error) => Err(error.into()),
    }
}

fn read_event(
    actor: &Actor,
    ctx: &Ctx,
    patient: PatientId,
    event_type: &str,
    detail: Option<String>,
) -> benchwork_domain::audit::AuditEvent {
    let mut event = audit_event(actor, ctx.now(), AuditAction::Read, event_type);
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(patient.to_string());
    event.patient_id = Some(patient);
    event.detail = detail;
    event
}

/// Finds patients by NHS number, by hospital number, or by family name and
/// date of birth together. Every patient shown is recorded as read.
pub async fn search(
    ctx: &Ctx,
    actor: &Actor,
    input: &SearchInput,
) -> AppResult<Vec<PatientRecord>> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let mut errors = Vec::new();
    let mut search = PatientSearch::default();
    if !input.nhs_number.trim().is_empty() {
        match NhsNumber::parse(&input.nhs_number) {
            Ok(number) => search.nhs_number = Some(number.as_str().to_owned()),
            Err(error) => errors.push(FieldError::new("nhs_number", error)),
        }
    }
    let hospital_number = input.hospital_number.trim();
    if !hospital_number.is_empty() {
        if hospital_number.chars().count() > 20 || hospital_number.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "hospital_number",
                "enter the hospital number as printed (up to 20 characters)",
            ));
        } else {
            search.hospital_number = Some(hospital_number.to_owned());
        }
    }
    let family_name = input.family_name.trim();
    if !family_name.is_empty() {
        if family_name.chars().count() > 100 || family_name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "family_name",
                "enter the family name (up to 100 characters)",
            ));
        } else {
            search.family_key = Some(family_name.to_uppercase());
        }
    }
    if !input.date_of_birth.trim().is_empty() {
        match DateOfBirth::parse(&input.date_of_birth, today(ctx)) {
            Ok(date) => search.date_of_birth = Some(date.date().to_string()),
            Err(error) => errors.push(FieldError::new("date_of_birth", error)),
        }
    }
    let by_identifier = search.nhs_number.is_some() || search.hospital_number.is_some();
    let by_name_and_birth = search.family_key.is_some() && search.date_of_birth.is_some();
    if errors.is_empty() && !by_identifier && !by_name_and_birth {
        // Minimum necessary (Caldicott): no browsing by name alone.
        errors.push(FieldError::new(
            "nhs_number",
            "search by NHS number, by hospital number, or by family name and date of birth together",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let found = ctx.store.search_patients(&search, 50).await?;
    let events = found
        .iter()
        .map(|patient| {
            read_event(
                actor,
                ctx,
                patient.id,
                "patient.search",
                Some("shown in search results".into()),
            )
        })
        .collect();
    ctx.audit_reads.write_all(events).await?;
    Ok(found)
}

/// A patient's record as a person sees it.
#[derive(Debug, Clone)]
pub struct PatientView {
    /// The record asked for.
    pub patient: PatientRecord,
    /// The current record it was merged into, if it was.
    pub merged_into: Option<PatientRecord>,
    /// Records merged into this one.
    pub merged: Vec<PatientRecord>,
}

/// Reads one patient's record. The read is audited before it is returned.
pub async fn get(ctx: &Ctx, actor: &Actor, id: PatientId) -> AppResult<PatientView> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let patient = ctx.store.get_patient(id).await?;
    let merged_into = match patient.merged_into {
        Some(survivor) => Some(ctx.store.get_patient(survivor).await?),
        None => None,
    };
    let merged = ctx.store.list_merged_patients(id).await?;
    ctx.audit_reads
        .write(read_event(actor, ctx, id, "patient.read", None))
        .await?;
    Ok(PatientView {
        patient,
        merged_into,
        merged,
    })
}

fn identifiers_of(patient: &PatientRecord) -> AppResult<PatientIdentifiers> {
    let invalid = |what: &str| {
        AppError::Internal(anyhow::anyhow!(
            "stored patient {} has an invalid {what}",
            patient.id
        ))
    };
    Ok(PatientIdentifiers {
        nhs_number: patient
            .nhs_number
            .as_deref()
            .map(NhsNumber::parse)
            .transpose()
            .map_err(|_| invalid("NHS number"))?,
        hospital_numbers: patient
            .identifiers
            .iter()
            .map(|(authority, value)| HospitalNumber::new(value, authority))
            .collect::<Result<_, _>>()
            .map_err(|_| invalid("hospital number"))?,
        name: PersonName::new(&patient.family_name, &patient.given_name)
            .map_err(|_| invalid("name"))?,
        date_of_birth: DateOfBirth::from_stored(
            patient
                .date_of_birth
                .parse()
                .map_err(|_| invalid("date of birth"))?,
        ),
    })
}

/// Positive identification before booking work in: the identifiers the
/// person confirmed must include two that match the record, and none that
/// contradict it. The outcome, either way, is audited.
pub async fn confirm_identity(
    ctx: &Ctx,
    actor: &Actor,
    id: PatientId,
    confirmed: &PatientInput,
) -> AppResult<ConfirmedIdentity> {
    require(ctx, actor, Permission::ViewPatients).await?;
    let patient = ctx.store.get_patient(id).await?;
    if patient.merged_into.is_some() {
        return Err(AppError::Conflict(
            "this record was merged into another: confirm the patient's identity against the current record".into(),
        ));
    }
    let mut errors = Vec::new();
    let check = IdentityCheck {
        nhs_number: match confirmed.nhs_number.trim() {
            "" => None,
            text => NhsNumber::parse(text)
                .map_err(|error| errors.push(FieldError::new("nhs_number", error)))
                .ok(),
        },
        hospital_number: match confirmed.hospital_number.trim() {
            "" => None,
            text => {
                let authority = match confirmed.hospital_authority.trim() {
                    "" => patient
                        .identifiers
                        .first()
                        .map(|(authority, _)| authority.clone())
                        .unwrap_or_else(|| DEFAULT_AUTHORITY.into()),
                    authority => authority.to_owned(),
                };
                HospitalNumber::new(text, &authority)
                    .map_err(|error| errors.push(FieldError::new("hospital_number", error)))
                    .ok()
            }
        },
        name: match (confirmed.family_name.trim(), confirmed.given_name.trim()) {
            ("", "") => None,
            (family, given) => PersonName::new(family, given)
                .map_err(|error| errors.push(FieldError::new("family_name", error)))
                .ok(),
        },
        date_of_birth: match confirmed.date_of_birth.trim() {
            "" => None,
            text => DateOfBirth::parse(text, today(ctx))
                .map_err(|error| errors.push(FieldError::new("date_of_birth", error)))
                .ok(),
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let outcome = two_identifiers_match(&identifiers_of(&patient)?, &check);
    let mut event = audit_event(
        actor,
        ctx.now(),
        AuditAction::Execute,
        "patient.identity-check",
    );
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(id.to_string());
    event.patient_id = Some(id);
    match &outcome {
        Ok(confirmed) => {
            event.detail = Some(format!(
                "matched: {}",
                confirmed
                    .matched()
                    .iter()
                    .map(|identifier| identifier.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        Err(error) => {
            event.outcome = AuditOutcome::MinorFailure;
            event.detail = Some(error.to_string());
        }
    }
    ctx.audit_reads.write(event).await?;
    outcome.map_err(|error| AppError::invalid("identity", error))
}

/// Merges a duplicate record into the record that survives. Both stay, with
/// their histories; the duplicate points to the survivor. Refused when the
/// two records carry different NHS numbers (they are different people).
pub async fn merge(
    ctx: &Ctx,
    actor: &Actor,
    duplicate: PatientId,
    survivor: &str,
    reason: &str,
) -> AppResult<PatientId> {
    require(ctx, actor, Permission::MergePatients).await?;
    let survivor = PatientId::parse(survivor)
        .map_err(|_| AppError::invalid("survivor", "enter the id of the record to keep"))?;
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > 1000
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(AppError::invalid(
            "reason",
            "say why these records are the same patient (up to 1,000 characters)",
        ));
    }
    if duplicate == survivor {
        return Err(AppError::invalid(
            "survivor",
            "choose a different record to merge into",
        ));
    }
    let duplicate_record = ctx.store.get_patient(duplicate).await?;
    let survivor_record = match ctx.store.get_patient(survivor).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => {
            return Err(AppError::invalid(
                "survivor",
                "there is no patient record with that id",
            ));
        }
        Err(error) => return Err(error.into()),
    };
    if let (Some(a), Some(b)) = (&duplicate_record.nhs_number, &survivor_record.nhs_number)
        && a != b
    {
        return Err(AppError::invalid(
            "survivor",
            "the two records have different NHS numbers: they are different patients and cannot be merged",
        ));
    }
    let now = ctx.now();
    let mut event = audit_event(actor, now, AuditAction::Update, "patient.merge");
    event.entity_type = Some("Patient".into());
    event.entity_id = Some(duplicate.to_string());
    event.patient_id = Some(duplicate);
    event.detail = Some(format!("merged into {survivor}: {reason}"));
    event.before = Some(record_json(&duplicate_record));
    event.after = Some(serde_json::json!({ "merged_into": survivor.to_string() }).to_string());
    let mut survivor_event = audit_event(actor, now, AuditAction::Update, "patient.merge");
    survivor_event.entity_type = Some("Patient".into());
    survivor_event.entity_id = Some(survivor.to_string());
    survivor_event.patient_id = Some(survivor);
    survivor_event.detail = Some(format!("record {duplicate} merged into this one: {reason}"));
    ctx.store
        .merge_patients(duplicate, survivor, actor.id, now, &[event, survivor_event])
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => AppError::Conflict(
                "one of these records has already been merged; reload and check before trying again".into(),
            ),
            other => other.into(),
        })?;
    Ok(survivor)
}
