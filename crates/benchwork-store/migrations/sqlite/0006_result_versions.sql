-- Verification, authorisation and amendment of results (issue 3 item 6).
-- The result row holds the current version; each amendment first copies the
-- version it replaces into result_version, so nothing is ever deleted. Who
-- verified and who authorised are both stored. A request whose released
-- results were amended has its report marked amended.

ALTER TABLE result ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE result ADD COLUMN verified_by BLOB REFERENCES app_user (id);
ALTER TABLE result ADD COLUMN verified_at INTEGER;
ALTER TABLE result ADD COLUMN authorised_by BLOB REFERENCES app_user (id);
ALTER TABLE result ADD COLUMN authorised_at INTEGER;
-- The latest amendment: who, when and why (NULL until amended).
ALTER TABLE result ADD COLUMN amended_by BLOB REFERENCES app_user (id);
ALTER TABLE result ADD COLUMN amended_at INTEGER;
ALTER TABLE result ADD COLUMN amendment_reason TEXT;

CREATE TABLE result_version (
    result_id BLOB NOT NULL REFERENCES result (id),
    version INTEGER NOT NULL,
    value_text TEXT NOT NULL,
    value_number REAL,
    flag TEXT,
    status TEXT NOT NULL,
    produced_by BLOB NOT NULL REFERENCES app_user (id),
    analysed_at INTEGER NOT NULL,
    verified_by BLOB REFERENCES app_user (id),
    verified_at INTEGER,
    authorised_by BLOB REFERENCES app_user (id),
    authorised_at INTEGER,
    -- Why this version was made (NULL for the first version).
    amended_by BLOB REFERENCES app_user (id),
    amended_at INTEGER,
    amendment_reason TEXT,
    -- When the next version replaced it, by whom and why.
    superseded_at INTEGER NOT NULL,
    superseded_by BLOB NOT NULL REFERENCES app_user (id),
    superseded_reason TEXT NOT NULL,
    PRIMARY KEY (result_id, version)
);

ALTER TABLE lab_request ADD COLUMN report_amended_at INTEGER;

-- The verification and authorisation queues.
CREATE INDEX result_status ON result (status, request_id);
