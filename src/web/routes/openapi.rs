//! `GET /api/v1/openapi.json`: the OpenAPI document of every JSON endpoint.

use actix_web::HttpResponse;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// `(method, path)` of every `/api/v1` route registered in `src/web/routes/`, with
    /// tenant routes (and the auth routes, mounted in both places) also under `/s/{tenant}`.
    fn routes_in_code() -> BTreeSet<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/routes");
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("routes dir").filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let flat = text.replace(['\n', ' '], "");
            for part in flat.split("web::resource(\"").skip(1) {
                let Some((path, rest)) = part.split_once('"') else {
                    continue;
                };
                if !path.starts_with("/api/v1") {
                    continue;
                }
                let tenant_only = (name == "mod.rs" && path == "/api/v1/storefront")
                    || name == "account_api.rs"
                    || name == "admin_api.rs"
                    || name == "catalog_api.rs"
                    || name == "admin_catalog_api.rs"
                    || name == "admin_pricing_api.rs"
                    || name == "order_api.rs"
                    || name == "reservation_api.rs"
                    || name == "finance_api.rs"
                    || name == "finance_docs.rs"
                    || name == "finance_import.rs"
                    || name == "card_api.rs"
                    || name == "documents_api.rs"
                    || name == "edo_api.rs"
                    || name == "admin_order_api.rs"
                    || name == "returns_api.rs"
                    || name == "admin_returns_api.rs"
                    || name == "contract_api.rs"
                    || name == "exchange_admin_api.rs"
                    || name == "integrations_api.rs"
                    || name == "exchange_catalog_api.rs";
                let both = name == "auth_api.rs";
                for method in ["get", "post", "put", "patch", "delete"] {
                    if !rest.contains(&format!(".route(web::{method}()")) {
                        continue;
                    }
                    if !tenant_only {
                        found.insert((method.to_owned(), path.to_owned()));
                    }
                    if tenant_only || both {
                        found.insert((method.to_owned(), format!("/s/{{tenant}}{path}")));
                    }
                }
            }
        }
        found
    }

    fn routes_in_document() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(super::DOCUMENT).expect("valid JSON");
        let mut found = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_some() {
                    found.insert((method.to_owned(), path.clone()));
                }
            }
        }
        found
    }

    #[test]
    fn the_document_describes_exactly_the_routes_in_the_code() {
        let code = routes_in_code();
        assert!(code.len() >= 8, "route scan found too little: {code:?}");
        assert_eq!(code, routes_in_document());
    }
}
