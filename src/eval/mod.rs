//! Evaluations behind `likeness eval`: the LFW verification protocol, and clustering metrics.

pub mod chips;
pub mod clusters;
pub mod composites;
pub mod lfw;
pub mod sizes;
