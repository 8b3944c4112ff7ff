//! `dbcord bench` and `cargo bench`: what each kind of statement costs on
//! Discord (API requests by route, CDN requests and bytes, simulated time
//! including rate-limit waits and transfers) and here (local engine time),
//! on the embedded emulator with Discord's limits and virtual time, each
//! beside the lower bound Discord's limits allow and the engine time of
//! DataFusion's MemTable on the same query.

//!
//! | file | its one job |
//! | --- | --- |
//! | `data` | the rows: users of realistic entropy, made again from their ids |
//! | `guild_data` | a guild's own life: channels, members, months of messages |
//! | `guild` | `--guild`: search pushdown against the history scan on such a guild |
//! | `measure` | a guild on virtual time, and what statements cost on it |
//! | `memory` | a scenario's peak resident memory |
//! | `scenarios` | the loads, reads and writes measured |
//! | `report` | the figures as Markdown or JSON |

mod data;
pub mod guild;
pub mod guild_data;
mod measure;
mod memory;
mod report;
mod scenarios;

pub use measure::{Bench, Cost, Measured};
pub use report::{json, markdown};
pub use scenarios::run;
