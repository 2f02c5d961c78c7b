-- Delivery of the mail outbox over SMTP (SMTP_URL): a worker leases unsent mail, sends it and
-- marks it sent; temporary failures are retried with back-off, permanent ones kept with why.
ALTER TABLE public.mail_outbox
    ADD COLUMN attempts        int NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error      text,
    ADD COLUMN failed_at       timestamptz;

CREATE INDEX mail_outbox_due ON public.mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
