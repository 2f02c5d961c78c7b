-- Finance: each buyer company's ledger (append-only movements), payments, and payment terms.

-- Days of deferral from shipment for this customer; null: the store's `payment_terms_days`
-- setting (default 0, prepayment: due on the day of shipment).
ALTER TABLE companies ADD COLUMN payment_terms_days int CHECK (payment_terms_days BETWEEN 0 AND 365);

-- Money received from a buyer company (bank transfer registered by staff or imported, card).
CREATE TABLE payments (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies (id),
    method     text NOT NULL CHECK (method IN ('bank', 'card', 'cash')),
    amount     numeric(15, 2) NOT NULL CHECK (amount > 0),
    currency   text NOT NULL,
    reference  text NOT NULL DEFAULT '' CHECK (length(reference) <= 200),
    paid_on    date NOT NULL,
    status     text NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'reversed')),
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_company_idx ON payments (company_id, paid_on DESC, id DESC);

-- The ledger: what each company was shipped (debit) and what it paid or got back (credit).
-- Rows are never changed or deleted; a mistake is undone by a reversal: an entry on the same
-- side with the opposite amount and the same due date, pointing at the one it reverses.
CREATE TABLE ledger_entries (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies (id),
    side       text NOT NULL CHECK (side IN ('debit', 'credit')),
    kind       text NOT NULL CHECK (kind IN ('opening', 'shipment', 'payment', 'return', 'reversal')),
    amount     numeric(15, 2) NOT NULL CHECK (amount <> 0),
    booked_on  date NOT NULL,
    -- A debit's due date (shipment date + payment terms); null for credits.
    due_on     date,
    order_id   bigint REFERENCES orders (id),
    payment_id bigint REFERENCES payments (id),
    reverses   bigint UNIQUE REFERENCES ledger_entries (id),
    document   text NOT NULL DEFAULT '' CHECK (length(document) <= 200),
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((side = 'debit') = (due_on IS NOT NULL)),
    CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
);
CREATE INDEX ledger_company_idx ON ledger_entries (company_id, booked_on, id);
-- Debits not yet due are the few recent ones: the overdue figure reads only those.
CREATE INDEX ledger_due_idx ON ledger_entries (company_id, due_on) INCLUDE (amount) WHERE side = 'debit';
-- A shipment is booked once per order.
CREATE UNIQUE INDEX ledger_shipment_once ON ledger_entries (order_id) WHERE kind = 'shipment';

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are never changed or deleted: reverse them' USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Each company's totals, kept with every entry in the same statement, so a balance is one row
-- however long the ledger (docs/BENCHMARKS.md, "Ledger").
CREATE TABLE company_balances (
    company_id bigint PRIMARY KEY REFERENCES companies (id),
    debit      numeric(17, 2) NOT NULL DEFAULT 0,
    credit     numeric(17, 2) NOT NULL DEFAULT 0
);
CREATE FUNCTION ledger_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO company_balances AS b (company_id, debit, credit)
    SELECT n.company_id, coalesce(sum(n.amount) FILTER (WHERE n.side = 'debit'), 0),
           coalesce(sum(n.amount) FILTER (WHERE n.side = 'credit'), 0)
      FROM ledger_new n GROUP BY n.company_id ORDER BY n.company_id
    ON CONFLICT (company_id) DO UPDATE SET debit = b.debit + EXCLUDED.debit, credit = b.credit + EXCLUDED.credit;
    RETURN NULL;
END $$;
ALTER FUNCTION ledger_totals() SET search_path FROM CURRENT;
CREATE TRIGGER ledger_totals AFTER INSERT ON ledger_entries REFERENCING NEW TABLE AS ledger_new
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_totals();
