//! The `boletin` binary: parses the command line and runs one task.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boletin::cli::{
    Cli, Command, ImportCommand, ImportStatus, LogFormat, RollupsCommand, ServeArgs, TokenCommand, TokenRole,
};
use boletin::failure::Explained as _;
use boletin::http::{HttpSettings, secret_hash};
use boletin::{AppState, Server, open_store, open_store_with_retry};
use boletin_domain::auth::{Caller, Role, SECRET_PREFIX, Tokens};
use boletin_domain::bulletin::BulletinStatus;
use boletin_persistence::ConnectOptions;
use clap::Parser;
use std::io::IsTerminal;
use std::path::Path;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small values (rows, GraphQL
/// values, JSON), and glibc's malloc and free were a fifth of the server's samples under load
/// (docs/BENCHMARKS.md, "Points as one list, a covering rollups index, SQLite's row buffer, mimalloc").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // `boletin` alone means `boletin serve`, with serve's settings read from the environment.
        cli = Cli::parse_from(std::env::args().chain(["serve".to_owned()]));
    }
    init_logging(&cli)?;
    let mut options = ConnectOptions::new(cli.database_url.clone());
    options.max_connections = cli.db_max_connections;
    options.acquire_timeout = cli.db_acquire_timeout;
    let Some(command) = cli.command else {
        anyhow::bail!("no command given; see `boletin --help`");
    };
    match command {
        Command::Serve(args) => serve(args, options).await,
        Command::Migrate => migrate(&options).await,
        Command::Seed { file } => seed(file.as_deref(), &options).await,
        Command::Import {
            what: ImportCommand::Bulletins { file, status },
        } => import_bulletins(&file, status, &options).await,
        Command::Schema => {
            print!("{}", boletin_graphql::sdl());
            Ok(())
        }
        Command::Token { action } => token(action, &options).await,
        Command::Rollups {
            action: RollupsCommand::Rebuild,
        } => rebuild_rollups(&options).await,
        Command::Generate {
            bulletins,
            observations,
            seed,
        } => generate(bulletins, observations, seed, &options).await,
        Command::Bench {
            iterations,
            explain,
            writes,
        } => bench(iterations, explain, writes, &options).await,
    }
}

/// Logs to standard error, filtered by `--log`, as text (coloured only for a person at a terminal, never in
/// files or log collectors) or JSON.
fn init_logging(cli: &Cli) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log).context("--log is not a valid filter")?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    Ok(())
}

/// `boletin migrate`: applies the migrations the database lacks.
async fn migrate(options: &ConnectOptions) -> anyhow::Result<()> {
    open_store(options, false).await?.close().await;
    println!("migrations applied");
    Ok(())
}

/// `boletin seed [FILE]`: loads a dataset (the built-in seed by default) into an empty database.
async fn seed(file: Option<&Path>, options: &ConnectOptions) -> anyhow::Result<()> {
    let store = open_store(options, false).await?;
    let text = match file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => boletin_persistence::BUILTIN_SEED.to_owned(),
    };
    let dataset = boletin_persistence::parse_dataset(&text).explained()?;
    let report = store
        .load_dataset(&dataset)
        .await
        .explained()
        .context("cannot seed the database")?;
    store.close().await;
    println!(
        "seeded {} bulletins, {} programs, {} partners, {} indicators, {} observations",
        report.bulletins, report.programs, report.partners, report.indicators, report.observations
    );
    Ok(())
}

