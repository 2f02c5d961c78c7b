-- Nothing to restore: the keys are intentionally gone (see up.sql).
SELECT 1;
