//! The `boletin` binary: parses the command line and runs one task.

use anyhow::Context as _;
use boletin::cli::{Cli, Command, ImportCommand, ImportStatus, LogFormat, ServeArgs};
use boletin::{Server, open_store, state};
use boletin_domain::bulletin::BulletinStatus;
use boletin_persistence::ConnectOptions;
use clap::Parser;
use std::io::IsTerminal;
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // `boletin` alone means `boletin serve`, with serve's settings read from the environment.
        cli = Cli::parse_from(std::env::args().chain(["serve".to_owned()]));
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log).context("--log is not a valid filter")?;
    // Colours only for a person at a terminal, never in files or log collectors.
    let colours = std::io::stderr().is_terminal();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let mut options = ConnectOptions::new(cli.database_url.clone());
    options.max_connections = cli.db_max_connections;

    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            let addr = args.addr.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
            let store = open_store(&options, !args.no_seed).await?;
            let server = Server::bind(addr, state(store)).await?;
            tracing::info!("boletin serves GraphQL at http://{}/graphql", server.local_addr()?);
            server.serve(shutdown_signal()).await?;
        }
        Command::Migrate => {
            open_store(&options, false).await?;
            println!("migrations applied");
        }
        Command::Seed { file } => {
            let store = open_store(&options, false).await?;
            let text = match &file {
                Some(path) => {
                    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
                }
                None => boletin_persistence::BUILTIN_SEED.to_owned(),
            };
            let dataset = boletin_persistence::parse_dataset(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
            let report = store.load_dataset(&dataset).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "seeded {} bulletins, {} programs, {} partners, {} indicators, {} observations",
                report.bulletins, report.programs, report.partners, report.indicators, report.observations
            );
        }
        Command::Import {
            what: ImportCommand::Bulletins { file, status },
        } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let page =
                boletin_domain::import::parse_page(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let status = match status {
                ImportStatus::Published => BulletinStatus::Published,
                ImportStatus::Draft => BulletinStatus::Draft,
            };
            let mut bulletins = Vec::with_capacity(page.len());
            for item in &page {
                bulletins.push(
                    item.to_new_bulletin(status)
                        .map_err(|e| anyhow::anyhow!("{}: line {}: {e}", file.display(), item.line))?,
                );
            }
            let store = open_store(&options, false).await?;
            let count = store.import_bulletins(&bulletins).await.map_err(|failure| {
                let line = page.get(failure.index).map_or(0, |p| p.line);
                anyhow::anyhow!(
                    "{}: line {line}: {}; nothing was imported",
                    file.display(),
                    failure.error
                )
            })?;
            println!("imported {count} bulletins from {}", file.display());
        }
        Command::Schema => print!("{}", boletin_graphql::sdl()),
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
