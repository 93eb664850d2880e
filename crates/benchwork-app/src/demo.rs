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
    seed_catalogue(ctx).await?;
    seed_alert_limits(ctx).await?;
    seed_requests(ctx).await?;
    let mut seeder = operator("demo");
    seeder.roles = vec![Role::ClinicalScientist];
    seeder.departments = vec![blood.id, cardiac.id];
    for (department, name, discipline, location) in DEMO_INSTRUMENTS {
        crate::results::create_instrument(
            ctx,
            &seeder,
            &crate::results::InstrumentInput {
                department: department_id(department).to_string(),
                name: (*name).into(),
                discipline: (*discipline).into(),
                location: (*location).into(),
            },
        )
        .await?;
    }
    // Issue 4: QC set-up and history on the chemistry analyser.
    crate::qc::seed_demo(ctx).await?;
    for department in [blood.id, cardiac.id] {
        for (code, text) in DEMO_COMMENTS {
            crate::comments::add_to_library(
                ctx,
                &seeder,
                &crate::comments::CommentCodeInput {
                    department: department.to_string(),
                    code: (*code).into(),
                    text: (*text).into(),
                },
            )
            .await?;
        }
    }
    Ok(true)
}

/// Two demo requests in BLOOD for Grace Okafor, booked in by the demo
/// associate: urea and electrolytes with a full blood count (two
/// specimens, the serum one received), and an urgent CRP.
async fn seed_requests(ctx: &Ctx) -> AppResult<()> {
    let associate = crate::auth::actor_from(
        &ctx.store.get_user_by_username("associate").await?,
        Some("demo".into()),
    )?;
    let (nhs_number, _, family, given, dob, _) = DEMO_PATIENTS[0];
    let patient = ctx
        .store
        .search_patients(
            &benchwork_store::PatientSearch {
                nhs_number: Some(nhs_number.into()),
                ..Default::default()
            },
            1,
        )
        .await?
        .into_iter()
        .next()
        .ok_or(crate::AppError::NotFound)?;
    let identity = crate::patients::PatientInput {
        nhs_number: nhs_number.into(),
        family_name: family.into(),
        given_name: given.into(),
        date_of_birth: dob.into(),
        ..Default::default()
    };
    let booking = |priority: &str,
                   clinical_details: &str,
                   panels: &[&str],
                   investigations: &[&str]| crate::requests::BookingInput {
        identity: identity.clone(),
        department: String::new(),
        priority: priority.into(),
        requester_name: "Dr A Patel".into(),
        requester_code: "C1234567".into(),
        location: "Ward 7 (acute medicine)".into(),
        setting: "inpatient".into(),
        clinical_details: clinical_details.into(),
        investigations: investigations
            .iter()
            .map(|code| (*code).to_owned())
            .collect(),
        panels: panels.iter().map(|code| (*code).to_owned()).collect(),
    };
    let first = crate::requests::book(
        ctx,
        &associate,
        patient.id,
        &booking("routine", "Lethargy; on furosemide", &["UE", "FBC"], &[]),
    )
    .await?;
    let serum = first.specimen_id(1);
    for step in ["collected", "received"] {
        crate::requests::record_step(ctx, &associate, &serum, step, "", "").await?;
    }
    crate::requests::book(
        ctx,
        &associate,
        patient.id,
        &booking("urgent", "Pyrexia, ?sepsis", &[], &["CRP"]),
    )
    .await?;
    Ok(())
}

/// The demo instruments: (department code, name, discipline, location).
pub const DEMO_INSTRUMENTS: &[(&str, &str, &str, &str)] = &[
    (
        "BLOOD",
        "Chemistry analyser 1",
        "blood-sciences",
        "Blood sciences core lab, bay 1",
    ),
    (
        "BLOOD",
        "Haematology analyser 1",
        "haematology",
        "Blood sciences core lab, bay 3",
    ),
    (
        "CARDIAC",
        "ECG cart clinic 2",
        "cardiac-physiology",
        "Cardiac physiology, clinic room 2",
    ),
];

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

