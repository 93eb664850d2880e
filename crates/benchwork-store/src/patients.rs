//! Patients and their identifiers. Patients belong to the whole
//! organisation; reads are audited by the application layer.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::ids::{PatientId, UserId};
use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// A patient as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRecord {
    /// Its id.
    pub id: PatientId,
    /// The 10-digit NHS number, if known.
    pub nhs_number: Option<String>,
    /// Family name as entered.
    pub family_name: String,
    /// Given name(s) as entered.
    pub given_name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Administrative sex code.
    pub administrative_sex: String,
    /// The sex used to choose reference intervals.
    pub reference_sex: String,
    /// Contact telephone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Local hospital numbers: (assigning authority, value).
    pub identifiers: Vec<(String, String)>,
    /// The record this one was merged into, if it was.
    pub merged_into: Option<PatientId>,
    /// When it was merged.
    pub merged_at: Option<Timestamp>,
    /// When registered.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A patient to store or the new values of one.
#[derive(Debug, Clone)]
pub struct PatientWrite {
    /// Its id.
    pub id: PatientId,
    /// NHS number digits.
    pub nhs_number: Option<String>,
    /// Family name.
    pub family_name: String,
    /// Given name(s).
    pub given_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Administrative sex code.
    pub administrative_sex: String,
    /// Reference sex code.
    pub reference_sex: String,
    /// Telephone.
    pub phone: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Hospital numbers (authority, value); replaces the stored set.
    pub identifiers: Vec<(String, String)>,
    /// When.
    pub at: Timestamp,
}

/// How to find patients. Fields left empty do not narrow the search; an
/// identifier search matches the NHS number or any hospital number.
#[derive(Debug, Clone, Default)]
pub struct PatientSearch {
    /// NHS number digits.
    pub nhs_number: Option<String>,
    /// A hospital number (any authority).
    pub hospital_number: Option<String>,
    /// Upper-cased family name.
    pub family_key: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
}

macro_rules! select_patient {
    () => {
        "SELECT id, nhs_number, family_name, given_name, date_of_birth, administrative_sex, reference_sex, phone, \
         address, merged_into, merged_at, created_at, updated_at FROM patient"
    };
}

fn patient_from_row(row: &impl RowExt) -> StoreResult<PatientRecord> {
    Ok(PatientRecord {
        id: PatientId(row.uuid("id")?),
        nhs_number: row.opt_text("nhs_number")?,
        family_name: row.text("family_name")?,
        given_name: row.text("given_name")?,
        date_of_birth: row.text("date_of_birth")?,
        administrative_sex: row.text("administrative_sex")?,
        reference_sex: row.text("reference_sex")?,
        phone: row.opt_text("phone")?,
        address: row.opt_text("address")?,
        identifiers: Vec::new(),
        merged_into: row.opt_uuid("merged_into")?.map(PatientId),
        merged_at: row.opt_at("merged_at")?,
        created_at: row.at("created_at")?,
        updated_at: row.at("updated_at")?,
    })
}

