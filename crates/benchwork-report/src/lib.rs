//! The report of a request for the requesting clinician (issue 3 item 7;
//! ISO 15189:2022 7.4), as a plain document and as an A4 PDF.
//!
//! Main items: [`ReportDocument`] (everything the report shows, already
//! worded and formatted: the application assembles it, so this crate knows
//! nothing of the store or the database) and [`render_pdf`] (its PDF, with
//! Liberation Sans embedded and subset, real text with a ToUnicode map, a
//! footer identifying the patient and the request on every page).
//!
//! The document derives `Serialize` because the JSON API returns it as it
//! is: it is a presentation of a report, not a domain type, so the rule that
//! domain types have no wire format does not apply.
#![warn(missing_docs)]

mod pdf;

pub use pdf::{PdfError, render_pdf};
use serde::Serialize;

/// A report, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDocument {
    /// The laboratory (department) issuing it.
    pub laboratory: String,
    /// `interim`, `final` or `amended`.
    pub status: String,
    /// How the status is printed: "Interim report", "Final report",
    /// "Amended report".
    pub status_label: String,
    /// When this copy was issued, Europe/London time.
    pub issued_at: String,
    /// Who it is about.
    pub patient: ReportPatient,
    /// What was asked for.
    pub request: ReportRequest,
    /// The specimens, in label order.
    pub specimens: Vec<ReportSpecimen>,
    /// One line per investigation, in the order booked.
    pub lines: Vec<ReportLine>,
    /// Every replaced version of a released result, oldest first.
    pub amendments: Vec<ReportAmendment>,
}

/// The patient's identifiers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportPatient {
    /// `FAMILY, Given`.
    pub name: String,
    /// 3-3-4 digits (`943 476 5919`), or "Not known".
    pub nhs_number: String,
    /// Local hospital numbers, each `number (issuer)`.
    pub hospital_numbers: Vec<String>,
    /// `31 Mar 1980`.
    pub date_of_birth: String,
    /// Administrative sex.
    pub sex: String,
}

/// The request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRequest {
    /// Accession number.
    pub accession: String,
    /// Requester's name and code.
    pub requester: String,
    /// Ward, clinic or practice.
    pub location: String,
    /// As written on the request, or "None given".
    pub clinical_details: String,
    /// Routine or urgent.
    pub priority: String,
    /// When booked in.
    pub booked_at: String,
    /// When the first specimen was received, if any was.
    pub received_at: Option<String>,
}

/// A specimen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportSpecimen {
    /// Printed specimen id.
    pub id: String,
    /// Specimen type and container.
    pub description: String,
    /// When collected, if recorded.
    pub collected_at: Option<String>,
    /// When received, if it was.
    pub received_at: Option<String>,
    /// The rejection: coded reason, then its text.
    pub rejection: Option<String>,
}

/// Who signed a result off, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignOff {
    /// Their name.
    pub by: String,
    /// When, Europe/London time.
    pub at: String,
}

/// One investigation of the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportLine {
    /// Investigation code.
    pub code: String,
    /// Investigation name.
    pub investigation: String,
    /// The authorised value with the catalogue's decimal places; none when
    /// the line is not reported.
    pub value: Option<String>,
    /// UCUM unit.
    pub unit: Option<String>,
    /// L, H, LL or HH.
    pub flag: Option<String>,
    /// The reference interval that applied, copied with the result.
    pub reference_interval: Option<String>,
    /// Authorised, Amended, To follow, or Specimen rejected.
    pub status: String,
    /// Why there is no value: "to follow" or "specimen rejected: reason".
    pub note: Option<String>,
    /// The result's comment and the calculated comment.
    pub comments: Vec<String>,
    /// Technical verification.
    pub verified: Option<SignOff>,
    /// Clinical authorisation.
    pub authorised: Option<SignOff>,
    /// The latest amendment.
    pub amended: Option<SignOff>,
}

/// A version of a released result that an amendment replaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportAmendment {
    /// Investigation code.
    pub code: String,
    /// Investigation name.
    pub investigation: String,
    /// The version replaced.
    pub version: i64,
    /// Its value and flag as reported then.
    pub previous_value: String,
    /// Why it was changed.
    pub reason: String,
    /// Who changed it.
    pub by: String,
    /// When.
    pub at: String,
}
