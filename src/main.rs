//! The `likeness` command line: parses arguments and calls into the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;

use likeness::pipeline::{self, photo, ScanOptions};
use likeness::progress::{CancelToken, Progress};
use likeness::store::{self, Store};
use likeness::vision::Models;
use likeness::{eval, settings, verify};

/// Find the people in your photo library.
#[derive(Parser)]
#[command(name = "likeness", version, about)]
struct Cli {
    /// Library database (default: the platform data directory's likeness.db).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Print one JSON object on stdout (logs and progress go to stderr).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Scan folders for photos and faces (incremental; Ctrl-C stops and keeps what is done).
    Scan {
        /// Folders to scan.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// List every failed photo under these folders with its reason.
        #[arg(long)]
        failed: bool,
        /// Inference threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Detect faces in one photo without touching the database.
    Faces { photo: PathBuf },
    /// Are the largest faces of two photos the same person?
    Verify { photo_a: PathBuf, photo_b: PathBuf },
    /// Evaluations.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
    /// Library totals.
    Stats,
}

#[derive(Subcommand)]
enum EvalCommand {
    /// The LFW 10-fold verification protocol (DIR holds protocol/pairs.txt and lfw-deepfunneled/).
    Lfw {
        dir: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
    },
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIKENESS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn db_path(cli: &Cli) -> PathBuf {
    cli.db.clone().unwrap_or_else(store::default_db_path)
}

fn emit(json_mode: bool, value: serde_json::Value, human: impl FnOnce() -> String) {
    if json_mode {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

fn run(cli: Cli) -> Result<()> {
    let Some(command) = &cli.command else {
        use clap::CommandFactory;
        Cli::command().print_help()?;
        println!("\n(The desktop app opens here once it lands; use the subcommands meanwhile.)");
        return Ok(());
    };
    match command {
        Command::Scan {
            dirs,
            failed,
            threads,
        } => scan(&cli, dirs, *failed, *threads),
        Command::Faces { photo: path } => {
            let models = Models::load_default()?;
            let mut engine = models.engine()?;
            let f = photo::analyze(&mut engine, path, false)?;
            let faces: Vec<_> = f
                .faces
                .iter()
                .map(|face| {
                    let d = &face.detection;
                    json!({"box": d.bbox, "landmarks": d.landmarks, "score": d.score})
                })
                .collect();
            emit(
                cli.json,
                json!({"faces": faces, "width": f.width, "height": f.height}),
                || {
                    let mut s = format!("{}: {}x{}, {} face(s)", path.display(), f.width, f.height, f.faces.len());
                    for face in &f.faces {
                        let b = face.detection.bbox;
                        s += &format!(
                            "\n  box ({:.0}, {:.0}) - ({:.0}, {:.0})  score {:.3}",
                            b[0], b[1], b[2], b[3], face.detection.score
                        );
                    }
                    s
                },
            );
            Ok(())
        }
        Command::Verify { photo_a, photo_b } => {
            let models = Models::load_default()?;
            let mut engine = models.engine()?;
            let mut emb = |p: &Path| -> Result<Vec<f32>> {
                let f = photo::analyze(&mut engine, p, true)?;
                Ok(f.largest()
                    .with_context(|| format!("no face found in {}", p.display()))?
                    .embedding
                    .clone())
            };
            let (a, b) = (emb(photo_a)?, emb(photo_b)?);
            let v = verify::verify(&a, &b);
            emit(cli.json, serde_json::to_value(&v)?, || {
                format!(
                    "distance {:.3} (threshold {:.2}): {}",
                    v.distance, v.threshold, v.meaning
                )
            });
            Ok(())
        }
        Command::Eval {
            what: EvalCommand::Lfw { dir, threads },
        } => {
            let models = Models::load_default()?;
            let cancel = cancel_on_ctrl_c()?;
            let progress = Progress::new();
            let bar = spawn_bar(progress.clone(), "images");
            let report = eval::lfw::evaluate(
                dir,
                &models,
                threads.unwrap_or_else(settings::default_inference_threads),
                &cancel,
                &progress,
            );
            bar.finish();
            let report = report?;
            emit(cli.json, serde_json::to_value(&report)?, || {
                format!(
                    "LFW 10-fold: accuracy {:.2}% ± {:.2} (threshold {:.3}, {} pairs, {} images without a face; cosine {:.2}%)",
                    report.accuracy_mean * 100.0,
                    report.accuracy_std * 100.0,
                    report.threshold_mean,
                    report.pairs,
                    report.no_face,
                    report.cosine_accuracy_mean * 100.0
                )
            });
            Ok(())
        }
        Command::Stats => {
            let path = db_path(&cli);
            if !path.exists() {
                bail!("no library database at {} (scan a folder first)", path.display());
            }
            let st = Store::open(&path)?.stats()?;
            let models: Vec<_> = st
                .models
                .iter()
                .map(|(id, n)| json!({"id": id, "embeddings": n}))
                .collect();
            emit(
                cli.json,
                json!({"photos": st.photos, "faces": st.faces, "photos_failed": st.photos_failed,
                       "photos_missing": st.photos_missing, "models": models, "db": path}),
                || {
                    format!(
                        "{}: {} photos, {} faces, {} failed, {} missing",
                        path.display(),
                        st.photos,
                        st.faces,
                        st.photos_failed,
                        st.photos_missing
                    )
                },
            );
            Ok(())
        }
    }
}

fn cancel_on_ctrl_c() -> Result<CancelToken> {
    let cancel = CancelToken::new();
    let c = cancel.clone();
    ctrlc::set_handler(move || {
        if c.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nstopping: finishing the current batch (Ctrl-C again to quit at once)");
        c.cancel();
    })
    .context("installing the Ctrl-C handler")?;
    Ok(cancel)
}

struct Bar {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    fn finish(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A progress bar on stderr that samples the job's counters every 200 ms.
fn spawn_bar(progress: Arc<Progress>, unit: &'static str) -> Bar {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let handle = std::thread::Builder::new()
        .name("likeness-progress".into())
        .spawn(move || {
            let pb = indicatif::ProgressBar::new(0);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = progress.snapshot();
                pb.set_length(snap.total);
                pb.set_position(snap.done);
                let rate = snap.done as f64 / started.elapsed().as_secs_f64().max(1e-3);
                pb.set_message(format!(
                    "{unit} | {rate:.1}/s | {} faces | {} failed | {}",
                    snap.faces,
                    snap.failed,
                    snap.stage.label()
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
            pb.finish_and_clear();
        })
        .ok();
    Bar { stop, handle }
}

fn scan(cli: &Cli, dirs: &[PathBuf], list_failed: bool, threads: Option<usize>) -> Result<()> {
    let path = db_path(cli);
    let mut store = Store::open(&path)?;
    let models = Models::load_default()?;
    let mut opts = ScanOptions::new(dirs.to_vec());
    if let Some(t) = threads {
        opts.inference_threads = t.max(1);
    }
    let cancel = cancel_on_ctrl_c()?;
    let progress = Progress::new();
    let bar = spawn_bar(progress.clone(), "photos");
    let outcome = pipeline::index(&mut store, &models, &opts, &cancel, &progress);
    bar.finish();
    let outcome = outcome?;
    let mut value = serde_json::to_value(&outcome)?;
    let roots: Vec<PathBuf> = dirs
        .iter()
        .map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
        .collect();
    let all_failed = if list_failed {
        let r: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
        store.failed_photos(&r)?
    } else {
        Vec::new()
    };
    if list_failed {
        value["failed"] = json!(all_failed
            .iter()
            .map(|(p, why)| json!({"path": p, "reason": why}))
            .collect::<Vec<_>>());
    }
    value["db"] = json!(path);
    emit(cli.json, value, || {
        let o = &outcome;
        let mut s = format!(
            "{} photos seen: {} indexed, {} unchanged, {} moved, {} failed, {} missing; {} faces found in {:.1} s ({:.1} photos/s){}",
            o.photos_seen,
            o.photos_indexed,
            o.photos_unchanged,
            o.photos_moved,
            o.photos_failed,
            o.photos_missing,
            o.faces_found,
            o.seconds,
            o.photos_indexed as f64 / o.seconds.max(1e-9),
            if o.cancelled { " — cancelled; run again to resume" } else { "" }
        );
        for (p, why) in &all_failed {
            s += &format!("\n  {p}: {why}");
        }
        if !list_failed && o.photos_failed > 0 {
            s += "\n  (--failed lists the reasons)";
        }
        s
    });
    Ok(())
}
