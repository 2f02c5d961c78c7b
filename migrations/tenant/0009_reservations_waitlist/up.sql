-- Reservations: a buyer holds a quantity until a date; the held stock is `stock.reserved`,
-- so it is not sellable to anyone else (`products.stock_available` = quantity − reserved).
CREATE TABLE reservations (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products (id),
    qty         numeric(14, 3) NOT NULL CHECK (qty > 0 AND qty < 1000000000),
    until       timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'released', 'expired', 'converted')),
    source      text NOT NULL DEFAULT 'buyer' CHECK (source IN ('buyer', 'waitlist')),
    order_id    bigint REFERENCES orders (id),
    reminded_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);
CREATE INDEX reservations_company_idx ON reservations (company_id, status, until);
CREATE INDEX reservations_due_idx ON reservations (until) WHERE status = 'active';

-- Where each reserved quantity sits.
CREATE TABLE reservation_allocations (
    reservation_id bigint NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    warehouse_id   bigint NOT NULL REFERENCES warehouses (id),
    qty            numeric(14, 3) NOT NULL CHECK (qty > 0),
    PRIMARY KEY (reservation_id, warehouse_id)
);

-- Waitlist: subscribers of an out-of-stock or upcoming product, told once when it arrives.
CREATE TABLE waitlist (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    qty         numeric(14, 3) CHECK (qty > 0 AND qty < 1000000000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    notified_at timestamptz,
    reservation_id bigint REFERENCES reservations (id)
);
CREATE UNIQUE INDEX waitlist_waiting_idx ON waitlist (account_id, product_id) WHERE notified_at IS NULL;
CREATE INDEX waitlist_product_idx ON waitlist (product_id, created_at) WHERE notified_at IS NULL;

-- When a product comes back (available goes from none to some), the waitlist job is queued
-- in the same transaction as the stock change, whoever made it (API, import, 1C).
CREATE FUNCTION waitlist_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tid bigint;
BEGIN
    IF NEW.stock_available > 0 AND OLD.stock_available <= 0
       AND EXISTS (SELECT 1 FROM waitlist w WHERE w.product_id = NEW.id AND w.notified_at IS NULL) THEN
        SELECT t.id INTO tid FROM public.tenants t WHERE t.schema_name = TG_TABLE_SCHEMA;
        IF tid IS NOT NULL THEN
            INSERT INTO public.jobs (queue, kind, tenant_id, payload)
            VALUES ('orders', 'waitlist.arrived', tid, jsonb_build_object('product_id', NEW.id));
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER waitlist_arrival AFTER UPDATE OF stock_available ON products
    FOR EACH ROW WHEN (NEW.stock_available > 0 AND OLD.stock_available <= 0)
    EXECUTE FUNCTION waitlist_arrival();
