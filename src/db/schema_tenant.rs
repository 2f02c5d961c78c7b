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
        shared_carts -> Bool,
        payment_terms_days -> Nullable<Int4>,
        edo_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    company_members (company_id, account_id) {
        company_id -> Int8,
        account_id -> Int8,
        role -> Text,
        status -> Text,
        created_at -> Timestamptz,
        order_limit -> Nullable<Numeric>,
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

diesel::table! {
    categories (id) {
        id -> Int8,
        parent_id -> Nullable<Int8>,
        code -> Text,
        name -> Text,
        name_i18n -> Jsonb,
        position -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    attributes (code) {
        code -> Text,
        name -> Text,
        name_i18n -> Jsonb,
        kind -> Text,
        unit -> Text,
        options -> Array<Text>,
        filterable -> Bool,
        position -> Int4,
    }
}

diesel::table! {
    products (id) {
        id -> Int8,
        sku -> Text,
        name -> Text,
        description -> Text,
        brand -> Text,
        category_id -> Nullable<Int8>,
        unit -> Text,
        pack_size -> Numeric,
        min_qty -> Numeric,
        order_multiple -> Numeric,
        weight_kg -> Nullable<Numeric>,
        volume_m3 -> Nullable<Numeric>,
        vat_rate -> Text,
        price -> Numeric,
        status -> Text,
        available_from -> Nullable<Date>,
        attributes -> Jsonb,
        i18n -> Jsonb,
        stock_available -> Numeric,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    product_barcodes (barcode) {
        barcode -> Text,
        product_id -> Int8,
    }
}

diesel::table! {
    product_images (id) {
        id -> Int8,
        product_id -> Int8,
        storage_key -> Text,
        thumb_key -> Text,
        content_type -> Text,
        width -> Int4,
        height -> Int4,
        position -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    product_files (id) {
        id -> Int8,
        product_id -> Int8,
        storage_key -> Text,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        title -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    warehouses (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        position -> Int4,
    }
}

diesel::table! {
    stock (product_id, warehouse_id) {
        product_id -> Int8,
        warehouse_id -> Int8,
        quantity -> Numeric,
        reserved -> Numeric,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    price_types (code) {
        code -> Text,
        name -> Text,
        position -> Int4,
    }
}

diesel::table! {
    product_prices (product_id, price_type) {
        product_id -> Int8,
        price_type -> Text,
        price -> Numeric,
    }
}

diesel::table! {
    price_groups (code) {
        code -> Text,
        name -> Text,
        price_type -> Text,
        discount_percent -> Numeric,
    }
}

diesel::table! {
    customer_prices (id) {
        id -> Int8,
        company_id -> Int8,
        product_id -> Int8,
        price -> Numeric,
        valid_from -> Nullable<Date>,
        valid_to -> Nullable<Date>,
        note -> Text,
    }
}

diesel::table! {
    quantity_breaks (product_id, min_qty) {
        product_id -> Int8,
        min_qty -> Numeric,
        discount_percent -> Numeric,
    }
}

diesel::table! {
    promotions (id) {
        id -> Int8,
        name -> Text,
        kind -> Text,
        value -> Numeric,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        product_ids -> Array<Int8>,
        category_ids -> Array<Int8>,
        price_groups -> Array<Text>,
        active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    carts (id) {
        id -> Int8,
        company_id -> Int8,
        account_id -> Int8,
        name -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    cart_lines (cart_id, product_id) {
        cart_id -> Int8,
        product_id -> Int8,
        qty -> Numeric,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Int8,
        number -> Text,
        company_id -> Int8,
        account_id -> Int8,
        kind -> Text,
        status -> Text,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        currency -> Text,
        vat_mode -> Text,
        total -> Numeric,
        vat_total -> Numeric,
        payment_method -> Text,
        delivery_method -> Text,
        delivery_address -> Text,
        desired_date -> Nullable<Date>,
        expected_date -> Nullable<Date>,
        po_number -> Text,
        comment -> Text,
        internal_note -> Text,
        manager_account_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_lines (order_id, line_no) {
        order_id -> Int8,
        line_no -> Int4,
        product_id -> Int8,
        sku -> Text,
        name -> Text,
        unit -> Text,
        qty -> Numeric,
        price -> Numeric,
        vat_rate -> Text,
        amount -> Numeric,
        vat_amount -> Numeric,
        breakdown -> Jsonb,
    }
}

diesel::table! {
    order_allocations (order_id, product_id, warehouse_id) {
        order_id -> Int8,
        product_id -> Int8,
        warehouse_id -> Int8,
        qty -> Numeric,
    }
}

diesel::table! {
    order_events (id) {
        id -> Int8,
        order_id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        actor_kind -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        account_id -> Int8,
        company_id -> Nullable<Int8>,
        kind -> Text,
        title -> Text,
        link -> Text,
        read_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    reservations (id) {
        id -> Int8,
        company_id -> Int8,
        account_id -> Int8,
        product_id -> Int8,
        qty -> Numeric,
        until -> Timestamptz,
        status -> Text,
        source -> Text,
        order_id -> Nullable<Int8>,
        reminded_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    reservation_allocations (reservation_id, warehouse_id) {
        reservation_id -> Int8,
        warehouse_id -> Int8,
        qty -> Numeric,
    }
}

diesel::table! {
    waitlist (id) {
        id -> Int8,
        company_id -> Int8,
        account_id -> Int8,
        product_id -> Int8,
        qty -> Nullable<Numeric>,
        created_at -> Timestamptz,
        notified_at -> Nullable<Timestamptz>,
        reservation_id -> Nullable<Int8>,
    }
}

diesel::joinable!(reservations -> products (product_id));
diesel::joinable!(waitlist -> products (product_id));
diesel::joinable!(cart_lines -> carts (cart_id));
diesel::joinable!(cart_lines -> products (product_id));
diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(order_events -> orders (order_id));
diesel::joinable!(carts -> companies (company_id));
diesel::joinable!(orders -> companies (company_id));
diesel::joinable!(products -> categories (category_id));
diesel::joinable!(stock -> products (product_id));
diesel::joinable!(stock -> warehouses (warehouse_id));
diesel::joinable!(product_prices -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(
    categories,
    products,
    stock,
    warehouses,
    product_prices,
    product_barcodes,
    customer_prices,
    quantity_breaks,
    product_images,
    product_files,
    attributes,
    price_groups,
    price_types,
    promotions,
    carts,
    cart_lines,
    orders,
    order_lines,
    order_allocations,
    order_events,
    reservations,
    reservation_allocations,
    waitlist
);
diesel::allow_tables_to_appear_in_same_query!(carts, companies);
diesel::allow_tables_to_appear_in_same_query!(orders, companies);
diesel::allow_tables_to_appear_in_same_query!(orders, company_members);
diesel::allow_tables_to_appear_in_same_query!(carts, company_members);

diesel::table! {
    bank_imports (id) {
        id -> Int8,
        file_name -> Text,
        account -> Text,
        period_from -> Nullable<Date>,
        period_to -> Nullable<Date>,
        documents -> Int4,
        registered -> Int4,
        duplicates -> Int4,
        unmatched -> Int4,
        skipped -> Int4,
        report -> Jsonb,
        imported_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    payments (id) {
        id -> Int8,
        company_id -> Int8,
        method -> Text,
        amount -> Numeric,
        currency -> Text,
        reference -> Text,
        paid_on -> Date,
        status -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        bank_ref -> Nullable<Text>,
        refunded -> Numeric,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Int8,
        company_id -> Int8,
        side -> Text,
        kind -> Text,
        amount -> Numeric,
        booked_on -> Date,
        due_on -> Nullable<Date>,
        order_id -> Nullable<Int8>,
        payment_id -> Nullable<Int8>,
        reverses -> Nullable<Int8>,
        document -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        contract_id -> Nullable<Int8>,
    }
}

diesel::table! {
    company_balances (company_id) {
        company_id -> Int8,
        debit -> Numeric,
        credit -> Numeric,
    }
}

diesel::allow_tables_to_appear_in_same_query!(payments, companies, ledger_entries, company_balances);

diesel::table! {
    invoices (id) {
        id -> Int8,
        year -> Int4,
        seq -> Int4,
        number -> Text,
        order_id -> Int8,
        company_id -> Int8,
        issued_on -> Date,
        due_on -> Date,
        amount -> Numeric,
        vat_amount -> Numeric,
        paid -> Numeric,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    payment_allocations (payment_id, invoice_id) {
        payment_id -> Int8,
        invoice_id -> Int8,
        amount -> Numeric,
    }
}

diesel::joinable!(invoices -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(invoices, payment_allocations);
diesel::allow_tables_to_appear_in_same_query!(invoices, orders);
diesel::allow_tables_to_appear_in_same_query!(invoices, companies);

diesel::table! {
    invoice_years (year) {
        year -> Int4,
        start -> Int8,
    }
}

diesel::table! {
    card_payments (id) {
        id -> Int8,
        invoice_id -> Int8,
        company_id -> Int8,
        gateway -> Text,
        amount -> Numeric,
        amount_minor -> Int8,
        currency -> Text,
        stripe_account -> Nullable<Text>,
        fee_minor -> Int8,
        intent_id -> Nullable<Text>,
        client_secret -> Nullable<Text>,
        status -> Text,
        state_at -> Int8,
        flag -> Nullable<Text>,
        flag_detail -> Text,
        payment_id -> Nullable<Int8>,
        refunded_minor -> Int8,
        last_error -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    card_refunds (id) {
        id -> Int8,
        card_payment_id -> Int8,
        amount -> Numeric,
        amount_minor -> Int8,
        status -> Text,
        refund_ref -> Nullable<Text>,
        last_error -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(card_payments -> invoices (invoice_id));
diesel::joinable!(card_refunds -> card_payments (card_payment_id));
diesel::allow_tables_to_appear_in_same_query!(card_payments, invoices);
diesel::allow_tables_to_appear_in_same_query!(card_payments, orders);
diesel::allow_tables_to_appear_in_same_query!(card_payments, companies);
diesel::allow_tables_to_appear_in_same_query!(card_payments, payments);
diesel::allow_tables_to_appear_in_same_query!(card_refunds, card_payments);

diesel::table! {
    document_counters (kind, year) {
        kind -> Text,
        year -> Int4,
        last -> Int4,
    }
}

diesel::table! {
    documents (id) {
        id -> Int8,
        kind -> Text,
        year -> Int4,
        seq -> Int4,
        number -> Text,
        issued_on -> Date,
        company_id -> Int8,
        order_id -> Nullable<Int8>,
        source_kind -> Text,
        source_id -> Int8,
        corrects -> Nullable<Int8>,
        amount -> Numeric,
        vat_amount -> Numeric,
        snapshot -> Jsonb,
        xml_name -> Nullable<Text>,
        xml -> Nullable<Bytea>,
        pdf -> Nullable<Bytea>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    document_assets (id) {
        id -> Int8,
        kind -> Text,
        content_type -> Text,
        data -> Bytea,
        width -> Int4,
        height -> Int4,
        sha256 -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    document_asset_current (kind) {
        kind -> Text,
        asset_id -> Nullable<Int8>,
    }
}

diesel::table! {
    document_edo (document_id) {
        document_id -> Int8,
        provider -> Text,
        file_name -> Text,
        status -> Text,
        reason -> Text,
        attempts -> Int4,
        last_error -> Text,
        sent_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(document_edo -> documents (document_id));
diesel::joinable!(documents -> companies (company_id));
diesel::allow_tables_to_appear_in_same_query!(documents, document_edo, companies);
diesel::allow_tables_to_appear_in_same_query!(documents, orders);
diesel::allow_tables_to_appear_in_same_query!(document_edo, orders);

diesel::table! {
    returns (id) {
        id -> Int8,
        number -> Text,
        order_id -> Int8,
        company_id -> Int8,
        account_id -> Int8,
        status -> Text,
        reason -> Text,
        comment -> Text,
        decision_note -> Text,
        way_back -> Nullable<Text>,
        warehouse_id -> Nullable<Int8>,
        amount -> Numeric,
        decide_by -> Timestamptz,
        reminded_at -> Nullable<Timestamptz>,
        ledger_entry_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    return_lines (return_id, line_no) {
        return_id -> Int8,
        line_no -> Int4,
        product_id -> Int8,
        sku -> Text,
        name -> Text,
        unit -> Text,
        qty -> Numeric,
        price -> Numeric,
        vat_rate -> Text,
        amount -> Numeric,
        vat_amount -> Numeric,
    }
}

diesel::table! {
    return_photos (id) {
        id -> Int8,
        return_id -> Int8,
        storage_key -> Text,
        content_type -> Text,
        size_bytes -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    return_messages (id) {
        id -> Int8,
        return_id -> Int8,
        author_kind -> Text,
        account_id -> Nullable<Int8>,
        body -> Text,
        to_status -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    return_documents (id) {
        id -> Int8,
        return_id -> Int8,
        number -> Text,
        issued_on -> Date,
        amount -> Numeric,
        pdf -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(return_lines -> returns (return_id));
diesel::joinable!(returns -> orders (order_id));
diesel::joinable!(returns -> companies (company_id));
diesel::allow_tables_to_appear_in_same_query!(returns, return_lines);
diesel::allow_tables_to_appear_in_same_query!(returns, orders);
diesel::allow_tables_to_appear_in_same_query!(returns, companies);
diesel::allow_tables_to_appear_in_same_query!(return_messages, accounts);

diesel::table! {
    contract_templates (kind, lang) {
        kind -> Text,
        lang -> Text,
        body -> Text,
        updated_by -> Nullable<Int8>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    contracts (id) {
        id -> Int8,
        company_id -> Int8,
        kind -> Text,
        contract_id -> Nullable<Int8>,
        seq -> Int4,
        number -> Text,
        issued_on -> Date,
        lang -> Text,
        payment_terms_days -> Int4,
        credit_limit -> Numeric,
        old_payment_terms_days -> Nullable<Int4>,
        old_credit_limit -> Nullable<Numeric>,
        supplier -> Jsonb,
        buyer -> Jsonb,
        body -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(contracts -> companies (company_id));
diesel::allow_tables_to_appear_in_same_query!(contracts, companies);

diesel::table! {
    order_exchange (order_id) {
        order_id -> Int8,
        number_1c -> Nullable<Text>,
        date_1c -> Nullable<Date>,
        synced_state -> Nullable<Text>,
        pending_state -> Nullable<Text>,
        exported_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    exchange_applied (key) {
        key -> Text,
        kind -> Text,
        company_id -> Int8,
        order_id -> Nullable<Int8>,
        payment_id -> Nullable<Int8>,
        ledger_entry_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(order_exchange -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(order_exchange, orders);
