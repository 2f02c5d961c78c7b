//! Diesel tables of a tenant schema, unqualified: they resolve only inside the tenant door.

diesel::table! {
    staff (account_id) {
        account_id -> Int8,
        role -> Text,
        created_at -> Timestamptz,
        status -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    companies (id) {
        id -> Int8,
        name -> Text,
        inn -> Text,
        kpp -> Nullable<Text>,
        legal_address -> Text,
        phone -> Text,
        contact_person -> Text,
        status -> Text,
        reject_reason -> Nullable<Text>,
        price_group -> Nullable<Text>,
        credit_limit -> Numeric,
        discount_percent -> Numeric,
        manager_account_id -> Nullable<Int8>,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    company_members (company_id, account_id) {
        company_id -> Int8,
        account_id -> Int8,
        role -> Text,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    company_addresses (id) {
        id -> Int8,
        company_id -> Int8,
        kind -> Text,
        address -> Text,
        is_default -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (id) {
        id -> Int8,
        kind -> Text,
        email -> Text,
        role -> Text,
        company_id -> Nullable<Int8>,
        token_hash -> Text,
        invited_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        accepted_by -> Nullable<Int8>,
    }
}

diesel::joinable!(company_members -> companies (company_id));
diesel::joinable!(company_addresses -> companies (company_id));
use crate::db::schema_platform::accounts;
diesel::joinable!(company_members -> accounts (account_id));
diesel::joinable!(staff -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    companies,
    company_members,
    company_addresses,
    invitations,
    staff
);
