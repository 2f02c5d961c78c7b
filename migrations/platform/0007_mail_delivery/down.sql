DROP INDEX IF EXISTS public.mail_outbox_due;
ALTER TABLE public.mail_outbox
    DROP COLUMN attempts,
    DROP COLUMN next_attempt_at,
    DROP COLUMN last_error,
    DROP COLUMN failed_at;
