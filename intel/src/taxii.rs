//! A TAXII 2.1 client (<https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html>) that does no
//! I/O itself.
//!
//! Why transport-agnostic: this crate is pure and synchronous (no sockets, no runtime). The
//! protocol logic — URLs, headers, media types, status handling, pagination, bounds — lives here
//! and is unit-tested with recorded responses; the collector supplies a [`Transport`] backed by
//! its HTTP client (TLS, proxies, timeouts are its business).
//!
//! What it does:
//!
//! * discovery (`GET <server>/taxii2/`), API root information, the collections list;
//! * polling a collection's objects with `added_after`, following pagination: the envelope's
//!   `more` with `next` (§3.4), or, when a server sends `more` without `next`, the
//!   `X-TAXII-Date-Added-Last` header as the next `added_after`; the last
//!   `X-TAXII-Date-Added-Last` seen is returned so the next poll starts after it;
//! * `Accept: application/taxii+json;version=2.1` on every request, and basic or bearer-token
//!   authentication;
//! * bounds: at most [`TaxiiClient::with_max_pages`] pages per poll and
//!   [`MAX_RESPONSE_BYTES`] per response, so a misbehaving server cannot loop the poller or
//!   exhaust memory.
//!
//! The objects feed the STIX loader through [`Poll::load`].

// Untrusted input: no panics on any path (STYLE §2.6).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use serde::Deserialize;
use serde_json::Value;

use crate::formats::LoadOptions;
use crate::formats::stix::load_stix_objects;
use crate::matcher::IndicatorSetBuilder;
use crate::report::LoadReport;

/// The TAXII 2.1 media type, sent as `Accept` and expected as `Content-Type`.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Largest response body accepted, in bytes (the same bound as a STIX file,
/// [`crate::formats::MAX_JSON_BYTES`]).
pub const MAX_RESPONSE_BYTES: usize = crate::formats::MAX_JSON_BYTES;

/// Default bound on pages per poll: at the usual 100–1000 objects per page, ten thousand pages
/// is a very large collection; more means a server that never stops saying `more`.
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// An HTTP response as the transport hands it back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why the transport could not produce a response (connection refused, TLS, timeout…).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// What the client needs from an HTTP client: a GET with headers. Implemented by the collector.
pub trait Transport {
    /// Performs `GET url` with `headers` and returns the response, whatever its status.
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError>;
}

/// Authentication sent with every request.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// None.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Token(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: *** }}"),
            Auth::Token(_) => f.write_str("Token(***)"),
        }
    }
}

/// Why a TAXII request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaxiiError {
    /// The transport failed.
    #[error("{url}: {source}")]
    Transport {
        /// The URL requested.
        url: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// 401 or 403.
    #[error("{url}: not authorised (HTTP {status})")]
    Unauthorized {
        /// The URL requested.
        url: String,
        /// The status.
        status: u16,
    },
    /// 404: no such API root or collection (or not visible with these credentials).
    #[error("{url}: not found")]
    NotFound {
        /// The URL requested.
        url: String,
    },
    /// Any other non-2xx status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status.
        status: u16,
    },
    /// The response is not TAXII JSON.
    #[error("{url}: {reason}")]
    BadResponse {
        /// The URL requested.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server's pagination does not terminate or advance.
    #[error("{url}: {reason}")]
    Pagination {
        /// The collection URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// The discovery resource (§4.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    /// Server title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Contact information.
    #[serde(default)]
    pub contact: Option<String>,
    /// The default API root, if the server names one.
    #[serde(default)]
    pub default: Option<String>,
    /// API root URLs (made absolute against the discovery URL).
    #[serde(default)]
    pub api_roots: Vec<String>,
}

/// An API root's information (§4.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ApiRoot {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Supported TAXII versions (media types).
    #[serde(default)]
    pub versions: Vec<String>,
    /// Largest request body the server accepts, in bytes.
    #[serde(default)]
    pub max_content_length: Option<u64>,
}

