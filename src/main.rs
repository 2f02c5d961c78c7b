use clap::Parser;

fn main() -> std::process::ExitCode {
    tradeport::cli::run(tradeport::cli::Cli::parse())
}
