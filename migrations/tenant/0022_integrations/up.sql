-- Integrations (issue 8): API keys for the admin JSON API, outbound webhooks delivered
-- through the job queue (outbox), and their delivery log.

-- An API key is shown once as `tp_live_<prefix>_<secret>`; only the SHA-256 of the secret is
-- kept. `prefix` finds the row, the hash is compared in constant time by the application.
CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    prefix       text NOT NULL UNIQUE CHECK (prefix ~ '^[a-z0-9]{8,16}$'),
    secret_hash  bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    scope        text NOT NULL CHECK (scope IN ('read', 'write')),
    created_by   bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   bigint
);

-- Where events are sent. The secret signs every delivery (HMAC-SHA256), so it is kept as is.
CREATE TABLE webhook_endpoints (
    id          bigserial PRIMARY KEY,
    url         text NOT NULL CHECK (char_length(url) BETWEEN 8 AND 2000),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 200),
    events      text[] NOT NULL CHECK (cardinality(events) > 0),
    secret      text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per event that at least one endpoint wanted.
CREATE TABLE webhook_events (
    id         uuid PRIMARY KEY,
    type       text NOT NULL,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One event for one endpoint; its id is the `Tradeport-Delivery` header, the same on retries.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'retrying', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    delivered_at    timestamptz
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);

-- Every try: what the receiver answered (or why nothing came back) and how long it took.
CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     int NOT NULL,
    status_code int,
    error       text,
    duration_ms int NOT NULL,
    started_at  timestamptz NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- The one way an event is emitted, in the transaction of the change: an event row, a delivery
-- per active endpoint that subscribed to it, and a `webhook.deliver` job per delivery. Nothing
-- is written when no endpoint wants the event. Returns the number of deliveries.
CREATE FUNCTION webhook_emit(p_type text, p_data jsonb) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ev  uuid;
    tid bigint;
    n   integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE active AND p_type = ANY (events)) THEN
        RETURN 0;
    END IF;
    -- The function's own schema (its search_path is pinned below) names the tenant.
    SELECT t.id INTO tid FROM public.tenants t WHERE t.schema_name = (current_schemas(false))[1];
    ev := gen_random_uuid();
    INSERT INTO webhook_events (id, type, data) VALUES (ev, p_type, p_data);
    WITH d AS (
        INSERT INTO webhook_deliveries (id, endpoint_id, event_id)
        SELECT gen_random_uuid(), e.id, ev FROM webhook_endpoints e WHERE e.active AND p_type = ANY (e.events)
        RETURNING id
    )
    INSERT INTO public.jobs (queue, kind, tenant_id, payload)
    SELECT 'webhooks', 'webhook.deliver', tid, jsonb_build_object('delivery_id', d.id) FROM d;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
ALTER FUNCTION webhook_emit(text, jsonb) SET search_path FROM CURRENT;

-- `stock.changed`: every statement that changes stock (an order, a cancellation, a staff
-- edit, an import, a return) emits one event per 500 products with what is available now.
-- Fires after the `stock_sync_*` triggers (names sort before), so availability is current.
CREATE FUNCTION stock_webhook_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    i   integer := 1;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE active AND 'stock.changed' = ANY (events)) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT n.product_id ORDER BY n.product_id) INTO ids FROM stock_new n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.product_id ORDER BY o.product_id) INTO ids FROM stock_old o;
    ELSE
        SELECT array_agg(DISTINCT n.product_id ORDER BY n.product_id) INTO ids
          FROM stock_new n JOIN stock_old o USING (product_id, warehouse_id)
         WHERE n.quantity <> o.quantity OR n.reserved <> o.reserved;
    END IF;
    WHILE ids IS NOT NULL AND i <= cardinality(ids) LOOP
        PERFORM webhook_emit('stock.changed', jsonb_build_object('items',
            (SELECT jsonb_agg(jsonb_build_object('sku', p.sku, 'available', p.stock_available::text) ORDER BY p.id)
               FROM products p WHERE p.id = ANY (ids[i:i + 499]))));
        i := i + 500;
    END LOOP;
    RETURN NULL;
END $$;
ALTER FUNCTION stock_webhook_rows() SET search_path FROM CURRENT;
CREATE TRIGGER stock_webhook_insert AFTER INSERT ON stock REFERENCING NEW TABLE AS stock_new
    FOR EACH STATEMENT EXECUTE FUNCTION stock_webhook_rows();
CREATE TRIGGER stock_webhook_update AFTER UPDATE ON stock REFERENCING OLD TABLE AS stock_old NEW TABLE AS stock_new
    FOR EACH STATEMENT EXECUTE FUNCTION stock_webhook_rows();
CREATE TRIGGER stock_webhook_delete AFTER DELETE ON stock REFERENCING OLD TABLE AS stock_old
    FOR EACH STATEMENT EXECUTE FUNCTION stock_webhook_rows();
