//! `kordon-collector serve`: binds, wires store, writer, services and retention, and runs until
//! SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kordon_proto::agent_service_server::AgentServiceServer;
use kordon_proto::feed_service_server::FeedServiceServer;
use kordon_proto::soc_service_server::SocServiceServer;
use tokio::sync::Semaphore;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::auth::{AgentAuth, SocAuth};
use crate::config::Config;
use crate::ingest::Ingestor;
use crate::service::{AgentSvc, ServiceLimits, SocSvc};
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, now_us};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A TLS file or the state folder cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The store cannot be opened.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// `--insecure-dev` on a non-loopback address.
    #[error("--insecure-dev only listens on loopback; {0} is not")]
    InsecureNotLoopback(SocketAddr),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::InvalidParameter),
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Runs the collector until `shutdown` resolves.
pub async fn serve(
    config: Config,
    insecure_dev: bool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = config.listen_addr()?;
    if insecure_dev && !addr.ip().is_loopback() {
        return Err(ServeError::InsecureNotLoopback(addr));
    }
    std::fs::create_dir_all(&config.state_dir).map_err(|source| ServeError::Io {
        path: config.state_dir.display().to_string(),
        source,
    })?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(
        &config.store_path(),
        config.store.synchronous,
        Duration::from_millis(config.store.busy_timeout_ms),
    )?);
    let ingestor = Ingestor::start(
        Arc::clone(&store),
        config.limits.ingest_queue_batches,
        config.store.max_batches_per_commit,
    )
    .map_err(|source| ServeError::Io {
        path: "store-writer thread".into(),
        source,
    })?;

    let mut builder = Server::builder()
        .max_concurrent_streams(config.limits.max_streams_per_connection)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .tcp_nodelay(true);
    if insecure_dev {
        tracing::warn!(
            "*** --insecure-dev: PLAINTEXT gRPC, NO AUTHENTICATION. Any local process can report \
             or read alerts as any agent. For demos on loopback only; never in production. ***"
        );
    } else {
        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(
                read(&config.resolve(&config.tls.cert))?,
                read(&config.resolve(&config.tls.key))?,
            ))
            .client_ca_root(Certificate::from_pem(read(
                &config.resolve(&config.tls.client_ca),
            )?))
            .client_auth_optional(!config.tls.require_client_cert);
        builder = builder.tls_config(tls)?;
    }

    let intel_store = Arc::new(
        crate::feeds::store::IntelStore::open(&config.state_dir.join("intel.sqlite")).map_err(
            |e| ServeError::Io {
                path: "intel.sqlite".into(),
                source: std::io::Error::other(e),
            },
        )?,
    );
    let key_path = config.resolve(&config.indicators.signing_key);
    let signing_key = match kordon_intel::bundle::load_signing_key(&key_path) {
        Ok(key) => Some(key),
        Err(error) => {
            tracing::warn!(
                path = %key_path.display(),
                %error,
                "no bundle-signing key: indicator sets are neither built nor served \
                 (run `kordon-collector pki init-signing-key --dir <pki>`)"
            );
            None
        }
    };
    let sets = Arc::new(
        crate::feeds::sets::Sets::open(
            signing_key,
            intel_store,
            config.indicators.max_set_indicators,
        )
        .map_err(|e| ServeError::Io {
            path: "intel.sqlite".into(),
            source: std::io::Error::other(e),
        })?,
    );
    if sets.can_sign() {
        crate::feeds::Scheduler::start(
            &config.feeds,
            &config.state_dir,
            &config.indicators,
            Arc::clone(&sets),
        )
        .map_err(|source| ServeError::Io {
            path: "feed threads".into(),
            source,
        })?;
    }
    let max_message = config.limits.max_message_bytes;
    let feed = FeedServiceServer::new(crate::feeds::push::FeedSvc {
        sets: Arc::clone(&sets),
        allow: Arc::new(crate::feeds::allowlist(&config.indicators)),
    })
    .max_decoding_message_size(max_message)
    .max_encoding_message_size(max_message);
    let feed = InterceptedService::new(feed, SocAuth::for_feeds(insecure_dev, &config.push.tokens));
    let agent = AgentServiceServer::new(AgentSvc {
        sets: Arc::clone(&sets),
        watchers: Arc::new(Semaphore::new(config.indicators.max_watchers)),
        ingestor: ingestor.clone(),
        limits: ServiceLimits {
            max_records_per_batch: config.limits.max_records_per_batch,
        },
        streams: Arc::new(Semaphore::new(config.limits.max_agent_streams)),
    })
    .max_decoding_message_size(max_message)
    .max_encoding_message_size(max_message);
    let soc = SocServiceServer::new(SocSvc {
        store: Arc::clone(&store),
        ingestor: ingestor.clone(),
        subscribers: Arc::new(Semaphore::new(config.limits.max_subscribers)),
    })
    .max_decoding_message_size(max_message)
    .max_encoding_message_size(max_message);
    let agent = InterceptedService::new(
        agent,
        AgentAuth {
            insecure: insecure_dev,
        },
    );
    let soc = InterceptedService::new(soc, SocAuth::new(insecure_dev, &config.soc.tokens));

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Io {
            path: addr.to_string(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| ServeError::Io {
        path: addr.to_string(),
        source,
    })?;
    let addr_file = config.state_dir.join("listen.addr");
    std::fs::write(&addr_file, format!("{bound}\n")).map_err(|source| ServeError::Io {
        path: addr_file.display().to_string(),
        source,
    })?;
    tracing::info!(
        address = %bound,
        store = %config.store_path().display(),
        tls = !insecure_dev,
        "collector listening"
    );

    let retention = config.retention.clone();
    let retention_store = Arc::clone(&store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(retention.interval_secs));
        loop {
            tick.tick().await;
            let store = Arc::clone(&retention_store);
            let max_age_us =
                i64::try_from(retention.max_age_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
            let max_bytes = retention.max_bytes;
            let result = tokio::task::spawn_blocking(move || {
                store.enforce_retention(now_us(), max_age_us, max_bytes)
            })
            .await;
            match result {
                Ok(Ok(outcome)) if outcome.by_age + outcome.by_size > 0 => tracing::info!(
                    by_age = outcome.by_age,
                    by_size = outcome.by_size,
                    "retention deleted alerts"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(error = %error, "retention failed"),
                Err(_) => tracing::warn!("retention task panicked"),
            }
        }
    });

    builder
        .add_service(agent)
        .add_service(soc)
        .add_service(feed)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await?;
    tracing::info!("collector stopped");
    Ok(())
}
