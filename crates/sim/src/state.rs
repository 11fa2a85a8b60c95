//! The running simulator's shared state: configuration, the org, limits, tokens, counters and
//! the behaviour variants in force.

use crate::auth::{ClientCredential, TokenStore, default_client};
use crate::case::Case;
use crate::limits::{LimitConfig, Limits};
use crate::org::Org;
use crate::profile::Profile;
use crate::rng::Rng;
use crate::seed::{AppUser, seed_org};
use crate::stats::Stats;
use crate::variants::Variants;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use uuid::Uuid;

/// What the simulator is started with.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub mailboxes: usize,
    pub seed: u64,
    /// Application users; the default one when empty.
    pub clients: Vec<ClientCredential>,
    pub profile: Profile,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self { mailboxes: 100, seed: 1, clients: Vec::new(), profile: Profile::default() }
    }
}

#[derive(Debug)]
pub struct Sim {
    pub config: SimConfig,
    pub clients: Vec<ClientCredential>,
    pub base_url: String,
    pub org: Mutex<Org>,
    pub limits: Mutex<Limits>,
    pub tokens: Mutex<TokenStore>,
    pub stats: Mutex<Stats>,
    pub fault_rng: Mutex<Rng>,
    /// The behaviour variants in force: the profile's at start and after a reset, changed by
    /// `POST /_sim/variants`.
    pub variants: Mutex<Variants>,
}

/// Locks a mutex, carrying on with the data if a holder panicked: every critical section
/// leaves the data consistent, and the simulator must keep answering.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sim {
    pub fn new(config: SimConfig, base_url: String) -> Self {
        let clients = if config.clients.is_empty() { vec![default_client()] } else { config.clients.clone() };
        let p = &config.profile;
        let limits = Limits::new(LimitConfig {
            window: Duration::from_secs(p.window_secs),
            max_requests: p.max_requests,
            max_exec_ms: p.max_exec_ms,
            max_concurrency: p.max_concurrency,
            penalty: Duration::from_millis(p.throttle_penalty_ms),
        });
        let org = Self::seed(&config, &clients);
        Self {
            tokens: Mutex::new(TokenStore::new(clients.clone(), Rng::derive(config.seed, "tokens"))),
            fault_rng: Mutex::new(Rng::derive(config.seed, "faults")),
            variants: Mutex::new(config.profile.variants),
            org: Mutex::new(org),
            limits: Mutex::new(limits),
            stats: Mutex::new(Stats::default()),
            clients,
            base_url,
            config,
        }
    }

    fn seed(config: &SimConfig, clients: &[ClientCredential]) -> Org {
        let app_users: Vec<AppUser> = clients.iter().map(|c| AppUser { client_id: c.id.clone() }).collect();
        seed_org(config.mailboxes, config.seed, &config.profile, &app_users)
    }

    /// Back to the seeded state: data, limits, counters, faults and the variants the simulator
    /// was started with. Issued tokens stay valid.
    pub fn reset(&self) {
        *lock(&self.variants) = self.config.profile.variants;
        *lock(&self.org) = Self::seed(&self.config, &self.clients);
        lock(&self.limits).reset();
        lock(&self.stats).reset();
        *lock(&self.fault_rng) = Rng::derive(self.config.seed, "faults");
    }

    /// The seeded mailboxes (`wanted`: of one case only), ids sorted, by case name.
    pub fn mailboxes_by_case(&self, wanted: Option<Case>) -> BTreeMap<&'static str, Vec<Uuid>> {
        let org = lock(&self.org);
        let mut out: BTreeMap<&'static str, Vec<Uuid>> = BTreeMap::new();
        for (id, m) in &org.mailboxes {
            if wanted.is_none_or(|w| w == m.case) {
                out.entry(m.case.name()).or_default().push(*id);
            }
        }
        for ids in out.values_mut() {
            ids.sort();
        }
        out
    }

    /// Root of the Web API, e.g. `http://127.0.0.1:8080/api/data/v9.2`.
    pub fn api_base(&self) -> String {
        format!("{}{}", self.base_url, crate::webapi::API_PREFIX)
    }
}