/// One investigation of the demo catalogue, as a row of a table.
#[derive(Debug, Clone, Copy)]
pub struct DemoInvestigation {
    /// Code.
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// LOINC code (SI-unit code where LOINC has one), or empty.
    pub loinc: &'static str,
    /// Discipline code.
    pub discipline: &'static str,
    /// Method.
    pub method: &'static str,
    /// UCUM unit.
    pub unit: &'static str,
    /// Decimal places.
    pub decimal_places: u8,
    /// Reportable range (low, high).
    pub reportable: (f64, f64),
    /// (Specimen type, container); both empty for no specimen.
    pub specimen: (&'static str, &'static str),
    /// Turnaround targets in minutes (routine, urgent).
    pub tat: (u32, u32),
    /// Adult reference intervals: (sex or empty for any, low, high), all
    /// from 18 years.
    pub intervals: &'static [(&'static str, Option<f64>, Option<f64>)],
    /// Where the intervals come from.
    pub interval_source: &'static str,
    /// Critical limits (low, high), from DOMAIN.md 4.1.
    pub critical: (Option<f64>, Option<f64>),
    /// A note added to the critical-limit source, or empty.
    pub critical_note: &'static str,
    /// Competency code.
    pub competency: &'static str,
    /// SOP code.
    pub sop: &'static str,
}

/// The source every demo critical limit carries.
pub const DEMO_CRITICAL_SOURCE: &str =
    "RCPath G158 (2017), as published by UK trusts — demo only, approve locally before use";

const HARMONY: &str = "Pathology Harmony adult reference interval";
const SERUM: (&str, &str) = ("Serum", "Serum gel (gold top)");
const EDTA: (&str, &str) = ("Whole blood", "EDTA (lavender top)");
const CITRATE: (&str, &str) = ("Plasma", "Sodium citrate 3.2% (light blue top)");
const NO_SPECIMEN: (&str, &str) = ("", "");
const CHEMISTRY_TAT: (u32, u32) = (240, 60);

macro_rules! demo {
    ($code:literal, $name:literal, $loinc:literal, $discipline:literal, $method:literal, $unit:literal, $dp:literal,
     $reportable:expr, $specimen:expr, $tat:expr, $intervals:expr, $source:expr, $critical:expr, $note:literal,
     $competency:literal, $sop:literal) => {
        DemoInvestigation {
            code: $code,
            name: $name,
            loinc: $loinc,
            discipline: $discipline,
            method: $method,
            unit: $unit,
            decimal_places: $dp,
            reportable: $reportable,
            specimen: $specimen,
            tat: $tat,
            intervals: $intervals,
            interval_source: $source,
            critical: $critical,
            critical_note: $note,
            competency: $competency,
            sop: $sop,
        }
    };
}

