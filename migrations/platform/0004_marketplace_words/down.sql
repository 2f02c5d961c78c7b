CREATE INDEX marketplace_products_trgm_idx ON public.marketplace_products USING gin (lower(name) gin_trgm_ops);
DROP TABLE public.marketplace_words;
