//! `haven`: parse arguments, load configuration, start the server, stop on Ctrl-C/SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(version, about = "Haven: video meetings for peer-support groups")]
struct Args {
    /// Configuration file (TOML). Without it, the built-in defaults are used.
    #[arg(long, env = "HAVEN_CONFIG")]
    config: Option<PathBuf>,
    /// Print the built-in default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Serve HTTPS with a certificate made at start-up, for trials on a local network
    /// (browsers warn about it; compare the fingerprint printed below).
    #[arg(long)]
    self_signed: bool,
    /// Log lines as text, or as one JSON object per line for a log collector.
    #[arg(long, env = "HAVEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

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
    let filter = std::env::var("HAVEN_LOG").unwrap_or_else(|_| "haven=info".into());
    // Logs on stderr, so stdout carries only what the program says to the operator.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }

    let mut config = haven::Config::load(args.config.as_deref())?;
    config.apply_env(std::env::vars())?;
    config.tls.self_signed |= args.self_signed;
    let server = haven::start_server(config).await.context("starting Haven")?;
    println!("Haven is running. Open {} in your browser.", server.url());
    if let Some(fingerprint) = server.tls_fingerprint() {
        println!("HTTPS certificate SHA-256: {fingerprint}");
    }
    let media: Vec<String> = server.media_addrs().iter().map(ToString::to_string).collect();
    println!("Media (UDP): {}", media.join(", "));
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
