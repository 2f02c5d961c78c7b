-- Trigram matching for typo-tolerant search (operators live in public, on every tenant's path).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The job queue (outbox): rows are written in the transaction of the change that causes them.
CREATE TABLE public.jobs (
    id           bigserial PRIMARY KEY,
    queue        text NOT NULL DEFAULT 'default',
    kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    tenant_id    bigint REFERENCES public.tenants (id) ON DELETE CASCADE,
    payload      jsonb NOT NULL DEFAULT '{}',
    priority     smallint NOT NULL DEFAULT 0,
    attempts     int NOT NULL DEFAULT 0,
    max_attempts int NOT NULL DEFAULT 8,
    run_at       timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready_idx ON public.jobs (queue, priority DESC, run_at, id);
CREATE INDEX jobs_tenant_idx ON public.jobs (tenant_id);

-- Jobs that failed `max_attempts` times, kept for operators to inspect and retry.
CREATE TABLE public.dead_jobs (
    id         bigint PRIMARY KEY,
    queue      text NOT NULL,
    kind       text NOT NULL,
    tenant_id  bigint,
    payload    jsonb NOT NULL,
    attempts   int NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL,
    died_at    timestamptz NOT NULL DEFAULT now()
);

-- The public catalogs of open suppliers, for the marketplace search on the landing page.
-- Written in the same transaction as the tenant's product change; holds nothing buyer-specific.
CREATE TABLE public.marketplace_products (
    tenant_id  bigint NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    product_id bigint NOT NULL,
    sku        text NOT NULL,
    name       text NOT NULL,
    brand      text NOT NULL DEFAULT '',
    category   text NOT NULL DEFAULT '',
    status     text NOT NULL,
    search_doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', sku), 'A')
        || setweight(to_tsvector('russian', name), 'A')
        || setweight(to_tsvector('simple', brand), 'B')
        || setweight(to_tsvector('russian', category), 'C')
    ) STORED,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, product_id)
);
CREATE INDEX marketplace_products_search_idx ON public.marketplace_products USING gin (search_doc);
CREATE INDEX marketplace_products_trgm_idx ON public.marketplace_products USING gin (lower(name) gin_trgm_ops);
