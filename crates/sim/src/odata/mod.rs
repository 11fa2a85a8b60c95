//! OData query language pieces the Web API needs.

pub mod filter;
