//! kenzen-tests: the marketplace simulator, the end-to-end harness, the never-break-rule checks
//! and the demo. Test code and tools only: nothing here is deployed.
//!
//! Layout:
//! - [`sim`]: the marketplace simulator (HTTP on 127.0.0.1, virtual clock).
//! - [`harness`]: the four real handlers on moto_server + simulator, at production cadence.
//! - [`scenario`]: the scenario file format and runner.
//! - [`checks`]: the never-break rules, judged from the simulator's log.
//! - [`demo`]: the demo the README's first command runs.

pub mod checks;
pub mod demo;
pub mod harness;
pub mod scenario;
pub mod sim;
