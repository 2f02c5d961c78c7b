-- Our placement's SQL without HTTP (bench/orders_sql.sh): the statements our server runs for
-- an order of three lines of distinct SKUs, qty 1..3 (as the ceiling's order_atomic_*.sql),
-- with a fresh Idempotency-Key: the tenant transaction's first statement, the products, the
-- inputs under the key's lock, the write. :schema, :company, :account, :k are set by -D.
\set s1 random(1, :k)
\set s2 :k + random(1, :k)
\set s3 2 * :k + random(1, :k)
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
\set key random(1, 2000000000)
BEGIN;
SELECT set_config('search_path', :schema || ', public', true), set_config('app.tenant_id', :schema, true), coalesce(g.catalog, 0), coalesce(g.access, 0) FROM (SELECT 1) one LEFT JOIN public.tenant_generations g ON g.schema_name = :schema;
SELECT id, sku, name, unit, price, vat_rate, status, min_qty, order_multiple, category_id FROM products WHERE id = ANY (ARRAY[:s1, :s2, :s3]::bigint[]);
SELECT order_inputs('pgb-' || :key, :account, :company, 'dealer', ARRAY[:s1, :s2, :s3]::bigint[], current_date, now());
SELECT * FROM place_order('PGB-', :company, :account, 'order', 'new', 'pgb-' || :key, 'hash', 'RUB', 'included', 300, 50, 'invoice', 'pickup', '', NULL, '', '', true, NULL,
  ARRAY[:s1, :s2, :s3]::bigint[], ARRAY['a', 'b', 'c'], ARRAY['n', 'n', 'n'], ARRAY['pcs', 'pcs', 'pcs'], ARRAY[:q1, :q2, :q3]::numeric[],
  ARRAY[100, 100, 100]::numeric[], ARRAY['20', '20', '20'], ARRAY[100, 100, 100]::numeric[], ARRAY[16.67, 16.67, 16.67]::numeric[],
  ARRAY['{}', '{}', '{}']::jsonb[], 'Заказ {number} принят / Order {number} placed', 'Заказ {number} / Order {number}');
COMMIT;
