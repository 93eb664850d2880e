-- Consent, requests, specimens and the specimens' chain of custody.
-- Consent is organisation-wide (it belongs to the patient); requests and
-- specimens belong to one department. Custody steps and consent decisions
-- are append-only history; the specimen row holds the current state.

CREATE TABLE consent (
    id UUID PRIMARY KEY,
    patient_id UUID NOT NULL REFERENCES patient (id),
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    -- given, refused or withdrawn.
    status TEXT NOT NULL,
    -- verbal, written or electronic.
    method TEXT NOT NULL,
    -- patient, parent-guardian or other.
    given_by TEXT NOT NULL,
    recorded_by UUID NOT NULL REFERENCES app_user (id),
    recorded_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX consent_patient ON consent (patient_id, investigation_id, recorded_at);

CREATE TABLE lab_request (
    id UUID PRIMARY KEY,
    accession TEXT NOT NULL,
    patient_id UUID NOT NULL REFERENCES patient (id),
    department_id UUID NOT NULL REFERENCES department (id),
    requester_name TEXT NOT NULL,
    requester_code TEXT NOT NULL,
    location TEXT NOT NULL,
    clinical_details TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT lab_request_accession_unique UNIQUE (accession)
);
CREATE INDEX lab_request_department ON lab_request (department_id, created_at);
CREATE INDEX lab_request_patient ON lab_request (patient_id);

CREATE TABLE specimen (
    id UUID PRIMARY KEY,
    specimen_code TEXT NOT NULL,
    request_id UUID NOT NULL REFERENCES lab_request (id),
    specimen_type TEXT NOT NULL,
    container TEXT NOT NULL,
    status TEXT NOT NULL,
    rejection_reason TEXT,
    rejection_text TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT specimen_code_unique UNIQUE (specimen_code)
);
CREATE INDEX specimen_request ON specimen (request_id);

CREATE TABLE request_item (
    request_id UUID NOT NULL REFERENCES lab_request (id),
    position BIGINT NOT NULL,
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    investigation_version BIGINT NOT NULL,
    -- NULL for a measurement without specimen (ECG, spirometry).
    specimen_id UUID REFERENCES specimen (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, position)
);

CREATE TABLE specimen_event (
    id UUID PRIMARY KEY,
    specimen_id UUID NOT NULL REFERENCES specimen (id),
    status TEXT NOT NULL,
    detail TEXT,
    by_user UUID NOT NULL REFERENCES app_user (id),
    at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX specimen_event_specimen ON specimen_event (specimen_id, at);
CREATE INDEX specimen_event_status_at ON specimen_event (status, at);
