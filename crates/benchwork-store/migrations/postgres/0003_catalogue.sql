-- The investigation catalogue: organisation-wide, versioned. An
-- investigation row holds the code and which version is current; each edit
-- adds an investigation_version row and never changes an old one, so that a
-- result can keep the version that applied when it was produced.
-- Reference intervals and critical limits are JSON text in the version row
-- (see docs/design/2026-11-25-catalogue.md).

CREATE TABLE investigation (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    current_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE investigation_version (
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    loinc TEXT,
    snomed TEXT,
    discipline TEXT NOT NULL,
    method TEXT NOT NULL,
    -- numeric, coded or text.
    result_type TEXT NOT NULL,
    unit TEXT,
    decimal_places BIGINT,
    -- Coded results: a JSON array of the allowed codes.
    coded_values TEXT,
    reportable_low DOUBLE PRECISION,
    reportable_high DOUBLE PRECISION,
    -- A JSON array of {sex, from_days, to_days, low, high, source}.
    reference_intervals TEXT NOT NULL,
    -- A JSON object {low, high, inclusive, source}, or NULL for none.
    critical_limits TEXT,
    -- Both NULL: no specimen (a physiological measurement).
    specimen_type TEXT,
    container TEXT,
    tat_routine_minutes BIGINT NOT NULL,
    tat_urgent_minutes BIGINT NOT NULL,
    consent_required BIGINT NOT NULL,
    competency_code TEXT,
    sop_code TEXT,
    created_by UUID NOT NULL REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (investigation_id, version)
);
CREATE INDEX investigation_version_discipline ON investigation_version (discipline);

CREATE TABLE panel (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    current_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE panel_version (
    panel_id UUID NOT NULL REFERENCES panel (id),
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (panel_id, version)
);

CREATE TABLE panel_member (
    panel_id UUID NOT NULL,
    version BIGINT NOT NULL,
    position BIGINT NOT NULL,
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (panel_id, version, position),
    FOREIGN KEY (panel_id, version) REFERENCES panel_version (panel_id, version)
);
CREATE INDEX panel_member_investigation ON panel_member (investigation_id);

-- A version, once written, is history: refuse changing or deleting it.
CREATE FUNCTION catalogue_version_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'catalogue versions cannot be deleted';
    END IF;
    RAISE EXCEPTION 'catalogue versions cannot be changed';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER investigation_version_append_only
    BEFORE UPDATE OR DELETE ON investigation_version
    FOR EACH ROW EXECUTE FUNCTION catalogue_version_guard();

CREATE TRIGGER panel_version_append_only
    BEFORE UPDATE OR DELETE ON panel_version
    FOR EACH ROW EXECUTE FUNCTION catalogue_version_guard();