/// The demo catalogue: a typical UK adult repertoire. Reference intervals
/// are Pathology Harmony's where it has one, otherwise the source says what
/// they are; every value is a demo default for a laboratory to replace with
/// its own approved ones.
#[rustfmt::skip]
pub const DEMO_CATALOGUE: &[DemoInvestigation] = &[
    // code, name, LOINC, discipline, method, unit, decimal places, reportable range, specimen, TAT,
    // adult intervals, their source, critical limits, note on the critical source, competency, SOP.
    demo!("NA", "Sodium", "2951-2", "blood-sciences", "Indirect ion-selective electrode", "mmol/L", 0, (80.0, 200.0), SERUM, CHEMISTRY_TAT, &[("", Some(133.0), Some(146.0))], HARMONY, (Some(120.0), Some(160.0)), "", "BS-CHEM-AUTO", "SOP-BS-010"),
    demo!("K", "Potassium", "2823-3", "blood-sciences", "Indirect ion-selective electrode", "mmol/L", 1, (1.0, 10.0), SERUM, CHEMISTRY_TAT, &[("", Some(3.5), Some(5.3))], HARMONY, (Some(2.5), Some(6.5)), "", "BS-CHEM-AUTO", "SOP-BS-010"),
    demo!("UREA", "Urea", "22664-7", "blood-sciences", "Urease / glutamate dehydrogenase (kinetic UV)", "mmol/L", 1, (0.5, 100.0), SERUM, CHEMISTRY_TAT, &[("", Some(2.5), Some(7.8))], HARMONY, (None, Some(30.0)), "", "BS-CHEM-AUTO", "SOP-BS-011"),
    demo!("CREA", "Creatinine", "14682-9", "blood-sciences", "Enzymatic, IDMS-traceable", "umol/L", 0, (5.0, 2500.0), SERUM, CHEMISTRY_TAT, &[("male", Some(59.0), Some(104.0)), ("female", Some(45.0), Some(84.0))], "Manufacturer's adult interval for the enzymatic IDMS-traceable method, as used by UK laboratories", (None, Some(354.0)), " AKI alerts are handled separately.", "BS-CHEM-AUTO", "SOP-BS-011"),
    demo!("EGFR", "eGFR (CKD-EPI 2009)", "62238-1", "blood-sciences", "Calculated from creatinine, age and sex: CKD-EPI 2009 creatinine equation without the race coefficient (NICE NG203)", "mL/min/{1.73_m2}", 0, (1.0, 200.0), SERUM, CHEMISTRY_TAT, &[("", Some(90.0), None)], "KDIGO 2012 G1 (normal or high) is 90 or more; reported as >90 above 90 as UK laboratories do (NICE NG203). 60-89 without other markers of kidney damage is not CKD — demo only, approve locally", (None, None), "", "BS-CHEM-AUTO", "SOP-BS-011"),
    demo!("ALB", "Albumin", "1751-7", "blood-sciences", "Bromocresol green", "g/L", 0, (5.0, 70.0), SERUM, CHEMISTRY_TAT, &[("", Some(35.0), Some(50.0))], HARMONY, (None, None), "", "BS-CHEM-AUTO", "SOP-BS-012"),
    demo!("CA", "Calcium (total)", "2000-8", "blood-sciences", "Arsenazo III", "mmol/L", 2, (0.5, 5.0), SERUM, CHEMISTRY_TAT, &[("", Some(2.2), Some(2.6))], "Pathology Harmony adult interval (quoted for adjusted calcium; total calcium is read with albumin)", (None, None), "", "BS-CHEM-AUTO", "SOP-BS-013"),
    demo!("ACA", "Adjusted calcium", "29265-6", "blood-sciences", "Calculated from total calcium and albumin: Ca + 0.02 × (40 − albumin) (Payne); local regression to be confirmed", "mmol/L", 2, (0.5, 5.0), SERUM, CHEMISTRY_TAT, &[("", Some(2.2), Some(2.6))], "Pathology Harmony adult interval for albumin-adjusted calcium — demo only: a clinical lead must approve it and the local adjustment equation", (Some(1.8), Some(3.5)), " Adjusted calcium 1.8 mmol/L or less, 3.5 or more: a clinical lead must approve these limits.", "BS-CHEM-AUTO", "SOP-BS-013"),
    demo!("PHOS", "Phosphate", "14879-1", "blood-sciences", "Phosphomolybdate (UV)", "mmol/L", 2, (0.1, 6.0), SERUM, CHEMISTRY_TAT, &[("", Some(0.8), Some(1.5))], HARMONY, (Some(0.3), None), "", "BS-CHEM-AUTO", "SOP-BS-013"),
    demo!("MG", "Magnesium", "19123-9", "blood-sciences", "Xylidyl blue", "mmol/L", 2, (0.1, 4.0), SERUM, CHEMISTRY_TAT, &[("", Some(0.7), Some(1.0))], HARMONY, (Some(0.4), None), "", "BS-CHEM-AUTO", "SOP-BS-013"),
    demo!("ALP", "Alkaline phosphatase", "6768-6", "blood-sciences", "IFCC, AMP buffer", "U/L", 0, (5.0, 1200.0), SERUM, CHEMISTRY_TAT, &[("", Some(30.0), Some(130.0))], HARMONY, (None, None), "", "BS-CHEM-AUTO", "SOP-BS-014"),
    demo!("ALT", "Alanine aminotransferase", "1742-6", "blood-sciences", "IFCC without pyridoxal phosphate", "U/L", 0, (5.0, 1000.0), SERUM, CHEMISTRY_TAT, &[("", None, Some(40.0))], "Typical UK adult upper limit; method-specific and not harmonised: approve locally", (None, Some(600.0)), " 15 × the upper limit of normal (40 U/L).", "BS-CHEM-AUTO", "SOP-BS-014"),
    demo!("BILI", "Bilirubin (total)", "14631-6", "blood-sciences", "Diazo", "umol/L", 0, (2.0, 600.0), SERUM, CHEMISTRY_TAT, &[("", None, Some(20.0))], "Pathology Harmony adult reference interval (< 21 umol/L, reported to whole numbers)", (None, None), "", "BS-CHEM-AUTO", "SOP-BS-014"),
    demo!("GLU", "Glucose (fasting)", "14749-6", "blood-sciences", "Hexokinase", "mmol/L", 1, (0.5, 40.0), ("Plasma", "Fluoride oxalate (grey top)"), CHEMISTRY_TAT, &[("", Some(3.5), Some(6.0))], "Fasting adult interval; WHO 2006: fasting 7.0 mmol/L or more is consistent with diabetes", (Some(2.5), Some(25.0)), "", "BS-CHEM-AUTO", "SOP-BS-015"),
    demo!("CK", "Creatine kinase", "2157-6", "blood-sciences", "IFCC, NAC-activated", "U/L", 0, (10.0, 2000.0), SERUM, CHEMISTRY_TAT, &[("male", Some(40.0), Some(320.0)), ("female", Some(25.0), Some(200.0))], HARMONY, (None, Some(5000.0)), " Above the reportable range: measured after dilution.", "BS-CHEM-AUTO", "SOP-BS-016"),
    demo!("AMY", "Amylase", "1798-8", "blood-sciences", "Enzymatic (EPS substrate), IFCC", "U/L", 0, (5.0, 1500.0), SERUM, CHEMISTRY_TAT, &[("", Some(28.0), Some(100.0))], "Manufacturer's adult interval; method-specific: approve locally", (None, Some(500.0)), " 5 × the upper limit of normal (100 U/L).", "BS-CHEM-AUTO", "SOP-BS-016"),
    demo!("CRP", "C-reactive protein", "1988-5", "blood-sciences", "Immunoturbidimetric", "mg/L", 0, (1.0, 400.0), SERUM, CHEMISTRY_TAT, &[("", None, Some(4.0))], "Common UK adult interval (< 5 mg/L, reported to whole numbers)", (None, Some(300.0)), " Applies to GP and primary-care requests only.", "BS-CHEM-AUTO", "SOP-BS-017"),
    demo!("TROP", "Troponin T (high-sensitivity)", "67151-1", "blood-sciences", "Electrochemiluminescence immunoassay (hs-cTnT)", "ng/L", 0, (3.0, 10000.0), SERUM, (60, 60), &[("", None, Some(14.0))], "Manufacturer's 99th centile of a healthy population; the local 99th centile and rule-in/rule-out pathway (NICE DG40) decide interpretation", (None, None), "", "BS-CHEM-AUTO", "SOP-BS-018"),
    demo!("TSH", "Thyroid-stimulating hormone", "3016-3", "blood-sciences", "Electrochemiluminescence immunoassay", "mU/L", 2, (0.01, 100.0), SERUM, (1440, 240), &[("", Some(0.27), Some(4.2))], "Manufacturer's adult interval: method-specific, not harmonised; confirm locally", (None, None), "", "BS-IMM-AUTO", "SOP-BS-020"),
    demo!("HBA1C", "HbA1c (IFCC)", "59261-8", "blood-sciences", "HPLC, IFCC-calibrated", "mmol/mol", 0, (20.0, 195.0), EDTA, (4320, 1440), &[("", None, Some(41.0))], "Non-diabetic below 42 mmol/mol; 42-47 increased risk (NICE PH38); 48 or more supports a diagnosis of diabetes (WHO 2011)", (None, None), "", "BS-HBA1C", "SOP-BS-021"),
    demo!("HB", "Haemoglobin", "718-7", "haematology", "Automated haematology analyser, SLS haemoglobin", "g/L", 0, (20.0, 250.0), EDTA, (240, 60), &[("male", Some(130.0), Some(180.0)), ("female", Some(115.0), Some(165.0))], "UK adult interval (BSH / Pathology Harmony haematology)", (None, None), "", "HA-FBC", "SOP-HA-001"),
    demo!("WBC", "White cell count", "6690-2", "haematology", "Automated haematology analyser, flow cytometry", "10*9/L", 1, (0.1, 400.0), EDTA, (240, 60), &[("", Some(4.0), Some(11.0))], "UK adult interval (BSH / Pathology Harmony haematology)", (None, None), "", "HA-FBC", "SOP-HA-001"),
    demo!("PLT", "Platelet count", "777-3", "haematology", "Automated haematology analyser, impedance and optical", "10*9/L", 0, (5.0, 2000.0), EDTA, (240, 60), &[("", Some(150.0), Some(400.0))], "UK adult interval (BSH / Pathology Harmony haematology)", (None, None), "", "HA-FBC", "SOP-HA-001"),
    demo!("PT", "Prothrombin time", "5902-2", "haematology", "Clotting, photo-optical; recombinant thromboplastin", "s", 1, (5.0, 120.0), CITRATE, (240, 60), &[("", Some(9.5), Some(13.5))], "Local, reagent- and analyser-specific interval (demo)", (None, None), "", "HA-COAG", "SOP-HA-010"),
    demo!("INR", "International normalised ratio", "6301-6", "haematology", "Calculated from PT with the reagent's ISI", "{INR}", 1, (0.5, 12.0), CITRATE, (240, 60), &[("", Some(0.8), Some(1.2))], "Not anticoagulated; therapeutic ranges are set by the anticoagulation service", (None, None), "", "HA-COAG", "SOP-HA-010"),
    demo!("APTT", "Activated partial thromboplastin time", "3173-2", "haematology", "Clotting, photo-optical", "s", 1, (10.0, 180.0), CITRATE, (240, 60), &[("", Some(25.0), Some(36.0))], "Local, reagent- and analyser-specific interval (demo)", (None, None), "", "HA-COAG", "SOP-HA-010"),
    demo!("PR", "ECG PR interval", "8625-6", "cardiac-physiology", "12-lead resting ECG, automated measurement checked by a physiologist", "ms", 0, (40.0, 600.0), NO_SPECIMEN, (10080, 60), &[("", Some(120.0), Some(200.0))], "Conventional adult ECG limits (SCST recording standard)", (None, None), "", "CP-ECG", "SOP-CP-001"),
    demo!("QRS", "ECG QRS duration", "8633-0", "cardiac-physiology", "12-lead resting ECG, automated measurement checked by a physiologist", "ms", 0, (40.0, 300.0), NO_SPECIMEN, (10080, 60), &[("", None, Some(120.0))], "Conventional adult ECG limits (SCST recording standard)", (None, None), "", "CP-ECG", "SOP-CP-001"),
    demo!("QTC", "ECG QTc interval (Bazett)", "8636-3", "cardiac-physiology", "12-lead resting ECG, QT corrected by Bazett's formula", "ms", 0, (200.0, 700.0), NO_SPECIMEN, (10080, 60), &[("male", None, Some(450.0)), ("female", None, Some(460.0))], "Conventional adult upper limits by sex; local escalation policy for QTc 500 ms or more", (None, None), "", "CP-ECG", "SOP-CP-001"),
    demo!("FEV1", "Forced expiratory volume in 1 second", "20150-9", "respiratory-physiology", "Spirometry to ATS/ERS 2019 standard; judged against GLI-2012 predicted (z-score)", "L", 2, (0.1, 10.0), NO_SPECIMEN, (20160, 1440), &[], "", (None, None), "", "RP-SPIRO", "SOP-RP-001"),
    demo!("FVC", "Forced vital capacity", "19868-9", "respiratory-physiology", "Spirometry to ATS/ERS 2019 standard; judged against GLI-2012 predicted (z-score)", "L", 2, (0.1, 12.0), NO_SPECIMEN, (20160, 1440), &[], "", (None, None), "", "RP-SPIRO", "SOP-RP-001"),
    demo!("FEV1-FVC", "FEV1/FVC ratio", "19926-5", "respiratory-physiology", "Calculated from FEV1 and FVC; GLI-2012 lower limit of normal preferred", "%", 0, (10.0, 100.0), NO_SPECIMEN, (20160, 1440), &[("", Some(70.0), None)], "NICE NG115: a ratio below 0.7 indicates airflow obstruction; use the GLI-2012 lower limit of normal where available", (None, None), "", "RP-SPIRO", "SOP-RP-001"),
];

