-- The investigation catalogue: organisation-wide, versioned. An
-- investigation row holds the code and which version is current; each edit
-- adds an investigation_version row and never changes an old one, so that a
-- result can keep the version that applied when it was produced.
-- Reference intervals and critical limits are JSON text in the version row
-- (see docs/design/2026-11-25-catalogue.md).

CREATE TABLE investigation (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    current_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE investigation_version (
    investigation_id BLOB NOT NULL REFERENCES investigation (id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    loinc TEXT,
    snomed TEXT,
    discipline TEXT NOT NULL,
    method TEXT NOT NULL,
    -- numeric, coded or text.
    result_type TEXT NOT NULL,
    unit TEXT,
    decimal_places INTEGER,
    -- Coded results: a JSON array of the allowed codes.
    coded_values TEXT,
    reportable_low REAL,
    reportable_high REAL,
    -- A JSON array of {sex, from_days, to_days, low, high, source}.
    reference_intervals TEXT NOT NULL,
    -- A JSON object {low, high, inclusive, source}, or NULL for none.
    critical_limits TEXT,
    -- Both NULL: no specimen (a physiological measurement).
    specimen_type TEXT,
    container TEXT,
    tat_routine_minutes INTEGER NOT NULL,
    tat_urgent_minutes INTEGER NOT NULL,
    consent_required INTEGER NOT NULL,
    competency_code TEXT,
    sop_code TEXT,
    created_by BLOB NOT NULL REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (investigation_id, version)
);
CREATE INDEX investigation_version_discipline ON investigation_version (discipline);

CREATE TABLE panel (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    current_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE panel_version (
    panel_id BLOB NOT NULL REFERENCES panel (id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (panel_id, version)
);

CREATE TABLE panel_member (
    panel_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    investigation_id BLOB NOT NULL REFERENCES investigation (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (panel_id, version, position),
    FOREIGN KEY (panel_id, version) REFERENCES panel_version (panel_id, version)
);
CREATE INDEX panel_member_investigation ON panel_member (investigation_id);

-- A version, once written, is history: refuse changing or deleting it.
CREATE TRIGGER investigation_version_no_update
BEFORE UPDATE ON investigation_version
BEGIN
    SELECT RAISE(ABORT, 'catalogue versions cannot be changed');
END;

CREATE TRIGGER investigation_version_no_delete
BEFORE DELETE ON investigation_version
BEGIN
    SELECT RAISE(ABORT, 'catalogue versions cannot be deleted');
END;

CREATE TRIGGER panel_version_no_update
BEFORE UPDATE ON panel_version
BEGIN
    SELECT RAISE(ABORT, 'catalogue versions cannot be changed');
END;

CREATE TRIGGER panel_version_no_delete
BEFORE DELETE ON panel_version
BEGIN
    SELECT RAISE(ABORT, 'catalogue versions cannot be deleted');
END;
