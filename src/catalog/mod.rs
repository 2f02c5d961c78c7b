//! The supplier's catalog: categories, typed attributes, products, warehouses and stock,
//! and the files attached to products. Rows come in through one validated shape
//! ([`products::Row`] → [`products::Draft`]) whether they arrive from the JSON API, a form
//! or an imported spreadsheet, so every path checks the same rules.

pub mod attributes;
pub mod categories;
pub mod demo;
pub mod media;
pub mod products;
pub mod service;
pub mod settings;
pub mod stock;
pub mod view;

/// Units a product may be sold in.
pub const UNITS: &[&str] = &["pcs", "m", "m2", "m3", "kg", "l", "pack", "set", "roll", "service"];
/// Product statuses.
pub const STATUSES: &[&str] = &["active", "upcoming", "archived"];
