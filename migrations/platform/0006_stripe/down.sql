DROP TABLE public.stripe_events;
DROP TABLE public.stripe_intents;
