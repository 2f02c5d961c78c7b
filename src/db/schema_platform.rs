//! Diesel tables of the platform, qualified with `public.` so they resolve whatever the
//! transaction's search path is. Tenant tables are declared unqualified in their modules.

diesel::table! {
    public.tenants (id) {
        id -> Int8,
        slug -> Text,
        schema_name -> Text,
        name -> Text,
        status -> Text,
        mode -> Text,
        locales -> Array<Text>,
        default_locale -> Text,
        plan -> Text,
        features -> Jsonb,
        branding -> Jsonb,
        logo -> Nullable<Bytea>,
        logo_mime -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    public.tenant_domains (id) {
        id -> Int8,
        tenant_id -> Int8,
        domain -> Text,
        verified_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    public.accounts (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        is_operator -> Bool,
        email_confirmed_at -> Nullable<Timestamptz>,
        tokens_valid_after -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    public.revoked_tokens (jti) {
        jti -> Uuid,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    public.mail_outbox (id) {
        id -> Int8,
        tenant_id -> Nullable<Int8>,
        to_email -> Text,
        subject -> Text,
        body_text -> Text,
        links -> Jsonb,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        failed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    public.audit_log (id) {
        id -> Int8,
        tenant_id -> Nullable<Int8>,
        account_id -> Nullable<Int8>,
        action -> Text,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(tenant_domains -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(tenants, tenant_domains, accounts, revoked_tokens, tenant_generations);

diesel::table! {
    public.tenant_generations (schema_name) {
        schema_name -> Text,
        catalog -> Int8,
        access -> Int8,
    }
}

diesel::table! {
    public.refresh_tokens (id) {
        id -> Int8,
        account_id -> Int8,
        token_hash -> Text,
        family -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    public.email_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Int8,
        purpose -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    public.jobs (id) {
        id -> Int8,
        queue -> Text,
        kind -> Text,
        tenant_id -> Nullable<Int8>,
        payload -> Jsonb,
        priority -> Int2,
        attempts -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    public.marketplace_products (tenant_id, product_id) {
        tenant_id -> Int8,
        product_id -> Int8,
        sku -> Text,
        name -> Text,
        brand -> Text,
        category -> Text,
        status -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    public.stripe_intents (intent_id) {
        intent_id -> Text,
        tenant_id -> Int8,
        attempt_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    public.stripe_events (event_id) {
        event_id -> Text,
        #[sql_name = "type"]
        kind -> Text,
        tenant_id -> Nullable<Int8>,
        intent_id -> Nullable<Text>,
        outcome -> Text,
        received_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(stripe_intents, tenants);
