//! The photo formats Likeness knows, said once: which extensions the walk picks up, which
//! decoder reads them, and why a format cannot be read where it cannot.

use serde::Serialize;

/// Who decodes a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// The `image` crate (compiled in).
    Builtin,
    /// libheif, loaded at run time (`library::heif`).
    Heif,
    /// libavif, loaded at run time (`library::avif`).
    Avif,
    /// The full-size JPEG preview a camera RAW embeds (`library::raw`).
    RawPreview,
    /// Recognised but not read: the reason a user reads.
    Unsupported(&'static str),
}

/// A photo format.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub name: &'static str,
    pub extensions: &'static [&'static str],
    pub decoder: Decoder,
}

/// Every format, in the order `likeness formats` lists them.
pub const FORMATS: &[Format] = &[
    Format {
        name: "JPEG",
        extensions: &["jpg", "jpeg", "jpe", "jfif"],
        decoder: Decoder::Builtin,
    },
    Format {
        name: "HEIC/HEIF",
        extensions: &["heic", "heif", "hif"],
        decoder: Decoder::Heif,
    },
    Format {
        name: "AVIF",
        extensions: &["avif"],
        decoder: Decoder::Avif,
    },
    Format {
        name: "PNG",
        extensions: &["png"],
        decoder: Decoder::Builtin,
    },
    Format {
        name: "WebP",
        extensions: &["webp"],
        decoder: Decoder::Builtin,
    },
    Format {
        name: "TIFF",
        extensions: &["tif", "tiff"],
        decoder: Decoder::Builtin,
    },
    Format {
        name: "BMP",
        extensions: &["bmp"],
        decoder: Decoder::Builtin,
    },
    Format {
        name: "GIF",
        extensions: &["gif"],
        decoder: Decoder::Builtin,
    },
    Format {
        name: "Camera RAW",
        extensions: &[
            "dng", "cr2", "cr3", "nef", "arw", "orf", "raf", "rw2", "pef", "srw",
        ],
        decoder: Decoder::RawPreview,
    },
];

/// The format of a file name's extension (any case), if it is a photo format at all.
pub fn by_extension(ext: &str) -> Option<&'static Format> {
    let ext = ext.to_ascii_lowercase();
    FORMATS
        .iter()
        .find(|f| f.extensions.contains(&ext.as_str()))
}

/// What `likeness formats` reports for one format (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct FormatStatus {
    pub name: &'static str,
    pub extensions: &'static [&'static str],
    pub available: bool,
    /// Why not, where it cannot be decoded.
    pub reason: Option<String>,
    /// The decoder that reads it here.
    pub decoder: Option<String>,
}

/// What this installation can decode, loading the run-time decoders to find out.
pub fn status() -> Vec<FormatStatus> {
    FORMATS
        .iter()
        .map(|f| {
            let probe = match f.decoder {
                Decoder::Builtin => Ok("image crate (built in)".to_string()),
                Decoder::Heif => super::heif::availability(),
                Decoder::Avif => super::avif::availability(),
                Decoder::RawPreview => Ok("the embedded full-size JPEG preview".to_string()),
                Decoder::Unsupported(why) => Err(why.to_string()),
            };
            FormatStatus {
                name: f.name,
                extensions: f.extensions,
                available: probe.is_ok(),
                decoder: probe.as_ref().ok().cloned(),
                reason: probe.err(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_extension_belongs_to_one_format() {
        let mut seen = std::collections::HashSet::new();
        for f in FORMATS {
            for e in f.extensions {
                assert!(seen.insert(*e), "{e} twice");
                assert_eq!(e.to_ascii_lowercase(), *e);
            }
        }
        assert_eq!(by_extension("HEIC").map(|f| f.name), Some("HEIC/HEIF"));
        assert!(by_extension("txt").is_none());
    }
}
