-- Records merged into another, for the cumulative view's walk over merged
-- records (Store::patient_family) and Store::list_merged_patients. Almost
-- every patient has merged_into NULL, so after ANALYZE SQLite's statistics
-- for the full index patient_merged_into say one key holds every row, and
-- the planner scans the whole table instead (measured: about 4 ms per
-- cumulative view at 50,000 patients). A partial index holds only merged
-- records; `merged_into = $1` implies NOT NULL, so it is used on both
-- engines. See docs/design/2026-11-25-cumulative.md.
CREATE INDEX patient_merged_into_not_null ON patient (merged_into) WHERE merged_into IS NOT NULL;
