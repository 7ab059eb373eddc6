//! The photo collection on disk: walking folders, fingerprinting files, decoding with EXIF
//! orientation and size limits, and face thumbnails. Photos are only ever read.

pub mod avif;
pub mod bmff;
pub mod decode;
pub mod formats;
pub mod heif;
pub mod isolate;
mod native;
pub mod raw;
pub mod sidecar;
pub mod walk;
pub mod xmp;

use sha2::{Digest, Sha256};

/// Content fingerprint of a file (SHA-256, hex): how moved and renamed photos are recognised.
pub fn content_hash(bytes: &[u8]) -> String {
    crate::vision::models::hex(&Sha256::digest(bytes))
}
