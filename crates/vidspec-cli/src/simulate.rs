//! `sim`: run the simulated gateway (vidspec-sim) on loopback until Ctrl-C.
//! An address off loopback is refused before anything is bound, unless `--public`.
//!
//! Owns the command's output contract: the first line is exactly
//! `listening on http://ADDR`. It must not implement any gateway behaviour;
//! that is vidspec-sim's.

use std::io::Write;

use anyhow::Context;
use vidspec_sim::{Faults, SimConfig};

use crate::Exit;
use crate::cli::SimArgs;

/// Runs `sim`.
pub fn run(args: &SimArgs) -> anyhow::Result<Exit> {
    // Checked before anything is bound: the docs promise loopback.
    anyhow::ensure!(
        args.public || args.addr.ip().is_loopback(),
        "--addr {} is not a loopback address: the simulator serves only this machine \
         unless you pass --public to serve off this machine",
        args.addr
    );
    anyhow::ensure!(
        args.speed.is_finite() && args.speed > 0.0,
        "--speed must be a positive number"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.fail_rate),
        "--fail-rate must be between 0 and 1"
    );
    let faults = match &args.faults {
        Some(spec) => Faults::parse(spec).with_context(|| format!("--faults {spec:?}"))?,
        None => Faults::default(),
    };
    let config = SimConfig {
        api_key: args.api_key.clone(),
        speed: args.speed,
        faults,
        fail_rate: args.fail_rate,
        balance: args.balance,
        webhook_duplicate_rate: args.webhook_duplicate_rate,
        webhook_drop_rate: args.webhook_drop_rate,
        ..SimConfig::default()
    };
    // Refused before anything is bound or printed (--balance, the rates).
    config.validate().context("cannot start the simulator")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr().context("cannot read the bound address")?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}").and_then(|()| out.flush())?;
        // Advice only: a reader that stopped after the first line is fine.
        let _ = writeln!(
            out,
            "api key: {} (export APIMART_API_KEY={} APIMART_BASE_URL=http://{addr} VIDSPEC_POLL_SCALE={})",
            args.api_key, args.api_key, args.speed
        )
        .and_then(|()| out.flush());
        drop(out);
        let stats = vidspec_sim::serve(listener, config).await.context("the simulator stopped")?;
        eprintln!("sim: stopped; {}", serde_json_line(&stats));
        anyhow::Ok(())
    })?;
    Ok(Exit::Valid)
}

fn serde_json_line(stats: &vidspec_sim::Stats) -> String {
    serde_json::to_string(stats).unwrap_or_default()
}
