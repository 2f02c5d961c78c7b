-- Ordering: carts, orders with their lines and history, per-tenant order numbers.

-- A company setting: whether colleagues see each other's carts (default: they do).
ALTER TABLE companies ADD COLUMN shared_carts boolean NOT NULL DEFAULT true;
-- The company admin's limit per order for buyers; above it an order waits for approval.
ALTER TABLE company_members ADD COLUMN order_limit numeric(15, 2) CHECK (order_limit >= 0);

CREATE TABLE carts (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    account_id bigint NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carts_company_idx ON carts (company_id, account_id);

CREATE TABLE cart_lines (
    cart_id    bigint NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    qty        numeric(14, 3) NOT NULL CHECK (qty > 0 AND qty < 1000000000),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

-- Order numbers: prefix (tenant setting `order_prefix`) and this sequence. Gaps after a
-- rolled-back placement are allowed; numbers are never reused.
CREATE SEQUENCE order_number_seq;

CREATE TABLE orders (
    id               bigserial PRIMARY KEY,
    number           text NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 40),
    company_id       bigint NOT NULL REFERENCES companies (id),
    account_id       bigint NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('order', 'preorder')),
    status           text NOT NULL CHECK (status IN ('awaiting_approval', 'new', 'confirmed', 'in_production',
                         'assembled', 'shipped', 'delivered', 'completed', 'cancelled')),
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash     text,
    currency         text NOT NULL,
    vat_mode         text NOT NULL CHECK (vat_mode IN ('included', 'excluded')),
    total            numeric(15, 2) NOT NULL CHECK (total >= 0),
    vat_total        numeric(15, 2) NOT NULL CHECK (vat_total >= 0),
    payment_method   text NOT NULL CHECK (payment_method IN ('invoice', 'card', 'on_account')),
    delivery_method  text NOT NULL CHECK (delivery_method IN ('pickup', 'delivery')),
    delivery_address text NOT NULL DEFAULT '' CHECK (length(delivery_address) <= 500),
    desired_date     date,
    expected_date    date,
    po_number        text NOT NULL DEFAULT '' CHECK (length(po_number) <= 100),
    comment          text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    internal_note    text NOT NULL DEFAULT '' CHECK (length(internal_note) <= 4000),
    manager_account_id bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX orders_company_idx ON orders (company_id, created_at DESC);
CREATE INDEX orders_status_idx ON orders (status, created_at DESC);

CREATE TABLE order_lines (
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
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
    breakdown  jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_lines_product_idx ON order_lines (product_id);

-- Where each ordered quantity was taken from, so a cancellation puts it back.
CREATE TABLE order_allocations (
    order_id     bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id   bigint NOT NULL,
    warehouse_id bigint NOT NULL REFERENCES warehouses (id),
    qty          numeric(14, 3) NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, product_id, warehouse_id)
);

CREATE TABLE order_events (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint,
    actor_kind  text NOT NULL CHECK (actor_kind IN ('buyer', 'staff', 'system')),
    from_status text,
    to_status   text,
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000)
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- Cabinet notifications (e-mail goes through public.mail_outbox in the same transaction).
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL,
    company_id bigint,
    kind       text NOT NULL,
    title      text NOT NULL,
    link       text NOT NULL DEFAULT '',
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_account_idx ON notifications (account_id, id DESC);
