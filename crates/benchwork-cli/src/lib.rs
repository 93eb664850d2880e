//! The `benchwork` binary's library half: configuration ([`config::Config`])
//! and wiring ([`Application`]), shared by `main.rs` and the integration
//! tests, which start the real application exactly as `benchwork serve` does.
//!
//! Architecture invariant: only this crate reads environment variables and
//! configuration files, opens the database and spawns background work.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use benchwork_app::jobs::JobRegistry;
use benchwork_app::{Clock, Ctx, HashingParams, Settings};
use benchwork_domain::session::SessionPolicy;
use benchwork_store::Store;
use benchwork_web::AppState;
use jiff::SignedDuration;

pub mod config;

use config::Config;

/// Opens (and migrates) the configured database and builds the context.
pub async fn open_context(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Ctx> {
    let url = config.effective_database_url();
    if config.database.url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    let store = Store::connect(url.expose())
        .await
        .with_context(|| format!("opening the database at {}", url.redacted()))?;
    Ok(Ctx::new(store, clock, settings(config)))
}

/// The settings the use cases need, from the configuration.
pub fn settings(config: &Config) -> Settings {
    Settings {
        session: SessionPolicy {
            idle_timeout: SignedDuration::from_mins(config.auth.idle_timeout_minutes),
            absolute_timeout: SignedDuration::from_hours(config.auth.absolute_timeout_hours),
        },
        throttle: Default::default(),
        hashing: HashingParams {
            memory_kib: config.auth.argon2_memory_kib,
            iterations: config.auth.argon2_iterations,
            parallelism: 1,
        },
        audit_head_file: Some(config.audit_head_file()),
        node_id: format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "benchwork".into()),
            std::process::id()
        ),
    }
}

/// A built, not yet running, server.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    /// The context the server runs with (tests use its store and clock).
    pub ctx: Ctx,
    registry: JobRegistry,
}

impl Application {
    /// Binds the address and builds the router.
    pub async fn build(config: &Config, ctx: Ctx) -> anyhow::Result<Application> {
        let listener = tokio::net::TcpListener::bind(&config.server.addr)
            .await
            .with_context(|| format!("listening on {}", config.server.addr))?;
        let state = AppState {
            ctx: ctx.clone(),
            secure_cookies: config.server.secure_cookies,
        };
        benchwork_app::jobs::schedule_recurring(&ctx).await?;
        Ok(Application {
            listener,
            router: benchwork_web::router(state),
            ctx,
            registry: JobRegistry::standard(),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes. With `background`, also seals the
    /// audit trail every second and runs due jobs.
    pub async fn run(
        self,
        background: bool,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let background_task = background.then(|| {
            let ctx = self.ctx.clone();
            let registry = self.registry.clone();
            tokio::spawn(async move { background_loop(ctx, registry).await })
        });
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        if let Some(task) = background_task {
            task.abort();
        }
        // Seal what this server wrote before it stops.
        if let Err(error) = benchwork_app::audit::seal_audit(&self.ctx).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not seal the audit trail at shutdown"
            );
        }
        served.context("serving HTTP")
    }
}

async fn background_loop(ctx: Ctx, registry: JobRegistry) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n_ticks: u64 = 0;
    loop {
        tick.tick().await;
        n_ticks += 1;
        if let Err(error) = benchwork_app::audit::seal_audit(&ctx).await {
            tracing::error!(
                error = format!("{error:#}"),
                "sealing the audit trail failed"
            );
        }
        if n_ticks.is_multiple_of(5)
            && let Err(error) = benchwork_app::jobs::run_due_jobs(&ctx, &registry).await
        {
            tracing::error!(error = format!("{error:#}"), "running jobs failed");
        }
    }
}
