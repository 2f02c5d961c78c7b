-- Cache generations per tenant schema. In-process caches (catalog metadata, search results,
-- priced list items, memberships and staff roles) are valid for one generation; a commit that
-- changes what they hold bumps it. `catalog`: products, categories, attributes, prices,
-- promotions, settings, search words. `access`: staff, companies, company members.
CREATE TABLE tenant_generations (
    schema_name text PRIMARY KEY,
    catalog     bigint NOT NULL DEFAULT 0,
    access      bigint NOT NULL DEFAULT 0
);

-- Body of the deferred row triggers of tenant schemas (`tp_cache_<kind>`): once per
-- transaction and kind, at commit, after every data lock has been taken, so bumping cannot
-- close a lock cycle with the data rows. The row lock on the generation is held only for the
-- end of the commit.
CREATE FUNCTION tp_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := TG_ARGV[0];
    flag text := 'tp.bumped_' || kind || '_' || TG_TABLE_SCHEMA;
BEGIN
    IF current_setting(flag, true) = '1' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config(flag, '1', true);
    IF kind = 'catalog' THEN
        INSERT INTO public.tenant_generations AS g (schema_name, catalog) VALUES (TG_TABLE_SCHEMA, 1)
        ON CONFLICT (schema_name) DO UPDATE SET catalog = g.catalog + 1;
    ELSE
        INSERT INTO public.tenant_generations AS g (schema_name, access) VALUES (TG_TABLE_SCHEMA, 1)
        ON CONFLICT (schema_name) DO UPDATE SET access = g.access + 1;
    END IF;
    RETURN NULL;
END $$;
