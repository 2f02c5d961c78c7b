//! Global accounts, passwords, sessions (JWT with server-side revocation), rate limits.

pub mod accounts;
pub mod companies;
pub mod customers;
pub mod inn;
pub mod invitations;
pub mod password;
pub mod rate_limit;
pub mod registration;
pub mod sessions;
pub mod staff;
pub mod tokens;
