//! Wire formats and their mapping to `benchwork-domain`: today the FHIR R4
//! `AuditEvent` export of the audit trail, and HL7 v2 (parsing, writing,
//! acknowledgements, MLLP framing); the laboratory FHIR resources arrive
//! with the rest of the interfaces issue.
//!
//! Architecture invariant: this is the only crate that knows FHIR or HL7
//! wire formats; domain types never derive `Serialize` for the wire.

pub mod fhir;
pub mod hl7v2;
