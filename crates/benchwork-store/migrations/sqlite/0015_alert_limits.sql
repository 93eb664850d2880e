-- Alert (critical) limits per investigation, versioned, approved by a
-- clinical lead before use (issue 6 item 1; see
-- docs/design/2026-12-06-alert-limits.md). One row per version of an
-- investigation's limit set; the rules (population, requesting setting,
-- critical low/high or a multiple of the upper reference limit, category)
-- are a JSON array checked by benchwork_domain::alert_limits. The version in
-- force is the highest approved one; an unapproved version is never used.
CREATE TABLE alert_limit_set (
    id BLOB PRIMARY KEY,
    investigation_id BLOB NOT NULL REFERENCES investigation (id),
    version INTEGER NOT NULL,
    -- The investigation's unit the limits are written in.
    unit TEXT NOT NULL,
    -- JSON array of {population, setting, low, high, high_uln_multiple, category}.
    rules TEXT NOT NULL,
    source TEXT NOT NULL,
    source_version TEXT NOT NULL,
    note TEXT NOT NULL,
    proposed_by BLOB NOT NULL REFERENCES app_user (id),
    proposed_at INTEGER NOT NULL,
    approved_by BLOB REFERENCES app_user (id),
    approved_at INTEGER,
    CONSTRAINT alert_limit_set_version_unique UNIQUE (investigation_id, version),
    CONSTRAINT alert_limit_set_approval_complete CHECK ((approved_by IS NULL) = (approved_at IS NULL))
    -- Approval by someone other than the proposer is checked by the
    -- approving UPDATE (migrated rows below carry one person as both).
);

-- The catalogue's critical limits (one pair per investigation version) move
-- into version 1 of each investigation's alert limits: population any (they
-- applied to every age), setting any, category urgent, approved by whoever
-- approved the catalogue version that carried them (so no result silently
-- loses its critical flag on upgrade).
INSERT INTO alert_limit_set (id, investigation_id, version, unit, rules, source, source_version, note,
                             proposed_by, proposed_at, approved_by, approved_at)
SELECT randomblob(16), v.investigation_id, 1, COALESCE(v.unit, ''),
       json_array(json_object(
           'population', 'any', 'setting', 'any',
           'low', json_extract(v.critical_limits, '$.low'),
           'high', json_extract(v.critical_limits, '$.high'),
           'high_uln_multiple', NULL, 'category', 'urgent')),
       COALESCE(json_extract(v.critical_limits, '$.source'), 'catalogue'),
       'catalogue version ' || v.version,
       'Moved from the catalogue by migration 0015; the catalogue version''s approver is recorded as approver.',
       v.created_by, v.created_at, v.created_by, v.created_at
FROM investigation i
JOIN investigation_version v ON v.investigation_id = i.id AND v.version = i.current_version
WHERE v.critical_limits IS NOT NULL;

-- Which alert limit version and category applied to a result (NULL: none).
ALTER TABLE result ADD COLUMN alert_limit_version INTEGER;
ALTER TABLE result ADD COLUMN critical_category TEXT;

-- The requesting setting of a request (inpatient, outpatient, emergency,
-- primary-care, or hospital when not stated: every request before 0015).
ALTER TABLE lab_request ADD COLUMN setting TEXT NOT NULL DEFAULT 'hospital';
