ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('opening', 'shipment', 'payment', 'return', 'reversal'));
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('completed', 'reversed'));
ALTER TABLE payments DROP CONSTRAINT payments_refunded_check;
ALTER TABLE payments DROP COLUMN refunded;
DROP TABLE card_refunds;
DROP TABLE card_payments;
