//! A `redis-server` that speaks only TLS and wants a password, with certificates made for the
//! test: a CA of its own, a server certificate for 127.0.0.1, and a client certificate the
//! server accepts (required or not, as the test asks).

use crate::redis_process::{RedisProcess, free_port};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The password of every [`TlsRedis`]; tests check it never shows in messages.
pub const TLS_REDIS_PASSWORD: &str = "tls-test-secret-4f1c";

/// A TLS-only Redis of one test, stopped and its files removed when dropped.
#[derive(Debug)]
pub struct TlsRedis {
    /// `rediss://:PASSWORD@127.0.0.1:PORT`.
    pub url: String,
    /// The CA that signed the server's and the client's certificates (PEM).
    pub ca_file: PathBuf,
    /// A client certificate and key (PEM) the server accepts.
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    _process: RedisProcess,
    dir: PathBuf,
}

/// Whether the server asks clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCerts {
    Optional,
    Required,
}

impl TlsRedis {
    /// Starts one; panics, saying why, when redis-server is missing or cannot speak TLS.
    pub fn start(client_certs: ClientCerts) -> TlsRedis {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "activator-tls-redis-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let files = write_certificates(&dir);
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port().unwrap();
            let auth = if client_certs == ClientCerts::Required { "yes" } else { "optional" };
            let args = [
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--tls-cert-file",
                path(&files.server_cert),
                "--tls-key-file",
                path(&files.server_key),
                "--tls-ca-cert-file",
                path(&files.ca),
                "--tls-auth-clients",
                auth,
                "--requirepass",
                TLS_REDIS_PASSWORD,
                "--save",
                "",
                "--appendonly",
                "no",
            ];
            match RedisProcess::start(port, args.map(String::from).to_vec()) {
                Ok(process) => {
                    return TlsRedis {
                        url: format!("rediss://:{TLS_REDIS_PASSWORD}@127.0.0.1:{port}"),
                        ca_file: files.ca,
                        client_cert_file: files.client_cert,
                        client_key_file: files.client_key,
                        _process: process,
                        dir,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!(
            "the TLS tests need a redis-server on PATH built with TLS (Debian's is); starting one failed: {last_error}"
        )
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct CertificateFiles {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn write_certificates(dir: &Path) -> CertificateFiles {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "activator test CA");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "activator test");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) =
        leaf(vec!["127.0.0.1".to_string(), "localhost".to_string()], ExtendedKeyUsagePurpose::ServerAuth);
    let (client_cert, client_key) =
        leaf(vec!["activator-client".to_string()], ExtendedKeyUsagePurpose::ClientAuth);

    let write = |name: &str, contents: &str| {
        let file = dir.join(name);
        std::fs::write(&file, contents).unwrap();
        file
    };
    CertificateFiles {
        ca: write("ca.pem", &ca.pem()),
        server_cert: write("server.pem", &server_cert),
        server_key: write("server-key.pem", &server_key),
        client_cert: write("client.pem", &client_cert),
        client_key: write("client-key.pem", &client_key),
    }
}

fn path(file: &Path) -> &str {
    file.to_str().unwrap()
}
