DROP TABLE public.audit_log;
DROP TABLE public.mail_outbox;
DROP TABLE public.revoked_tokens;
DROP TABLE public.accounts;
DROP TABLE public.tenant_domains;
DROP TABLE public.tenants;
