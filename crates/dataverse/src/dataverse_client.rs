//! The client the rest of the product uses: one environment, its pool of application users,
//! and every request sent within their limits.

use crate::coalescer::{Coalescer, CoalescingOptions};
use crate::connection::{Answer, Connection};
use crate::credential::Credential;
use crate::error::DataverseError;
use crate::lane::Lane;
use crate::observer::RequestObserver;
use crate::pool::Pool;
use crate::request::WebApiRequest;
use crate::roles::RoleCache;
use crate::whoami::WhoAmI;
use ratelimit::{Budgets, Limiter, LocalLimiter, Snapshot};
use std::sync::Arc;
use std::time::Duration;

/// Most concurrent requests per application user Dataverse allows by default.
pub const MAX_CONCURRENCY: u32 = 52;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct DataverseOptions {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Budgets of each application user (target utilisation included).
    pub budgets: Budgets,
    /// Sends after a 429 before giving up on a request.
    pub max_throttle_waits: u32,
    /// `$batch` coalescing of writes; None sends every write alone.
    pub batching: Option<CoalescingOptions>,
    /// Told of every request, 429 and limiter wait (for metrics).
    pub observer: Option<Arc<dyn RequestObserver>>,
    /// Rows per page of a read of many rows (`Prefer: odata.maxpagesize`), at most Dataverse's
    /// 5,000 (the default); smaller only to see paging at work.
    pub page_size: usize,
}

impl Default for DataverseOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            budgets: Budgets::default(),
            max_throttle_waits: 10,
            batching: Some(CoalescingOptions::default()),
            observer: None,
            page_size: crate::odata::PAGE_SIZE,
        }
    }
}

/// Dataverse's default request budget of one application user, per second.
const DEFAULT_REQUESTS_PER_SEC: f64 = 20.0;

fn capacity(budgets: &Budgets, users: usize) -> f64 {
    let per_user = budgets.max_requests as f64 / budgets.window.as_secs_f64().max(0.001);
    (per_user / DEFAULT_REQUESTS_PER_SEC * users as f64).max(1.0)
}

/// One Dataverse environment.
#[derive(Debug)]
pub struct Dataverse {
    org_url: String,
    pool: Arc<Pool>,
    coalescer: Option<Coalescer>,
    options: DataverseOptions,
    pub(crate) roles: RoleCache,
}

impl Dataverse {
    /// A client for the org at `org_url` with one lane per credential, each with a local limiter.
    pub fn new(
        org_url: &str,
        credentials: Vec<Credential>,
        options: DataverseOptions,
    ) -> Result<Self, DataverseError> {
        let mut users = Vec::new();
        for credential in credentials {
            let limiter = LocalLimiter::new(options.budgets).map_err(|e| DataverseError::Invalid {
                status: 0,
                code: String::new(),
                message: format!("invalid limits: {e}"),
            })?;
            users.push((credential, Arc::new(limiter) as Arc<dyn Limiter>));
        }
        Self::with_limiters(org_url, users, options)
    }

    /// A client whose application users come with their own limiters (say, shared through
    /// Redis by every process of a deployment).
    pub fn with_limiters(
        org_url: &str,
        users: Vec<(Credential, Arc<dyn Limiter>)>,
        options: DataverseOptions,
    ) -> Result<Self, DataverseError> {
        let mut lanes = Vec::new();
        for (credential, limiter) in users {
            let name = credential.client_id.clone();
            let conn = Connection::new(org_url, credential, options.timeout)?;
            lanes.push(Lane::new(conn, limiter, name).observed_by(options.observer.clone()));
        }
        let pool = Pool::new(lanes).ok_or_else(|| DataverseError::Invalid {
            status: 0,
            code: String::new(),
            message: "no application user configured: give at least one client id and secret".into(),
        })?;
        let pool = Arc::new(pool);
        let org_url = org_url.trim_end_matches('/').to_string();
        let coalescer = match options.batching {
            Some(batch) => {
                // The batching task needs a runtime to live on.
                tokio::runtime::Handle::try_current().map_err(|_| DataverseError::Invalid {
                    status: 0,
                    code: String::new(),
                    message: "create the client inside a tokio runtime when batching is on".into(),
                })?;
                let api_root = format!("{org_url}{}", crate::connection::API_PATH);
                // Each application user's worth of budget gets batches in flight of its own.
                let capacity = capacity(&options.budgets, pool.lanes().len());
                let batch = CoalescingOptions {
                    max_in_flight: (batch.max_in_flight as f64 * capacity).round() as usize,
                    ..batch
                };
                Some(Coalescer::start(pool.clone(), api_root, batch, options.max_throttle_waits))
            }
            None => None,
        };
        Ok(Self { org_url, pool, coalescer, options, roles: RoleCache::default() })
    }

    pub fn org_url(&self) -> &str {
        &self.org_url
    }

