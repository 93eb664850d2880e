//! The demo department: staff of every role and a little work to look at,
//! so that a new user can try Benchwork at once. Later modules add their
//! demo data here.

use benchwork_domain::incident::{IncidentCategory, IncidentKind, NewIncident, Severity};
use benchwork_domain::staff::Role;
use benchwork_store::StoreError;

use crate::incidents::raise_validated;
use crate::staff::{AccountInput, create_account_unchecked, create_department_unchecked, operator};
use crate::{AppResult, Ctx};

/// The password of every demo account. Demo data only: never use a demo
/// data directory for real work.
pub const DEMO_PASSWORD: &str = "benchwork-demo";

/// A demo account as printed for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// Login name.
    pub username: &'static str,
    /// Full name.
    pub display_name: &'static str,
    /// Its role.
    pub role: Role,
    /// Department codes.
    pub departments: &'static [&'static str],
}

/// Every demo account: one per role in blood sciences, and an associate in
/// cardiac physiology who cannot see blood sciences' records.
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "apprentice",
        display_name: "Alex Apprentice",
        role: Role::Apprentice,
        departments: &["BLOOD"],
    },
    DemoAccount {
        username: "associate",
        display_name: "Asha Associate",
        role: Role::Associate,
        departments: &["BLOOD"],
    },
    DemoAccount {
        username: "practitioner",
        display_name: "Priya Practitioner",
        role: Role::Practitioner,
        departments: &["BLOOD"],
    },
    DemoAccount {
        username: "scientist",
        display_name: "Sam Scientist",
        role: Role::ClinicalScientist,
        departments: &["BLOOD"],
    },
    DemoAccount {
        username: "consultant",
        display_name: "Dr Chris Consultant",
        role: Role::Consultant,
        departments: &["BLOOD", "CARDIAC"],
    },
    DemoAccount {
        username: "quality",
        display_name: "Quinn Quality",
        role: Role::QualityManager,
        departments: &["BLOOD", "CARDIAC"],
    },
    DemoAccount {
        username: "manager",
        display_name: "Morgan Manager",
        role: Role::ServiceManager,
        departments: &["BLOOD", "CARDIAC"],
    },
    DemoAccount {
        username: "auditor",
        display_name: "Avery Auditor",
        role: Role::Auditor,
        departments: &["BLOOD", "CARDIAC"],
    },
    DemoAccount {
        username: "admin",
        display_name: "Ari Administrator",
        role: Role::Administrator,
        departments: &[],
    },
    DemoAccount {
        username: "cardiac.associate",
        display_name: "Casey Cardiac",
        role: Role::Associate,
        departments: &["CARDIAC"],
    },
];

/// Creates the demo department unless it exists. Returns whether it was
/// created now.
pub async fn seed(ctx: &Ctx) -> AppResult<bool> {
    match ctx.store.get_user_by_username("admin").await {
        Ok(_) => return Ok(false),
        Err(StoreError::NotFound) => {}
        Err(error) => return Err(error.into()),
    }
    let system = operator("demo");
    let blood = create_department_unchecked(ctx, &system, "BLOOD", "Blood sciences").await?;
    let cardiac =
        create_department_unchecked(ctx, &system, "CARDIAC", "Cardiac physiology").await?;
    let department_id = |code: &str| {
        if code == "BLOOD" {
            blood.id
        } else {
            cardiac.id
        }
    };
    for account in DEMO_ACCOUNTS {
        create_account_unchecked(
            ctx,
            &system,
            &AccountInput {
                username: account.username.into(),
                display_name: account.display_name.into(),
                kind: "person".into(),
                roles: vec![account.role.code().into()],
                departments: account
                    .departments
                    .iter()
                    .map(|code| department_id(code).to_string())
                    .collect(),
                password: DEMO_PASSWORD.into(),
            },
        )
        .await?;
    }
    create_account_unchecked(
        ctx,
        &system,
        &AccountInput {
            username: "analyser.chem1".into(),
            display_name: "Chemistry analyser 1 (interface)".into(),
            kind: "system".into(),
            roles: vec![],
            departments: vec![blood.id.to_string()],
            password: String::new(),
        },
    )
    .await?;

    let associate = crate::auth::actor_from(
        &ctx.store.get_user_by_username("associate").await?,
        Some("demo".into()),
    )?;
    raise_validated(
        ctx,
        &associate,
        blood.id,
        NewIncident::new(
            IncidentKind::NearMiss,
            IncidentCategory::Specimen,
            Severity::NoHarm,
            "Unlabelled serum sample received from ward 7",
            "A gold-top tube arrived with the request form but no patient label. It was caught at booking-in, \
             not analysed, and the ward was asked for a repeat sample.",
        )
        .map_err(|error| anyhow::anyhow!("{error}"))?,
        vec![],
    )
    .await?;
    let cardiac_associate = crate::auth::actor_from(
        &ctx.store.get_user_by_username("cardiac.associate").await?,
        Some("demo".into()),
    )?;
    raise_validated(
        ctx,
        &cardiac_associate,
        cardiac.id,
        NewIncident::new(
            IncidentKind::Incident,
            IncidentCategory::Equipment,
            Severity::Low,
            "ECG machine in clinic 2 printed traces with a flat lead II",
            "Lead II showed no signal on three patients; the recordings were repeated on the spare machine. \
             The machine has been taken out of use pending a fault check.",
        )
        .map_err(|error| anyhow::anyhow!("{error}"))?,
        vec![("Equipment".into(), "ECG-CL2".into(), "ECG machine, clinic 2".into())],
    )
    .await?;
    seed_patients(ctx).await?;
    Ok(true)
}

/// Synthetic demo patients. NHS numbers in the 999 range are not issued to
/// real people; names and addresses are invented.
pub const DEMO_PATIENTS: &[(&str, &str, &str, &str, &str, &str)] = &[
    // (NHS number, hospital number, family name, given name, date of birth, sex)
    (
        "9990000018",
        "RX1000001",
        "Okafor",
        "Grace",
        "1954-03-12",
        "female",
    ),
    (
        "9990000026",
        "RX1000002",
        "Hughes",
        "Daniel",
        "1988-11-02",
        "male",
    ),
    (
        "9990000034",
        "RX1000003",
        "Kaur",
        "Simran",
        "2012-07-21",
        "female",
    ),
    (
        "9990000042",
        "RX1000004",
        "Nowak",
        "Piotr",
        "1971-01-30",
        "male",
    ),
    ("", "RX1000099", "Hughes", "Daniel", "1988-11-02", "male"),
];

async fn seed_patients(ctx: &Ctx) -> AppResult<()> {
    let associate = crate::auth::actor_from(
        &ctx.store.get_user_by_username("associate").await?,
        Some("demo".into()),
    )?;
    for (nhs_number, hospital_number, family, given, dob, sex) in DEMO_PATIENTS {
        crate::patients::register(
            ctx,
            &associate,
            &crate::patients::PatientInput {
                nhs_number: (*nhs_number).into(),
                hospital_number: (*hospital_number).into(),
                hospital_authority: "RX1".into(),
                family_name: (*family).into(),
                given_name: (*given).into(),
                date_of_birth: (*dob).into(),
                sex: (*sex).into(),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
