//! Diesel tables of the exchange log (migration 0020_exchange_sessions), in the tenant schema.

diesel::table! {
    exchange_sessions (id) {
        id -> Int8,
        token_hash -> Text,
        sessid -> Text,
        #[sql_name = "type"]
        kind -> Text,
        version -> Nullable<Text>,
        status -> Text,
        remote_addr -> Text,
        user_agent -> Text,
        requests -> Int4,
        bytes_received -> Int8,
        error -> Nullable<Text>,
        started_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    exchange_files (id) {
        id -> Int8,
        session_id -> Int8,
        name -> Text,
        size_bytes -> Int8,
        chunks -> Int4,
        status -> Text,
        from_zip -> Nullable<Text>,
        report -> Nullable<Jsonb>,
        error -> Nullable<Text>,
        received_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    exchange_requests (id) {
        id -> Int8,
        session_id -> Nullable<Int8>,
        at -> Timestamptz,
        #[sql_name = "type"]
        kind -> Text,
        mode -> Text,
        filename -> Text,
        bytes -> Int8,
        status -> Text,
        message -> Text,
        duration_ms -> Int4,
    }
}

diesel::joinable!(exchange_files -> exchange_sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(exchange_files, exchange_sessions);
