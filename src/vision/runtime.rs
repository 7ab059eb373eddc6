//! The only module that knows `ort`: finds and loads ONNX Runtime, builds sessions on the chosen
//! execution provider, and runs them on plain `f32` buffers.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::TensorRef;

use crate::error::{Error, Result};
use crate::settings;

use crate::wheel_fetch as fetch;

/// Where the ONNX Runtime library came from, and the environment built on it.
struct Loaded {
    path: PathBuf,
    env: ort::environment::Environment,
}

static RUNTIME: OnceLock<std::result::Result<Loaded, String>> = OnceLock::new();

/// Which execution provider a session should try first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Provider {
    /// CPU only.
    Cpu,
    /// CUDA when this build has the `cuda` feature and a GPU is usable, else CPU.
    #[default]
    Auto,
}

fn candidate_paths() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            out.push(dir.join(fetch::ORT_LIB_NAME));
        }
    }
    out.push(Path::new(env!("LIKENESS_BUILD_ORT_DIR")).join(fetch::ORT_LIB_NAME));
    if let Some(dir) = cache_dir() {
        out.push(dir.join(fetch::ORT_LIB_NAME));
    }
    out
}

fn cache_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Likeness", "likeness").map(|d| {
        d.cache_dir()
            .join(format!("onnxruntime-{}", fetch::ORT_VERSION))
    })
}

/// Find the library: `ORT_DYLIB_PATH`, next to the executable, the build-time copy, the cache;
/// failing all, fetch it into the cache with pip.
fn locate() -> std::result::Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "ORT_DYLIB_PATH points to {}, which is not a file; point it at libonnxruntime.so.{} or unset it",
                p.display(),
                fetch::ORT_VERSION
            ))
        };
    }
    let tried = candidate_paths();
    if let Some(p) = tried.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    let Some(cache) = cache_dir() else {
        return Err("no cache directory could be determined; set ORT_DYLIB_PATH".into());
    };
    tracing::info!(
        "fetching ONNX Runtime {} into {}",
        fetch::ORT_VERSION,
        cache.display()
    );
    fetch::fetch_ort_into(&cache).map_err(|e| {
        format!(
            "ONNX Runtime {v} was not found (looked in {}) and fetching it failed: {e}. \
             Fix: make `python3 -m pip` work and run again, or download the onnxruntime=={v} wheel, \
             unzip onnxruntime/capi/{lib} and set ORT_DYLIB_PATH to it",
            tried
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            v = fetch::ORT_VERSION,
            lib = fetch::ORT_LIB_NAME
        )
    })
}

fn load() -> std::result::Result<Loaded, String> {
    let path = locate()?;
    let builder = ort::init_from(&path).map_err(|e| {
        format!(
            "{e}. Likeness needs ONNX Runtime {}; set ORT_DYLIB_PATH to a matching libonnxruntime",
            fetch::ORT_VERSION
        )
    })?;
    let env = builder
        .with_name("likeness")
        .build()
        .map_err(|e| format!("creating the ONNX Runtime environment failed: {e}"))?;
    Ok(Loaded { path, env })
}

fn runtime() -> Result<&'static Loaded> {
    RUNTIME
        .get_or_init(load)
        .as_ref()
        .map_err(|e| Error::Runtime(e.clone()))
}

/// Load ONNX Runtime now (it is loaded lazily otherwise) and return the library's path.
pub fn init() -> Result<PathBuf> {
    runtime().map(|l| l.path.clone())
}

/// One output tensor copied out of ONNX Runtime.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A loaded ONNX model with its own session. `run` needs `&mut self`: one per thread.
pub struct OnnxModel {
    session: Session,
    name: String,
    provider: &'static str,
}

impl OnnxModel {
    /// Build a session from model bytes (already checksum-verified by the caller).
    pub fn new(name: &str, bytes: &[u8], provider: Provider) -> Result<Self> {
        let rt = runtime()?;
        let err = |e: String| Error::Model {
            id: name.to_string(),
            message: e,
        };
        let builder = || -> Result<ort::session::builder::SessionBuilder> {
            Session::builder(&rt.env)
                .map_err(|e| err(e.to_string()))?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(|e| err(e.to_string()))?
                .with_intra_threads(settings::ORT_INTRA_THREADS)
                .map_err(|e| err(e.to_string()))?
                // Memory patterns are planned per input shape and allocated fresh each run; off,
                // ORT reuses its arena (part of the page-zeroing cost measured in memory.rs).
                .with_memory_pattern(false)
                .map_err(|e| err(e.to_string()))
        };
        #[cfg(feature = "cuda")]
        if provider == Provider::Auto {
            let cuda = ort::ep::CUDA::default().build().error_on_failure();
            match builder()?
                .with_execution_providers([cuda])
                .map_err(|e| err(e.to_string()))
                .and_then(|mut b| b.commit_from_memory(bytes).map_err(|e| err(e.to_string())))
            {
                Ok(session) => {
                    tracing::info!("{name}: running on CUDA");
                    return Ok(Self {
                        session,
                        name: name.to_string(),
                        provider: "CUDA",
                    });
                }
                Err(e) => tracing::warn!("{name}: CUDA unavailable, falling back to CPU: {e}"),
            }
        }
        let _ = provider;
        let session = builder()?
            .commit_from_memory(bytes)
            .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            session,
            name: name.to_string(),
            provider: "CPU",
        })
    }

    /// The execution provider this session runs on ("CPU" or "CUDA").
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// Run the model on one `f32` input of the given shape; returns the named outputs in order.
    pub fn run(&mut self, shape: &[usize], input: &[f32], outputs: &[&str]) -> Result<Vec<Tensor>> {
        let err = |e: String| Error::Inference {
            model: self.name.clone(),
            message: e,
        };
        let tensor =
            TensorRef::from_array_view((shape.to_vec(), input)).map_err(|e| err(e.to_string()))?;
        let result = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| err(e.to_string()))?;
        outputs
            .iter()
            .map(|name| {
                let value = result
                    .get(*name)
                    .ok_or_else(|| err(format!("model has no output `{name}`")))?;
                let (shape, data) = value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| err(e.to_string()))?;
                Ok(Tensor {
                    shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                    data: data.to_vec(),
                })
            })
            .collect()
    }
}
