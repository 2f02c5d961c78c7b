DROP TABLE company_balances;
DROP TABLE ledger_entries;
DROP FUNCTION ledger_totals();
DROP FUNCTION ledger_append_only();
DROP TABLE payments;
ALTER TABLE companies DROP COLUMN payment_terms_days;
