//! The cutter-location engine of 3D finishing: where a tool touches a mesh (drop-cutter),
//! for flat, ball, bull-nose, V and drill-point tools, with the stock to leave.

mod drop;
mod shape;

pub use drop::{DropCutter, PushScratch};
pub use shape::CutterShape;

#[cfg(test)]
mod tests;