/// The demo panels: (code, name, member codes).
pub const DEMO_PANELS: &[(&str, &str, &[&str])] = &[
    (
        "UE",
        "Urea and electrolytes",
        &["NA", "K", "UREA", "CREA", "EGFR"],
    ),
    (
        "LFT",
        "Liver function tests",
        &["ALB", "ALT", "ALP", "BILI"],
    ),
    ("BONE", "Bone profile", &["CA", "ALB", "ACA", "PHOS", "ALP"]),
    ("FBC", "Full blood count", &["HB", "WBC", "PLT"]),
    ("COAG", "Coagulation screen", &["PT", "INR", "APTT"]),
];

/// The calculated investigations of the demo catalogue: (code, formula
/// code, input codes in the formula's order). LOINC 62238-1 (eGFR CKD-EPI
/// creatinine) and 29265-6 (calcium corrected for albumin) pass the check
/// digit; neither is in the LOINC lab-order subset in shared/corpora
/// (an order value set, which lists observations, not calculations), so
/// confirm them against the current LOINC release before real use.
pub const DEMO_CALCULATED: &[(&str, &str, &[&str])] = &[
    ("EGFR", "egfr-ckd-epi-2009", &["CREA"]),
    ("ACA", "adjusted-calcium-payne", &["CA", "ALB"]),
];

