-- Bank statements imported in the 1C client-bank format (1CClientBankExchange): each import
-- with its report, and on each payment it registered the bank document it came from, so
-- importing the same statement again registers nothing twice.

ALTER TABLE payments ADD COLUMN bank_ref text UNIQUE CHECK (length(bank_ref) <= 300);

CREATE TABLE bank_imports (
    id          bigserial PRIMARY KEY,
    file_name   text NOT NULL CHECK (length(file_name) <= 300),
    account     text NOT NULL DEFAULT '',
    period_from date,
    period_to   date,
    documents   int NOT NULL CHECK (documents >= 0),
    registered  int NOT NULL CHECK (registered >= 0),
    duplicates  int NOT NULL CHECK (duplicates >= 0),
    unmatched   int NOT NULL CHECK (unmatched >= 0),
    skipped     int NOT NULL CHECK (skipped >= 0),
    -- One entry per bank document: what became of it and why.
    report      jsonb NOT NULL,
    imported_by bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_imports_created_idx ON bank_imports (created_at DESC, id DESC);

-- Orders on account above the credit limit or from a customer with overdue debt wait for the
-- supplier's decision when the store's `credit_control` setting is `hold`.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('awaiting_approval', 'on_hold', 'new',
    'confirmed', 'in_production', 'assembled', 'shipped', 'delivered', 'completed', 'cancelled'));
