DROP FUNCTION tp_bump_generation() CASCADE;
DROP TABLE tenant_generations;