/// The delta check rules of the demo catalogue: (code, absolute limit in
/// the investigation's unit, percentage limit, window in days). Others use
/// the default rule (50% within 365 days). Demo values only: a clinical
/// scientist must confirm them before real use.
pub const DEMO_DELTA_RULES: &[(&str, Option<f64>, Option<f64>, i64)] = &[
    ("K", Some(1.0), None, 7),
    ("NA", Some(8.0), None, 7),
    ("CREA", None, Some(50.0), 30),
    ("HB", Some(20.0), None, 14),
];

/// The demo comment library, in every demo department: (code, text).
pub const DEMO_COMMENTS: &[(&str, &str)] = &[
    ("HAEM", "Sample haemolysed: potassium may be falsely raised"),
    ("LIPM", "Lipaemic sample"),
    ("REPT", "Repeat sample requested"),
];

/// The typed input a demo row stands for.
pub fn demo_investigation_input(row: &DemoInvestigation) -> crate::catalogue::InvestigationInput {
    let number = |value: Option<f64>| value.map(|value| value.to_string()).unwrap_or_default();
    let has_critical = row.critical.0.is_some() || row.critical.1.is_some();
    let delta = DEMO_DELTA_RULES.iter().find(|rule| rule.0 == row.code);
    crate::catalogue::InvestigationInput {
        code: row.code.into(),
        name: row.name.into(),
        loinc: row.loinc.into(),
        discipline: row.discipline.into(),
        method: row.method.into(),
        result_type: "numeric".into(),
        unit: row.unit.into(),
        decimal_places: row.decimal_places.to_string(),
        reportable_low: row.reportable.0.to_string(),
        reportable_high: row.reportable.1.to_string(),
        specimen_type: row.specimen.0.into(),
        container: row.specimen.1.into(),
        tat_routine: row.tat.0.to_string(),
        tat_urgent: row.tat.1.to_string(),
        competency_code: row.competency.into(),
        sop_code: row.sop.into(),
        intervals: row
            .intervals
            .iter()
            .map(|(sex, low, high)| crate::catalogue::IntervalInput {
                sex: (*sex).into(),
                age_from: "18y".into(),
                low: number(*low),
                high: number(*high),
                source: row.interval_source.into(),
                ..Default::default()
            })
            .collect(),
        critical_low: number(row.critical.0),
        critical_high: number(row.critical.1),
        critical_source: if has_critical {
            format!("{DEMO_CRITICAL_SOURCE}.{}", row.critical_note)
        } else {
            String::new()
        },
        calculation: DEMO_CALCULATED
            .iter()
            .find(|(code, _, _)| *code == row.code)
            .map(|(_, formula, _)| (*formula).to_owned())
            .unwrap_or_default(),
        calculation_inputs: DEMO_CALCULATED
            .iter()
            .find(|(code, _, _)| *code == row.code)
            .map(|(_, _, inputs)| inputs.join(", "))
            .unwrap_or_default(),
        delta_absolute: number(delta.and_then(|rule| rule.1)),
        delta_percent: number(delta.and_then(|rule| rule.2)),
        delta_window_days: delta.map(|rule| rule.3.to_string()).unwrap_or_default(),
        ..Default::default()
    }
}

