-- Order placement in two calls instead of some thirty statements (docs/BENCHMARKS.md, "Order
-- placement"): `order_inputs` reads what pricing and the checks need, `place_order` writes
-- the order. Both run inside the caller's transaction; the Rust code decides everything
-- (prices, limits, statuses, texts) and these only read and write.

-- Under the idempotency key's lock: the earlier order with that key, every setting, the
-- buyer's order limit, the price group, and the pricing rows of the products `p_ids`.
-- Decimals go out as text so that nothing passes through a float.
CREATE FUNCTION order_inputs(p_key text, p_account bigint, p_company bigint, p_group text,
                             p_ids bigint[], p_today date, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    g_code text; g_name text; g_type text; g_type_name text; g_discount numeric;
BEGIN
    IF p_key IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(p_key, p_account));
    END IF;
    IF p_group IS NOT NULL THEN
        SELECT g.code, g.name, g.price_type, coalesce(t.name, ''), g.discount_percent
          INTO g_code, g_name, g_type, g_type_name, g_discount
          FROM price_groups g LEFT JOIN price_types t ON t.code = g.price_type WHERE g.code = p_group;
        IF g_code IS NULL THEN
            -- A group named on a customer before it was set up: its price type of that code.
            SELECT t.code, t.name, t.code, t.name, 0 INTO g_code, g_name, g_type, g_type_name, g_discount
              FROM price_types t WHERE t.code = p_group;
        END IF;
    END IF;
    RETURN jsonb_build_object(
        'earlier', (SELECT jsonb_build_object('id', o.id, 'hash', o.request_hash) FROM orders o
                     WHERE p_key IS NOT NULL AND o.account_id = p_account AND o.idempotency_key = p_key),
        'settings', (SELECT coalesce(jsonb_object_agg(s.key, s.value), '{}') FROM settings s),
        'order_limit', (SELECT m.order_limit::text FROM company_members m
                         WHERE m.company_id = p_company AND m.account_id = p_account),
        'group', CASE WHEN g_code IS NULL THEN NULL ELSE jsonb_build_object('code', g_code, 'name', g_name,
                   'price_type', g_type, 'price_type_name', g_type_name, 'discount', g_discount::text) END,
        'type_prices', (SELECT coalesce(jsonb_agg(jsonb_build_array(pp.product_id, pp.price::text)), '[]')
                          FROM product_prices pp
                         WHERE g_type IS NOT NULL AND g_type <> 'base'
                           AND pp.product_id = ANY (p_ids) AND pp.price_type = g_type),
        'contracts', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.product_id, c.price::text)), '[]')
                        FROM customer_prices c
                       WHERE c.company_id = p_company AND c.product_id = ANY (p_ids)
                         AND (c.valid_from IS NULL OR c.valid_from <= p_today)
                         AND (c.valid_to IS NULL OR c.valid_to >= p_today)),
        'breaks', (SELECT coalesce(jsonb_agg(jsonb_build_array(b.product_id, b.min_qty::text,
                                                               b.discount_percent::text)), '[]')
                     FROM quantity_breaks b WHERE b.product_id = ANY (p_ids)),
        'promotions', (SELECT coalesce(jsonb_agg(jsonb_build_array(pr.id, pr.name, pr.kind, pr.value::text,
                                       to_jsonb(pr.product_ids), to_jsonb(pr.category_ids),
                                       to_jsonb(pr.price_groups))), '[]')
                         FROM promotions pr
                        WHERE pr.active AND pr.starts_at <= p_now AND pr.ends_at > p_now));
END $$;

