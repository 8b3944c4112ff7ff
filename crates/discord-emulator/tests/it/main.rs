//! The emulator's integration tests, in one binary: Discord's limits with
//! its codes (`limits`), search as unkind as Discord's (`search`), the
//! served edge (`edge`), and the served API's JSON against Discord's
//! OpenAPI schemas (`openapi`).

mod edge;
mod limits;
mod openapi;
mod search;
