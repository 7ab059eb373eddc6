//! The `likeness` command line: parses arguments and calls into the library.

mod cli;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use cli::{engine, Ctx};

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
    Faces {
        photo: PathBuf,
        /// Also print each face's embedding.
        #[arg(long)]
        embed: bool,
    },
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

fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        db: cli.db,
        json: cli.json,
    };
    let Some(command) = cli.command else {
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
        } => engine::scan(&ctx, &dirs, failed, threads),
        Command::Faces { photo, embed } => engine::faces(&ctx, &photo, embed),
        Command::Verify { photo_a, photo_b } => engine::verify(&ctx, &photo_a, &photo_b),
        Command::Eval {
            what: EvalCommand::Lfw { dir, threads },
        } => engine::eval_lfw(&ctx, &dir, threads),
        Command::Stats => engine::stats(&ctx),
    }
}
