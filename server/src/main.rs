//! `haven`: parse arguments, load configuration, start the server, stop on Ctrl-C/SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Haven: video meetings for peer-support groups")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Configuration file (TOML). Without it, the built-in defaults are used.
    #[arg(long, env = "HAVEN_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Print the built-in default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Serve HTTPS with a certificate made at start-up, for trials on a local network
    /// (browsers warn about it; compare the fingerprint printed below).
    #[arg(long, global = true)]
    self_signed: bool,
    /// Log lines as text, or as one JSON object per line for a log collector.
    #[arg(long, env = "HAVEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Check the configuration and print the effective settings, secrets hidden.
    ///
    /// Loads the configuration as `haven` would (built-in defaults, the `--config` file, then
    /// `HAVEN_*` variables), validates it, reads the TLS certificate and key if set, and prints
    /// the effective settings as TOML with `turn.secret` and the rooms'
    /// `facilitator_key_sha256` hidden. Run it before `systemctl restart haven`.
    #[command(after_help = "Exit status: 0 when the configuration is valid; 2 when it is not, \
        with the error (naming the key at fault) on stderr.")]
    CheckConfig,
    /// Manage the admins of the admin API (needs store.data_dir).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(clap::Subcommand)]
enum AdminCommand {
    /// Add an admin. Prints a new random password once, or takes one from standard input.
    ///
    /// Works while the server runs (the store is SQLite in WAL mode).
    Create {
        /// The name to sign in with.
        name: String,
        /// Read the password from the first line of standard input instead of making one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `check-config`'s exit status for a configuration Haven would refuse to start with.
const INVALID_CONFIG: i32 = 2;

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.print_default_config {
        print!("{}", haven::config::DEFAULT_TOML);
        return Ok(());
    }
    if let Some(Command::CheckConfig) = args.command {
        std::process::exit(check_config(&args));
    }
    if let Some(Command::Admin(AdminCommand::Create { name, password_stdin })) = &args.command {
        let config = load_config(&args)?;
        let (password, made) = if *password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password")?;
            (line.trim_end_matches(['\r', '\n']).to_string(), false)
        } else {
            (haven::ids::random_token(24), true)
        };
        haven::admin::create_admin(&config, name, &password).context("creating the admin")?;
        println!("Admin {name:?} created.");
        if made {
            // Shown once, here; only its Argon2id hash is kept.
            println!("Password: {password}");
        }
        return Ok(());
    }
    let filter = std::env::var("HAVEN_LOG").unwrap_or_else(|_| "haven=info".into());
    // Logs on stderr, so stdout carries only what the program says to the operator.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }

    let config = load_config(&args)?;
    let wildcard_media = config.media.udp_addr.ip().is_unspecified() && config.media.public_ips.is_empty();
    let ice_tcp = config.media.ice_tcp;
    // A loopback HTTP bind with a public URL is a server behind a reverse proxy.
    let untrusted_proxy = config.server.http_addr.ip().is_loopback()
        && !config.server.public_url.is_empty()
        && config.server.trusted_proxies.is_empty();
    let server = haven::start_server(config).await.context("starting Haven")?;
    println!("Haven is running. Open {} in your browser.", server.url());
    if let Some(fingerprint) = server.tls_fingerprint() {
        println!("HTTPS certificate SHA-256: {fingerprint}");
    }
    let media: Vec<String> = server.media_addrs().iter().map(ToString::to_string).collect();
    let announced: Vec<String> =
        server.announced_media_addrs().iter().flatten().map(ToString::to_string).collect();
    let protocols = if ice_tcp { "UDP, and TCP for ICE-TCP" } else { "UDP" };
    println!("Media ({protocols}): bound to {}; browsers are told {}", media.join(", "), announced.join(", "));
    if wildcard_media {
        println!(
            "Warning: media.udp_addr binds every interface and media.public_ips is empty, so browsers \
             are told this host's own addresses. Behind NAT (a cloud server's public address), list \
             the public address in media.public_ips (HAVEN_PUBLIC_IPS), or no media will flow."
        );
    }
    if untrusted_proxy {
        println!(
            "Note: HTTP listens on loopback with a public URL, as behind a reverse proxy, and \
             server.trusted_proxies is empty: every browser then has the proxy's address, so limits \
             and bans hold them all as one. List the proxy's address in server.trusted_proxies."
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if media.len() == 1 && cores > 2 {
        println!(
            "All meetings' media is forwarded on one core of this machine's {cores}: set media.workers \
             (HAVEN_MEDIA_WORKERS) to use more, one port each."
        );
    }

    shutdown_signal().await;
    tracing::info!("stopping");
    server.shutdown().await;
    Ok(())
}

/// Defaults, the `--config` file, `HAVEN_*` variables and flags: one path for running and
/// for `check-config`, so the check sees what a start would.
fn load_config(args: &Args) -> Result<haven::Config, haven::config::ConfigError> {
    let mut config = haven::Config::load(args.config.as_deref())?;
    config.apply_env(std::env::vars())?;
    config.tls.self_signed |= args.self_signed;
    Ok(config)
}

/// Prints the effective settings and returns 0, or the error and [`INVALID_CONFIG`].
fn check_config(args: &Args) -> i32 {
    let checked = load_config(args).map_err(haven::StartError::from).and_then(|config| {
        haven::check_config(&config)?;
        Ok(config)
    });
    match checked {
        Ok(config) => {
            let file = args.config.as_ref().map_or(String::new(), |p| format!(", {}", p.display()));
            println!("# Valid. Built-in defaults{file}, then HAVEN_* variables; secrets show as {:?}.", haven::config::HIDDEN);
            print!("{}", config.to_masked_toml());
            0
        }
        Err(e) => {
            eprintln!("haven: {e}");
            INVALID_CONFIG
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
