CREATE INDEX products_name_trgm_idx ON products USING gin (lower(name) gin_trgm_ops);
DROP TABLE search_words;
