//! Feature gates. A route behind a disabled feature does not exist for that tenant: the
//! guard makes the router skip it (404), and templates hide its menu entries through
//! `tenant.features.<name>` in the page context.

use actix_web::guard::{self, Guard};

use super::tenant::TenantCtx;
use crate::error::{AppError, AppResult};
use crate::platform::features::Feature;

/// Guard for a scope or resource: matches only when the request's tenant has `feature`.
pub fn enabled(feature: Feature) -> impl Guard {
    guard::fn_guard(move |ctx| ctx.req_data().get::<TenantCtx>().is_some_and(|t| t.tenant.has(feature)))
}

impl TenantCtx {
    /// For handlers: 404 when the tenant does not have `feature`.
    pub fn require(&self, feature: Feature) -> AppResult<()> {
        if self.tenant.has(feature) {
            Ok(())
        } else {
            Err(AppError::not_found("page"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use actix_web::{test as atest, web, App, HttpMessage, HttpResponse};

    use super::*;
    use crate::db::TenantSchema;
    use crate::platform::features::Plan;
    use crate::platform::tenants::{Branding, PortalMode, Tenant, TenantStatus};

    fn tenant(overrides: BTreeMap<Feature, bool>) -> TenantCtx {
        TenantCtx {
            tenant: Arc::new(Tenant {
                id: 1,
                slug: "acme".into(),
                schema: TenantSchema::parse("tenant_acme").expect("schema"),
                name: "Acme".into(),
                status: TenantStatus::Active,
                mode: PortalMode::Open,
                locales: vec!["en".into()],
                default_locale: "en".into(),
                plan: Plan::Start,
                overrides,
                branding: Branding::default(),
                has_logo: false,
                created_at: chrono::Utc::now(),
            }),
            via: super::super::tenant::Via::Path,
            base: String::new(),
        }
    }

    #[actix_web::test]
    async fn a_disabled_feature_route_is_not_found_and_an_enabled_one_answers() {
        for (on, expected) in [(false, 404), (true, 200)] {
            let ctx = tenant(BTreeMap::from([(Feature::Preorders, on)]));
            let app = atest::init_service(
                App::new()
                    .wrap_fn(move |req, srv| {
                        req.extensions_mut().insert(ctx.clone());
                        actix_web::dev::Service::call(srv, req)
                    })
                    .service(
                        web::scope("/preorders")
                            .guard(enabled(Feature::Preorders))
                            .route("", web::get().to(HttpResponse::Ok)),
                    )
                    .default_service(web::to(HttpResponse::NotFound)),
            )
            .await;
            let res = atest::call_service(&app, atest::TestRequest::get().uri("/preorders").to_request()).await;
            assert_eq!(res.status().as_u16(), expected, "preorders on = {on}");
        }
    }

    #[test]
    fn require_refuses_features_off_by_plan() {
        let t = tenant(BTreeMap::new());
        assert!(t.require(Feature::Invoices).is_ok());
        assert!(matches!(t.require(Feature::Edo), Err(AppError::NotFound(_))));
    }
}
