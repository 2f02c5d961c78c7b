-- Catalog, stock and pricing of one supplier. Quantities are numeric (metres, kilograms);
-- money is numeric(15,2). Runs with search_path = "tenant_<slug>", public.

CREATE TABLE categories (
    id        bigserial PRIMARY KEY,
    parent_id bigint REFERENCES categories (id) ON DELETE RESTRICT,
    code      text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,79}$'),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- {"en": "Window profiles"}: names in the tenant's other locales.
    name_i18n jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(name_i18n) = 'object'),
    position  int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX categories_parent_idx ON categories (parent_id, position);

-- Typed attributes used for filters; products hold their values in `products.attributes`.
CREATE TABLE attributes (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    name_i18n  jsonb NOT NULL DEFAULT '{}',
    kind       text NOT NULL CHECK (kind IN ('text', 'number', 'bool', 'list')),
    unit       text NOT NULL DEFAULT '' CHECK (length(unit) <= 20),
    options    text[] NOT NULL DEFAULT '{}',
    filterable boolean NOT NULL DEFAULT true,
    position   int NOT NULL DEFAULT 0
);

CREATE TABLE products (
    id             bigserial PRIMARY KEY,
    sku            text NOT NULL CHECK (sku ~ '^[A-Za-z0-9А-Яа-яЁё][A-Za-z0-9А-Яа-яЁё._/-]{0,63}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    -- Sanitised HTML (ammonia) and plain text for search.
    description    text NOT NULL DEFAULT '' CHECK (length(description) <= 50000),
    brand          text NOT NULL DEFAULT '' CHECK (length(brand) <= 100),
    category_id    bigint REFERENCES categories (id) ON DELETE SET NULL,
    unit           text NOT NULL DEFAULT 'pcs' CHECK (unit IN ('pcs', 'm', 'm2', 'm3', 'kg', 'l', 'pack', 'set', 'roll')),
    pack_size      numeric(12, 3) NOT NULL DEFAULT 1 CHECK (pack_size > 0),
    min_qty        numeric(12, 3) NOT NULL DEFAULT 1 CHECK (min_qty > 0),
    order_multiple numeric(12, 3) NOT NULL DEFAULT 1 CHECK (order_multiple > 0),
    weight_kg      numeric(12, 3) CHECK (weight_kg >= 0),
    volume_m3      numeric(12, 4) CHECK (volume_m3 >= 0),
    vat_rate       text NOT NULL DEFAULT '20' CHECK (vat_rate IN ('20', '10', '0', 'none')),
    -- The base price (price type `base`), as entered (with or without VAT per tenant setting).
    price          numeric(15, 2) NOT NULL CHECK (price >= 0),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'upcoming', 'archived')),
    available_from date,
    -- {code: value}, typed by `attributes`.
    attributes     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    -- {"en": {"name": …, "description": …}}
    i18n           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(i18n) = 'object'),
    -- Sum over warehouses of (quantity − reserved), kept by the stock trigger below.
    stock_available numeric(14, 3) NOT NULL DEFAULT 0,
    search_doc     tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', sku), 'A')
        || setweight(to_tsvector('russian', name), 'A')
        || setweight(to_tsvector('english', coalesce(i18n -> 'en' ->> 'name', name)), 'B')
        || setweight(to_tsvector('simple', brand), 'B')
        || setweight(to_tsvector('russian', left(regexp_replace(description, '<[^>]*>', ' ', 'g'), 4000)), 'D')
    ) STORED,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX products_sku_key ON products (lower(sku));
CREATE INDEX products_sku_prefix_idx ON products (lower(sku) text_pattern_ops);
CREATE INDEX products_search_idx ON products USING gin (search_doc);
CREATE INDEX products_name_trgm_idx ON products USING gin (lower(name) gin_trgm_ops);
CREATE INDEX products_category_idx ON products (category_id, name);
CREATE INDEX products_attributes_idx ON products USING gin (attributes jsonb_path_ops);
CREATE INDEX products_created_idx ON products (created_at DESC, id DESC);
CREATE INDEX products_price_idx ON products (price, id);

