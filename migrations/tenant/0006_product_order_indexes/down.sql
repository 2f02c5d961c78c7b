DROP INDEX products_name_idx;
DROP INDEX products_category_name_idx;
CREATE INDEX products_category_idx ON products (category_id, name);
