//! The platform: tenants, onboarding, plans and feature flags, mail outbox, audit.

pub mod features;
pub mod logo;
pub mod mail;
pub mod mail_delivery;
pub mod manifest;
pub mod onboarding;
pub mod slug;
pub mod tenant_lifecycle;
pub mod tenant_settings;
pub mod tenants;
