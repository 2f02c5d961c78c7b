-- The tenant's trigger functions find their tables in the schema they live in, whoever
-- fires them (the tenant door, psql, a maintenance script): their search_path is fixed to
-- the one this migration runs with ("tenant_x", public), not taken from the caller.
ALTER FUNCTION stock_sync() SET search_path FROM CURRENT;
ALTER FUNCTION waitlist_arrival() SET search_path FROM CURRENT;
