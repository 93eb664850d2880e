//! Staff accounts, roles and the permissions each role carries.
//!
//! Roles follow the NHS healthcare-science career framework (DOMAIN.md 2.1).
//! A person may hold several roles; their permissions are the union. The
//! mapping from role to permission mirrors a typical scheme of delegation and
//! is checked on the server for every route.

use std::collections::BTreeSet;

/// A role a person holds in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Apprentice or trainee: works under supervision.
    Apprentice,
    /// Healthcare science associate (OCC0220, band 4).
    Associate,
    /// Biomedical scientist, clinical physiologist or technologist (band 5-6).
    Practitioner,
    /// HCPC-registered clinical scientist (band 7+).
    ClinicalScientist,
    /// Medical consultant or consultant clinical scientist.
    Consultant,
    /// Runs the quality management system.
    QualityManager,
    /// Manages the service and its staff.
    ServiceManager,
    /// Reads everything, changes nothing.
    Auditor,
    /// Manages accounts and system settings.
    Administrator,
}

impl Role {
    /// Every role, in the order they are shown.
    pub const ALL: [Role; 9] = [
        Role::Apprentice,
        Role::Associate,
        Role::Practitioner,
        Role::ClinicalScientist,
        Role::Consultant,
        Role::QualityManager,
        Role::ServiceManager,
        Role::Auditor,
        Role::Administrator,
    ];

    /// The stable code stored in the database and used in the API.
    pub fn code(self) -> &'static str {
        match self {
            Role::Apprentice => "apprentice",
            Role::Associate => "associate",
            Role::Practitioner => "practitioner",
            Role::ClinicalScientist => "clinical-scientist",
            Role::Consultant => "consultant",
            Role::QualityManager => "quality-manager",
            Role::ServiceManager => "service-manager",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Apprentice => "Apprentice or trainee",
            Role::Associate => "Healthcare science associate",
            Role::Practitioner => "Practitioner",
            Role::ClinicalScientist => "Clinical scientist",
            Role::Consultant => "Consultant",
            Role::QualityManager => "Quality manager",
            Role::ServiceManager => "Service manager",
            Role::Auditor => "Auditor (read only)",
            Role::Administrator => "Administrator",
        }
    }

    /// Parses a role code.
    pub fn parse(code: &str) -> Result<Role, StaffError> {
        Role::ALL
            .into_iter()
            .find(|role| role.code() == code.trim())
            .ok_or_else(|| StaffError::UnknownRole(code.trim().to_owned()))
    }

    /// What this role may do.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Apprentice => &[
                RaiseIncident,
                ViewDepartmentRecords,
                ViewPatients,
                RegisterPatients,
                ViewCatalogue,
                BookRequests,
                EnterResults,
                RecordQc,
            ],
            Role::Associate => &[
                RaiseIncident,
                ViewDepartmentRecords,
                ViewPatients,
                RegisterPatients,
                ViewCatalogue,
                BookRequests,
                EnterResults,
                VerifyResults,
                RecordQc,
            ],
            Role::Practitioner => &[
                RaiseIncident,
                ViewDepartmentRecords,
                ManageIncidents,
                ViewPatients,
                RegisterPatients,
                MergePatients,
                ViewCatalogue,
                BookRequests,
                EnterResults,
                VerifyResults,
                AuthoriseResults,
                ManageInstruments,
                RecordQc,
                ManageQc,
                ReleaseQcHold,
            ],
            Role::ClinicalScientist | Role::Consultant => &[
                RaiseIncident,
                ViewDepartmentRecords,
                ManageIncidents,
                ViewPatients,
                RegisterPatients,
                MergePatients,
                ViewCatalogue,
                EditCatalogue,
                BookRequests,
                EnterResults,
                VerifyResults,
                AuthoriseResults,
                ManageInstruments,
                RecordQc,
                ManageQc,
                ReleaseQcHold,
                ApproveAlertLimits,
            ],
            Role::QualityManager => &[
                RaiseIncident,
                ViewDepartmentRecords,
                ManageIncidents,
                ViewAuditTrail,
                ViewPatients,
                ViewCatalogue,
                EditCatalogue,
                ManageInstruments,
                ManageQc,
            ],
            Role::ServiceManager => &[
                RaiseIncident,
                ViewDepartmentRecords,
                ManageIncidents,
                ViewAuditTrail,
                ViewStaff,
                ViewCatalogue,
            ],
            Role::Auditor => &[
                ViewDepartmentRecords,
                ViewAuditTrail,
                ViewStaff,
                ViewPatients,
                ViewCatalogue,
            ],
            Role::Administrator => &[ViewStaff, ManageStaff],
        }
    }
}

