//! Finance: each buyer company's ledger (shipments debit it, payments and returns credit it,
//! nothing is edited, mistakes are reversed), its position (balance, debt, overdue, credit
//! left), statements for a period, and payments registered by staff. Every function runs
//! inside the caller's tenant transaction.

pub mod bank_import;
pub mod bank_statement;
pub mod card;
pub mod contracts;
pub mod demo;
pub mod invoice_pdf;
pub mod invoices;
pub mod ledger;
pub mod payments;
pub mod reconciliation;
pub mod requisites;

/// The tenant setting with the default payment terms: days of deferral from shipment
/// (0, the default: prepayment, due the day goods ship).
pub const PAYMENT_TERMS_DAYS: &str = "payment_terms_days";
