-- Internal quality control (issue 4): materials and lots, targets per lot,
-- instrument and investigation, the Westgard rules applied, QC runs with
-- their values and the rules that fired, and the holds a rejected run puts
-- on patient results until corrective action and an accepted run.
-- See docs/design/2026-11-25-quality-control.md.

-- One row per material and level ("Lyphochek Assayed Chemistry", level 2).
CREATE TABLE qc_material (
    id UUID PRIMARY KEY,
    department_id UUID NOT NULL REFERENCES department (id),
    name TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    -- 1, 2 or 3: the level's position in a run.
    level BIGINT NOT NULL,
    created_by UUID NOT NULL REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    CONSTRAINT qc_material_unique UNIQUE (department_id, name, level)
);

CREATE TABLE qc_lot (
    id UUID PRIMARY KEY,
    material_id UUID NOT NULL REFERENCES qc_material (id),
    lot_number TEXT NOT NULL,
    -- Civil date, YYYY-MM-DD: the lot may not be used after it.
    expires_on TEXT NOT NULL,
    -- parallel (run beside the current lot while its targets are
    -- established), current, or retired.
    status TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES app_user (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT qc_lot_unique UNIQUE (material_id, lot_number)
);

-- The target of a lot on one instrument for one investigation. Versioned:
-- every change is a new row with the next version; the highest version is
-- the one in force. mean and sd are NULL while the target is being
-- established from the first establish_n runs.
CREATE TABLE qc_target (
    id UUID PRIMARY KEY,
    lot_id UUID NOT NULL REFERENCES qc_lot (id),
    instrument_id UUID NOT NULL REFERENCES instrument (id),
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    version BIGINT NOT NULL,
    mean DOUBLE PRECISION,
    sd DOUBLE PRECISION,
    -- manufacturer, establishing or established.
    source TEXT NOT NULL,
    establish_n BIGINT,
    set_by UUID NOT NULL REFERENCES app_user (id),
    set_at BIGINT NOT NULL,
    CONSTRAINT qc_target_version_unique UNIQUE (lot_id, instrument_id, investigation_id, version)
);

-- The Westgard rules applied to one investigation on one instrument, as
-- codes joined by slashes ("1-2s/1-3s/2-2s/R-4s/4-1s/10x"). Versioned like
-- targets; the highest version is in force.
CREATE TABLE qc_rule_config (
    instrument_id UUID NOT NULL REFERENCES instrument (id),
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    version BIGINT NOT NULL,
    rules TEXT NOT NULL,
    set_by UUID NOT NULL REFERENCES app_user (id),
    set_at BIGINT NOT NULL,
    PRIMARY KEY (instrument_id, investigation_id, version)
);

CREATE TABLE qc_run (
    id UUID PRIMARY KEY,
    department_id UUID NOT NULL REFERENCES department (id),
    instrument_id UUID NOT NULL REFERENCES instrument (id),
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    run_at BIGINT NOT NULL,
    -- A person or an interface identity.
    operator_id UUID NOT NULL REFERENCES app_user (id),
    -- accepted, warning (1-2s only, accepted after inspection) or rejected.
    decision TEXT NOT NULL,
    -- The rule codes applied, as configured when the run was judged.
    rules TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX qc_run_series ON qc_run (instrument_id, investigation_id, run_at);

-- One value per level and lot in a run (a parallel lot adds a second value
-- for its level; only current lots decide the run). z is NULL while the
-- lot's target is being established.
CREATE TABLE qc_value (
    run_id UUID NOT NULL REFERENCES qc_run (id),
    level BIGINT NOT NULL,
    lot_id UUID NOT NULL REFERENCES qc_lot (id),
    target_id UUID REFERENCES qc_target (id),
    value DOUBLE PRECISION NOT NULL,
    z DOUBLE PRECISION,
    PRIMARY KEY (run_id, level, lot_id)
);
CREATE INDEX qc_value_lot ON qc_value (lot_id);

-- The rules that fired, with the points involved as JSON:
-- [{"run": "<qc_run id>", "level": 1}, ...].
CREATE TABLE qc_violation (
    run_id UUID NOT NULL REFERENCES qc_run (id),
    position BIGINT NOT NULL,
    rule TEXT NOT NULL,
    scope TEXT NOT NULL,
    points TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);

-- A rejected run holds the patient results of its investigation on its
-- instrument analysed after window_start (the last accepted run before it;
-- NULL when there was none) until corrective action is recorded and a later
-- run is accepted.
CREATE TABLE qc_hold (
    id UUID PRIMARY KEY,
    department_id UUID NOT NULL REFERENCES department (id),
    instrument_id UUID NOT NULL REFERENCES instrument (id),
    investigation_id UUID NOT NULL REFERENCES investigation (id),
    rejected_run_id UUID NOT NULL REFERENCES qc_run (id),
    window_start BIGINT,
    opened_at BIGINT NOT NULL,
    -- open or released.
    status TEXT NOT NULL,
    -- recalibration, new-reagent, maintenance, new-qc-material, other.
    corrective_kind TEXT,
    corrective_action TEXT,
    corrective_by UUID REFERENCES app_user (id),
    corrective_at BIGINT,
    release_run_id UUID REFERENCES qc_run (id),
    released_by UUID REFERENCES app_user (id),
    released_at BIGINT
);
CREATE INDEX qc_hold_series ON qc_hold (instrument_id, investigation_id, status);

-- What was decided for each result in a hold's window: held results are
-- re-run, released with a reason, or withdrawn; results already released in
-- the window are confirmed or recalled through an amended report.
CREATE TABLE qc_hold_review (
    hold_id UUID NOT NULL REFERENCES qc_hold (id),
    result_id UUID NOT NULL REFERENCES result (id),
    -- rerun, released, withdrawn, confirmed or recalled.
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    by_user UUID NOT NULL REFERENCES app_user (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (hold_id, result_id)
);