/// Something a person may be allowed to do. Checked on the server for every
/// route; the web pages only hide what the server would refuse anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Read the work records (incidents, and later requests, QC, equipment)
    /// of the departments the person belongs to.
    ViewDepartmentRecords,
    /// Raise an incident or nonconformity. A safety action: never gated by
    /// competence, only refused to read-only roles.
    RaiseIncident,
    /// Assign, investigate and close incidents.
    ManageIncidents,
    /// Find patients and read their records (every read is audited).
    ViewPatients,
    /// Register patients and correct their details.
    RegisterPatients,
    /// Merge duplicate patient records (hazard H01: a wrong merge files
    /// results to the wrong patient, so only practitioners and above).
    MergePatients,
    /// Read and export the audit trail, and check its integrity.
    ViewAuditTrail,
    /// See the staff list.
    ViewStaff,
    /// Create, change and disable accounts, reset passwords, issue API tokens.
    ManageStaff,
    /// Read the investigation catalogue (organisation-wide): everyone who
    /// works with investigations or audits them, not administrators, who
    /// manage accounts only.
    ViewCatalogue,
    /// Create investigations and panels and edit them, each edit a new
    /// version (approval of reference intervals and critical limits is a
    /// clinical act: clinical scientists, consultants, quality managers).
    EditCatalogue,
    /// Record consent, book requests in and handle specimens (receive,
    /// accept, reject, store, dispose): apprentices, associates and up.
    BookRequests,
    /// Enter results on a worklist (apprentices too until supervision
    /// arrives with the competence module).
    EnterResults,
    /// Technically verify results of the person's departments (associates
    /// within their authorised scope, practitioners and above; not
    /// apprentices, whose verification needs countersignature).
    VerifyResults,
    /// Clinically authorise and release results, and amend released
    /// results: practitioners, clinical scientists and consultants.
    AuthoriseResults,
    /// Add instruments to the department's register and correct their
    /// name, discipline and location: practitioners (who run the benches),
    /// clinical scientists, consultants and quality managers (who keep the
    /// equipment inventory, ISO 15189 6.4). Not a catalogue change: it
    /// approves no interval or limit.
    ManageInstruments,
    /// Run QC and record its values (the run is judged by the Westgard
    /// rules as it is recorded): everyone who enters patient results.
    RecordQc,
    /// Set up QC materials, lots, targets and the Westgard rules of an
    /// investigation on an instrument: practitioners, clinical scientists,
    /// consultants and quality managers.
    ManageQc,
    /// Record corrective action after a rejected QC run, release the hold on
    /// patient results and decide each held result (re-run, release with a
    /// reason, withdraw; confirm or recall those already released): the
    /// people who authorise results.
    ReleaseQcHold,
    /// Approve a proposed version of an investigation's alert (critical)
    /// limits so that result entry uses it: a clinical lead (clinical
    /// scientist or consultant), never the person who proposed it.
    ApproveAlertLimits,
}

/// The union of the permissions of a set of roles.
pub fn permissions_of(roles: &[Role]) -> BTreeSet<Permission> {
    roles
        .iter()
        .flat_map(|role| role.permissions().iter().copied())
        .collect()
}

/// Whether an account is a person or a system identity (an interface or an
/// instrument), so that every automatic action still has an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// A member of staff who signs in with a password.
    Person,
    /// An interface or instrument: acts only through API tokens.
    System,
}

impl AccountKind {
    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            AccountKind::Person => "person",
            AccountKind::System => "system",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Result<AccountKind, StaffError> {
        match code {
            "person" => Ok(AccountKind::Person),
            "system" => Ok(AccountKind::System),
            other => Err(StaffError::UnknownAccountKind(other.to_owned())),
        }
    }
}

/// Why account input was refused. Messages are shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    /// The username is empty, too long or has characters we do not allow.
    #[error(
        "enter a username of 2 to 64 characters using lowercase letters, numbers, dots, hyphens or underscores, starting with a letter"
    )]
    InvalidUsername,
    /// The display name is empty or too long.
    #[error("enter the person's full name (up to 100 characters)")]
    InvalidDisplayName,
    /// The password is too short.
    #[error("password must be at least {min} characters long")]
    PasswordTooShort {
        /// The minimum length.
        min: usize,
    },
    /// The password is too long to hash sensibly.
    #[error("password must be at most {max} characters long")]
    PasswordTooLong {
        /// The maximum length.
        max: usize,
    },
    /// The password contains the username.
    #[error("password must not contain the username")]
    PasswordContainsUsername,
    /// The password is one character repeated.
    #[error("password must not be a single character repeated")]
    PasswordRepeated,
    /// A role code that does not exist.
    #[error("unknown role '{0}'")]
    UnknownRole(String),
    /// An account kind code that does not exist.
    #[error("unknown account kind '{0}'")]
    UnknownAccountKind(String),
    /// A person must hold at least one role.
    #[error("select at least one role")]
    NoRole,
}

