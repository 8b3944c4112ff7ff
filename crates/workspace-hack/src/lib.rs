//! Nothing but features: see this crate's `Cargo.toml` for why.
