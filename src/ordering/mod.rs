//! Ordering: named carts shared within a buyer company, quick order, checkout and order
//! placement (stock taken in the same transaction, idempotent by key), the order lifecycle
//! and its history. Every function runs inside the caller's tenant transaction.

pub mod carts;
pub mod edit;
pub mod history;
pub mod lifecycle;
pub mod lines;
pub mod notify;
pub mod orders;
pub mod place;
pub mod place_write;
pub mod quick;
pub mod reservations;
pub mod returns;
pub mod stock;
pub mod waitlist;

use crate::identity::companies::Company;

/// The buyer acting: their account and the company they act for, with their role in it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: i64,
    pub company: Company,
    pub role: String,
    /// Whether the person confirmed their e-mail (a store may require it to order).
    pub email_confirmed: bool,
}

impl Actor {
    /// Admins and buyers change carts and place orders; accountants and viewers look.
    pub fn may_order(&self) -> bool {
        matches!(self.role.as_str(), "admin" | "buyer")
    }
}
