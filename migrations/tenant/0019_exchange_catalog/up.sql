-- The 1C catalog exchange (issue 8): 1C ids kept verbatim as external ids on the rows they
-- became, variants as products linked to their product, and the staff-editable mapping of
-- 1C price types to ours.

-- `external_id`: the 1C `Ид` (`product` or `product#variant`); `external_catalog`: the
-- `Каталог/Ид` a full package of which archives the products it no longer lists (NULL for
-- variants that came from offers, which follow their product).
ALTER TABLE products
    ADD COLUMN external_id      text CHECK (length(external_id) BETWEEN 1 AND 200),
    ADD COLUMN external_catalog text CHECK (length(external_catalog) <= 200),
    -- An orderable variant (size, colour) of the product it belongs to.
    ADD COLUMN parent_id        bigint REFERENCES products (id) ON DELETE SET NULL,
    -- "Размер: 40; Цвет: белый"
    ADD COLUMN variant_label    text NOT NULL DEFAULT '' CHECK (length(variant_label) <= 300),
    -- 1C `ТипНоменклатуры` = `Услуга`: nothing to keep in stock.
    ADD COLUMN is_service       boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT products_parent_not_self CHECK (parent_id IS DISTINCT FROM id);
CREATE UNIQUE INDEX products_external_id_key ON products (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX products_parent_idx ON products (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX products_external_catalog_idx ON products (external_catalog) WHERE external_catalog IS NOT NULL;

ALTER TABLE categories ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX categories_external_id_key ON categories (external_id) WHERE external_id IS NOT NULL;

-- `external_values`: the `Справочник` values of a 1C property, {value id: text}, so that
-- a later file naming only the value id still resolves.
ALTER TABLE attributes
    ADD COLUMN external_id     text CHECK (length(external_id) BETWEEN 1 AND 200),
    ADD COLUMN external_values jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(external_values) = 'object');
CREATE UNIQUE INDEX attributes_external_id_key ON attributes (external_id) WHERE external_id IS NOT NULL;

ALTER TABLE warehouses ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX warehouses_external_id_key ON warehouses (external_id) WHERE external_id IS NOT NULL;

-- 1C price type → our price type (`base` = products.price). Filled on first sight (by name,
-- else a new price type; the first type of the first package becomes `base`); staff edit it.
CREATE TABLE exchange_price_types (
    external_id  text PRIMARY KEY CHECK (length(external_id) BETWEEN 1 AND 200),
    name         text NOT NULL CHECK (length(name) <= 200),
    currency     text NOT NULL DEFAULT '' CHECK (length(currency) <= 20),
    price_type   text NOT NULL UNIQUE REFERENCES price_types (code) ON UPDATE CASCADE ON DELETE CASCADE,
    set_by_staff boolean NOT NULL DEFAULT false,
    position     int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE CONSTRAINT TRIGGER tp_cache_catalog AFTER INSERT OR UPDATE OR DELETE ON exchange_price_types
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.tp_bump_generation('catalog');
