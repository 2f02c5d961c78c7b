-- The 1C sale exchange (issue 8): what 1C has of each order (its number and date there, the
-- state it confirmed), the money documents from 1C already applied, and the 1C id of buyer
-- companies.

ALTER TABLE companies ADD COLUMN external_id text CHECK (length(external_id) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX companies_external_id_key ON companies (external_id);

CREATE TABLE order_exchange (
    order_id      bigint PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    number_1c     text CHECK (length(number_1c) BETWEEN 1 AND 100),
    date_1c       date,
    -- The order's state (status, total, invoice payment) 1C has: confirmed by mode=success,
    -- or just sent by 1C itself (so its own change does not come back to it).
    synced_state  text,
    -- The state sent by the last mode=query, until mode=success confirms it.
    pending_state text,
    exported_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_exchange_pending_idx ON order_exchange (order_id) WHERE pending_state IS NOT NULL;

-- Payments and opening balances from 1C already booked, by their 1C key, so a file imported
-- again books nothing twice.
CREATE TABLE exchange_applied (
    key             text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    kind            text NOT NULL CHECK (kind IN ('order_payment', 'payment', 'opening')),
    company_id      bigint NOT NULL REFERENCES companies (id),
    order_id        bigint REFERENCES orders (id),
    payment_id      bigint REFERENCES payments (id),
    ledger_entry_id bigint REFERENCES ledger_entries (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exchange_applied_company_idx ON exchange_applied (company_id);
