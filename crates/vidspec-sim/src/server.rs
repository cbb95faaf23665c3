//! Running the simulator: the [`Sim`] handle for tests and libraries (start on
//! a port, inspect, change faults, shut down) and [`serve`] / [`serve_until`]
//! for a command-line front end.
//!
//! This module owns the server's lifetime only; it must not answer requests
//! itself (routes do) or install signal handlers other than the ctrl-c wait
//! of [`serve`].

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Faults, SimConfig};
use crate::faults::Scripted;
use crate::routes;
use crate::state::SimState;
use crate::stats::Stats;
use crate::task_list::SimTask;

/// How long [`Sim::shutdown`] waits for open requests before it aborts them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running simulator on its own port.
///
/// Dropping it signals the server to stop (without waiting); call
/// [`Sim::shutdown`] to stop and wait.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use vidspec_sim::{Sim, SimConfig};
///
/// let sim = Sim::start("127.0.0.1:0".parse().unwrap(), SimConfig::default()).await?;
/// assert!(sim.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(sim.stats().submits, 0);
/// sim.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Sim {
    addr: SocketAddr,
    state: Arc<SimState>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<io::Result<()>>>,
}

/// `http://IP:PORT` for a bound address; an unspecified IP (0.0.0.0, ::)
/// becomes the loopback address, which is where a local client connects.
fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Checks the configuration and builds the shared state for `listener`.
fn prepare(listener: &TcpListener, config: SimConfig) -> io::Result<(SocketAddr, Arc<SimState>)> {
    config
        .validate()
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    let addr = listener.local_addr()?;
    Ok((addr, Arc::new(SimState::new(config, base_url_for(addr)))))
}

impl Sim {
    /// Binds `addr` (use `127.0.0.1:0` for a free port) and spawns the server
    /// on the current tokio runtime.
    ///
    /// Fails when the port cannot be bound, or with
    /// `io::ErrorKind::InvalidInput` when [`SimConfig::validate`] refuses the
    /// configuration.
    pub async fn start(addr: SocketAddr, config: SimConfig) -> io::Result<Sim> {
        let listener = TcpListener::bind(addr).await?;
        Sim::from_listener(listener, config)
    }

    /// Spawns the server on an already bound listener (on the current tokio
    /// runtime; must be called from within one).
    pub fn from_listener(listener: TcpListener, config: SimConfig) -> io::Result<Sim> {
        let (addr, state) = prepare(&listener, config)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = routes::router(Arc::clone(&state));
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Sim {
            addr,
            state,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL to point a client at, and the
    /// prefix of every result and upload URL the simulator hands out.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// A snapshot of the counters (task outcomes counted at this instant).
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// Every task created so far, oldest first, as it stands now (what
    /// `GET /__sim/tasks` answers).
    pub fn tasks(&self) -> Vec<SimTask> {
        self.state.task_list()
    }

    /// Replaces the random fault rates from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Queues forced answers (after any still queued). Each submit or poll
    /// takes the oldest entry aimed at its kind before random faults are
    /// considered; see [`Scripted`].
    pub fn script(&self, responses: Vec<Scripted>) {
        self.state.push_script(responses);
    }

    /// Stops accepting connections, lets open requests finish (at most 5 s,
    /// then aborts them) and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
                abort.abort();
            }
        }
        self.state.stop_background();
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Sim")
            .field("addr", &self.addr)
            .field("base_url", &self.state.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.stop_background();
    }
}

/// Runs the simulator on `listener` until ctrl-c, then returns the final
/// counters. This is the entry point for `vidspec sim`: bind the listener
/// yourself (so you can print `listener.local_addr()` first), then await this.
///
/// Fails with `io::ErrorKind::InvalidInput` when [`SimConfig::validate`]
/// refuses the configuration. If no ctrl-c handler can be installed it runs
/// until the process ends.
pub async fn serve(listener: TcpListener, config: SimConfig) -> io::Result<Stats> {
    serve_until(listener, config, async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
}

/// Runs the simulator on `listener` until `shutdown` completes (then lets open
/// requests finish), and returns the final counters.
pub async fn serve_until<F>(
    listener: TcpListener,
    config: SimConfig,
    shutdown: F,
) -> io::Result<Stats>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (_addr, state) = prepare(&listener, config)?;
    axum::serve(listener, routes::router(Arc::clone(&state)))
        .with_graceful_shutdown(shutdown)
        .await?;
    state.stop_background();
    Ok(state.stats())
}

#[cfg(test)]
mod tests {
    use super::base_url_for;

    #[test]
    fn unspecified_addresses_become_loopback() {
        let url = |addr: &str| base_url_for(addr.parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:80"), "http://[::1]:80");
        assert_eq!(url("127.0.0.1:5"), "http://127.0.0.1:5");
    }
}
