//! Wire formats and their mapping to `benchwork-domain`: today the FHIR R4
//! `AuditEvent` export of the audit trail; HL7 v2 and the laboratory FHIR
//! resources arrive with the interfaces issue.
//!
//! Architecture invariant: this is the only crate that knows FHIR or HL7
//! wire formats; domain types never derive `Serialize` for the wire.

pub mod fhir;