-- Writes an order the caller has priced: when `p_take_stock`, every line is taken whole
-- from the first warehouse, whose rows are locked in product order when they hold enough
-- (a row short of it is not locked). When one line cannot be served there, nothing is
-- written and one row comes back with `id` null and `short`: the lines whose free stock over
-- all warehouses (read, not locked) is below the quantity, as [product id, free] pairs. Empty
-- means the stock is there but split across warehouses: the caller then goes line by line.
-- The buyer's notification and mail are written with the order; `{number}` in their texts
-- becomes its number.
CREATE FUNCTION place_order(
    p_prefix text, p_company bigint, p_account bigint, p_kind text, p_status text, p_key text,
    p_hash text, p_currency text, p_vat_mode text, p_total numeric, p_vat_total numeric,
    p_payment text, p_delivery text, p_address text, p_date date, p_po text, p_comment text,
    p_take_stock boolean, p_cart bigint,
    l_product bigint[], l_sku text[], l_name text[], l_unit text[], l_qty numeric[],
    l_price numeric[], l_vat_rate text[], l_amount numeric[], l_vat numeric[], l_breakdown jsonb[],
    n_title text, n_text text)
RETURNS TABLE (id bigint, number text, created_at timestamptz, short jsonb) LANGUAGE plpgsql AS $$
DECLARE
    wh bigint;
    served int;
    o_id bigint;
    o_number text;
    o_at timestamptz;
BEGIN
    IF p_take_stock THEN
        SELECT w.id INTO wh FROM warehouses w ORDER BY w.position, w.id LIMIT 1;
        SELECT count(*) INTO served FROM (
            SELECT 1 FROM stock s JOIN unnest(l_product, l_qty) AS l (pid, qty) ON s.product_id = l.pid
             WHERE s.warehouse_id = wh AND s.quantity - s.reserved >= l.qty
             ORDER BY s.product_id
               FOR UPDATE OF s) x;
        IF served < cardinality(l_product) THEN
            SELECT coalesce(jsonb_agg(jsonb_build_array(l.pid, t.free::text)), '[]') INTO short
              FROM unnest(l_product, l_qty) AS l (pid, qty)
              CROSS JOIN LATERAL (SELECT coalesce(sum(greatest(s.quantity - s.reserved, 0)), 0) AS free
                                    FROM stock s WHERE s.product_id = l.pid) t
             WHERE t.free < l.qty;
            RETURN NEXT;
            RETURN;
        END IF;
        UPDATE stock s SET quantity = s.quantity - l.qty, updated_at = now()
          FROM unnest(l_product, l_qty) AS l (pid, qty)
         WHERE s.product_id = l.pid AND s.warehouse_id = wh;
    END IF;
    INSERT INTO orders AS o (number, company_id, account_id, kind, status, idempotency_key, request_hash,
                             currency, vat_mode, total, vat_total, payment_method, delivery_method,
                             delivery_address, desired_date, po_number, comment)
    VALUES (p_prefix || lpad(nextval('order_number_seq')::text, 6, '0'), p_company, p_account, p_kind,
            p_status, p_key, p_hash, p_currency, p_vat_mode, p_total, p_vat_total, p_payment, p_delivery,
            p_address, p_date, p_po, p_comment)
    RETURNING o.id, o.number, o.created_at INTO o_id, o_number, o_at;
    IF p_take_stock THEN
        INSERT INTO order_allocations (order_id, product_id, warehouse_id, qty)
        SELECT o_id, l.pid, wh, l.qty FROM unnest(l_product, l_qty) AS l (pid, qty);
    END IF;
    INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit, qty, price, vat_rate, amount,
                             vat_amount, breakdown)
    SELECT o_id, l.n, l.pid, l.sku, l.name, l.unit, l.qty, l.price, l.vat_rate, l.amount, l.vat, l.breakdown
      FROM unnest(l_product, l_sku, l_name, l_unit, l_qty, l_price, l_vat_rate, l_amount, l_vat, l_breakdown)
           WITH ORDINALITY AS l (pid, sku, name, unit, qty, price, vat_rate, amount, vat, breakdown, n);
    INSERT INTO order_events (order_id, actor_id, actor_kind, from_status, to_status, note)
    VALUES (o_id, p_account, 'buyer', NULL, p_status, '');
    IF p_cart IS NOT NULL THEN
        DELETE FROM cart_lines WHERE cart_id = p_cart;
    END IF;
    INSERT INTO notifications (account_id, company_id, kind, title, link)
    VALUES (p_account, p_company, 'order_placed', replace(n_title, '{number}', o_number), '/orders/' || o_number);
    INSERT INTO public.mail_outbox (tenant_id, to_email, subject, body_text, links)
    SELECT t.id, a.email, replace(n_title, '{number}', o_number), replace(n_text, '{number}', o_number),
           jsonb_build_array('/orders/' || o_number)
      FROM public.accounts a LEFT JOIN public.tenants t ON t.schema_name = current_setting('app.tenant_id', true)
     WHERE a.id = p_account;
    id := o_id;
    number := o_number;
    created_at := o_at;
    short := NULL;
    RETURN NEXT;
