-- The platform: tenants, their domains, global accounts, sessions, mail outbox, audit log.
-- Tenant commercial data never lives here (see migrations/tenant).

CREATE TABLE public.tenants (
    id             bigserial PRIMARY KEY,
    slug           text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{2,39}$'),
    schema_name    text NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[a-z][a-z0-9_]{2,39}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    mode           text NOT NULL DEFAULT 'open' CHECK (mode IN ('open', 'closed')),
    locales        text[] NOT NULL DEFAULT '{ru,en}',
    default_locale text NOT NULL DEFAULT 'ru',
    plan           text NOT NULL DEFAULT 'start' CHECK (plan IN ('start', 'business', 'enterprise')),
    features       jsonb NOT NULL DEFAULT '{}',
    branding       jsonb NOT NULL DEFAULT '{}',
    logo           bytea,
    logo_mime      text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (default_locale = ANY (locales))
);

CREATE TABLE public.tenant_domains (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    domain      text NOT NULL UNIQUE CHECK (domain = lower(domain)),
    verified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.accounts (
    id                 bigserial PRIMARY KEY,
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash      text,
    is_operator        boolean NOT NULL DEFAULT false,
    email_confirmed_at timestamptz,
    -- Tokens issued before this instant are refused (password change, "log out everywhere").
    tokens_valid_after timestamptz NOT NULL DEFAULT '1970-01-01',
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON public.accounts (lower(email));

CREATE TABLE public.revoked_tokens (
    jti        uuid PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON public.revoked_tokens (expires_at);

CREATE TABLE public.mail_outbox (
    id         bigserial PRIMARY KEY,
    tenant_id  bigint REFERENCES public.tenants (id) ON DELETE SET NULL,
    to_email   text NOT NULL,
    subject    text NOT NULL,
    body_text  text NOT NULL,
    links      jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);

CREATE TABLE public.audit_log (
    id         bigserial PRIMARY KEY,
    tenant_id  bigint REFERENCES public.tenants (id) ON DELETE SET NULL,
    account_id bigint REFERENCES public.accounts (id) ON DELETE SET NULL,
    action     text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON public.audit_log (tenant_id, created_at DESC);