CREATE TABLE product_barcodes (
    barcode    text PRIMARY KEY CHECK (barcode ~ '^[0-9]{8,14}$'),
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE
);
CREATE INDEX product_barcodes_product_idx ON product_barcodes (product_id);

CREATE TABLE product_images (
    id           bigserial PRIMARY KEY,
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    storage_key  text NOT NULL,
    thumb_key    text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    width        int NOT NULL,
    height       int NOT NULL,
    position     int NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_images_product_idx ON product_images (product_id, position);

CREATE TABLE product_files (
    id           bigserial PRIMARY KEY,
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    storage_key  text NOT NULL,
    file_name    text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    title        text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_files_product_idx ON product_files (product_id);

CREATE TABLE warehouses (
    id       bigserial PRIMARY KEY,
    code     text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    position int NOT NULL DEFAULT 0
);
INSERT INTO warehouses (code, name) VALUES ('main', 'Основной склад');

CREATE TABLE stock (
    product_id   bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id bigint NOT NULL REFERENCES warehouses (id) ON DELETE CASCADE,
    quantity     numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    reserved     numeric(14, 3) NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= quantity),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, warehouse_id)
);

CREATE FUNCTION stock_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE pid bigint;
BEGIN
    pid := CASE WHEN TG_OP = 'DELETE' THEN OLD.product_id ELSE NEW.product_id END;
    UPDATE products SET stock_available =
        (SELECT coalesce(sum(quantity - reserved), 0) FROM stock WHERE product_id = pid)
    WHERE id = pid;
    RETURN NULL;
END $$;
CREATE TRIGGER stock_sync AFTER INSERT OR UPDATE OR DELETE ON stock FOR EACH ROW EXECUTE FUNCTION stock_sync();

-- Price types as 1C has them. `base` is `products.price`; other types live in product_prices.
CREATE TABLE price_types (
    code     text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,40}$'),
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position int NOT NULL DEFAULT 0
);
INSERT INTO price_types (code, name) VALUES ('base', 'Базовая');

CREATE TABLE product_prices (
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    price_type text NOT NULL REFERENCES price_types (code) ON UPDATE CASCADE ON DELETE CASCADE CHECK (price_type <> 'base'),
    price      numeric(15, 2) NOT NULL CHECK (price >= 0),
    PRIMARY KEY (product_id, price_type)
);

-- Customer groups: a price type and a group discount. companies.price_group names one.
CREATE TABLE price_groups (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,40}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    price_type       text NOT NULL REFERENCES price_types (code) ON UPDATE CASCADE,
    discount_percent numeric(5, 2) NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100)
);

-- Individual (contract) prices of one buyer company.
CREATE TABLE customer_prices (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    price      numeric(15, 2) NOT NULL CHECK (price >= 0),
    valid_from date,
    valid_to   date,
    note       text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
CREATE INDEX customer_prices_lookup_idx ON customer_prices (company_id, product_id);

-- Quantity breaks: from `min_qty` the price is lower by `discount_percent`.
CREATE TABLE quantity_breaks (
    product_id       bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    min_qty          numeric(12, 3) NOT NULL CHECK (min_qty > 0),
    discount_percent numeric(5, 2) NOT NULL CHECK (discount_percent > 0 AND discount_percent < 100),
    PRIMARY KEY (product_id, min_qty)
);

CREATE TABLE promotions (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind         text NOT NULL CHECK (kind IN ('percent', 'fixed_price')),
    value        numeric(15, 2) NOT NULL CHECK (value >= 0 AND (kind <> 'percent' OR value < 100)),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    product_ids  bigint[] NOT NULL DEFAULT '{}',
    category_ids bigint[] NOT NULL DEFAULT '{}',
    -- Empty: every buyer (and guests); otherwise only these price groups.
    price_groups text[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (kind <> 'fixed_price' OR cardinality(category_ids) = 0)
);
CREATE INDEX promotions_period_idx ON promotions (starts_at, ends_at) WHERE active;
