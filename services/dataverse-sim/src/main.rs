//! `dataverse-sim`: serves a seeded, simulated Dataverse org and Entra token endpoint.

use anyhow::{Context, Result, bail};
use clap::Parser;
use sim::{ApprovalMode, Case, ClientCredential, Profile, Range, SimConfig};
use std::net::SocketAddr;

/// A faithful local stand-in for the Dataverse Web API and the Entra token endpoint.
///
/// Flags override the profile file, which overrides the defaults (Dataverse's real limits:
/// 6,000 requests and 1,200 s of execution per 300 s window, 52 concurrent).
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Prints one line with the base URL when ready. Use it as the org URL \
    (ACTIVATOR_DATAVERSE_URL) and as the authority host (ACTIVATOR_AUTHORITY=<URL>/<tenant>).\n\
    Simulator endpoints: GET /_sim/stats, GET /_sim/mailboxes[?case=NAME], GET /_sim/mailboxes/{id}, \
    GET and POST /_sim/variants, POST /_sim/reset, POST /_sim/tokens/expire."
)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The URL clients reach the simulator at, when it is not http://<listen address> (behind a
    /// container network or a proxy): written into @odata.nextLink, so later pages of a read
    /// come back here.
    #[arg(long, value_name = "URL", value_parser = public_url)]
    public_url: Option<String>,
    /// Number of user mailboxes to seed.
    #[arg(long, default_value_t = 100)]
    mailboxes: usize,
    /// Seed of the generated org: the same seed gives the same org.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// TOML profile with any of the knobs below ([costs], [cases] and [variants] tables included).
    #[arg(long, value_name = "FILE.toml")]
    profile: Option<std::path::PathBuf>,
    /// Application user ID:SECRET (repeatable); each has its own limits.
    #[arg(long = "client", value_name = "ID:SECRET")]
    clients: Vec<ClientCredential>,
    /// Length of the limits' sliding window.
    #[arg(long)]
    window_secs: Option<u64>,
    /// Requests per application user per window.
    #[arg(long)]
    max_requests: Option<u64>,
    /// Execution milliseconds per application user per window.
    #[arg(long)]
    max_exec_ms: Option<u64>,
    /// Concurrent requests per application user.
    #[arg(long)]
    max_concurrency: Option<u32>,
    /// Value of the x-ms-dop-hint header.
    #[arg(long)]
    dop_hint: Option<u32>,
    /// How much each request sent while throttled extends the wait.
    #[arg(long)]
    throttle_penalty_ms: Option<u64>,
    /// Test & Enable duration, MIN..MAX milliseconds.
    #[arg(long, value_name = "MIN..MAX")]
    test_delay_ms: Option<Range>,
    /// App deployment duration, MIN..MAX milliseconds.
    #[arg(long, value_name = "MIN..MAX")]
    deploy_delay_ms: Option<Range>,
    /// Access token lifetime, MIN..MAX seconds.
    #[arg(long, value_name = "MIN..MAX")]
    token_lifetime_secs: Option<Range>,
    /// Share (0..1) of Web API requests meeting an injected fault.
    #[arg(long)]
    fault_rate: Option<f64>,
    /// Extra delay of a slow-response fault, MIN..MAX milliseconds.
    #[arg(long, value_name = "MIN..MAX")]
    slow_ms: Option<Range>,
    /// Seed the organization with the Email Router instead of server-side synchronization.
    #[arg(long)]
    email_router: bool,
    /// Who may approve email addresses: any (every caller, but the approval_needs_admin
    /// mailboxes answer 403), admin-only (every approval by an application user answers 403),
    /// silent (every approval succeeds but Test & Enable then fails: no Microsoft 365
    /// administrator approved it). POST /_sim/variants changes it while running.
    #[arg(long, value_name = "any|admin-only|silent")]
    approval_mode: Option<ApprovalMode>,
    /// Execution time of one operation, NAME=MS (repeatable): whoami, retrieve,
    /// retrieve_multiple, per_row_us, update, associate, disassociate, batch_overhead, token.
    #[arg(long = "cost", value_name = "NAME=MS")]
    costs: Vec<String>,
    /// Share of mailboxes in an awkward case, NAME=SHARE (repeatable): already_approved,
    /// already_tested, approval_rejected, inactive_mailbox, other_org, approval_needs_admin,
    /// user_disabled, deleted_mid_run, no_role_in_business_unit.
    #[arg(long = "case", value_name = "NAME=SHARE")]
    cases: Vec<String>,
    /// Seed no awkward cases (before any --case).
    #[arg(long)]
    no_cases: bool,
}

/// An http(s) URL with a host, without a trailing slash.
fn public_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or("give an http:// or https:// URL, e.g. http://simulator:8090")?;
    if rest.trim_end_matches('/').is_empty() || rest.contains(char::is_whitespace) {
        return Err("give the host (and port) clients use, e.g. http://simulator:8090".into());
    }
    Ok(text.trim_end_matches('/').to_string())
}

fn build_profile(args: &Args) -> Result<Profile> {
    let mut p = match &args.profile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read profile {}", path.display()))?;
            Profile::from_toml(&text)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("in profile {}", path.display()))?
        }
        None => Profile::default(),
    };
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = args.$field { p.$field = v; } )* };
    }
    set!(
        window_secs,
        max_requests,
        max_exec_ms,
        max_concurrency,
        dop_hint,
        throttle_penalty_ms,
        test_delay_ms,
        deploy_delay_ms,
        token_lifetime_secs,
        fault_rate,
        slow_ms
    );
    if args.email_router {
        p.email_connection_channel = 1;
    }
    if let Some(mode) = args.approval_mode {
        p.variants.approval_mode = mode;
    }
    for c in &args.costs {
        let (name, ms) = c.split_once('=').with_context(|| format!("--cost {c}: write NAME=MS"))?;
        let ms: u64 = ms.parse().with_context(|| format!("--cost {c}: MS must be a whole number"))?;
        p.costs.set(name, ms).map_err(anyhow::Error::msg)?;
    }
    if args.no_cases {
        p.cases = sim::CaseShares::none();
    }
    for c in &args.cases {
        let (name, share) = c.split_once('=').with_context(|| format!("--case {c}: write NAME=SHARE"))?;
        let Some(case) = Case::from_name(name).filter(|c| *c != Case::Normal) else {
            let names: Vec<&str> = Case::ALL[1..].iter().map(|c| c.name()).collect();
            bail!("--case {c}: unknown case '{name}'; use one of {}", names.join(", "));
        };
        let share: f64 =
            share.parse().with_context(|| format!("--case {c}: SHARE must be a number from 0 to 1"))?;
        p.cases.0.insert(case, share);
    }
    p.validate().map_err(anyhow::Error::msg).context("invalid simulator settings")?;
    Ok(p)
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let profile = build_profile(&args)?;
    let default_client = args.clients.is_empty().then(sim::default_client);
    let config =
        SimConfig { mailboxes: args.mailboxes, seed: args.seed, clients: args.clients.clone(), profile };
    let running = sim::start_at(config, args.listen, args.public_url.as_deref())
        .await
        .with_context(|| format!("cannot listen on {}: pick another address with --listen", args.listen))?;
    if let Some(c) = default_client {
        eprintln!("default application user: client id {} secret {}", c.id, c.secret);
    }
    if args.public_url.is_some() {
        println!("dataverse-sim listening on http://{} as {}", running.addr, running.base_url);
    } else {
        println!("dataverse-sim listening on {}", running.base_url);
    }
    stopped().await?;
    running.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C, or SIGTERM (how containers are stopped).
async fn stopped() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot wait for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")
    }
}
