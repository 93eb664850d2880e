//! The frame every page shares: title, the signed-in person, the
//! navigation by duty area, the anti-forgery token and a one-shot message.

use benchwork_app::Actor;
use benchwork_domain::staff::Permission;

use crate::session::SignedIn;

/// One item of the header navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Link text.
    pub label: &'static str,
    /// Path.
    pub href: &'static str,
    /// Whether this is the current section.
    pub current: bool,
}

/// The shared page frame.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The `<title>` and usually the `<h1>`.
    pub title: String,
    /// The signed-in person's name, or empty.
    pub user_name: String,
    /// Their main role.
    pub user_role: String,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// Header navigation.
    pub nav: Vec<NavItem>,
    /// A success message from the previous action.
    pub flash: Option<String>,
    /// Whether the page shows form errors (prefixes the title with "Error: ").
    pub has_errors: bool,
}

/// The sections of the application, by OCC0220 duty area. Only sections
/// that exist are shown; each module adds its own as it arrives.
fn navigation(actor: &Actor, section: &str) -> Vec<NavItem> {
    let mut items = vec![NavItem {
        label: "Work queue",
        href: "/",
        current: section == "home",
    }];
    items.push(NavItem {
        label: "Notifications",
        href: "/notifications",
        current: section == "notifications",
    });
    if actor.can(Permission::ViewPatients) {
        items.push(NavItem {
            label: "Patients",
            href: "/patients",
            current: section == "patients",
        });
    }
    if actor.can(Permission::ViewDepartmentRecords) {
        items.push(NavItem {
            label: "Requests",
            href: "/requests",
            current: section == "requests",
        });
    }
    if actor.can(Permission::ViewDepartmentRecords) {
        items.push(NavItem {
            label: "Turnaround",
            href: "/turnaround",
            current: section == "turnaround",
        });
        items.push(NavItem {
            label: "QC charts",
            href: "/qc/charts",
            current: section == "qc",
        });
    }
    if actor.can(Permission::EnterResults) {
        items.push(NavItem {
            label: "Worklists",
            href: "/worklists",
            current: section == "worklists",
        });
    }
    if actor.can(Permission::EnterResults) || actor.can(Permission::ManageInstruments) {
        items.push(NavItem {
            label: "Instruments",
            href: "/instruments",
            current: section == "instruments",
        });
    }
    if actor.can(Permission::RecordQc) || actor.can(Permission::ViewDepartmentRecords) {
        items.push(NavItem {
            label: "Quality control",
            href: "/qc",
            current: section == "qc",
        });
    }
    if actor.can(Permission::ViewCatalogue) {
        items.push(NavItem {
            label: "Catalogue",
            href: "/catalogue",
            current: section == "catalogue",
        });
    }
    if actor.can(Permission::ViewDepartmentRecords) || actor.can(Permission::RaiseIncident) {
        items.push(NavItem {
            label: "Incidents and nonconformities",
            href: "/incidents",
            current: section == "incidents",
        });
    }
    if actor.can(Permission::ViewStaff) {
        items.push(NavItem {
            label: "Staff",
            href: "/staff",
            current: section == "staff",
        });
    }
    if actor.can(Permission::ViewAuditTrail) {
        items.push(NavItem {
            label: "Audit trail",
            href: "/audit",
            current: section == "audit",
        });
    }
    items
}

impl Page {
    /// The frame for a signed-in page in `section`.
    pub fn new(
        title: impl Into<String>,
        signed_in: &SignedIn,
        section: &str,
        flash: Option<String>,
    ) -> Page {
        let actor = signed_in.actor();
        Page {
            title: title.into(),
            user_name: actor.display_name.clone(),
            user_role: actor
                .roles
                .iter()
                .map(|role| role.label())
                .collect::<Vec<_>>()
                .join(", "),
            csrf: signed_in.0.csrf_token.clone(),
            nav: navigation(actor, section),
            flash,
            has_errors: false,
        }
    }

    /// The frame for a page shown to someone not signed in.
    pub fn anonymous(title: impl Into<String>, csrf: String) -> Page {
        Page {
            title: title.into(),
            csrf,
            ..Page::default()
        }
    }

    /// Marks the page as showing form errors.
    pub fn with_errors(mut self, has_errors: bool) -> Page {
        self.has_errors = has_errors;
        self
    }
}