/// `boletin import bulletins FILE`: adds a page of bulletins, all or nothing, naming the line of the first bad
/// one.
async fn import_bulletins(file: &Path, status: ImportStatus, options: &ConnectOptions) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let page = boletin_domain::import::parse_page(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let status = match status {
        ImportStatus::Published => BulletinStatus::Published,
        ImportStatus::Draft => BulletinStatus::Draft,
    };
    let bulletins = page
        .iter()
        .map(|item| {
            item.to_new_bulletin(status)
                .map_err(|e| anyhow::anyhow!("{}: line {}: {e}", file.display(), item.line))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = open_store(options, false).await?;
    let count = store.import_bulletins(&bulletins).await.map_err(|failure| {
        let line = page.get(failure.index).map_or(0, |p| p.line);
        anyhow::anyhow!(
            "{}: line {line}: {}; nothing was imported",
            file.display(),
            failure.error
        )
    })?;
    store.close().await;
    println!("imported {count} bulletins from {}", file.display());
    Ok(())
}

/// `boletin rollups rebuild`: recomputes the statistics rollups from the figures.
async fn rebuild_rollups(options: &ConnectOptions) -> anyhow::Result<()> {
    let store = open_store(options, false).await?;
    let progress = Progress::new();
    let started = std::time::Instant::now();
    store
        .rebuild_rollups(&|done, total| progress.show("rollups of indicator", done, total))
        .await
        .explained()
        .context("cannot rebuild the rollups")?;
    progress.done();
    store.close().await;
    println!(
        "rebuilt the statistics rollups in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `boletin generate`: fills an empty database with a deterministic synthetic catalogue, then analyzes it.
async fn generate(bulletins: usize, observations: usize, seed: u64, options: &ConnectOptions) -> anyhow::Result<()> {
    let store = open_store(options, false).await?;
    let progress = Progress::new();
    progress.say(&format!(
        "generating {bulletins} bulletins and {observations} observations"
    ));
    let dataset = boletin_devtools::generate::dataset(bulletins, observations, seed).explained()?;
    let started = std::time::Instant::now();
    let report = store
        .load_dataset_with_progress(&dataset, &|what, done, total| progress.show(what, done, total))
        .await
        .explained()
        .context("cannot write the generated data")?;
    progress.done();
    progress.say("analyzing the tables for the query planner");
    store.analyze().await.explained()?;
    store.close().await;
    println!(
        "generated {} bulletins, {} programs, {} partners, {} indicators, {} observations in {:.1} s",
        report.bulletins,
        report.programs,
        report.partners,
        report.indicators,
        report.observations,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `boletin bench`: times the queries that matter (or, with `--writes`, editing) through the schema the server
/// builds, without a rate limit, recording every statement for `--explain`.
async fn bench(iterations: usize, explain: bool, writes: bool, options: &ConnectOptions) -> anyhow::Result<()> {
    let db = boletin_persistence::connect(options)
        .await
        .explained()
        .context("cannot open the database")?;
    boletin_persistence::migrate(&db)
        .await
        .explained()
        .context("cannot migrate the database")?;
    let (store, log) = boletin_persistence::SqlStore::with_statement_log(db);
    let state = AppState::new(HttpSettings {
        rate_limit: None,
        ..HttpSettings::default()
    });
    state.attach(store.clone()).await;
    let schema = state
        .schema()
        .context("the schema is built once the store is attached")?;
    let report = if writes {
        boletin_devtools::bench::writes(schema, iterations).await?
    } else {
        boletin_devtools::bench::report(schema, &store, log, iterations, explain).await?
    };
    print!("{report}");
    Ok(())
}

/// Listens at once (so `/healthz` and `/readyz` answer while the database is still unreachable), opens the
/// database with retries, then serves GraphQL until SIGTERM or Ctrl-C.
async fn serve(args: Box<ServeArgs>, mut options: ConnectOptions) -> anyhow::Result<()> {
    options.statement_timeout = Some(args.statement_timeout());
    if let Some(path) = &args.bench_static_file {
        std::fs::metadata(path).with_context(|| format!("cannot read --bench-static-file {}", path.display()))?;
    }
    let state = AppState::new(args.http_settings());
    let server = Server::bind(args.addr, state.clone()).await?;
    tracing::info!("boletin listens at http://{}/graphql", server.local_addr()?);
    let serving = server.serve(shutdown_signal());
    let opening = async {
        let store = open_store_with_retry(&options, !args.no_seed, args.db_wait).await?;
        state.attach(store).await;
        tracing::info!("the database is connected; serving GraphQL");
        anyhow::Ok(())
    };
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return result,
        result = opening => result?,
    }
    serving.await
}

/// `boletin token …`: the command line acts as the operator, who may do anything with tokens.
async fn token(action: TokenCommand, options: &ConnectOptions) -> anyhow::Result<()> {
    let store = open_store(options, false).await?;
    let tokens = Tokens::new(std::sync::Arc::new(store));
    match action {
        TokenCommand::Create { name, role } => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for the secret: {e}"))?;
            let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
            let role = match role {
                TokenRole::Editor => Role::Editor,
                TokenRole::Admin => Role::Admin,
            };
            let token = tokens.create(&name, role, &secret_hash(&secret)).await.explained()?;
            println!(
                "created the {} token `{}`; its secret is shown once, on the next line:",
                token.role.code(),
                token.name
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            for token in tokens.list(&Caller::Operator).await.explained()? {
                let revoked = token
                    .revoked_at
                    .map_or_else(|| "active".to_owned(), |at| format!("revoked {}", at.to_rfc3339()));
                println!(
                    "{}\t{}\tcreated {}\t{revoked}",
                    token.name,
                    token.role.code(),
                    token.created_at.to_rfc3339()
                );
            }
        }
        TokenCommand::Revoke { name } => {
            let token = tokens.revoke(&Caller::Operator, &name).await.explained()?;
            println!("revoked the token `{}`", token.name);
        }
    }
    Ok(())
}

/// Progress of a long task on standard error, redrawn in place, only when standard error is a terminal.
struct Progress {
    terminal: bool,
}

impl Progress {
    fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn say(&self, line: &str) {
        if self.terminal {
            eprintln!("{line}");
        }
    }

    fn show(&self, what: &str, done: usize, total: usize) {
        if self.terminal {
            eprint!("\r\x1b[2Kwriting {what}: {done}/{total}");
        }
    }

    fn done(&self) {
        if self.terminal {
            eprintln!();
        }
    }
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