END $$;

ALTER FUNCTION order_inputs(text, bigint, bigint, text, bigint[], date, timestamptz) SET search_path FROM CURRENT;
ALTER FUNCTION place_order(text, bigint, bigint, text, text, text, text, text, text, numeric, numeric, text, text,
    text, date, text, text, boolean, bigint, bigint[], text[], text[], text[], numeric[], numeric[], text[],
    numeric[], numeric[], jsonb[], text, text) SET search_path FROM CURRENT;

-- Products' available totals follow stock once per statement, not once per row: an order
-- of three lines, a 1C stock file of 10,000 rows or a staff edit is one UPDATE of the
-- products it touched. The change is added as a difference (`stock_available + delta`), so two
-- transactions changing one product's stock in different warehouses at once both count: the
-- second waits for the first's product row and adds to what it wrote.
CREATE FUNCTION stock_sync_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE products p SET stock_available = p.stock_available + d.delta
          FROM (SELECT n.product_id, sum(n.quantity - n.reserved) AS delta FROM stock_new n GROUP BY 1) d
         WHERE p.id = d.product_id AND d.delta <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE products p SET stock_available = p.stock_available - d.delta
          FROM (SELECT o.product_id, sum(o.quantity - o.reserved) AS delta FROM stock_old o GROUP BY 1) d
         WHERE p.id = d.product_id AND d.delta <> 0;
    ELSE
        UPDATE products p SET stock_available = p.stock_available + d.delta
          FROM (SELECT x.product_id, sum(x.free) AS delta
                  FROM (SELECT n.product_id, n.quantity - n.reserved AS free FROM stock_new n
                        UNION ALL
                        SELECT o.product_id, o.reserved - o.quantity FROM stock_old o) x
                 GROUP BY 1) d
         WHERE p.id = d.product_id AND d.delta <> 0;
    END IF;
    RETURN NULL;
END $$;
ALTER FUNCTION stock_sync_rows() SET search_path FROM CURRENT;
DROP TRIGGER stock_sync ON stock;
CREATE TRIGGER stock_sync_insert AFTER INSERT ON stock REFERENCING NEW TABLE AS stock_new
    FOR EACH STATEMENT EXECUTE FUNCTION stock_sync_rows();
CREATE TRIGGER stock_sync_update AFTER UPDATE ON stock REFERENCING OLD TABLE AS stock_old NEW TABLE AS stock_new
    FOR EACH STATEMENT EXECUTE FUNCTION stock_sync_rows();
CREATE TRIGGER stock_sync_delete AFTER DELETE ON stock REFERENCING OLD TABLE AS stock_old
    FOR EACH STATEMENT EXECUTE FUNCTION stock_sync_rows();
-- Totals as the row trigger left them are exact; this keeps them so if anything drifted.
UPDATE products p SET stock_available = t.free
  FROM (SELECT p2.id, coalesce((SELECT sum(s.quantity - s.reserved) FROM stock s WHERE s.product_id = p2.id), 0) AS free
          FROM products p2) t
 WHERE p.id = t.id AND p.stock_available IS DISTINCT FROM t.free;
DROP FUNCTION stock_sync();
