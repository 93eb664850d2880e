-- Instruments (a minimal record; the equipment module extends it) and
-- results: one row per request line. A result copies the reference
-- interval and critical limits that applied when it was produced, so a later
-- catalogue edit never changes it (see docs/design/2026-11-25-results.md).

CREATE TABLE instrument (
    id UUID PRIMARY KEY,
    department_id UUID NOT NULL REFERENCES department (id),
    name TEXT NOT NULL,
    discipline TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT instrument_name_unique UNIQUE (department_id, name)
);

CREATE TABLE result (
    id UUID PRIMARY KEY,
    request_id UUID NOT NULL REFERENCES lab_request (id),
    position BIGINT NOT NULL,
    patient_id UUID NOT NULL REFERENCES patient (id),
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    investigation_version BIGINT NOT NULL,
    -- Exactly as typed; value_number holds the parsed number (numeric only).
    value_text TEXT NOT NULL,
    value_number DOUBLE PRECISION,
    unit TEXT,
    reference_low DOUBLE PRECISION,
    reference_high DOUBLE PRECISION,
    reference_source TEXT,
    critical_low DOUBLE PRECISION,
    critical_high DOUBLE PRECISION,
    -- N, L, H, LL, HH; NULL when not flagged.
    flag TEXT,
    -- Why the result is not flagged, when it is not.
    flag_note TEXT,
    -- passed, failed or not-applicable; NULL for non-numeric results.
    delta_outcome TEXT,
    delta_detail TEXT,
    -- Calculated comment (eGFR from creatinine).
    derived_comment TEXT,
    instrument_id UUID REFERENCES instrument (id),
    analysed_at BIGINT NOT NULL,
    produced_by UUID NOT NULL REFERENCES app_user (id),
    status TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT result_request_line_unique UNIQUE (request_id, position),
    FOREIGN KEY (request_id, position) REFERENCES request_item (request_id, position)
);
CREATE INDEX result_patient_investigation ON result (patient_id, investigation_id, analysed_at);
