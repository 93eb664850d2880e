-- A delta check rule per investigation version (issue 3 item 5; see
-- docs/design/2026-11-25-delta-rules.md). All NULL = the default rule
-- (50 % within 365 days). Otherwise at least one limit is set and the
-- window is 1 to 3650 days (checked by benchwork_domain::reference::DeltaRule).
ALTER TABLE investigation_version ADD COLUMN delta_absolute REAL;
ALTER TABLE investigation_version ADD COLUMN delta_percent REAL;
ALTER TABLE investigation_version ADD COLUMN delta_window_days INTEGER;
