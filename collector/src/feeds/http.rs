//! The blocking HTTP(S) client of the feeds (`ureq` with rustls), as an
//! [`kordon_intel::taxii::Transport`]. Blocking on purpose: feeds run on their own threads, and
//! a synchronous client keeps the TAXII client in the intel crate runtime-free.

use std::io::Read;
use std::time::Duration;

use kordon_intel::taxii::{Auth, Response, Transport, TransportError};

/// Largest body read, in bytes (the intel crate's bound on a JSON document).
pub const MAX_BODY_BYTES: usize = kordon_intel::formats::MAX_JSON_BYTES;

/// A `ureq` agent with timeouts.
pub struct HttpTransport {
    agent: ureq::Agent,
}

impl HttpTransport {
    /// A client whose every request times out after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build();
        HttpTransport {
            agent: config.into(),
        }
    }
}

impl Transport for HttpTransport {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        let mut request = self.agent.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().map_err(|e| TransportError(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| TransportError(format!("reading the body: {e}")))?;
        if body.len() > MAX_BODY_BYTES {
            return Err(TransportError(format!(
                "body larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// GET with auth; the body of a 2xx response, else an error naming the status.
pub fn get_ok(t: &HttpTransport, url: &str, auth: &Auth) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let value = match auth {
        Auth::None => None,
        Auth::Basic { user, password } => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )),
        Auth::Token(token) => Some(format!("Bearer {token}")),
    };
    let headers: Vec<(&str, &str)> = value
        .as_deref()
        .map(|v| vec![("Authorization", v)])
        .unwrap_or_default();
    let response = t.get(url, &headers).map_err(|e| format!("{url}: {e}"))?;
    if !(200..300).contains(&response.status) {
        return Err(format!("{url}: HTTP {}", response.status));
    }
    Ok(response.body)
}
