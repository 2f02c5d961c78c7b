UPDATE orders SET status = 'new' WHERE status = 'on_hold';
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('awaiting_approval', 'new', 'confirmed',
    'in_production', 'assembled', 'shipped', 'delivered', 'completed', 'cancelled'));
DROP TABLE bank_imports;
ALTER TABLE payments DROP COLUMN bank_ref;
