//! Who is calling: agents by client certificate, SOC clients by certificate or bearer token.
//!
//! TLS (rustls, in tonic) has already verified any client certificate against the configured
//! CA, so a certificate from another CA never reaches this code. Here the interceptors read the
//! verified leaf's subject: the CN is the identity, the OU says what it may do (`kordon-agent`
//! certificates may only report, `kordon-soc` certificates may only read). The agent service
//! then checks every batch's `agent_id` against the CN.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::{Request, Status};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::TokenConfig;

/// OU of agent certificates issued by `kordon-collector pki issue-agent`.
pub const AGENT_OU: &str = "kordon-agent";
/// OU of SOC client certificates issued by `kordon-collector pki issue-client`.
pub const SOC_OU: &str = "kordon-soc";
/// OU of feed client certificates issued by `kordon-collector pki issue-feed` (may push
/// indicators with `FeedService`).
pub const FEED_OU: &str = "kordon-feed";

/// The authenticated agent of a stream, put in the request extensions by [`AgentAuth`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentIdentity {
    /// Certificate CN.
    Certificate(String),
    /// `--insecure-dev`: whatever the batches say (loopback only).
    Unauthenticated,
}

/// Subject CN and OU of a DER certificate.
pub fn subject_of(der: &[u8]) -> Option<(String, Option<String>)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let subject = cert.subject();
    let cn = subject
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    let ou = subject
        .iter_organizational_unit()
        .next()
        .and_then(|ou| ou.as_str().ok())
        .map(str::to_string);
    Some((cn, ou))
}

fn peer_subject<T>(request: &Request<T>) -> Option<(String, Option<String>)> {
    let certs = request.peer_certs()?;
    subject_of(certs.first()?.as_ref())
}

/// Interceptor for `AgentService`.
#[derive(Clone)]
pub struct AgentAuth {
    /// `--insecure-dev`: no TLS, identities not checked.
    pub insecure: bool,
}

impl tonic::service::Interceptor for AgentAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if self.insecure {
            request
                .extensions_mut()
                .insert(AgentIdentity::Unauthenticated);
            return Ok(request);
        }
        match peer_subject(&request) {
            Some((cn, Some(ou))) if ou == AGENT_OU => {
                request
                    .extensions_mut()
                    .insert(AgentIdentity::Certificate(cn));
                Ok(request)
            }
            Some((cn, _)) => Err(Status::permission_denied(format!(
                "certificate {cn:?} is not an agent certificate (OU must be {AGENT_OU})"
            ))),
            None => Err(Status::unauthenticated(
                "agents must present a client certificate issued by the collector's CA",
            )),
        }
    }
}

/// Interceptor for `SocService`: a `kordon-soc` certificate or a configured bearer token. The
/// same interceptor guards `FeedService` with OU `kordon-feed` and the `[[push.tokens]]`
/// ([`SocAuth::for_feeds`]): one audited code path for "certificate role or token".
#[derive(Clone)]
pub struct SocAuth {
    /// `--insecure-dev`: everything allowed.
    pub insecure: bool,
    /// (name, SHA-256) of each accepted token.
    pub tokens: Arc<Vec<(String, [u8; 32])>>,
    /// The certificate OU this service accepts.
    pub ou: &'static str,
}

impl SocAuth {
    /// The `FeedService` guard: OU `kordon-feed` or one of `tokens`.
    pub fn for_feeds(insecure: bool, tokens: &[TokenConfig]) -> SocAuth {
        SocAuth {
            ou: FEED_OU,
            ..SocAuth::new(insecure, tokens)
        }
    }

    /// Decodes the configured token hashes (validated by the config loader).
    pub fn new(insecure: bool, tokens: &[TokenConfig]) -> SocAuth {
        let tokens = tokens
            .iter()
            .filter_map(|t| {
                let mut hash = [0u8; 32];
                for (i, byte) in hash.iter_mut().enumerate() {
                    *byte = u8::from_str_radix(t.sha256.get(2 * i..2 * i + 2)?, 16).ok()?;
                }
                Some((t.name.clone(), hash))
            })
            .collect();
        SocAuth {
            insecure,
            tokens: Arc::new(tokens),
            ou: SOC_OU,
        }
    }
}

/// SHA-256 of a token, lower-case hex (for `[[soc.tokens]] sha256`).
pub fn token_sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl tonic::service::Interceptor for SocAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        if self.insecure {
            return Ok(request);
        }
        if let Some(value) = request.metadata().get("authorization") {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| Status::unauthenticated("authorization must be `Bearer TOKEN`"))?;
            let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            // Compare every configured hash fully (no early exit on the first differing byte).
            let matched = self.tokens.iter().fold(None, |found, (name, expected)| {
                let diff = expected
                    .iter()
                    .zip(hash.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b));
                if diff == 0 { Some(name) } else { found }
            });
            return match matched {
                Some(name) => {
                    tracing::debug!(client = %name, ou = self.ou, "client authenticated by token");
                    Ok(request)
                }
                None => Err(Status::unauthenticated("unknown token")),
            };
        }
        match peer_subject(&request) {
            Some((_, Some(ou))) if ou == self.ou => Ok(request),
            Some((cn, _)) => Err(Status::permission_denied(format!(
                "certificate {cn:?} may not call this service (OU must be {})",
                self.ou
            ))),
            None => Err(Status::unauthenticated(
                "clients need a client certificate or a bearer token",
            )),
        }
    }
}
