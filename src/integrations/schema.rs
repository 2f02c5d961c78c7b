//! Diesel tables of `0022_integrations` (tenant tables, unqualified).

diesel::table! {
    api_keys (id) {
        id -> Int8,
        name -> Text,
        prefix -> Text,
        secret_hash -> Bytea,
        scope -> Text,
        created_by -> Int8,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Int8>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Int8,
        url -> Text,
        description -> Text,
        events -> Array<Text>,
        secret -> Text,
        active -> Bool,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Uuid,
        #[sql_name = "type"]
        kind -> Text,
        data -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Int8,
        event_id -> Uuid,
        status -> Text,
        attempts -> Int4,
        created_at -> Timestamptz,
        last_attempt_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Int8,
        delivery_id -> Uuid,
        attempt -> Int4,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
        started_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_events, webhook_deliveries, webhook_attempts);