/// The source every demo alert limit carries.
pub const DEMO_ALERT_SOURCE: &str = "RCPath G158 The communication of critical and unexpected pathology results, as published by UK trusts";
/// The source's version.
pub const DEMO_ALERT_SOURCE_VERSION: &str = "October 2017";

/// The demo alert limits (RCPath 2017, adult serum/plasma, inclusive as
/// written): (investigation code, [(population, setting, low, high, multiple
/// of the upper reference limit, category)]). Demo only: proposed by the
/// demo clinical scientist and approved by the demo consultant so that the
/// demo flags critical results; a local clinical lead must confirm them
/// before real use.
#[rustfmt::skip]
#[allow(clippy::type_complexity)]
pub const DEMO_ALERT_LIMITS: &[(&str, &[(&str, &str, Option<f64>, Option<f64>, Option<f64>, &str)])] = &[
    ("K", &[("any", "any", Some(2.5), Some(6.5), None, "urgent")]),
    ("NA", &[("adult", "any", Some(120.0), None, None, "urgent"), ("child", "any", Some(130.0), None, None, "urgent"), ("any", "any", None, Some(160.0), None, "urgent")]),
    ("UREA", &[("adult", "any", None, Some(30.0), None, "urgent"), ("child", "any", None, Some(10.0), None, "urgent")]),
    ("CREA", &[("adult", "any", None, Some(354.0), None, "urgent"), ("child", "any", None, Some(200.0), None, "urgent")]),
    ("GLU", &[("any", "any", Some(2.5), None, None, "urgent"), ("adult", "any", None, Some(25.0), None, "urgent"), ("child", "any", None, Some(15.0), None, "urgent")]),
    ("ACA", &[("any", "any", Some(1.8), Some(3.5), None, "urgent")]),
    ("MG", &[("any", "any", Some(0.4), None, None, "urgent")]),
    ("PHOS", &[("any", "any", Some(0.3), None, None, "urgent")]),
    ("CRP", &[("any", "primary-care", None, Some(300.0), None, "urgent")]),
    ("CK", &[("any", "any", None, Some(5000.0), None, "urgent")]),
    ("ALT", &[("any", "any", None, None, Some(15.0), "urgent")]),
    ("AMY", &[("any", "any", None, None, Some(5.0), "urgent")]),
];

