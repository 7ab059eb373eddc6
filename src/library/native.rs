//! Where the photo decoders' native libraries come from (one rule for libheif and libavif):
//! an override folder, next to the executable, the build-time copy, the user cache; failing
//! all, the pinned wheel is fetched into the cache with pip.

use std::path::{Path, PathBuf};

use crate::wheel_fetch::{self, member_name, PinnedWheel};

/// The folder holding every member of `wheel`. `env_var` names an override folder;
/// `build_dir` is where build.rs put the libraries.
pub fn wheel_dir(wheel: &PinnedWheel, env_var: &str, build_dir: &str) -> Result<PathBuf, String> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os(env_var).filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(dir);
    }
    dirs.push(PathBuf::from(build_dir));
    let cache = directories::ProjectDirs::from("org", "Likeness", "likeness").map(|d| {
        d.cache_dir()
            .join(format!("{}-{}", wheel.package, wheel.version))
    });
    if let Some(c) = &cache {
        dirs.push(c.clone());
    }
    let complete = |d: &Path| {
        wheel
            .members
            .iter()
            .all(|m| d.join(member_name(m)).is_file())
    };
    if let Some(d) = dirs.iter().find(|d| complete(d)) {
        return Ok(d.clone());
    }
    let cache = cache.ok_or("no cache directory could be determined")?;
    tracing::info!(
        "fetching {} {} into {}",
        wheel.package,
        wheel.version,
        cache.display()
    );
    wheel_fetch::fetch_wheel_into(wheel, &cache).map_err(|e| {
        format!(
            "not found (looked in {}; {env_var} overrides) and fetching it failed: {e}",
            dirs.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    Ok(cache)
}
