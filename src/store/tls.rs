//! TLS to a PostgreSQL server, through rustls, with libpq's `sslmode` meanings:
//!
//! | sslmode | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default) | if the server offers it | not checked |
//! | `require` | always | checked against `sslrootcert` when there is one, else not |
//! | `verify-ca` | always | from the CA in `sslrootcert` |
//! | `verify-full` | always | from the CA in `sslrootcert`, for the host the URL names |
//!
//! `sslrootcert=FILE` is the CA's certificate (PEM; a private CA's, as a company's server has);
//! without it, `~/.postgresql/root.crt` where there is one, as libpq. A Unix socket is never
//! TLS (as libpq: the server does not speak it there).

use super::engine::{PgHost, PgUrl, SslMode};
use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// The TLS a connection to `url` uses: `None` for none (`sslmode=disable`, or a socket).
pub(crate) fn connector(url: &PgUrl) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>> {
    if url.sslmode == SslMode::Disable || matches!(url.host, PgHost::Socket(_)) {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match &url.sslrootcert {
        Some(file) => Some(roots(file, url)?),
        None => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (url.sslmode, roots) {
        (SslMode::Prefer, _) | (SslMode::Require, None) => Arc::new(Unchecked(provider.clone())),
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            return Err(Error::Server(format!(
                "{}: sslmode={} checks the server's certificate against its CA: give the CA's \
                 certificate as sslrootcert=FILE (PEM), or put it in ~/.postgresql/root.crt",
                url.shown(),
                mode_name(url.sslmode)
            )));
        }
        (SslMode::Require | SslMode::VerifyCa, Some(roots)) => {
            Arc::new(AnyHostName(webpki(roots, &provider, url)?))
        }
        (SslMode::VerifyFull, Some(roots)) => webpki(roots, &provider, url)?,
        (SslMode::Disable, _) => return Ok(None),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Server(format!("TLS for PostgreSQL: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

/// The word the URL used.
pub(crate) fn mode_name(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

/// What a failed TLS handshake means for the person reading it, if it was one.
pub(crate) fn hint(url: &PgUrl, why: &str) -> Option<String> {
    let root = url
        .sslrootcert
        .as_ref()
        .map(|r| r.display().to_string())
        .unwrap_or_default();
    if why.contains("UnknownIssuer") || why.contains("unknown issuer") {
        return Some(format!(
            "the server's certificate is not from the CA in sslrootcert={root} (give the CA \
             that signed it as sslrootcert=FILE)"
        ));
    }
    if why.contains("NotValidForName") || why.contains("not valid for name") {
        let host = match &url.host {
            PgHost::Tcp(h) => h.as_str(),
            PgHost::Socket(_) => "",
        };
        return Some(format!(
            "the server's certificate is not for the host name {host} (sslmode=verify-full \
             checks it: connect by the name in the certificate)"
        ));
    }
    if why.contains("server does not support TLS") {
        return Some(format!(
            "the server does not offer TLS, and sslmode={} requires it",
            mode_name(url.sslmode)
        ));
    }
    None
}

/// The CA certificates in `file` (PEM), as a root store.
fn roots(file: &std::path::Path, url: &PgUrl) -> Result<rustls::RootCertStore> {
    let bad = |why: String| {
        Error::Server(format!(
            "{}: sslrootcert={}: {why}",
            url.shown(),
            file.display()
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
        .map_err(|e| bad(format!("cannot read it ({e})")))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(format!("not a PEM certificate ({e})")))?;
    let mut store = rustls::RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(bad("holds no certificate".into()));
    }
    Ok(store)
}

fn webpki(
    roots: rustls::RootCertStore,
    provider: &Arc<CryptoProvider>,
    url: &PgUrl,
) -> Result<Arc<dyn ServerCertVerifier>> {
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| Error::Server(format!("{}: sslrootcert: {e}", url.shown())))?;
    Ok(verifier)
}

/// `sslmode=prefer`, or `require` without a CA: the connection is encrypted, the certificate
/// not checked (libpq's meaning; the handshake's signatures still are).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca` (and `require` with a CA): the certificate must come from the CA, for
/// whichever host name.
#[derive(Debug)]
struct AnyHostName(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a wrong name means the chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
