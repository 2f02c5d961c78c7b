-- Buyer companies, their people and addresses, staff status, invitations.

ALTER TABLE staff ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'));
ALTER TABLE staff ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE companies (
    id                 bigserial PRIMARY KEY,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    inn                text NOT NULL CHECK (inn ~ '^([0-9]{10}|[0-9]{12})$'),
    kpp                text CHECK (kpp ~ '^[0-9]{9}$'),
    legal_address      text NOT NULL DEFAULT '' CHECK (length(legal_address) <= 500),
    phone              text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    contact_person     text NOT NULL DEFAULT '' CHECK (length(contact_person) <= 200),
    status             text NOT NULL CHECK (status IN ('active', 'pending_approval', 'rejected', 'blocked')),
    reject_reason      text CHECK (length(reject_reason) <= 1000),
    price_group        text CHECK (price_group ~ '^[a-z0-9_-]{1,40}$'),
    credit_limit       numeric(15, 2) NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    discount_percent   numeric(5, 2) NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
    manager_account_id bigint,
    decided_at         timestamptz,
    decided_by         bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX companies_inn_kpp_key ON companies (inn, coalesce(kpp, ''));
CREATE INDEX companies_status_idx ON companies (status, created_at DESC);

CREATE TABLE company_members (
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    account_id bigint NOT NULL,
    role       text NOT NULL CHECK (role IN ('admin', 'buyer', 'accountant', 'viewer')),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, account_id)
);
CREATE INDEX company_members_account_idx ON company_members (account_id);

CREATE TABLE company_addresses (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('legal', 'delivery')),
    address    text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX company_addresses_company_idx ON company_addresses (company_id);

CREATE TABLE invitations (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('staff', 'member')),
    email       text NOT NULL,
    role        text NOT NULL,
    company_id  bigint REFERENCES companies (id) ON DELETE CASCADE,
    token_hash  text NOT NULL UNIQUE,
    invited_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by bigint,
    CHECK ((kind = 'member') = (company_id IS NOT NULL))
);
