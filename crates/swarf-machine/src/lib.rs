//! Swarf's machine link: drive a GRBL controller over a serial port or a LinuxCNC machine
//! through its remote shell (`linuxcncrsh`).
//!
//! - [`program`]: a program cleaned, checked and read line by line (constant memory), its
//!   operations and the plan to restart at one of them.
//! - [`grbl`]: the GRBL 1.1 / grblHAL protocol core, without I/O: bytes in, bytes and events
//!   out, character-counting streaming.
//! - [`linuxcnc`]: the linuxcncrsh text protocol (requests and replies) and its client.
//! - [`fake_grbl`]: a GRBL of our own on a pseudo-terminal (tests, trying it out).
//! - [`linuxcnc_sim`]: a real LinuxCNC started headless in simulation (tests, trying it out).
//! - [`probe`]: a grid of heights probed with `G38.2`, touches repeated, outliers rejected.
//! - [`runner`]: the thread that joins a core to a transport (serial port or TCP), so no
//!   caller ever waits on a port.
//! - [`watch`]: a running machine that no longer moves or advances, said and then stopped.

pub mod fake_grbl;
pub mod grbl;
pub mod linuxcnc;
pub mod linuxcnc_sim;
pub mod probe;
pub mod program;
pub mod runner;
pub mod watch;

pub use grbl::{Event, MachineState, Realtime, Status, StopReason};
pub use program::{Controller, ProgramError, ProgramInfo, SendLine};
pub use runner::{Cmd, Link};
