-- Supply contracts (договор поставки) and their additional agreements (дополнительное
-- соглашение), generated from the store's handlebars templates. A document is issued once and
-- never changed: its rendered text and both parties' requisites are stored with it; new terms
-- make a new agreement, a new contract supersedes the old one (the latest is the current).
-- Numbers restart each year (Д-2026-0001) from `document_counters` (kind `contract`), and
-- each contract and agreement is also a row of `documents` (the archive) with its PDF.

-- The store's own templates (none: the shipped default for that language).
CREATE TABLE contract_templates (
    kind       text NOT NULL CHECK (kind IN ('contract', 'agreement')),
    lang       text NOT NULL CHECK (lang IN ('ru', 'en')),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
    updated_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, lang)
);

CREATE TABLE contracts (
    id                     bigserial PRIMARY KEY,
    company_id             bigint NOT NULL REFERENCES companies (id),
    kind                   text NOT NULL CHECK (kind IN ('contract', 'agreement')),
    -- An agreement's contract, and its number within it (1, 2, …).
    contract_id            bigint REFERENCES contracts (id),
    seq                    int NOT NULL CHECK (seq > 0),
    number                 text NOT NULL CHECK (length(number) BETWEEN 1 AND 40),
    issued_on              date NOT NULL,
    lang                   text NOT NULL CHECK (lang IN ('ru', 'en')),
    payment_terms_days     int NOT NULL CHECK (payment_terms_days BETWEEN 0 AND 365),
    credit_limit           numeric(15, 2) NOT NULL CHECK (credit_limit >= 0),
    -- The terms an agreement replaces.
    old_payment_terms_days int,
    old_credit_limit       numeric(15, 2),
    -- The parties as they were at issue: {name, inn, kpp, address, …}.
    supplier               jsonb NOT NULL,
    buyer                  jsonb NOT NULL,
    body                   text NOT NULL,
    created_by             bigint,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'agreement') = (contract_id IS NOT NULL)),
    CHECK ((kind = 'agreement') = (old_payment_terms_days IS NOT NULL AND old_credit_limit IS NOT NULL))
);
CREATE UNIQUE INDEX contracts_number_once ON contracts (number) WHERE kind = 'contract';
CREATE UNIQUE INDEX contracts_agreement_once ON contracts (contract_id, seq) WHERE kind = 'agreement';
CREATE INDEX contracts_company_idx ON contracts (company_id, id);

CREATE FUNCTION contracts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued contracts are never changed or deleted: issue an agreement or a new contract'
        USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER contracts_immutable BEFORE UPDATE OR DELETE ON contracts
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_immutable();

-- The contract a shipment was booked under.
ALTER TABLE ledger_entries ADD COLUMN contract_id bigint REFERENCES contracts (id);
