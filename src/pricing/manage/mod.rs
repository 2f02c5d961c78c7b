//! Managing prices: price groups and their price lists, contract prices of a customer,
//! quantity breaks and promotions. Use cases over a tenant connection, validation included;
//! the pricing API and the back-office pages parse their input into these types and render
//! the result. Validation messages are English (pages translate them).

mod contracts;
mod groups;
mod promotions;

pub use contracts::*;
pub use groups::*;
pub use promotions::*;

/// One value as sent: its text, or why there is none (missing, a JSON value of the wrong type).
pub type Sent = Result<String, String>;

/// Most prices one group price list request may carry.
pub const MAX_GROUP_PRICES: usize = 100_000;

fn valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
