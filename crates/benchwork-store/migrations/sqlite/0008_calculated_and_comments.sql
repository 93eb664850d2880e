-- Calculated investigations and result comments (issue 3 item 5; see
-- docs/design/2026-11-25-calculated-results-and-comments.md).
--
-- A catalogue version may name a formula of the tested set and the codes of
-- its input investigations (a JSON array, in the formula's order). Such a
-- line is never entered by hand: its result is produced when its inputs on
-- the same request are recorded.
ALTER TABLE investigation_version ADD COLUMN calculation TEXT;
ALTER TABLE investigation_version ADD COLUMN calculation_inputs TEXT;

-- A department's library of coded comments. Deactivated, never deleted, so
-- that a stored comment's code still means what it meant.
CREATE TABLE comment_code (
    id BLOB PRIMARY KEY,
    department_id BLOB NOT NULL REFERENCES department (id),
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_by BLOB NOT NULL REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT comment_code_unique UNIQUE (department_id, code)
);

-- Comments on a result: coded (the library text copied in, so a later edit
-- of the library never changes a report) or free text (code NULL). Added at
-- entry or with an amendment; result_version is the version it was added to.
CREATE TABLE result_comment (
    id BLOB PRIMARY KEY,
    result_id BLOB NOT NULL REFERENCES result (id),
    result_version INTEGER NOT NULL,
    code TEXT,
    text TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES app_user (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX result_comment_result ON result_comment (result_id, created_at);
