//! The Redis store over TLS: the whole conformance suite against a Redis that speaks only TLS
//! (a CA of the test's own, given as the CA file) and wants a password.

use redis_endpoint::RedisEndpoint;
use store::{RedisStore, StoreError};
use testkit::{ClientCerts, TLS_REDIS_PASSWORD, TlsRedis, unique_prefix};

async fn store_over_tls() -> (RedisStore, TlsRedis) {
    let redis = TlsRedis::start(ClientCerts::Optional);
    let endpoint = RedisEndpoint::new(&redis.url).with_ca_file(&redis.ca_file);
    (RedisStore::connect(endpoint, &unique_prefix()).await.unwrap(), redis)
}

conformance_suite!(open: store_over_tls().await, close: |_store| ());

#[tokio::test]
async fn a_wrong_password_is_refused_and_not_shown() {
    let redis = TlsRedis::start(ClientCerts::Optional);
    let wrong = redis.url.replace(TLS_REDIS_PASSWORD, "not-the-password");
    let err =
        RedisStore::connect(RedisEndpoint::new(&wrong).with_ca_file(&redis.ca_file), "p").await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Backend(_)), "{message}");
    assert!(!message.contains("not-the-password") && !message.contains(TLS_REDIS_PASSWORD), "{message}");
}

#[tokio::test]
async fn plain_redis_url_against_a_tls_port_fails_with_the_address() {
    let redis = TlsRedis::start(ClientCerts::Optional);
    let plain = redis.url.replace("rediss://", "redis://");
    let err = RedisStore::connect(plain.as_str(), "p").await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("127.0.0.1") && !message.contains(TLS_REDIS_PASSWORD), "{message}");
}
