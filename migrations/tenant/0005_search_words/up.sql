-- The words of product names and brands: a small dictionary that typo correction looks up
-- with trigrams (a trigram scan over every product name does not scale past ~10,000 products).
CREATE TABLE search_words (
    word text PRIMARY KEY CHECK (length(word) BETWEEN 2 AND 60)
);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);
INSERT INTO search_words
SELECT DISTINCT w FROM products p,
    regexp_split_to_table(lower(p.name || ' ' || p.brand || ' ' || coalesce(p.i18n -> 'en' ->> 'name', '')), '[^[:alnum:]]+') w
WHERE length(w) BETWEEN 2 AND 60
ON CONFLICT DO NOTHING;
DROP INDEX products_name_trgm_idx;
