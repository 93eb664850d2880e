//! The Benchwork laboratory model: validated value types and the rules that
//! decide what may happen to them.
//!
//! Main types: [`staff::Role`] and [`staff::Permission`] (who may do what),
//! [`staff::Username`] and [`staff::NewPassword`] (validated account input),
//! [`audit::AuditEvent`] with [`audit::ChainVerifier`] (the tamper-evident
//! audit trail), [`incident::NewIncident`] and [`incident::IncidentStatus`]
//! (incidents and nonconformities), [`session::SessionPolicy`] and
//! [`session::ThrottlePolicy`] (sign-in rules), [`job::RetryPolicy`],
//! [`patient::NhsNumber`], [`patient::PersonName`] and
//! [`patient::DateOfBirth`] with [`patient::two_identifiers_match`] (patient
//! identity and positive identification), [`calculation::egfr_ckd_epi_2009`]
//! and [`calculation::AdjustedCalciumFormula`] (calculated results),
//! [`reference::ReferenceInterval`] with [`reference::select_interval`],
//! [`reference::Flag`] and [`reference::DeltaRule`] (flags and delta checks),
//! [`consent::may_proceed`] (consent), [`request::AccessionNumber`] and
//! [`request::SpecimenStatus`] (requests and the chain of custody),
//! [`result::parse_value`] (result entry) and
//! [`barcode::code128b_svg`] (specimen labels).
//!
//! Architecture invariant: this crate does no I/O and never reads the clock;
//! the current time is always an argument.
#![warn(missing_docs)]

pub mod audit;
pub mod barcode;
pub mod calculation;
pub mod catalogue;
pub mod consent;
pub mod ids;
pub mod incident;
pub mod job;
pub mod patient;
pub mod reference;
pub mod request;
pub mod result;
pub mod result_state;
pub mod session;
pub mod staff;
pub mod time;
