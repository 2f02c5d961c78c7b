-- Rotating refresh tokens (stored hashed) and single-use e-mail tokens (confirmation, reset).

CREATE TABLE public.refresh_tokens (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES public.accounts (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    -- Every rotation stays in the family of the first login; reuse of a rotated token
    -- revokes the whole family (a stolen token is then useless to both sides).
    family     uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON public.refresh_tokens (family);
CREATE INDEX refresh_tokens_account_idx ON public.refresh_tokens (account_id);

CREATE TABLE public.email_tokens (
    token_hash text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES public.accounts (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_tokens_account_idx ON public.email_tokens (account_id, purpose);
