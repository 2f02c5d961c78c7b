-- Catalog pages list by name within a category, or the whole catalog by name: both walk an
-- index and stop after a page instead of sorting every product.
DROP INDEX products_category_idx;
CREATE INDEX products_category_name_idx ON products (category_id, lower(name), id);
CREATE INDEX products_name_idx ON products (lower(name), id);
