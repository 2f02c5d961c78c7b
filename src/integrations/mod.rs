//! Integrations (issue 8): API keys for the admin JSON API, outbound webhooks delivered
//! through the job queue, and CSV/XLSX exports of orders and customers. Tables:
//! `migrations/tenant/0022_integrations`.

pub mod api_keys;
pub mod delivery;
pub mod exports;
pub mod schema;
pub mod webhooks;
