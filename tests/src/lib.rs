//! kenzen-tests: the end-to-end harness, the scenarios, the never-break-rule checks and the demo.
//! Test code and tools only: nothing here is deployed.
//!
//! Layout:
//! - [`sim`]: the marketplace simulator, the `kenzen-sim` crate (`tests/sim/`), re-exported.
//! - [`harness`]: the four real handlers on moto_server + simulator, at production cadence.
//! - [`scenario`]: the scenario file format and runner.
//! - [`checks`]: the never-break rules, judged from the simulator's log.
//! - [`demo`]: the demo the README's first command runs.
//! - [`volume`]: the volume benchmark (`scripts/volume.sh`).
//! - [`calls`]: SP-API calls per case, from a run's log (`scripts/calls-per-case.sh`).
//! - [`outcomes`]: the outcome lab (`scripts/outcomes.sh`): a seeded buyer population under
//!   each policy, and how many orders end exempt from the cancel rate.

pub mod calls;
pub mod checks;
pub mod demo;
pub mod harness;
pub mod outcomes;
pub mod scenario;
pub mod volume;

pub use kenzen_sim as sim;
