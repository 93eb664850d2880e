-- Consent, requests, specimens and the specimens' chain of custody.
-- Consent is organisation-wide (it belongs to the patient); requests and
-- specimens belong to one department. Custody steps and consent decisions
-- are append-only history; the specimen row holds the current state.

CREATE TABLE consent (
    id BLOB PRIMARY KEY,
    patient_id BLOB NOT NULL REFERENCES patient (id),
    investigation_id BLOB NOT NULL REFERENCES investigation (id),
    -- given, refused or withdrawn.
    status TEXT NOT NULL,
    -- verbal, written or electronic.
    method TEXT NOT NULL,
    -- patient, parent-guardian or other.
    given_by TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES app_user (id),
    recorded_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX consent_patient ON consent (patient_id, investigation_id, recorded_at);

CREATE TABLE lab_request (
    id BLOB PRIMARY KEY,
    accession TEXT NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patient (id),
    department_id BLOB NOT NULL REFERENCES department (id),
    requester_name TEXT NOT NULL,
    requester_code TEXT NOT NULL,
    location TEXT NOT NULL,
    clinical_details TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT lab_request_accession_unique UNIQUE (accession)
);
CREATE INDEX lab_request_department ON lab_request (department_id, created_at);
CREATE INDEX lab_request_patient ON lab_request (patient_id);

CREATE TABLE specimen (
    id BLOB PRIMARY KEY,
    specimen_code TEXT NOT NULL,
    request_id BLOB NOT NULL REFERENCES lab_request (id),
    specimen_type TEXT NOT NULL,
    container TEXT NOT NULL,
    status TEXT NOT NULL,
    rejection_reason TEXT,
    rejection_text TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT specimen_code_unique UNIQUE (specimen_code)
);
CREATE INDEX specimen_request ON specimen (request_id);

CREATE TABLE request_item (
    request_id BLOB NOT NULL REFERENCES lab_request (id),
    position INTEGER NOT NULL,
    investigation_id BLOB NOT NULL REFERENCES investigation (id),
    investigation_version INTEGER NOT NULL,
    -- NULL for a measurement without specimen (ECG, spirometry).
    specimen_id BLOB REFERENCES specimen (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (request_id, position)
);

CREATE TABLE specimen_event (
    id BLOB PRIMARY KEY,
    specimen_id BLOB NOT NULL REFERENCES specimen (id),
    status TEXT NOT NULL,
    detail TEXT,
    by_user BLOB NOT NULL REFERENCES app_user (id),
    at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX specimen_event_specimen ON specimen_event (specimen_id, at);
CREATE INDEX specimen_event_status_at ON specimen_event (status, at);
