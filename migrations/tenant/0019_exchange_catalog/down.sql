DROP TABLE exchange_price_types;
DROP INDEX warehouses_external_id_key;
ALTER TABLE warehouses DROP COLUMN external_id;
DROP INDEX attributes_external_id_key;
ALTER TABLE attributes DROP COLUMN external_values, DROP COLUMN external_id;
DROP INDEX categories_external_id_key;
ALTER TABLE categories DROP COLUMN external_id;
DROP INDEX products_external_catalog_idx;
DROP INDEX products_parent_idx;
DROP INDEX products_external_id_key;
ALTER TABLE products DROP CONSTRAINT products_parent_not_self, DROP COLUMN is_service, DROP COLUMN variant_label,
    DROP COLUMN parent_id, DROP COLUMN external_catalog, DROP COLUMN external_id;