/// Proposes the demo alert limits as the demo clinical scientist and
/// approves them as the demo consultant, through the same path as anyone.
async fn seed_alert_limits(ctx: &Ctx) -> AppResult<()> {
    let scientist = crate::auth::actor_from(
        &ctx.store.get_user_by_username("scientist").await?,
        Some("demo".into()),
    )?;
    let consultant = crate::auth::actor_from(
        &ctx.store.get_user_by_username("consultant").await?,
        Some("demo".into()),
    )?;
    let text = |value: Option<f64>| value.map(|value| value.to_string()).unwrap_or_default();
    for (code, rules) in DEMO_ALERT_LIMITS {
        let unit = DEMO_CATALOGUE
            .iter()
            .find(|row| row.code == *code)
            .map(|row| row.unit)
            .unwrap_or_default();
        let input = crate::alert_limits::ProposalInput {
            unit: unit.into(),
            rules: rules
                .iter()
                .map(|(population, setting, low, high, multiple, category)| {
                    crate::alert_limits::RuleInput {
                        population: (*population).into(),
                        setting: (*setting).into(),
                        low: text(*low),
                        high: text(*high),
                        uln_multiple: text(*multiple),
                        category: (*category).into(),
                    }
                })
                .collect(),
            source: DEMO_ALERT_SOURCE.into(),
            source_version: DEMO_ALERT_SOURCE_VERSION.into(),
            note: "Demo defaults: a local clinical lead must confirm these limits before real use."
                .into(),
        };
        let version = crate::alert_limits::propose(ctx, &scientist, code, &input)
            .await
            .map_err(|error| match error {
                crate::AppError::Invalid(errors) => {
                    anyhow::anyhow!("demo alert limits for {code} are not valid: {errors:?}").into()
                }
                other => other,
            })?;
        crate::alert_limits::approve(ctx, &consultant, code, version).await?;
    }
    Ok(())
}

