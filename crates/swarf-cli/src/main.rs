//! `swarf-cli`: Swarf without a window. Every command calls the same core functions as the app.

mod bench;
mod generate;
mod inspect;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "swarf-cli",
    version,
    about = "Swarf, CAM for micro milling: inspect drawings and meshes from the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise a drawing: units, size, entities, loops, open chains, regions, warnings.
    Inspect(inspect::InspectArgs),
    /// Generate a pocket or contour toolpath and write G-code.
    Generate(Box<generate::GenerateArgs>),
    /// Time pocket, contour and G-code writing on the budget part and the corpus drawings.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("swarf-cli: {e:#}");
            ExitCode::FAILURE
        }
    }
}
