-- Accounting documents (УПД, ТОРГ-12, счёт-фактура, акт) and everything issued later on the
-- same footing (a return's correction document, a contract): numbered per store, kind and
-- year, immutable once issued. A document keeps the data it was drawn from (`snapshot`), so
-- its PDF is drawn again identically, and for XML the exact bytes sent.

CREATE TABLE document_counters (
    kind text NOT NULL,
    year int NOT NULL,
    last int NOT NULL CHECK (last >= 0),
    PRIMARY KEY (kind, year)
);

CREATE TABLE documents (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,29}$'),
    year        int NOT NULL CHECK (year BETWEEN 2000 AND 2999),
    seq         int NOT NULL CHECK (seq > 0),
    number      text NOT NULL,
    issued_on   date NOT NULL,
    company_id  bigint NOT NULL REFERENCES companies (id),
    order_id    bigint REFERENCES orders (id),
    -- What the document was issued from: 'order', or another module's row ('return', 'contract').
    source_kind text NOT NULL CHECK (source_kind ~ '^[a-z][a-z0-9_]{1,29}$'),
    source_id   bigint NOT NULL,
    -- A correction points at the document it corrects.
    corrects    bigint REFERENCES documents (id),
    amount      numeric(15, 2) NOT NULL DEFAULT 0,
    vat_amount  numeric(15, 2) NOT NULL DEFAULT 0,
    snapshot    jsonb NOT NULL,
    xml_name    text,
    xml         bytea,
    -- Kept only for documents not drawn from their snapshot (e.g. a contract from a template).
    pdf         bytea,
    created_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, year, seq),
    CHECK ((xml IS NULL) = (xml_name IS NULL))
);
CREATE INDEX documents_period_idx ON documents (issued_on, id);
CREATE INDEX documents_company_idx ON documents (company_id, issued_on, id);
CREATE INDEX documents_order_idx ON documents (order_id) WHERE order_id IS NOT NULL;
-- Issued automatically once per source and kind (a correction is a new document).
CREATE UNIQUE INDEX documents_source_once ON documents (source_kind, source_id, kind) WHERE corrects IS NULL;

CREATE FUNCTION documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents are never changed or deleted: issue a correction' USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION documents_immutable();

-- Images placed on documents: logo, signatures, stamp. Rows are never changed: a new upload
-- is a new row, and documents name the rows they were drawn with.
CREATE TABLE document_assets (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('logo', 'director_signature', 'accountant_signature', 'stamp')),
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    data         bytea NOT NULL,
    width        int NOT NULL,
    height       int NOT NULL,
    sha256       text NOT NULL,
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_assets_kind_idx ON document_assets (kind, id DESC);
-- Which asset of each kind goes on new documents (none: the kind was removed).
CREATE TABLE document_asset_current (
    kind     text PRIMARY KEY,
    asset_id bigint REFERENCES document_assets (id)
);

-- Electronic document interchange: one row per document sent, its state as the operator
-- reported it.
CREATE TABLE document_edo (
    document_id bigint PRIMARY KEY REFERENCES documents (id),
    provider    text NOT NULL CHECK (provider IN ('file', 'http')),
    file_name   text NOT NULL,
    status      text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'signed', 'rejected', 'failed')),
    reason      text NOT NULL DEFAULT '',
    attempts    int NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    sent_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX document_edo_file_idx ON document_edo (file_name);
CREATE INDEX document_edo_open_idx ON document_edo (status) WHERE status IN ('sent', 'delivered');

-- A buyer's participant id at its EDO operator (ИдПол of the file name).
ALTER TABLE companies ADD COLUMN edo_id text;

-- Services are sold in the unit `service`: their lines go on an act (акт оказанных услуг)
-- where the store issues ТОРГ-12 for goods.
ALTER TABLE products DROP CONSTRAINT products_unit_check;
ALTER TABLE products ADD CONSTRAINT products_unit_check
    CHECK (unit IN ('pcs', 'm', 'm2', 'm3', 'kg', 'l', 'pack', 'set', 'roll', 'service'));
