-- Instruments (a minimal record; the equipment module extends it) and
-- results: one row per request line. A result copies the reference
-- interval and critical limits that applied when it was produced, so a later
-- catalogue edit never changes it (see docs/design/2026-11-25-results.md).

CREATE TABLE instrument (
    id BLOB PRIMARY KEY,
    department_id BLOB NOT NULL REFERENCES department (id),
    name TEXT NOT NULL,
    discipline TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT instrument_name_unique UNIQUE (department_id, name)
);

CREATE TABLE result (
    id BLOB PRIMARY KEY,
    request_id BLOB NOT NULL REFERENCES lab_request (id),
    position INTEGER NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patient (id),
    investigation_id BLOB NOT NULL REFERENCES investigation (id),
    investigation_version INTEGER NOT NULL,
    -- Exactly as typed; value_number holds the parsed number (numeric only).
    value_text TEXT NOT NULL,
    value_number REAL,
    unit TEXT,
    reference_low REAL,
    reference_high REAL,
    reference_source TEXT,
    critical_low REAL,
    critical_high REAL,
    -- N, L, H, LL, HH; NULL when not flagged.
    flag TEXT,
    -- Why the result is not flagged, when it is not.
    flag_note TEXT,
    -- passed, failed or not-applicable; NULL for non-numeric results.
    delta_outcome TEXT,
    delta_detail TEXT,
    -- Calculated comment (eGFR from creatinine).
    derived_comment TEXT,
    instrument_id BLOB REFERENCES instrument (id),
    analysed_at INTEGER NOT NULL,
    produced_by BLOB NOT NULL REFERENCES app_user (id),
    status TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT result_request_line_unique UNIQUE (request_id, position),
    FOREIGN KEY (request_id, position) REFERENCES request_item (request_id, position)
);
CREATE INDEX result_patient_investigation ON result (patient_id, investigation_id, analysed_at);
