//! Where an environment is and which application users speak to it: from the `ACTIVATOR_*`
//! variables (one environment) or a TOML file (several, each with a pool of users).

use crate::credential::{Credential, Secret, default_authority};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One Dataverse environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentConfig {
    pub name: String,
    /// Org URL, e.g. `https://contoso.crm.dynamics.com`.
    pub url: String,
    pub credentials: Vec<Credential>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    environments: BTreeMap<String, FileEnvironment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEnvironment {
    url: String,
    tenant_id: Option<String>,
    authority: Option<String>,
    app_users: Vec<FileAppUser>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAppUser {
    client_id: String,
    client_secret: Option<String>,
    client_secret_file: Option<String>,
}

/// Reads a secret given inline or in a file (trailing newline dropped).
fn secret(inline: Option<String>, file: Option<String>, what: &str) -> Result<Secret, String> {
    match (inline, file) {
        (Some(s), None) if !s.is_empty() => Ok(Secret::new(s)),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map(|s| Secret::new(s.trim_end_matches(['\r', '\n'])))
            .map_err(|e| format!("cannot read {what} from {path}: {e}")),
        (Some(_), Some(_)) => Err(format!("give {what} inline or as a file, not both")),
        _ => Err(format!("{what} is missing: set it, or point its _FILE variant at a file holding it")),
    }
}

fn authority(explicit: Option<String>, tenant: Option<&str>, env: &str) -> Result<String, String> {
    match (explicit, tenant) {
        (Some(a), _) => Ok(a.trim_end_matches('/').to_string()),
        (None, Some(t)) if !t.is_empty() => Ok(default_authority(t)),
        _ => Err(format!(
            "environment {env}: set the tenant id (or the authority URL) so tokens can be requested"
        )),
    }
}

fn check_url(url: &str, env: &str) -> Result<String, String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_string())
    } else {
        Err(format!(
            "environment {env}: the Dataverse URL '{url}' must start with https://, e.g. https://contoso.crm.dynamics.com"
        ))
    }
}

/// The one environment the `ACTIVATOR_*` variables describe, read through `var`.
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<EnvironmentConfig, String> {
    let url = var("ACTIVATOR_DATAVERSE_URL")
        .ok_or("ACTIVATOR_DATAVERSE_URL is not set: give the org URL, e.g. https://contoso.crm.dynamics.com, or use --config FILE.toml")?;
    let url = check_url(&url, "from ACTIVATOR_*")?;
    let tenant = var("ACTIVATOR_TENANT_ID");
    let authority = authority(var("ACTIVATOR_AUTHORITY"), tenant.as_deref(), "from ACTIVATOR_*")?;
    let client_id = var("ACTIVATOR_CLIENT_ID")
        .ok_or("ACTIVATOR_CLIENT_ID is not set: give the application (client) id")?;
    let client_secret = secret(
        var("ACTIVATOR_CLIENT_SECRET"),
        var("ACTIVATOR_CLIENT_SECRET_FILE"),
        "ACTIVATOR_CLIENT_SECRET",
    )?;
    Ok(EnvironmentConfig {
        name: "default".into(),
        url,
        credentials: vec![Credential { authority, client_id, client_secret }],
    })
}

/// Every environment of a TOML configuration file's text.
pub fn from_toml(text: &str) -> Result<Vec<EnvironmentConfig>, String> {
    let file: FileConfig = toml::from_str(text).map_err(|e| format!("invalid configuration: {e}"))?;
    if file.environments.is_empty() {
        return Err("the configuration names no environment: add an [environments.NAME] table".into());
    }
    let mut out = Vec::new();
    for (name, env) in file.environments {
        let url = check_url(&env.url, &name)?;
        let authority = authority(env.authority, env.tenant_id.as_deref(), &name)?;
        if env.app_users.is_empty() {
            return Err(format!("environment {name}: add at least one [[environments.{name}.app_users]]"));
        }
        let mut credentials = Vec::new();
        for user in env.app_users {
            let what = format!("client_secret of {} in environment {name}", user.client_id);
            let client_secret = secret(user.client_secret, user.client_secret_file, &what)?;
            credentials.push(Credential {
                authority: authority.clone(),
                client_id: user.client_id,
                client_secret,
            });
        }
        out.push(EnvironmentConfig { name, url, credentials });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn variables_describe_one_environment_with_the_default_authority() {
        let env = from_vars(vars(&[
            ("ACTIVATOR_DATAVERSE_URL", "https://contoso.crm.dynamics.com/"),
            ("ACTIVATOR_TENANT_ID", "t1"),
            ("ACTIVATOR_CLIENT_ID", "app"),
            ("ACTIVATOR_CLIENT_SECRET", "s"),
        ]))
        .expect("valid");
        assert_eq!(env.url, "https://contoso.crm.dynamics.com");
        assert_eq!(env.credentials[0].authority, "https://login.microsoftonline.com/t1");
    }

    #[test]
    fn missing_variables_say_what_to_set() {
        let err = from_vars(vars(&[])).expect_err("missing url");
        assert!(err.contains("ACTIVATOR_DATAVERSE_URL"));
        let err = from_vars(vars(&[("ACTIVATOR_DATAVERSE_URL", "https://x"), ("ACTIVATOR_CLIENT_ID", "a")]))
            .expect_err("no tenant");
        assert!(err.contains("tenant"));
    }

    #[test]
    fn toml_gives_several_environments_each_with_a_pool() {
        let envs = from_toml(
            r#"
            [environments.prod]
            url = "https://prod.crm.dynamics.com"
            tenant_id = "t"
            [[environments.prod.app_users]]
            client_id = "a"
            client_secret = "x"
            [[environments.prod.app_users]]
            client_id = "b"
            client_secret = "y"
            [environments.test]
            url = "http://127.0.0.1:1"
            authority = "http://127.0.0.1:1/t"
            [[environments.test.app_users]]
            client_id = "c"
            client_secret = "z"
            "#,
        )
        .expect("valid");
        assert_eq!(envs.len(), 2);
        assert_eq!(envs[0].credentials.len(), 2);
        assert_eq!(envs[1].credentials[0].authority, "http://127.0.0.1:1/t");
    }

    #[test]
    fn toml_mistakes_are_reported() {
        assert!(from_toml("[environments.x]\nurl = \"ftp://x\"\ntenant_id = \"t\"\napp_users = []").is_err());
        assert!(
            from_toml("[environments.x]\nurl = \"https://x\"\ntenant_id = \"t\"\napp_users = []").is_err()
        );
        assert!(from_toml("bogus = 1").expect_err("unknown key").contains("bogus"));
    }
}
