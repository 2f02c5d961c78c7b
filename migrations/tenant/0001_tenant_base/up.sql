-- Account ids are not foreign keys: a key from every tenant schema into public.accounts puts
-- triggers per tenant on that table (docs/BENCHMARKS.md, "Foreign keys"). The code checks them.
-- Runs with search_path = "tenant_<slug>", public: unqualified names land in the tenant schema.

-- Supplier staff: which global accounts work in this tenant, and as what.
CREATE TABLE staff (
    account_id bigint PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'warehouse', 'accountant', 'content_editor')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Tenant settings (legal details, portal options): one JSON value per key.
CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]{0,63}$'),
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
