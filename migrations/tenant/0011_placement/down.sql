DROP TRIGGER stock_sync_update ON stock;
DROP TRIGGER stock_sync ON stock;
CREATE TRIGGER stock_sync AFTER INSERT OR UPDATE OR DELETE ON stock FOR EACH ROW EXECUTE FUNCTION stock_sync();
DROP FUNCTION place_order(text, bigint, bigint, text, text, text, text, text, text, numeric, numeric, text, text,
    text, date, text, text, boolean, bigint, bigint[], text[], text[], text[], numeric[], numeric[], text[],
    numeric[], numeric[], jsonb[], text, text);
DROP FUNCTION order_inputs(text, bigint, bigint, text, bigint[], date, timestamptz);
