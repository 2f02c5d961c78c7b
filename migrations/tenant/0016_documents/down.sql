UPDATE products SET unit = 'pcs' WHERE unit = 'service';
ALTER TABLE products DROP CONSTRAINT products_unit_check;
ALTER TABLE products ADD CONSTRAINT products_unit_check
    CHECK (unit IN ('pcs', 'm', 'm2', 'm3', 'kg', 'l', 'pack', 'set', 'roll'));
ALTER TABLE companies DROP COLUMN edo_id;
DROP TABLE document_edo;
DROP TABLE document_asset_current;
DROP TABLE document_assets;
DROP TRIGGER documents_immutable ON documents;
DROP FUNCTION documents_immutable();
DROP TABLE documents;
DROP TABLE document_counters;
