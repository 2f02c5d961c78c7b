DROP TABLE public.marketplace_products, public.dead_jobs, public.jobs;
