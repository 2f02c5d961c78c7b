//! Global accounts, passwords, sessions (JWT with server-side revocation), rate limits.

pub mod accounts;
pub mod password;
pub mod rate_limit;
pub mod sessions;