/// Writes a patient's hospital numbers inside a transaction.
macro_rules! insert_identifiers {
    ($tx:expr, $patient:expr) => {
        for (authority, value) in &$patient.identifiers {
            sqlx::query(
                "INSERT INTO patient_identifier (patient_id, authority, value, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind($patient.id.0)
            .bind(authority.as_str())
            .bind(value.as_str())
            .bind(micros($patient.at))
            .execute(&mut *$tx)
            .await?;
        }
    };
}

impl Store {
    /// Registers a patient with its hospital numbers and audit event.
    /// `Conflict` when the NHS number or a hospital number is already held.
    pub async fn create_patient(
        &self,
        patient: &PatientWrite,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO patient (id, nhs_number, family_name, given_name, family_key, date_of_birth, \
                 administrative_sex, reference_sex, phone, address, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
            )
            .bind(patient.id.0)
            .bind(patient.nhs_number.as_deref())
            .bind(patient.family_name.as_str())
            .bind(patient.given_name.as_str())
            .bind(patient.family_name.to_uppercase())
            .bind(patient.date_of_birth.as_str())
            .bind(patient.administrative_sex.as_str())
            .bind(patient.reference_sex.as_str())
            .bind(patient.phone.as_deref())
            .bind(patient.address.as_deref())
            .bind(micros(patient.at))
            .execute(&mut *tx)
            .await?;
            insert_identifiers!(tx, patient);
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Replaces a patient's details and hospital numbers.
    pub async fn update_patient(
        &self,
        patient: &PatientWrite,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE patient SET nhs_number = $1, family_name = $2, given_name = $3, family_key = $4, \
                 date_of_birth = $5, administrative_sex = $6, reference_sex = $7, phone = $8, address = $9, \
                 updated_at = $10 WHERE id = $11 AND merged_into IS NULL",
            )
            .bind(patient.nhs_number.as_deref())
            .bind(patient.family_name.as_str())
            .bind(patient.given_name.as_str())
            .bind(patient.family_name.to_uppercase())
            .bind(patient.date_of_birth.as_str())
            .bind(patient.administrative_sex.as_str())
            .bind(patient.reference_sex.as_str())
            .bind(patient.phone.as_deref())
            .bind(patient.address.as_deref())
            .bind(micros(patient.at))
            .bind(patient.id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM patient_identifier WHERE patient_id = $1")
                .bind(patient.id.0)
                .execute(&mut *tx)
                .await?;
            insert_identifiers!(tx, patient);
            insert_events!(tx, events);
        });
        Ok(())
    }

    async fn load_identifiers(&self, patients: &mut [PatientRecord]) -> StoreResult<()> {
        for patient in patients.iter_mut() {
            let identifiers = on_pool!(self, |pool| {
                sqlx::query("SELECT authority, value FROM patient_identifier WHERE patient_id = $1 ORDER BY authority, value")
                    .bind(patient.id.0)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| Ok((row.text("authority")?, row.text("value")?)))
                    .collect::<StoreResult<Vec<_>>>()?
            });
            patient.identifiers = identifiers;
        }
        Ok(())
    }

    /// The patient with this id (merged or not).
    pub async fn get_patient(&self, id: PatientId) -> StoreResult<PatientRecord> {
        let sql = concat!(select_patient!(), " WHERE id = $1");
        let patient = on_pool!(self, |pool| patient_from_row(
            &sqlx::query(sql).bind(id.0).fetch_one(pool).await?
        )?);
        let mut patients = [patient];
        self.load_identifiers(&mut patients).await?;
        let [patient] = patients;
        Ok(patient)
    }

    /// Patients matching every given field, current records first, at most
    /// `limit`.
    pub async fn search_patients(
        &self,
        search: &PatientSearch,
        limit: i64,
    ) -> StoreResult<Vec<PatientRecord>> {
        let sql = concat!(
            select_patient!(),
            " WHERE ($1 IS NULL OR nhs_number = $1)",
            " AND ($2 IS NULL OR id IN (SELECT patient_id FROM patient_identifier WHERE value = $2))",
            " AND ($3 IS NULL OR family_key = $3)",
            " AND ($4 IS NULL OR date_of_birth = $4)",
            " ORDER BY (merged_into IS NULL) DESC, family_key, given_name, date_of_birth LIMIT $5"
        );
        let mut patients = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(search.nhs_number.as_deref())
                .bind(search.hospital_number.as_deref())
                .bind(search.family_key.as_deref())
                .bind(search.date_of_birth.as_deref())
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(patient_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        });
        self.load_identifiers(&mut patients).await?;
        Ok(patients)
    }

    /// The records merged into `id`.
    pub async fn list_merged_patients(&self, id: PatientId) -> StoreResult<Vec<PatientRecord>> {
        let sql = concat!(
            select_patient!(),
            " WHERE merged_into = $1 ORDER BY merged_at"
        );
        let mut patients = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(id.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(patient_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        });
        self.load_identifiers(&mut patients).await?;
        Ok(patients)
    }

    /// Merges `duplicate` into `survivor`: the duplicate keeps its row and
    /// history and points to the survivor. Both must be current records;
    /// `Conflict` otherwise (someone merged one of them meanwhile).
    pub async fn merge_patients(
        &self,
        duplicate: PatientId,
        survivor: PatientId,
        by: UserId,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            let n_current: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM patient WHERE id IN ($1, $2) AND merged_into IS NULL",
            )
            .bind(duplicate.0)
            .bind(survivor.0)
            .fetch_one(&mut *tx)
            .await?;
            if n_current != 2 {
                return Err(StoreError::Conflict {
                    constraint: "patient.merged_into".into(),
                });
            }
            sqlx::query(
                "UPDATE patient SET merged_into = $1, merged_at = $2, merged_by = $3, updated_at = $2 WHERE id = $4",
            )
            .bind(survivor.0)
            .bind(micros(at))
            .bind(by.0)
            .bind(duplicate.0)
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }
}