/// A collection (§5.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Collection {
    /// Collection id (a UUID).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether these credentials may read it.
    #[serde(default)]
    pub can_read: bool,
    /// Whether these credentials may write it.
    #[serde(default)]
    pub can_write: bool,
    /// Media types of its objects.
    #[serde(default)]
    pub media_types: Vec<String>,
}

#[derive(Deserialize)]
struct Collections {
    #[serde(default)]
    collections: Vec<Collection>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

/// The result of polling a collection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Poll {
    /// Every STIX object of every page, in order.
    pub objects: Vec<Value>,
    /// The last `X-TAXII-Date-Added-Last` seen: the `added_after` of the next poll.
    pub date_added_last: Option<String>,
    /// Pages fetched.
    pub pages: usize,
}

impl Poll {
    /// Loads the polled objects with the STIX loader.
    pub fn load(&self, opts: &LoadOptions, builder: &mut IndicatorSetBuilder) -> LoadReport {
        load_stix_objects(&self.objects, opts, builder)
    }
}

/// A TAXII 2.1 client over a [`Transport`].
#[derive(Debug)]
pub struct TaxiiClient<T> {
    transport: T,
    auth: Auth,
    max_pages: usize,
    page_limit: Option<usize>,
}

impl<T: Transport> TaxiiClient<T> {
    /// A client with the given transport and authentication.
    pub fn new(transport: T, auth: Auth) -> Self {
        TaxiiClient {
            transport,
            auth,
            max_pages: DEFAULT_MAX_PAGES,
            page_limit: None,
        }
    }

    /// Bounds the pages fetched per poll. Defaults to [`DEFAULT_MAX_PAGES`].
    pub fn with_max_pages(mut self, max_pages: usize) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// Asks for at most `limit` objects per page (the `limit` parameter; servers may send
    /// fewer). Defaults to the server's choice.
    pub fn with_page_limit(mut self, limit: usize) -> Self {
        self.page_limit = Some(limit.max(1));
        self
    }

    /// The transport (e.g. for its statistics).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Reads the discovery resource at `url` (normally `https://host/taxii2/`). Relative API
    /// root URLs are made absolute against it.
    pub fn discover(&self, url: &str) -> Result<Discovery, TaxiiError> {
        let (value, _) = self.get_json(url)?;
        let mut discovery: Discovery = from_value(url, value)?;
        discovery.api_roots = discovery
            .api_roots
            .iter()
            .map(|root| absolute(url, root))
            .collect();
        discovery.default = discovery.default.map(|d| absolute(url, &d));
        Ok(discovery)
    }

    /// Reads an API root's information.
    pub fn api_root(&self, api_root: &str) -> Result<ApiRoot, TaxiiError> {
        let url = with_slash(api_root);
        let (value, _) = self.get_json(&url)?;
        from_value(&url, value)
    }

    /// Lists the collections of an API root (an empty object means none).
    pub fn collections(&self, api_root: &str) -> Result<Vec<Collection>, TaxiiError> {
        let url = format!("{}collections/", with_slash(api_root));
        let (value, _) = self.get_json(&url)?;
        Ok(from_value::<Collections>(&url, value)?.collections)
    }

