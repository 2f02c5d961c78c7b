//! One integration-test binary (links once). Each module is a set of user stories.

mod auth;
mod browser;
mod cli;
mod csrf;
mod health;
mod helpers;
mod identity;
mod isolation;
mod matrix;
mod migrate;
mod onboarding;
mod pages;
mod platform_api;
mod store_pages;
mod tenancy;
mod webdriver;
