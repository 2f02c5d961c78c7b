//! Data exchange with the outside: catalog spreadsheets (CSV/XLSX) now; 1C CommerceML,
//! EDO and webhooks later.

pub mod catalog_file;
pub mod commerceml;
pub mod report;
pub mod table;
