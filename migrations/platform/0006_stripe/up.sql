-- Stripe: which tenant and card payment attempt a PaymentIntent belongs to (the webhook
-- routes by this, never by the event's metadata), and every event id once, written in the
-- same transaction as the event's effect.
CREATE TABLE public.stripe_intents (
    intent_id  text PRIMARY KEY,
    tenant_id  bigint NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    attempt_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_intents_tenant_idx ON public.stripe_intents (tenant_id);

CREATE TABLE public.stripe_events (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    tenant_id   bigint REFERENCES public.tenants (id) ON DELETE SET NULL,
    intent_id   text,
    -- What it did: booked, state, held, flagged, ignored, unknown_intent.
    outcome     text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_intent_idx ON public.stripe_events (intent_id);