    /// Polls every object added to a collection after `added_after` (all objects when `None`),
    /// following pagination (see the module doc).
    pub fn poll(
        &self,
        api_root: &str,
        collection_id: &str,
        added_after: Option<&str>,
    ) -> Result<Poll, TaxiiError> {
        let base = format!(
            "{}collections/{}/objects/",
            with_slash(api_root),
            encode(collection_id)
        );
        let mut poll = Poll::default();
        let mut after = added_after.map(str::to_owned);
        let mut next: Option<String> = None;
        while poll.pages < self.max_pages {
            let mut query = Vec::new();
            if let Some(after) = &after {
                query.push(format!("added_after={}", encode(after)));
            }
            if let Some(limit) = self.page_limit {
                query.push(format!("limit={limit}"));
            }
            if let Some(next) = &next {
                query.push(format!("next={}", encode(next)));
            }
            let url = if query.is_empty() {
                base.clone()
            } else {
                format!("{base}?{}", query.join("&"))
            };
            let (value, response) = self.get_json(&url)?;
            poll.pages += 1;
            let envelope: Envelope = from_value(&url, value)?;
            poll.objects.extend(envelope.objects);
            let last = response
                .header("X-TAXII-Date-Added-Last")
                .map(str::to_owned);
            if last.is_some() {
                poll.date_added_last.clone_from(&last);
            }
            if !envelope.more {
                return Ok(poll);
            }
            match (envelope.next, last) {
                (Some(n), _) if next.as_deref() != Some(n.as_str()) => next = Some(n),
                (Some(_), _) => {
                    return Err(TaxiiError::Pagination {
                        url: base,
                        reason: "the server sent the same `next` twice".to_owned(),
                    });
                }
                (None, Some(last)) if after.as_deref() != Some(last.as_str()) => {
                    after = Some(last);
                    next = None;
                }
                (None, _) => {
                    return Err(TaxiiError::Pagination {
                        url: base,
                        reason: "`more` is true but there is neither `next` nor an advancing \
                                 X-TAXII-Date-Added-Last"
                            .to_owned(),
                    });
                }
            }
        }
        Err(TaxiiError::Pagination {
            url: base,
            reason: format!("more than {} pages", self.max_pages),
        })
    }

    /// The request headers: `Accept` and, if configured, `Authorization`.
    fn headers(&self) -> Vec<(&'static str, String)> {
        use base64::Engine as _;
        let mut headers = vec![("Accept", MEDIA_TYPE.to_owned())];
        match &self.auth {
            Auth::None => {}
            Auth::Basic { user, password } => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                headers.push(("Authorization", format!("Basic {token}")));
            }
            Auth::Token(token) => headers.push(("Authorization", format!("Bearer {token}"))),
        }
        headers
    }

    /// GETs `url`, checks status, media type and size, and parses the JSON body.
    fn get_json(&self, url: &str) -> Result<(Value, Response), TaxiiError> {
        let owned = self.headers();
        let headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let mut response =
            self.transport
                .get(url, &headers)
                .map_err(|source| TaxiiError::Transport {
                    url: url.to_owned(),
                    source,
                })?;
        match response.status {
            200..=299 => {}
            401 | 403 => {
                return Err(TaxiiError::Unauthorized {
                    url: url.to_owned(),
                    status: response.status,
                });
            }
            404 => {
                return Err(TaxiiError::NotFound {
                    url: url.to_owned(),
                });
            }
            status => {
                return Err(TaxiiError::Status {
                    url: url.to_owned(),
                    status,
                });
            }
        }
        let bad = |reason: String| TaxiiError::BadResponse {
            url: url.to_owned(),
            reason,
        };
        if let Some(ct) = response.header("Content-Type") {
            let ct = ct.to_ascii_lowercase();
            if !(ct.starts_with("application/taxii+json") || ct.starts_with("application/json")) {
                return Err(bad(format!("Content-Type {ct:?} is not TAXII JSON")));
            }
        }
        if response.body.len() > MAX_RESPONSE_BYTES {
            return Err(bad(format!("body larger than {MAX_RESPONSE_BYTES} bytes")));
        }
        let body = std::mem::take(&mut response.body);
        let value = serde_json::from_slice(&body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        Ok((value, response))
    }
}

fn from_value<D: serde::de::DeserializeOwned>(url: &str, value: Value) -> Result<D, TaxiiError> {
    serde_json::from_value(value).map_err(|e| TaxiiError::BadResponse {
        url: url.to_owned(),
        reason: format!("unexpected shape: {e}"),
    })
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// `reference` made absolute against `base` (absolute URLs and `/path` references only, which
/// is what TAXII servers send).
fn absolute(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| {
            base.get(i + 3..)
                .and_then(|rest| rest.find('/'))
                .map(|j| i + 3 + j)
        })
        .unwrap_or(base.len());
    let origin = base.get(..origin_end).unwrap_or(base);
    if reference.starts_with('/') {
        format!("{origin}{reference}")
    } else {
        format!("{}{reference}", with_slash(base))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (query values, path ids).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
