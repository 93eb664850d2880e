//! Consent decisions, requests, specimens and their chain of custody.
//! Consent belongs to the patient (organisation-wide); requests and
//! specimens belong to a department and are read through a join on the
//! viewer's `user_department`, so another department's record is
//! `NotFound`.

use benchwork_domain::audit::AuditEvent;
use benchwork_domain::catalogue::InvestigationId;
use benchwork_domain::ids::{DepartmentId, PatientId, UserId};
use benchwork_domain::request::{ConsentId, RequestId, SpecimenId};
use jiff::Timestamp;

use crate::audit::insert_events;
use crate::row::RowExt;
use crate::{Store, StoreError, StoreResult, in_tx, micros, on_pool};

/// A consent decision to store.
#[derive(Debug, Clone)]
pub struct NewConsentRecord {
    /// Its id.
    pub id: ConsentId,
    /// The patient.
    pub patient_id: PatientId,
    /// The investigation it is for.
    pub investigation_id: InvestigationId,
    /// `given`, `refused` or `withdrawn`.
    pub status: String,
    /// `verbal`, `written` or `electronic`.
    pub method: String,
    /// `patient`, `parent-guardian` or `other`.
    pub given_by: String,
    /// The person recording it.
    pub recorded_by: UserId,
    /// When.
    pub recorded_at: Timestamp,
}

/// A consent decision as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Its id.
    pub id: ConsentId,
    /// The patient.
    pub patient_id: PatientId,
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// Its code.
    pub investigation_code: String,
    /// Status code.
    pub status: String,
    /// Method code.
    pub method: String,
    /// Who gave it (code).
    pub given_by: String,
    /// Who recorded it.
    pub recorded_by_name: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// One investigation of a new request.
#[derive(Debug, Clone)]
pub struct NewRequestItem {
    /// The investigation.
    pub investigation_id: InvestigationId,
    /// The catalogue version that applied when it was booked.
    pub investigation_version: i64,
    /// Index into [`NewRequestRecord::specimens`], or none.
    pub specimen: Option<usize>,
}

/// A specimen of a new request.
#[derive(Debug, Clone)]
pub struct NewSpecimenRecord {
    /// Its id.
    pub id: SpecimenId,
    /// The printed specimen id (`SBW26-000123-1`).
    pub code: String,
    /// Specimen type.
    pub specimen_type: String,
    /// Container.
    pub container: String,
}

/// A new request to store.
#[derive(Debug, Clone)]
pub struct NewRequestRecord {
    /// Its id.
    pub id: RequestId,
    /// The accession number.
    pub accession: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Requester's name.
    pub requester_name: String,
    /// Requester's code (GMC, NMC or local).
    pub requester_code: String,
    /// Where the patient is (ward, clinic, practice).
    pub location: String,
    /// The requesting setting code (benchwork_domain::alert_limits::RequestSetting).
    pub setting: String,
    /// Clinical details.
    pub clinical_details: String,
    /// Priority code.
    pub priority: String,
    /// Investigations in order.
    pub items: Vec<NewRequestItem>,
    /// Specimens, each starting `expected`.
    pub specimens: Vec<NewSpecimenRecord>,
    /// Who booked it.
    pub created_by: UserId,
    /// When.
    pub created_at: Timestamp,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Its id.
    pub id: RequestId,
    /// The accession number.
    pub accession: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Owning department.
    pub department_id: DepartmentId,
    /// Department name.
    pub department_name: String,
    /// Requester's name.
    pub requester_name: String,
    /// Requester's code.
    pub requester_code: String,
    /// Location.
    pub location: String,
    /// The requesting setting code.
    pub setting: String,
    /// Clinical details.
    pub clinical_details: String,
    /// Priority code.
    pub priority: String,
    /// Status code.
    pub status: String,
    /// Who booked it.
    pub created_by_name: String,
    /// When.
    pub created_at: Timestamp,
}

