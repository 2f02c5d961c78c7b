-- Card payments (issue 6): one attempt per try at paying an invoice by card, written before
-- the card processor is called, so its id gives the processor's idempotency key and a retry
-- after a timeout can never create a second PaymentIntent. Refunds of card payments go
-- through the ledger as 'refund' entries.

CREATE TABLE card_payments (
    id             bigserial PRIMARY KEY,
    invoice_id     bigint NOT NULL REFERENCES invoices (id),
    company_id     bigint NOT NULL REFERENCES companies (id),
    -- 'stripe', or 'test': the labelled test gateway used without Stripe keys.
    gateway        text NOT NULL CHECK (gateway IN ('stripe', 'test')),
    amount         numeric(15, 2) NOT NULL CHECK (amount > 0),
    -- The same amount in minor units (kopecks, cents), exactly as the processor was asked.
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    currency       text NOT NULL,
    -- Stripe Connect: the supplier's connected account charged (direct charge) and the
    -- platform's application fee in minor units (by the store's plan); none: platform account.
    stripe_account text,
    fee_minor      bigint NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    intent_id      text UNIQUE,
    client_secret  text,
    -- creating: written, the processor not answered yet; requires_payment; processing;
    -- failed (the card was declined: the same intent can still be paid); succeeded;
    -- canceled (superseded, or the processor refused to create it).
    status         text NOT NULL DEFAULT 'creating'
                   CHECK (status IN ('creating', 'requires_payment', 'processing', 'succeeded', 'failed', 'canceled')),
    -- When the processor's state last changed (the event's time): older events never win.
    state_at       bigint NOT NULL DEFAULT 0,
    -- Why the processor's report was not booked (amount_mismatch, tenant_mismatch,
    -- account_mismatch): shown to staff, the invoice stays unpaid.
    flag           text CHECK (flag IN ('amount_mismatch', 'tenant_mismatch', 'account_mismatch')),
    flag_detail    text NOT NULL DEFAULT '',
    -- The payment booked for it: at most one per intent.
    payment_id     bigint UNIQUE REFERENCES payments (id),
    -- What the processor reports refunded in total (minor units, only grows); what of it is
    -- booked is `payments.refunded`.
    refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    last_error     text NOT NULL DEFAULT '',
    created_by     bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'succeeded') OR payment_id IS NULL)
);
-- At most one live attempt per invoice.
CREATE UNIQUE INDEX card_payments_live ON card_payments (invoice_id)
    WHERE status IN ('creating', 'requires_payment', 'processing', 'failed');
CREATE INDEX card_payments_company_idx ON card_payments (company_id, id DESC);
CREATE INDEX card_payments_flagged_idx ON card_payments (id) WHERE flag IS NOT NULL;

-- Refunds asked for by staff: written before the processor is called (the id gives the
-- idempotency key), completed when it answers.
CREATE TABLE card_refunds (
    id              bigserial PRIMARY KEY,
    card_payment_id bigint NOT NULL REFERENCES card_payments (id),
    amount          numeric(15, 2) NOT NULL CHECK (amount > 0),
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    refund_ref      text UNIQUE,
    last_error      text NOT NULL DEFAULT '',
    created_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX card_refunds_payment_idx ON card_refunds (card_payment_id);

-- A payment's refunded part (card refunds); a fully refunded payment is 'refunded'.
ALTER TABLE payments ADD COLUMN refunded numeric(15, 2) NOT NULL DEFAULT 0;
ALTER TABLE payments ADD CONSTRAINT payments_refunded_check CHECK (refunded >= 0 AND refunded <= amount);
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('completed', 'reversed', 'refunded'));

-- Money given back to the buyer: a credit entry with a negative amount, like a reversal, but
-- for part of a payment and without pointing at one entry.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('opening', 'shipment', 'payment', 'return', 'reversal', 'refund'));
