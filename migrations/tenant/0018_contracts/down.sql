ALTER TABLE ledger_entries DROP COLUMN contract_id;
DROP TABLE contracts;
DROP FUNCTION contracts_immutable();
DROP TABLE contract_templates;
