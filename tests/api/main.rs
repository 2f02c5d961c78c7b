//! One integration-test binary (links once). Each module is a set of user stories.

mod admin_catalog_pages;
mod admin_pricing_pages;
mod auth;
mod browser;
mod cache;
mod catalog;
mod catalog_import;
mod catalog_media;
mod catalog_pages;
mod cli;
mod csrf;
mod health;
mod helpers;
mod identity;
mod isolation;
mod matrix;
mod migrate;
mod onboarding;
mod ordering;
mod pages;
mod platform_api;
mod search;
mod search_meili;
mod store_pages;
mod tenancy;
mod webdriver;
