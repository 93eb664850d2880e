-- Patients: organisation-wide (not owned by a department), identified by
-- NHS number and by local hospital numbers with their assigning authority.
-- A merged duplicate keeps its row and its history and points to the record
-- it was merged into.

CREATE TABLE patient (
    id BLOB PRIMARY KEY,
    nhs_number TEXT UNIQUE,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    -- Family name upper-cased, for case-insensitive search by index.
    family_key TEXT NOT NULL,
    -- A calendar date as YYYY-MM-DD text on both engines.
    date_of_birth TEXT NOT NULL,
    administrative_sex TEXT NOT NULL,
    reference_sex TEXT NOT NULL,
    phone TEXT,
    address TEXT,
    merged_into BLOB REFERENCES patient (id),
    merged_at INTEGER,
    merged_by BLOB REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX patient_name_dob ON patient (family_key, date_of_birth);
CREATE INDEX patient_dob ON patient (date_of_birth);
CREATE INDEX patient_merged_into ON patient (merged_into);

CREATE TABLE patient_identifier (
    patient_id BLOB NOT NULL REFERENCES patient (id),
    authority TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (authority, value)
);
CREATE INDEX patient_identifier_patient ON patient_identifier (patient_id);