/// One investigation of a stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestItemRecord {
    /// Investigation code.
    pub code: String,
    /// Its name in the version booked.
    pub name: String,
    /// Catalogue version booked.
    pub version: i64,
    /// The printed id of its specimen, if it has one.
    pub specimen_code: Option<String>,
}

/// A specimen as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenRecord {
    /// Its id.
    pub id: SpecimenId,
    /// The printed specimen id.
    pub code: String,
    /// Its request.
    pub request_id: RequestId,
    /// The request's accession number.
    pub accession: String,
    /// The request's patient.
    pub patient_id: PatientId,
    /// The request's department.
    pub department_id: DepartmentId,
    /// Specimen type.
    pub specimen_type: String,
    /// Container.
    pub container: String,
    /// Status code.
    pub status: String,
    /// Rejection reason code.
    pub rejection_reason: Option<String>,
    /// Rejection description.
    pub rejection_text: Option<String>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One step of a specimen's chain of custody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenEventRecord {
    /// Status code reached.
    pub status: String,
    /// Detail (the rejection reason).
    pub detail: Option<String>,
    /// Who.
    pub by_name: String,
    /// When.
    pub at: Timestamp,
}

/// Specimens received and rejected in a department over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionRateRecord {
    /// Department.
    pub department_id: DepartmentId,
    /// Its name.
    pub department_name: String,
    /// Specimens received.
    pub n_received: i64,
    /// Specimens rejected.
    pub n_rejected: i64,
}

/// A custody step to store.
#[derive(Debug, Clone)]
pub struct SpecimenStep {
    /// The specimen.
    pub specimen_id: SpecimenId,
    /// The status it must still be in.
    pub expected_status: String,
    /// The status it moves to.
    pub status: String,
    /// Rejection reason code and description, for a rejection.
    pub rejection: Option<(String, Option<String>)>,
    /// Who.
    pub by: UserId,
    /// When.
    pub at: Timestamp,
}

macro_rules! select_request {
    () => {
        "SELECT r.id, r.accession, r.patient_id, r.department_id, d.name AS department_name, r.requester_name, \
         r.requester_code, r.location, r.setting, r.clinical_details, r.priority, r.status, u.display_name AS created_by_name, r.created_at \
         FROM lab_request r JOIN department d ON d.id = r.department_id JOIN app_user u ON u.id = r.created_by"
    };
}

macro_rules! select_specimen {
    () => {
        "SELECT s.id, s.specimen_code, s.request_id, r.accession, r.patient_id, r.department_id, s.specimen_type, \
         s.container, s.status, s.rejection_reason, s.rejection_text, s.updated_at \
         FROM specimen s JOIN lab_request r ON r.id = s.request_id"
    };
}

