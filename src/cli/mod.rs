//! The `tradeport` command line. Errors are one sentence on stderr and a non-zero exit.

pub mod bench;
pub mod bench_catalog;
pub mod bench_documents;
pub mod bench_exchange;
pub mod bench_load;
pub mod database;
pub mod demo;
pub mod migrate;
pub mod operator;
pub mod search;
pub mod serve;
pub mod tenant;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Parser, Debug)]
#[command(name = "tradeport", version, about = "Tradeport: a multi-tenant B2B trade platform")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the database if missing, migrate, load the demo tenants, print logins, serve.
    Demo,
    /// Run the web server.
    Serve {
        /// Run without the embedded job worker (run `tradeport worker` separately).
        #[arg(long)]
        no_worker: bool,
    },
    /// Run background jobs only.
    Worker,
    /// Search indexes.
    #[command(subcommand)]
    Search(search::SearchCommand),
    /// Migrate `public` and every tenant schema.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Manage platform operators.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Platform benchmarks in a separate `tradeport_bench*` database (docs/BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

pub fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    crate::telemetry::init(&settings.log.format, &settings.log.filter);
    if settings.uses_dev_secret() {
        tracing::warn!("using the development JWT secret; set TRADEPORT_JWT_SECRET outside development");
    }
    let result = match cli.command {
        Command::Demo => demo::run(settings),
        Command::Serve { no_worker } => serve::run(settings, !no_worker),
        Command::Worker => serve::worker(settings),
        Command::Search(cmd) => search::run(settings, cmd),
        Command::Migrate => migrate::run(&settings),
        Command::Tenant(cmd) => tenant::run(&settings, cmd),
        Command::Operator(cmd) => operator::run(&settings, cmd),
        Command::Bench(cmd) => bench::run(&settings, cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("tradeport: {}", one_sentence(e));
    ExitCode::FAILURE
}

/// The error and its causes as one line.
fn one_sentence(e: &anyhow::Error) -> String {
    let mut s = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
    }
    s.replace('\n', " ")
}
