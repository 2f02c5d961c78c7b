-- Returns and service requests: a buyer asks to send back lines of a delivered order; staff
-- decide, set the way back, receive the goods (stock back to a warehouse) and the ledger
-- gets the credit with a return note (an immutable PDF).

CREATE SEQUENCE return_number_seq;

CREATE TABLE returns (
    id              bigserial PRIMARY KEY,
    number          text NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 40),
    order_id        bigint NOT NULL REFERENCES orders (id),
    company_id      bigint NOT NULL REFERENCES companies (id),
    account_id      bigint NOT NULL,
    status          text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected',
                        'in_transit', 'received', 'credited', 'cancelled')),
    reason          text NOT NULL CHECK (reason IN ('defect', 'wrong_item', 'surplus', 'warranty')),
    comment         text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    decision_note   text NOT NULL DEFAULT '' CHECK (length(decision_note) <= 2000),
    way_back        text CHECK (way_back IN ('pickup', 'carrier', 'drop_off')),
    warehouse_id    bigint REFERENCES warehouses (id),
    -- What the buyer is credited: the lines as priced on the order (VAT on top when excluded).
    amount          numeric(15, 2) NOT NULL CHECK (amount >= 0),
    decide_by       timestamptz NOT NULL,
    reminded_at     timestamptz,
    ledger_entry_id bigint UNIQUE REFERENCES ledger_entries (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returns_company_idx ON returns (company_id, id DESC);
CREATE INDEX returns_order_idx ON returns (order_id);
CREATE INDEX returns_status_idx ON returns (status, id DESC);

CREATE TABLE return_lines (
    return_id  bigint NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    line_no    int NOT NULL CHECK (line_no > 0),
    product_id bigint NOT NULL REFERENCES products (id),
    sku        text NOT NULL,
    name       text NOT NULL,
    unit       text NOT NULL,
    qty        numeric(14, 3) NOT NULL CHECK (qty > 0 AND qty < 1000000000),
    price      numeric(15, 2) NOT NULL CHECK (price >= 0),
    vat_rate   text NOT NULL,
    amount     numeric(15, 2) NOT NULL CHECK (amount >= 0),
    vat_amount numeric(15, 2) NOT NULL CHECK (vat_amount >= 0),
    PRIMARY KEY (return_id, line_no)
);

-- Photos: checked images kept in the media store under the tenant's folder.
CREATE TABLE return_photos (
    id           bigserial PRIMARY KEY,
    return_id    bigint NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    storage_key  text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    size_bytes   int NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX return_photos_return_idx ON return_photos (return_id, id);

-- The thread on a request: the buyer's and staff's messages and the status changes.
CREATE TABLE return_messages (
    id          bigserial PRIMARY KEY,
    return_id   bigint NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    author_kind text NOT NULL CHECK (author_kind IN ('buyer', 'staff', 'system')),
    account_id  bigint,
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    to_status   text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX return_messages_return_idx ON return_messages (return_id, id);

-- The correction document of a credited return (накладная на возврат). Numbered in the
-- `credit_note` sequence of `documents` (where it is also listed), kept here with its request.
CREATE TABLE return_documents (
    id         bigserial PRIMARY KEY,
    return_id  bigint NOT NULL UNIQUE REFERENCES returns (id),
    number     text NOT NULL UNIQUE,
    issued_on  date NOT NULL,
    amount     numeric(15, 2) NOT NULL,
    pdf        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION return_documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents are never changed or deleted' USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER return_documents_immutable BEFORE UPDATE OR DELETE ON return_documents
    FOR EACH STATEMENT EXECUTE FUNCTION return_documents_immutable();