/// A validated login name: 2 to 64 characters, lowercase ASCII letters,
/// digits, `.`, `-` or `_`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Validates a username. Surrounding spaces are removed and letters are
    /// lowered, so `" J.Smith "` becomes `j.smith`.
    pub fn parse(text: &str) -> Result<Username, StaffError> {
        let name = text.trim().to_ascii_lowercase();
        let valid_length = (2..=64).contains(&name.len());
        let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
        if valid_length && starts_with_letter && valid_chars {
            Ok(Username(name))
        } else {
            Err(StaffError::InvalidUsername)
        }
    }

    /// The username as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as shown in the header, on reports and in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates a display name: 1 to 100 characters after trimming, no
    /// control characters.
    pub fn parse(text: &str) -> Result<DisplayName, StaffError> {
        let name = text.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(StaffError::InvalidDisplayName);
        }
        Ok(DisplayName(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy. Length is what matters (NCSC password
/// guidance): at least 12 characters, no composition rules, not the username.
pub struct NewPassword(String);

impl NewPassword {
    /// The minimum length in characters.
    pub const MIN_CHARS: usize = 12;
    /// The maximum length in characters.
    pub const MAX_CHARS: usize = 256;

    /// Checks a proposed password for `username`.
    pub fn parse(text: &str, username: &Username) -> Result<NewPassword, StaffError> {
        let n_chars = text.chars().count();
        if n_chars < Self::MIN_CHARS {
            return Err(StaffError::PasswordTooShort {
                min: Self::MIN_CHARS,
            });
        }
        if n_chars > Self::MAX_CHARS {
            return Err(StaffError::PasswordTooLong {
                max: Self::MAX_CHARS,
            });
        }
        if text.to_lowercase().contains(username.as_str()) {
            return Err(StaffError::PasswordContainsUsername);
        }
        let mut chars = text.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(StaffError::PasswordRepeated);
        }
        Ok(NewPassword(text.to_owned()))
    }

    /// The password text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_username(input: &str, expected: Option<&str>) {
        assert_eq!(
            Username::parse(input).ok().as_ref().map(Username::as_str),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn usernames_are_trimmed_and_lowered() {
        check_username(" J.Smith ", Some("j.smith"));
    }
    #[test]
    fn a_one_letter_username_is_refused() {
        check_username("j", None);
    }
    #[test]
    fn a_username_starting_with_a_digit_is_refused() {
        check_username("1abc", None);
    }
    #[test]
    fn a_username_with_spaces_inside_is_refused() {
        check_username("jo smith", None);
    }
    #[test]
    fn a_username_with_sql_is_refused() {
        check_username("a';drop table x", None);
    }
    #[test]
    fn a_sixty_five_character_username_is_refused() {
        check_username(&"a".repeat(65), None);
    }

    #[test]
    fn a_short_password_is_refused() {
        let username = Username::parse("asmith").unwrap();
        assert_eq!(
            NewPassword::parse("short pass", &username).unwrap_err(),
            StaffError::PasswordTooShort { min: 12 }
        );
    }

    #[test]
    fn a_password_containing_the_username_is_refused() {
        let username = Username::parse("asmith").unwrap();
        assert_eq!(
            NewPassword::parse("my ASmith password", &username).unwrap_err(),
            StaffError::PasswordContainsUsername
        );
    }

    #[test]
    fn a_repeated_character_password_is_refused() {
        let username = Username::parse("asmith").unwrap();
        assert_eq!(
            NewPassword::parse("aaaaaaaaaaaaaaa", &username).unwrap_err(),
            StaffError::PasswordRepeated
        );
    }

    #[test]
    fn a_long_passphrase_is_accepted() {
        let username = Username::parse("asmith").unwrap();
        assert!(NewPassword::parse("correct horse battery staple", &username).is_ok());
    }

    #[test]
    fn the_auditor_can_change_nothing() {
        let permissions = permissions_of(&[Role::Auditor]);
        assert!(!permissions.contains(&Permission::RaiseIncident));
        assert!(!permissions.contains(&Permission::ManageIncidents));
        assert!(!permissions.contains(&Permission::ManageStaff));
    }

    #[test]
    fn permissions_of_several_roles_are_their_union() {
        let permissions = permissions_of(&[Role::Associate, Role::Administrator]);
        assert!(permissions.contains(&Permission::RaiseIncident));
        assert!(permissions.contains(&Permission::ManageStaff));
    }

    #[test]
    fn only_clinical_scientists_consultants_and_quality_managers_edit_the_catalogue() {
        for role in Role::ALL {
            assert_eq!(
                role.permissions().contains(&Permission::EditCatalogue),
                matches!(
                    role,
                    Role::ClinicalScientist | Role::Consultant | Role::QualityManager
                ),
                "{role:?}"
            );
        }
    }

    #[test]
    fn practitioners_and_up_and_quality_managers_manage_instruments() {
        for role in Role::ALL {
            assert_eq!(
                role.permissions().contains(&Permission::ManageInstruments),
                matches!(
                    role,
                    Role::Practitioner
                        | Role::ClinicalScientist
                        | Role::Consultant
                        | Role::QualityManager
                ),
                "{role:?}"
            );
        }
    }

    #[test]
    fn everyone_but_the_administrator_reads_the_catalogue() {
        for role in Role::ALL {
            assert_eq!(
                role.permissions().contains(&Permission::ViewCatalogue),
                role != Role::Administrator,
                "{role:?}"
            );
        }
    }

    #[test]
    fn every_role_code_parses_back() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()).unwrap(), role);
        }
    }
}
