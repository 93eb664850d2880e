-- Verification, authorisation and amendment of results (issue 3 item 6).
-- The result row holds the current version; each amendment first copies the
-- version it replaces into result_version, so nothing is ever deleted. Who
-- verified and who authorised are both stored. A request whose released
-- results were amended has its report marked amended.

ALTER TABLE result ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE result ADD COLUMN verified_by UUID REFERENCES app_user (id);
ALTER TABLE result ADD COLUMN verified_at BIGINT;
ALTER TABLE result ADD COLUMN authorised_by UUID REFERENCES app_user (id);
ALTER TABLE result ADD COLUMN authorised_at BIGINT;
-- The latest amendment: who, when and why (NULL until amended).
ALTER TABLE result ADD COLUMN amended_by UUID REFERENCES app_user (id);
ALTER TABLE result ADD COLUMN amended_at BIGINT;
ALTER TABLE result ADD COLUMN amendment_reason TEXT;

CREATE TABLE result_version (
    result_id UUID NOT NULL REFERENCES result (id),
    version BIGINT NOT NULL,
    value_text TEXT NOT NULL,
    value_number DOUBLE PRECISION,
    flag TEXT,
    status TEXT NOT NULL,
    produced_by UUID NOT NULL REFERENCES app_user (id),
    analysed_at BIGINT NOT NULL,
    verified_by UUID REFERENCES app_user (id),
    verified_at BIGINT,
    authorised_by UUID REFERENCES app_user (id),
    authorised_at BIGINT,
    -- Why this version was made (NULL for the first version).
    amended_by UUID REFERENCES app_user (id),
    amended_at BIGINT,
    amendment_reason TEXT,
    -- When the next version replaced it, by whom and why.
    superseded_at BIGINT NOT NULL,
    superseded_by UUID NOT NULL REFERENCES app_user (id),
    superseded_reason TEXT NOT NULL,
    PRIMARY KEY (result_id, version)
);

ALTER TABLE lab_request ADD COLUMN report_amended_at BIGINT;

-- The verification and authorisation queues.
CREATE INDEX result_status ON result (status, request_id);
