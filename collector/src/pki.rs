//! `kordon-collector pki`: a private CA and the certificates for mTLS, without OpenSSL.
//!
//! Layout of the PKI folder (keys are written with mode 0600):
//! - `ca.crt`, `ca.key`: the CA (ECDSA P-256, 10 years). Keep `ca.key` offline if you can.
//! - `collector.crt`, `collector.key`: the server certificate (SANs: localhost, 127.0.0.1, ::1
//!   and every `--server-name`), EKU serverAuth.
//! - `<NAME>.crt`, `<NAME>.key`: agents (CN = NAME = the agent id, OU `kordon-agent`, EKU
//!   clientAuth), SOC clients (CN = NAME, OU `kordon-soc`) and pushing feeds (CN = NAME, OU
//!   `kordon-feed`).
//! - `bundle-signing.key`, `bundle-signing.pub`: the Ed25519 key pair that signs indicator
//!   bundles (PKCS#8 / SPKI PEM). The `.pub` file is what agents pin (`--bundle-key`); the key
//!   is separate from the CA so that a leaked TLS key cannot forge indicator sets, and vice
//!   versa. `init` creates it; `init-signing-key` adds it to a PKI made before it existed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::auth::{AGENT_OU, FEED_OU, SOC_OU};

/// A PKI operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The bundle-signing key could not be made or written.
    #[error("bundle-signing key: {0}")]
    Signing(String),
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// `init` would overwrite an existing CA.
    #[error("{0} already exists; refusing to replace a CA (remove the folder to start over)")]
    Exists(PathBuf),
    /// A name that cannot be a CN or a file name.
    #[error("invalid name {0:?}: use 1–128 characters from A–Z a–z 0–9 . _ -")]
    BadName(String),
}

/// Who a leaf certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An agent (may report).
    Agent,
    /// A SOC client (may read).
    Soc,
    /// A feed (may push indicators).
    Feed,
}

/// File name of the bundle-signing private key in the PKI folder.
pub const SIGNING_KEY_FILE: &str = "bundle-signing.key";
/// File name of the bundle-signing public key (what agents pin).
pub const SIGNING_PUB_FILE: &str = "bundle-signing.pub";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_file(path: &Path, contents: &str, private: bool) -> Result<(), PkiError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(contents.as_bytes()).map_err(io(path))?;
    Ok(())
}

/// Checks a CN / file name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with('.')
}

fn validity(params: &mut CertificateParams, years: i32) {
    // Whole years from 1 January of the current year: no calendar library needed, and a clock
    // a few hours off cannot make a fresh certificate "not yet valid".
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let year = 1970 + i32::try_from(secs / 31_556_952).unwrap_or(0);
    params.not_before = rcgen::date_time_ymd(year, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + years, 12, 31);
}

/// Creates the CA and the collector's server certificate in `dir`.
pub fn init(dir: &Path, server_names: &[String]) -> Result<Vec<PathBuf>, PkiError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let ca_crt = dir.join("ca.crt");
    if ca_crt.exists() {
        return Err(PkiError::Exists(ca_crt));
    }
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "Kordon collector CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "Kordon");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca, 10);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    write_file(&ca_crt, &ca_cert.pem(), false)?;
    write_file(&dir.join("ca.key"), &ca_key.serialize_pem(), true)?;

    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    names.extend(server_names.iter().cloned());
    let mut server = CertificateParams::new(names)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "kordon-collector");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server, 2);
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate()?;
    let cert = server.signed_by(&key, &issuer)?;
    write_file(&dir.join("collector.crt"), &cert.pem(), false)?;
    write_file(&dir.join("collector.key"), &key.serialize_pem(), true)?;
    let mut written = vec![
        ca_crt,
        dir.join("ca.key"),
        dir.join("collector.crt"),
        dir.join("collector.key"),
    ];
    written.extend(init_signing_key(dir)?);
    Ok(written)
}

/// Creates the Ed25519 bundle-signing key pair in `dir` if it is absent (an existing key is
/// never replaced: agents pin its public half). Returns the files written (none if present).
pub fn init_signing_key(dir: &Path) -> Result<Vec<PathBuf>, PkiError> {
    use kordon_intel::bundle;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let key_path = dir.join(SIGNING_KEY_FILE);
    let pub_path = dir.join(SIGNING_PUB_FILE);
    if key_path.exists() {
        return Ok(Vec::new());
    }
    let sign = |e: bundle::BundleError| PkiError::Signing(e.to_string());
    let key = bundle::generate_signing_key().map_err(sign)?;
    write_file(
        &key_path,
        &bundle::signing_key_pem(&key).map_err(sign)?,
        true,
    )?;
    write_file(
        &pub_path,
        &bundle::verifying_key_pem(&key.verifying_key()).map_err(sign)?,
        false,
    )?;
    Ok(vec![key_path, pub_path])
}

/// Issues a client certificate `NAME.crt`/`NAME.key` in `dir`, signed by the CA there.
pub fn issue(dir: &Path, name: &str, role: Role) -> Result<Vec<PathBuf>, PkiError> {
    if !valid_name(name) || matches!(name, "ca" | "collector") {
        return Err(PkiError::BadName(name.to_string()));
    }
    let ca_crt = dir.join("ca.crt");
    let ca_key_path = dir.join("ca.key");
    let ca_pem = fs::read_to_string(&ca_crt).map_err(io(&ca_crt))?;
    let ca_key = KeyPair::from_pem(&fs::read_to_string(&ca_key_path).map_err(io(&ca_key_path))?)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.distinguished_name.push(
        DnType::OrganizationalUnitName,
        match role {
            Role::Agent => AGENT_OU,
            Role::Soc => SOC_OU,
            Role::Feed => FEED_OU,
        },
    );
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    validity(&mut params, 2);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    let crt_path = dir.join(format!("{name}.crt"));
    let key_path = dir.join(format!("{name}.key"));
    write_file(&crt_path, &cert.pem(), false)?;
    write_file(&key_path, &key.serialize_pem(), true)?;
    Ok(vec![crt_path, key_path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_carry_name_and_role() {
        let dir = std::env::temp_dir().join(format!("kordon-pki-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        init(&dir, &["collector.example".into()]).expect("init");
        assert!(matches!(init(&dir, &[]), Err(PkiError::Exists(_))));
        issue(&dir, "sensor-1", Role::Agent).expect("agent");
        issue(&dir, "analyst", Role::Soc).expect("client");
        issue(&dir, "misp-push", Role::Feed).expect("feed");
        let key = kordon_intel::bundle::load_signing_key(&dir.join(SIGNING_KEY_FILE)).expect("key");
        let pinned =
            kordon_intel::bundle::load_verifying_key(&dir.join(SIGNING_PUB_FILE)).expect("pub");
        assert_eq!(key.verifying_key(), pinned);
        assert!(init_signing_key(&dir).expect("idempotent").is_empty());
        assert!(matches!(
            issue(&dir, "../x", Role::Agent),
            Err(PkiError::BadName(_))
        ));
        let pem = fs::read_to_string(dir.join("sensor-1.crt")).expect("read");
        let der = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .expect("pem")
            .1
            .contents;
        let (cn, ou) = crate::auth::subject_of(&der).expect("subject");
        assert_eq!(cn, "sensor-1");
        assert_eq!(ou.as_deref(), Some(AGENT_OU));
        let _ = fs::remove_dir_all(&dir);
    }
}
