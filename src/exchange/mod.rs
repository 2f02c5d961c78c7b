//! Data exchange with the outside: catalog spreadsheets (CSV/XLSX), the 1C exchange
//! (CommerceML parser, the HTTP protocol and its importers).

pub mod catalog_file;
pub mod cml_import;
pub mod commerceml;
pub mod onec;
pub mod report;
pub mod sale;
pub mod table;
