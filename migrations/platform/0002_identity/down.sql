DROP TABLE public.email_tokens;
DROP TABLE public.refresh_tokens;
