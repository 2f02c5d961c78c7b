-- The marketplace's word dictionary for typo correction (see the tenant search_words table).
CREATE TABLE public.marketplace_words (
    word text PRIMARY KEY CHECK (length(word) BETWEEN 2 AND 60)
);
CREATE INDEX marketplace_words_trgm_idx ON public.marketplace_words USING gin (word gin_trgm_ops);
INSERT INTO public.marketplace_words
SELECT DISTINCT w FROM public.marketplace_products m, regexp_split_to_table(lower(m.name || ' ' || m.brand), '[^[:alnum:]]+') w
WHERE length(w) BETWEEN 2 AND 60
ON CONFLICT DO NOTHING;
DROP INDEX public.marketplace_products_trgm_idx;