fn request_from_row(row: &impl RowExt) -> StoreResult<RequestRecord> {
    Ok(RequestRecord {
        id: RequestId(row.uuid("id")?),
        accession: row.text("accession")?,
        patient_id: PatientId(row.uuid("patient_id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        department_name: row.text("department_name")?,
        requester_name: row.text("requester_name")?,
        requester_code: row.text("requester_code")?,
        location: row.text("location")?,
        setting: row.text("setting")?,
        clinical_details: row.text("clinical_details")?,
        priority: row.text("priority")?,
        status: row.text("status")?,
        created_by_name: row.text("created_by_name")?,
        created_at: row.at("created_at")?,
    })
}

fn specimen_from_row(row: &impl RowExt) -> StoreResult<SpecimenRecord> {
    Ok(SpecimenRecord {
        id: SpecimenId(row.uuid("id")?),
        code: row.text("specimen_code")?,
        request_id: RequestId(row.uuid("request_id")?),
        accession: row.text("accession")?,
        patient_id: PatientId(row.uuid("patient_id")?),
        department_id: DepartmentId(row.uuid("department_id")?),
        specimen_type: row.text("specimen_type")?,
        container: row.text("container")?,
        status: row.text("status")?,
        rejection_reason: row.opt_text("rejection_reason")?,
        rejection_text: row.opt_text("rejection_text")?,
        updated_at: row.at("updated_at")?,
    })
}

impl Store {
    /// Stores a consent decision with its audit event. Earlier decisions
    /// are kept: the latest one wins.
    pub async fn record_consent(
        &self,
        consent: &NewConsentRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO consent (id, patient_id, investigation_id, status, method, given_by, recorded_by, \
                 recorded_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(consent.id.0)
            .bind(consent.patient_id.0)
            .bind(consent.investigation_id.0)
            .bind(consent.status.as_str())
            .bind(consent.method.as_str())
            .bind(consent.given_by.as_str())
            .bind(consent.recorded_by.0)
            .bind(micros(consent.recorded_at))
            .execute(&mut *tx)
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Every consent decision for a patient, newest first.
    pub async fn list_consents(&self, patient_id: PatientId) -> StoreResult<Vec<ConsentRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT c.id, c.patient_id, c.investigation_id, i.code AS investigation_code, c.status, c.method, \
                 c.given_by, u.display_name AS recorded_by_name, c.recorded_at \
                 FROM consent c JOIN investigation i ON i.id = c.investigation_id JOIN app_user u ON u.id = c.recorded_by \
                 WHERE c.patient_id = $1 ORDER BY c.recorded_at DESC, c.id DESC",
            )
            .bind(patient_id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ConsentRecord {
                    id: ConsentId(row.uuid("id")?),
                    patient_id: PatientId(row.uuid("patient_id")?),
                    investigation_id: InvestigationId(row.uuid("investigation_id")?),
                    investigation_code: row.text("investigation_code")?,
                    status: row.text("status")?,
                    method: row.text("method")?,
                    given_by: row.text("given_by")?,
                    recorded_by_name: row.text("recorded_by_name")?,
                    recorded_at: row.at("recorded_at")?,
                })
            })
            .collect()
        })
    }

    /// Stores a request with its investigations, its specimens (each
    /// `expected`, with that first custody step) and its audit events, in
    /// one transaction. A duplicate accession number is `Conflict`.
    pub async fn create_request(
        &self,
        request: &NewRequestRecord,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let at = micros(request.created_at);
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO lab_request (id, accession, patient_id, department_id, requester_name, requester_code, \
                 location, clinical_details, priority, status, created_by, created_at, updated_at, setting) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'registered', $10, $11, $11, $12)",
            )
            .bind(request.id.0)
            .bind(request.accession.as_str())
            .bind(request.patient_id.0)
            .bind(request.department_id.0)
            .bind(request.requester_name.as_str())
            .bind(request.requester_code.as_str())
            .bind(request.location.as_str())
            .bind(request.clinical_details.as_str())
            .bind(request.priority.as_str())
            .bind(request.created_by.0)
            .bind(at)
            .bind(request.setting.as_str())
            .execute(&mut *tx)
            .await?;
            for specimen in &request.specimens {
                sqlx::query(
                    "INSERT INTO specimen (id, specimen_code, request_id, specimen_type, container, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'expected', $6, $6)",
                )
                .bind(specimen.id.0)
                .bind(specimen.code.as_str())
                .bind(request.id.0)
                .bind(specimen.specimen_type.as_str())
                .bind(specimen.container.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO specimen_event (id, specimen_id, status, detail, by_user, at, created_at) \
                     VALUES ($1, $2, 'expected', NULL, $3, $4, $4)",
                )
                .bind(uuid::Uuid::now_v7())
                .bind(specimen.id.0)
                .bind(request.created_by.0)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            for (position, item) in request.items.iter().enumerate() {
                let specimen_id = item
                    .specimen
                    .and_then(|index| request.specimens.get(index))
                    .map(|specimen| specimen.id.0);
                sqlx::query(
                    "INSERT INTO request_item (request_id, position, investigation_id, investigation_version, specimen_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(request.id.0)
                .bind(position as i64)
                .bind(item.investigation_id.0)
                .bind(item.investigation_version)
                .bind(specimen_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            crate::request_status::record_booking(
                &mut *tx,
                request.id,
                request.created_by,
                request.created_at,
            )
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// The request with this accession number if it belongs to one of the
    /// viewer's departments; `NotFound` otherwise.
    pub async fn get_request(&self, accession: &str, viewer: UserId) -> StoreResult<RequestRecord> {
        let sql = concat!(
            select_request!(),
            " JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $2",
            " WHERE r.accession = $1"
        );
        on_pool!(self, |pool| request_from_row(
            &sqlx::query(sql)
                .bind(accession)
                .bind(viewer.0)
                .fetch_one(pool)
                .await?
        ))
    }

    /// Requests of the viewer's departments, newest first.
    pub async fn list_requests(
        &self,
        viewer: UserId,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let sql = concat!(
            select_request!(),
            " JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1",
            " ORDER BY r.created_at DESC, r.accession DESC LIMIT $2"
        );
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(viewer.0)
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(request_from_row)
                .collect()
        })
    }

    /// The investigations of a request, in the order booked.
    pub async fn list_request_items(&self, id: RequestId) -> StoreResult<Vec<RequestItemRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT i.code, v.name, ri.investigation_version, s.specimen_code FROM request_item ri \
                 JOIN investigation i ON i.id = ri.investigation_id \
                 JOIN investigation_version v ON v.investigation_id = ri.investigation_id AND v.version = ri.investigation_version \
                 LEFT JOIN specimen s ON s.id = ri.specimen_id \
                 WHERE ri.request_id = $1 ORDER BY ri.position",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RequestItemRecord {
                    code: row.text("code")?,
                    name: row.text("name")?,
                    version: row.int("investigation_version")?,
                    specimen_code: row.opt_text("specimen_code")?,
                })
            })
            .collect()
        })
    }

    /// The specimens of a request, in label order.
    pub async fn list_request_specimens(&self, id: RequestId) -> StoreResult<Vec<SpecimenRecord>> {
        let sql = concat!(
            select_specimen!(),
            " WHERE s.request_id = $1 ORDER BY s.specimen_code"
        );
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(id.0)
                .fetch_all(pool)
                .await?
                .iter()
                .map(specimen_from_row)
                .collect()
        })
    }

    /// The specimen with this printed id if its request belongs to one of
    /// the viewer's departments; `NotFound` otherwise.
    pub async fn get_specimen(&self, code: &str, viewer: UserId) -> StoreResult<SpecimenRecord> {
        let sql = concat!(
            select_specimen!(),
            " JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $2",
            " WHERE s.specimen_code = $1"
        );
        on_pool!(self, |pool| specimen_from_row(
            &sqlx::query(sql)
                .bind(code)
                .bind(viewer.0)
                .fetch_one(pool)
                .await?
        ))
    }

    /// A specimen's chain of custody, oldest first.
    pub async fn list_specimen_events(
        &self,
        id: SpecimenId,
    ) -> StoreResult<Vec<SpecimenEventRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT e.status, e.detail, u.display_name AS by_name, e.at FROM specimen_event e \
                 JOIN app_user u ON u.id = e.by_user WHERE e.specimen_id = $1 ORDER BY e.at, e.id",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(SpecimenEventRecord {
                    status: row.text("status")?,
                    detail: row.opt_text("detail")?,
                    by_name: row.text("by_name")?,
                    at: row.at("at")?,
                })
            })
            .collect()
        })
    }

    /// Records a custody step, checking that the specimen is still in
    /// `expected_status` (two people moving it at once: the second gets
    /// `Conflict`), with its audit event.
    pub async fn record_specimen_step(
        &self,
        step: &SpecimenStep,
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let (reason, text) = match &step.rejection {
            Some((reason, text)) => (Some(reason.as_str()), text.as_deref()),
            None => (None, None),
        };
        let detail = reason.map(|reason| match text {
            Some(text) => format!("{reason}: {text}"),
            None => reason.to_owned(),
        });
        in_tx!(self, |tx| {
            let n_updated = sqlx::query(
                "UPDATE specimen SET status = $1, rejection_reason = COALESCE($2, rejection_reason), \
                 rejection_text = COALESCE($3, rejection_text), updated_at = $4 WHERE id = $5 AND status = $6",
            )
            .bind(step.status.as_str())
            .bind(reason)
            .bind(text)
            .bind(micros(step.at))
            .bind(step.specimen_id.0)
            .bind(step.expected_status.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n_updated == 0 {
                return Err(StoreError::Conflict {
                    constraint: "specimen.status".into(),
                });
            }
            sqlx::query(
                "INSERT INTO specimen_event (id, specimen_id, status, detail, by_user, at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(step.specimen_id.0)
            .bind(step.status.as_str())
            .bind(detail.as_deref())
            .bind(step.by.0)
            .bind(micros(step.at))
            .execute(&mut *tx)
            .await?;
            crate::request_status::recompute_for_specimen(
                &mut *tx,
                step.specimen_id,
                step.by,
                step.at,
            )
            .await?;
            insert_events!(tx, events);
        });
        Ok(())
    }

    /// Per department of the viewer: specimens received and rejected since
    /// `since` (counted from their custody steps).
    pub async fn rejection_rates(
        &self,
        viewer: UserId,
        since: Timestamp,
    ) -> StoreResult<Vec<RejectionRateRecord>> {
        on_pool!(self, |pool| {
            sqlx::query(
                "SELECT d.id, d.name, \
                 COALESCE(SUM(CASE WHEN e.status = 'received' THEN 1 ELSE 0 END), 0) AS n_received, \
                 COALESCE(SUM(CASE WHEN e.status = 'rejected' THEN 1 ELSE 0 END), 0) AS n_rejected \
                 FROM department d \
                 JOIN user_department scope ON scope.department_id = d.id AND scope.user_id = $1 \
                 LEFT JOIN lab_request r ON r.department_id = d.id \
                 LEFT JOIN specimen s ON s.request_id = r.id \
                 LEFT JOIN specimen_event e ON e.specimen_id = s.id AND e.at >= $2 \
                 GROUP BY d.id, d.name ORDER BY d.name",
            )
            .bind(viewer.0)
            .bind(micros(since))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RejectionRateRecord {
                    department_id: DepartmentId(row.uuid("id")?),
                    department_name: row.text("name")?,
                    n_received: row.int("n_received")?,
                    n_rejected: row.int("n_rejected")?,
                })
            })
            .collect()
        })
    }
}

/// Which requests a filtered list shows (the API's `GET /requests`).
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Only requests with this status code.
    pub status: Option<String>,
    /// Only this department (one of the viewer's).
    pub department_id: Option<DepartmentId>,
}

impl Store {
    /// The requests of the viewer's departments matching `filter`, newest
    /// first.
    pub async fn list_requests_filtered(
        &self,
        viewer: UserId,
        filter: &RequestFilter,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let sql = concat!(
            select_request!(),
            " JOIN user_department scope ON scope.department_id = r.department_id AND scope.user_id = $1",
            " WHERE ($2 = '' OR r.status = $2) AND ($3 = '' OR r.department_id = $4)",
            " ORDER BY r.created_at DESC, r.accession DESC LIMIT $5"
        );
        on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(viewer.0)
                .bind(filter.status.as_deref().unwrap_or(""))
                .bind(if filter.department_id.is_some() {
                    "yes"
                } else {
                    ""
                })
                .bind(filter.department_id.map(|id| id.0).unwrap_or_default())
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(request_from_row)
                .collect()
        })
    }
}
