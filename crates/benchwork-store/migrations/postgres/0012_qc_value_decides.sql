-- Whether a QC value decides its run: 1 for the current lot of its level,
-- 0 for a parallel lot run beside it while that lot is evaluated. Only
-- deciding values are judged and form the history of later runs.
ALTER TABLE qc_value ADD COLUMN decides BIGINT NOT NULL DEFAULT 1;