/// Adds the demo catalogue, approved by the demo consultant.
async fn seed_catalogue(ctx: &Ctx) -> AppResult<()> {
    let consultant = crate::auth::actor_from(
        &ctx.store.get_user_by_username("consultant").await?,
        Some("demo".into()),
    )?;
    for row in DEMO_CATALOGUE {
        crate::catalogue::create(ctx, &consultant, &demo_investigation_input(row))
            .await
            .map_err(|error| match error {
                crate::AppError::Invalid(errors) => {
                    anyhow::anyhow!("demo investigation {} is not valid: {errors:?}", row.code)
                        .into()
                }
                other => other,
            })?;
    }
    for (code, name, members) in DEMO_PANELS {
        let members: Vec<String> = members.iter().map(|code| (*code).to_owned()).collect();
        crate::catalogue::create_panel(ctx, &consultant, code, name, &members).await?;
    }
    Ok(())
}

/// The demo's QC story, for people trying Benchwork (not part of [`seed`],
/// whose data the tests build on): the first demo request's urea and
/// electrolytes are resulted on the chemistry analyser, then a potassium QC
/// run fails 1-3s (level 1 at +3.6 SD). The potassium result is held: it
/// cannot be verified or authorised until a corrective action is recorded, a
/// QC run is accepted and the result is released with a reason on the
/// hold's page (Quality control in the menu).
pub async fn seed_qc_story(ctx: &Ctx) -> AppResult<()> {
    let associate = crate::auth::actor_from(
        &ctx.store.get_user_by_username("associate").await?,
        Some("demo".into()),
    )?;
    let instrument = ctx
        .store
        .list_instruments(associate.id)
        .await?
        .into_iter()
        .find(|instrument| instrument.name == "Chemistry analyser 1")
        .ok_or(crate::AppError::NotFound)?;
    let (requests, _) = crate::requests::list(ctx, &associate).await?;
    let (request, _) = requests
        .into_iter()
        .find(|(request, _)| request.priority == "routine")
        .ok_or(crate::AppError::NotFound)?;
    let inputs: Vec<crate::results::ResultInput> = [
        ("NA", "138"),
        ("K", "5.9"),
        ("UREA", "9.1"),
        ("CREA", "142"),
    ]
    .into_iter()
    .map(|(code, value)| crate::results::ResultInput {
        investigation: code.into(),
        value: value.into(),
        instrument: instrument.id.to_string(),
        ..Default::default()
    })
    .collect();
    crate::results::enter(ctx, &associate, &request.accession, &inputs).await?;
    let setup = crate::qc::run_setup(ctx, &associate, &instrument.id.to_string(), "K").await?;
    let values = setup
        .lots
        .iter()
        .filter_map(|in_use| {
            let target = in_use.target.as_ref()?;
            let (mean, sd) = (target.mean, target.sd);
            let z = if in_use.level == 1 { 3.6 } else { 0.4 };
            Some((in_use.lot.id.to_string(), format!("{:.2}", mean + z * sd)))
        })
        .collect();
    crate::qc::record_run(
        ctx,
        &associate,
        &crate::qc::RunInput {
            instrument: instrument.id.to_string(),
            investigation: "K".into(),
            values,
            comment: "Demo: level 1 high after a reagent change".into(),
        },
    )
    .await?;
    Ok(())
}
