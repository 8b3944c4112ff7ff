//! The emulator's integration tests, in one binary: Discord's limits with
//! its codes (`limits`), and the served API's JSON against Discord's OpenAPI
//! schemas (`openapi`).

mod limits;
mod openapi;