    pub fn lanes(&self) -> &[Lane] {
        self.pool.lanes()
    }

    /// How many of Dataverse's default per-user budgets (6,000 requests per 300 s) the
    /// application users have together, at least 1: each user adds one, a shortened window (a
    /// rehearsal against the simulator) in proportion. Work in flight is sized by it.
    /// The limits of each application user.
    pub fn budgets(&self) -> Budgets {
        self.options.budgets
    }

    pub fn capacity(&self) -> f64 {
        capacity(&self.options.budgets, self.lanes().len())
    }

    /// What each application user's limiter has left now, by client id, in the pool's order
    /// (for the `ratelimit_budget_remaining` gauge).
    pub fn limit_snapshots(&self) -> Vec<(String, Snapshot)> {
        self.pool.lanes().iter().map(|lane| (lane.name.clone(), lane.limiter.snapshot())).collect()
    }

    /// Asks every application user who it is and sets its concurrency from `x-ms-dop-hint`
    /// (never above 52). Returns the first user's answer.
    pub async fn connect(&self) -> Result<WhoAmI, DataverseError> {
        let mut first = None;
        for lane in self.pool.lanes() {
            let who = lane.conn.who_am_i().await?;
            if let Some(hint) = who.dop_hint {
                lane.limiter.set_concurrency(hint.clamp(1, MAX_CONCURRENCY));
            }
            first.get_or_insert(who);
        }
        first.ok_or_else(|| DataverseError::Invalid {
            status: 0,
            code: String::new(),
            message: "no lanes".into(),
        })
    }

    /// Sends one request through the pool.
    pub async fn execute(&self, req: &WebApiRequest) -> Result<Answer, DataverseError> {
        self.pool.pick().execute(req, self.options.max_throttle_waits).await
    }

    /// Sends a write. Writes are where `$batch` coalescing applies.
    pub async fn write(&self, req: &WebApiRequest) -> Result<Answer, DataverseError> {
        match &self.coalescer {
            Some(c) => c.submit(req.clone()).await,
            None => self.execute(req).await,
        }
    }

    /// Sends a small read that many callers make at once (one per mailbox): with batching on
    /// it travels in a `$batch` with others, one request toward the limit for all of them.
    pub async fn read_batched(&self, req: &WebApiRequest) -> Result<Answer, DataverseError> {
        match &self.coalescer {
            Some(c) => c.submit(req.clone()).await,
            None => self.execute(req).await,
        }
    }

    /// Rows per page of a read of many rows: as configured, between 1 and 5,000.
    pub fn page_size(&self) -> usize {
        self.options.page_size.clamp(1, crate::odata::PAGE_SIZE)
    }

    /// The batching of writes, when on.
    pub fn coalescer(&self) -> Option<&Coalescer> {
        self.coalescer.as_ref()
    }

    /// Absolute URL of a Web API path (for `@odata.id` references).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}/{}", self.org_url, crate::connection::API_PATH, path.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::credential::Secret;

    fn user(client_id: &str, budgets: Budgets) -> (Credential, Arc<dyn Limiter>) {
        let credential = Credential {
            authority: "http://127.0.0.1:9/tenant".into(),
            client_id: client_id.into(),
            client_secret: Secret::new("s"),
        };
        (credential, Arc::new(LocalLimiter::new(budgets).unwrap()) as Arc<dyn Limiter>)
    }

    #[tokio::test]
    async fn limit_snapshots_show_each_application_users_own_limiter() {
        let budgets = Budgets {
            window: Duration::from_secs(300),
            max_requests: 6_000,
            max_exec: Duration::from_secs(1_200),
            max_concurrency: 52,
            target_utilisation: 0.9,
        };
        let users = vec![user("app-a", budgets), user("app-b", budgets)];
        let options = DataverseOptions { batching: None, budgets, ..DataverseOptions::default() };
        let dv = Dataverse::with_limiters("http://127.0.0.1:9", users, options).unwrap();
        dv.lanes()[1].limiter.set_concurrency(8);
        let permit = dv.lanes()[1].limiter.acquire().await;

        let snapshots = dv.limit_snapshots();
        let names: Vec<&str> = snapshots.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["app-a", "app-b"]);
        let (a, b) = (snapshots[0].1, snapshots[1].1);
        // 10 % of 6,000 requests is the burst; one of app-b's is spent.
        assert_eq!(a.requests_available, 600.0);
        assert!(b.requests_available < 600.0 && b.requests_available >= 599.0, "{b:?}");
        assert_eq!((a.concurrency_cap, a.concurrency_available), (52, 52));
        assert_eq!((b.concurrency_cap, b.concurrency_available), (8, 7));
        // 10 % of 1,200 s of execution time.
        assert!((a.exec_available.as_secs_f64() - 120.0).abs() < 1e-6, "{a:?}");
        dv.lanes()[1].limiter.release(permit, Duration::ZERO);
    }
}
