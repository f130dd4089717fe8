//! `swarf-cli`: Swarf without a window. Every command calls the same core functions as the app.

/// `println!` that ends the program quietly when stdout is closed (`swarf-cli … | head`)
/// instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut o = std::io::stdout().lock();
        if writeln!(o, $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// `print!` likewise.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut o = std::io::stdout().lock();
        if write!(o, $($t)*).and_then(|()| o.flush()).is_err() {
            std::process::exit(0);
        }
    }};
}

mod bench;
mod generate;
mod inspect;
mod probe;
mod render;
mod send;
mod verify;

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
    /// Without a command: `inspect` of the embedded example part.
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise a drawing: units, size, entities, loops, open chains, regions, warnings.
    Inspect(inspect::InspectArgs),
    /// Generate a pocket or contour toolpath and write G-code.
    Generate(Box<generate::GenerateArgs>),
    /// Time pocket, contour and G-code writing on the budget part and the corpus drawings.
    Bench(bench::BenchArgs),
    /// Check a program against the part: gouges, rapids through stock, plunges (exit 1 on a
    /// gouge or a rapid through stock).
    Verify(verify::VerifyArgs),
    /// Simulate the stock: removed volume, cycle time, engagement, chip thickness, deflection.
    Simulate(verify::VerifyArgs),
    /// Draw the part, stock and toolpaths in 3D to a PNG (the app's view, headless).
    Render(render::RenderArgs),
    /// Run a program on a GRBL controller (--port) or a LinuxCNC machine (--linuxcnc): exit 0
    /// when it has run, 1 on an error or alarm (naming the program line), 2 when the program
    /// is refused before anything is sent.
    Send(send::SendArgs),
    /// The machine's state and position, homing, unlocking.
    Machine(send::MachineArgs),
    /// A simulated machine (GRBL on a pseudo-terminal, or LinuxCNC) to try `send` and the
    /// app's Machine panel without one.
    MachineSim(send::SimArgs),
    /// Probe the work surface on a grid with G38.2 (GRBL) and save the height map (JSON) for
    /// `generate --height-map`.
    Probe(probe::ProbeArgs),
}

/// A command's own exit code, or 1 with the error.
fn code(r: anyhow::Result<u8>) -> ExitCode {
    match r {
        Ok(c) => ExitCode::from(c),
        Err(e) => {
            eprintln!("swarf-cli: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or(Command::Inspect(inspect::InspectArgs {
            file: None,
            units: None,
            layers: None,
            close_gap: swarf_core::import::DxfOptions::default().close_gap_mm,
            origin: swarf_core::import::Origin::Top,
            orient: swarf_core::geometry::mesh::Orientation::default(),
            json: false,
        }));
    let result = match command {
        Command::Inspect(args) => inspect::run(&args).map(|()| true),
        Command::Generate(args) => generate::run(&args).map(|()| true),
        Command::Bench(args) => bench::run(&args).map(|()| true),
        Command::Verify(args) => verify::run_verify(&args),
        Command::Simulate(args) => verify::run_simulate(&args),
        Command::Render(args) => render::run(&args).map(|()| true),
        Command::Send(args) => return code(send::run_send(&args)),
        Command::Machine(args) => return code(send::run_machine(&args)),
        Command::MachineSim(args) => return code(send::run_sim(&args)),
        Command::Probe(args) => return code(probe::run_probe(&args)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("swarf-cli: {e:#}");
            ExitCode::FAILURE
        }
    }
}
