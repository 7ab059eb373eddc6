//! The `likeness` command line: parses arguments and calls into the library.

mod cli;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use cli::people::decide;
use cli::{engine, models, people, regions, Ctx};
use likeness::people::Act;

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
    /// Internal: decode HEIC/AVIF photos sent on stdin, confined (`library::isolate`).
    #[command(hide = true)]
    DecodeWorker {
        /// Confine, then report what can and cannot be done, and exit.
        #[arg(long)]
        check: bool,
    },
    /// Scan folders for photos and faces (incremental; Ctrl-C stops and keeps what is done).
    Scan {
        /// Folders to scan.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// List every failed photo under these folders with its reason.
        #[arg(long)]
        failed: bool,
        /// Inference threads, and as many decoding threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Embedder of a new library (default: the catalogue default); an existing library
        /// keeps its own (`upgrade` changes it).
        #[arg(long, value_name = "ID")]
        model: Option<String>,
        /// Do not read face regions other programs wrote (XMP sidecars, XMP in the photos).
        #[arg(long)]
        no_xmp: bool,
        /// Search unchanged photos again whose faces an older version of the detector found:
        /// adds the faces it missed (close-ups, selfies), drops boxes it found twice; keeps
        /// every face you decided anything about.
        #[arg(long)]
        redetect: bool,
    },
    /// Add a face the detector missed: its box in the photo as shown (pixels), for person ID
    /// (default: a new person). Undo takes it back.
    AddFace {
        photo: PathBuf,
        #[arg(allow_negative_numbers = true)]
        x1: f32,
        #[arg(allow_negative_numbers = true)]
        y1: f32,
        x2: f32,
        y2: f32,
        #[arg(long, value_name = "ID")]
        person: Option<i64>,
    },
    /// Write named faces for other programs.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Face-region names from other programs that were not applied, and why.
    Regions,
    /// Detect faces in one photo without touching the database.
    Faces {
        photo: PathBuf,
        /// Also print each face's embedding.
        #[arg(long)]
        embed: bool,
    },
    /// Are the largest faces of two photos the same person?
    Verify {
        photo_a: PathBuf,
        photo_b: PathBuf,
        /// Embedder (default: the library's active one, else the catalogue default).
        #[arg(long, value_name = "ID")]
        model: Option<String>,
    },
    /// The embedders Likeness knows (install, prune).
    Models {
        #[command(subcommand)]
        what: Option<ModelsCommand>,
    },
    /// Re-embed every face with another embedder, then make it active (resumable).
    Upgrade {
        /// The embedder to upgrade to.
        #[arg(long, value_name = "ID")]
        model: String,
        /// Inference threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Evaluations.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
    /// Library totals.
    Stats,
    /// The photo formats this installation can decode, and why not where it cannot.
    Formats,
    /// Group faces into people (incremental: new faces join people first). User decisions hold.
    Cluster {
        /// Recompute every machine assignment (names, merges and answers still hold).
        #[arg(long)]
        full: bool,
    },
    /// List the people.
    People,
    /// The faces of one person.
    Person { id: i64 },
    /// Name or rename a person.
    Name { id: i64, name: String },
    /// Merge person ID_FROM into person ID_INTO.
    Merge { id_into: i64, id_from: i64 },
    /// Move faces to a person: FACE_ID... PERSON_ID (several faces are one decision).
    Move {
        #[arg(required = true, num_args = 2.., value_name = "FACE_ID... PERSON_ID")]
        ids: Vec<i64>,
    },
    /// "Not this person": the faces leave their people and never return to them (one decision).
    Reject {
        #[arg(required = true)]
        face_ids: Vec<i64>,
    },
    /// "Not a face / a stranger": the faces are never grouped or listed again (--undo shows
    /// them again). One decision.
    Ignore {
        #[arg(required = true)]
        face_ids: Vec<i64>,
        #[arg(long)]
        undo: bool,
    },
    /// Faces in nobody (not ignored), newest photos first.
    Unassigned {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// List the ignored faces instead (to take an ignore back: `ignore --undo FACE_ID`).
        #[arg(long)]
        ignored: bool,
    },
    /// Two faces are the same person.
    Same { face_a: i64, face_b: i64 },
    /// Two faces are different people.
    Different { face_a: i64, face_b: i64 },
    /// Hide a person (--show to show it again).
    Hide {
        id: i64,
        #[arg(long)]
        show: bool,
    },
    /// Undo the last decision.
    Undo,
    /// Forget face data for good: faces, face vectors, thumbnails and names (photos and folders
    /// stay). Asks first; --yes skips the question (needed without a terminal).
    Forget {
        /// Forget one person (and the people merged into it).
        #[arg(
            long,
            value_name = "ID",
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        person: Option<i64>,
        /// Forget every face and person.
        #[arg(long)]
        all: bool,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Suggestions: faces that might be PERSON, or (without it) people that might be one and
    /// face pairs to verify.
    Suggest {
        person: Option<i64>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// MWG face regions (and a Microsoft Photo copy) in an XMP sidecar beside each photo with
    /// named faces; never into the photo. Existing sidecars are merged.
    Xmp {
        /// Only the photos where this person appears.
        #[arg(long, value_name = "ID")]
        person: Option<i64>,
        /// Sidecar name: photo.ext.xmp (photo.jpg.xmp; digiKam, darktable, Immich) or
        /// photo.xmp (Lightroom). Default: the sidecar a photo has, else photo.ext.xmp.
        #[arg(long, value_name = "NAME")]
        sidecar: Option<String>,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Install a user-installable embedder (checksummed; converted from Intel's IR if needed).
    Install {
        id: String,
        /// A folder holding the .onnx or Intel's .xml + .bin (default: download from Intel).
        #[arg(long, value_name = "PATH")]
        from: Option<PathBuf>,
    },
    /// Remove every stored vector of a model that is not active.
    Prune { id: String },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Write full-size benchmark photos (JPEG) made from the LFW photos of a labels TSV.
    Photos {
        labels: PathBuf,
        out: PathBuf,
        #[arg(long, default_value_t = 50)]
        count: usize,
        #[arg(long, default_value_t = 12.0)]
        megapixels: f64,
        /// Smallest face pasted, in pixels (faces are this to 400 px).
        #[arg(long, default_value_t = 40.0)]
        min_face_px: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Recall of the pasted faces of `bench photos` output, per face size, with the detector
    /// working at each of the given sizes (longest side, pixels), and its thread time.
    Recall {
        dir: PathBuf,
        #[arg(long, value_delimiter = ',', default_values_t = vec![likeness::settings::DETECT_MAX_SIDE])]
        sides: Vec<u32>,
    },
    /// Write the size sweep: photos of WIDTH×HEIGHT whose faces (from the LFW photos of a labels
    /// TSV) range from 20 px to the whole width, some in touching pairs (`bench sizes` reads them).
    SizePhotos {
        labels: PathBuf,
        out: PathBuf,
        #[arg(long, default_value_t = 3024)]
        width: u32,
        #[arg(long, default_value_t = 4032)]
        height: u32,
        /// Single faces per size band (touching pairs: a fifth as many).
        #[arg(long, default_value_t = 100)]
        per_band: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The detector on the size sweep in DIR, as a scan runs it: per size band, faces found
    /// exactly once, missed and found more than once.
    Sizes {
        dir: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
        /// Which detection: 2 (today's) or 1 (every release before faces at every size).
        #[arg(long, default_value_t = 2)]
        detection: u32,
    },
    /// The aligned chips the embedder sees for the photos listed in LIST (one path a line,
    /// relative to the list's folder): a float32 [N, 3, S, S] .npy, RGB 0..255, the face
    /// nearest each photo's centre (zeros where none). For tools/mobilefacenet_int8.py.
    Chips {
        list: PathBuf,
        out: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, value_name = "ID")]
        model: Option<String>,
    },
    /// Cluster a float32 [N, D] .npy file with the code path of `likeness cluster`.
    Cluster {
        embeddings: PathBuf,
        #[arg(long)]
        eps: Option<f32>,
        #[arg(long)]
        min_points: Option<usize>,
    },
    /// New faces meet a clustered library: the last N rows of a float32 [N, D] .npy join the
    /// people given by an int64 labels .npy for the others (`benches/scale.sh`).
    Assign {
        embeddings: PathBuf,
        labels: PathBuf,
        /// How many of the last rows are new.
        #[arg(long, default_value_t = 1000)]
        new: usize,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// The LFW 10-fold verification protocol (DIR holds protocol/pairs.txt and lfw-deepfunneled/).
    Lfw {
        dir: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
        /// Embedder (default: the library's active one, else the catalogue default).
        #[arg(long, value_name = "ID")]
        model: Option<String>,
        /// Average each face's vector with its mirror image's (measures the catalogue's choice).
        #[arg(long)]
        mirror: bool,
        /// Also fit a harmonic map from this model on 9 folds' images and score the 10th with
        /// one side of every pair mapped.
        #[arg(long, value_name = "ID")]
        map_from: Option<String>,
    },
    /// Cluster the images of a `path<TAB>identity` TSV (in a temporary database) and score them.
    Clusters {
        labels: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
        /// Embedder (default: the library's active one, else the catalogue default).
        #[arg(long, value_name = "ID")]
        model: Option<String>,
        /// DBSCAN radii to try (comma-separated; default: the model's).
        #[arg(long, value_delimiter = ',')]
        eps: Vec<f32>,
        /// Linkage cuts to try (comma-separated; default: the model's).
        #[arg(long, value_delimiter = ',')]
        cut: Vec<f32>,
        /// DBSCAN core sizes to try (comma-separated; default: the settings').
        #[arg(long, value_delimiter = ',')]
        min_points: Vec<usize>,
        /// Few-photo pair cuts to try (comma-separated; 0 = off; default: the model's).
        #[arg(long, value_delimiter = ',')]
        pair_cut: Vec<f32>,
    },
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    if let Some(Command::DecodeWorker { check }) = cli.command {
        // Before logging or anything else: the worker only decodes.
        std::process::exit(if check {
            likeness::library::isolate::check()
        } else {
            likeness::library::isolate::serve()
        });
    }
    // HEIC and AVIF are decoded by this same binary in confined worker processes.
    if let Ok(exe) = std::env::current_exe() {
        likeness::library::isolate::use_worker_program(exe);
    }
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

fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        db: cli.db,
        json: cli.json,
    };
    let Some(command) = cli.command else {
        // No subcommand: the desktop app, on --db or the default library.
        return likeness::ui::run(ctx.db).map_err(anyhow::Error::msg);
    };
    match command {
        Command::Scan {
            dirs,
            failed,
            threads,
            model,
            no_xmp,
            redetect,
        } => engine::scan(
            &ctx,
            &dirs,
            failed,
            threads,
            model.as_deref(),
            !no_xmp,
            redetect,
        ),
        Command::AddFace {
            photo,
            x1,
            y1,
            x2,
            y2,
            person,
        } => regions::add_face(&ctx, &photo, [x1, y1, x2, y2], person),
        Command::Export {
            what: ExportCommand::Xmp { person, sidecar },
        } => regions::export_xmp(&ctx, person, sidecar.as_deref()),
        Command::Regions => regions::conflicts(&ctx),
        Command::Faces { photo, embed } => engine::faces(&ctx, &photo, embed),
        Command::Verify {
            photo_a,
            photo_b,
            model,
        } => engine::verify(&ctx, &photo_a, &photo_b, model.as_deref()),
        Command::Models { what } => match what {
            None => models::list(&ctx),
            Some(ModelsCommand::Install { id, from }) => {
                models::install(&ctx, &id, from.as_deref())
            }
            Some(ModelsCommand::Prune { id }) => models::prune(&ctx, &id),
        },
        Command::Upgrade { model, threads } => models::upgrade(&ctx, &model, threads),
        Command::Eval {
            what:
                EvalCommand::Lfw {
                    dir,
                    threads,
                    model,
                    mirror,
                    map_from,
                },
        } => engine::eval_lfw(
            &ctx,
            &dir,
            threads,
            model.as_deref(),
            mirror,
            map_from.as_deref(),
        ),
        Command::DecodeWorker { .. } => unreachable!("handled in main"),
        Command::Stats => engine::stats(&ctx),
        Command::Formats => engine::formats(&ctx),
        Command::Eval {
            what:
                EvalCommand::Clusters {
                    labels,
                    threads,
                    model,
                    eps,
                    cut,
                    min_points,
                    pair_cut,
                },
        } => people::eval_clusters(
            &ctx,
            &labels,
            threads,
            model.as_deref(),
            (&eps, &cut, &min_points, &pair_cut),
        ),
        Command::Cluster { full } => people::cluster(&ctx, full),
        Command::People => people::list(&ctx),
        Command::Person { id } => people::person(&ctx, id),
        Command::Name { id, name } => decide(
            &ctx,
            Act::Name {
                person: id,
                name: Some(name),
            },
        ),
        Command::Merge { id_into, id_from } => decide(
            &ctx,
            Act::Merge {
                into: id_into,
                from: id_from,
            },
        ),
        Command::Move { mut ids } => {
            let person = ids.pop().unwrap_or_default();
            decide(&ctx, Act::Move { faces: ids, person })
        }
        Command::Reject { face_ids } => decide(&ctx, Act::Reject { faces: face_ids }),
        Command::Ignore { face_ids, undo } => decide(
            &ctx,
            Act::Ignore {
                faces: face_ids,
                ignored: !undo,
            },
        ),
        Command::Unassigned { limit, ignored } => people::unassigned(&ctx, limit, ignored),
        Command::Same { face_a, face_b } => decide(
            &ctx,
            Act::Pair {
                a: face_a,
                b: face_b,
                same: true,
            },
        ),
        Command::Different { face_a, face_b } => decide(
            &ctx,
            Act::Pair {
                a: face_a,
                b: face_b,
                same: false,
            },
        ),
        Command::Hide { id, show } => decide(
            &ctx,
            Act::Hide {
                person: id,
                hidden: !show,
            },
        ),
        Command::Undo => decide(&ctx, Act::Undo),
        Command::Forget { person, all, yes } => people::forget(&ctx, person, all, yes),
        Command::Suggest { person, limit } => people::suggest(&ctx, person, limit),
        Command::Bench {
            what:
                BenchCommand::Photos {
                    labels,
                    out,
                    count,
                    megapixels,
                    min_face_px,
                    seed,
                },
        } => people::bench_photos(&ctx, &labels, &out, count, megapixels, min_face_px, seed),
        Command::Bench {
            what: BenchCommand::Recall { dir, sides },
        } => engine::bench_recall(&ctx, &dir, &sides),
        Command::Bench {
            what:
                BenchCommand::SizePhotos {
                    labels,
                    out,
                    width,
                    height,
                    per_band,
                    seed,
                },
        } => engine::bench_size_photos(&ctx, &labels, &out, width, height, per_band, seed),
        Command::Bench {
            what:
                BenchCommand::Sizes {
                    dir,
                    threads,
                    detection,
                },
        } => engine::bench_sizes(&ctx, &dir, threads, detection),
        Command::Bench {
            what:
                BenchCommand::Chips {
                    list,
                    out,
                    threads,
                    model,
                },
        } => engine::bench_chips(&ctx, &list, &out, threads, model.as_deref()),
        Command::Bench {
            what:
                BenchCommand::Cluster {
                    embeddings,
                    eps,
                    min_points,
                },
        } => people::bench_cluster(&ctx, &embeddings, eps, min_points),
        Command::Bench {
            what:
                BenchCommand::Assign {
                    embeddings,
                    labels,
                    new,
                },
        } => people::bench_assign(&ctx, &embeddings, &labels, new),
    }
}
