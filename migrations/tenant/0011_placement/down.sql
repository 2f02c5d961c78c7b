DROP TRIGGER stock_sync_insert ON stock;
DROP TRIGGER stock_sync_update ON stock;
DROP TRIGGER stock_sync_delete ON stock;
DROP FUNCTION stock_sync_rows();
CREATE FUNCTION stock_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE pid bigint;
BEGIN
    pid := CASE WHEN TG_OP = 'DELETE' THEN OLD.product_id ELSE NEW.product_id END;
    UPDATE products SET stock_available =
        (SELECT coalesce(sum(quantity - reserved), 0) FROM stock WHERE product_id = pid)
    WHERE id = pid;
    RETURN NULL;
END $$;
ALTER FUNCTION stock_sync() SET search_path FROM CURRENT;
CREATE TRIGGER stock_sync AFTER INSERT OR UPDATE OR DELETE ON stock FOR EACH ROW EXECUTE FUNCTION stock_sync();
DROP FUNCTION place_order(text, bigint, bigint, text, text, text, text, text, text, numeric, numeric, text, text,
    text, date, text, text, boolean, bigint, bigint[], text[], text[], text[], numeric[], numeric[], text[],
    numeric[], numeric[], jsonb[], text, text);
DROP FUNCTION order_inputs(text, bigint, bigint, text, bigint[], date, timestamptz);
