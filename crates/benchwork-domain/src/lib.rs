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

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub ::uuid::Uuid);

        impl $name {
            /// Parses the hyphenated text form.
            pub fn parse(text: &str) -> Result<Self, uuid::Error> {
                ::uuid::Uuid::parse_str(text.trim()).map(Self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used in the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Parses a code.
            pub fn parse(code: &str) -> Option<$name> {
                match code.trim() { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

pub mod audit;
pub mod barcode;
pub mod calculation;
pub mod catalogue;
pub mod comment;
pub mod consent;
pub mod critical;
pub mod ids;
pub mod incident;
pub mod job;
pub mod patient;
pub mod qc_hold;
pub mod qc_stats;
pub mod reference;
pub mod report;
pub mod request;
pub mod request_status;
pub mod result;
pub mod result_state;
pub mod session;
pub mod staff;
pub mod time;
pub mod turnaround;
pub mod units;
pub mod westgard;
// Issue 6 item 1: alert (critical) limits.
pub mod alert_limits;
