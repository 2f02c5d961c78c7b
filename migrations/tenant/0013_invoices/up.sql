-- Invoices for payment (счёт на оплату): one per order, numbered per tenant and year, paid
-- by the payments applied to them (oldest invoice first unless a payment names one).

-- Invoice numbers restart each year without a row that every placement must lock: a number
-- is the store's invoice sequence minus where the sequence stood when the year's first
-- invoice was issued (a rolled-back placement may leave a gap).
CREATE SEQUENCE invoice_seq;
CREATE TABLE invoice_years (
    year  int PRIMARY KEY,
    start bigint NOT NULL CHECK (start >= 0)
);

CREATE TABLE invoices (
    id         bigserial PRIMARY KEY,
    year       int NOT NULL,
    seq        int NOT NULL CHECK (seq > 0),
    number     text NOT NULL,
    order_id   bigint NOT NULL REFERENCES orders (id),
    company_id bigint NOT NULL REFERENCES companies (id),
    issued_on  date NOT NULL,
    due_on     date NOT NULL,
    amount     numeric(15, 2) NOT NULL CHECK (amount >= 0),
    vat_amount numeric(15, 2) NOT NULL CHECK (vat_amount >= 0),
    paid       numeric(15, 2) NOT NULL DEFAULT 0 CHECK (paid >= 0 AND paid <= amount),
    status     text NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'partly_paid', 'paid', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, seq)
);
-- One live invoice per order.
CREATE UNIQUE INDEX invoices_order_once ON invoices (order_id) WHERE status <> 'cancelled';
CREATE INDEX invoices_company_idx ON invoices (company_id, issued_on, id);

-- Which payment paid how much of which invoice.
CREATE TABLE payment_allocations (
    payment_id bigint NOT NULL REFERENCES payments (id),
    invoice_id bigint NOT NULL REFERENCES invoices (id),
    amount     numeric(15, 2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_invoice_idx ON payment_allocations (invoice_id);
