//! Which Dataverse environment to work on (or, for the API, every environment it accepts
//! batches for): from `--config FILE.toml`, or from the `ACTIVATOR_*` variables.

use anyhow::{Context, Result, bail};
use dataverse::EnvironmentConfig;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Environment")]
pub struct EnvironmentArgs {
    /// TOML file with [environments.NAME] tables (default: the ACTIVATOR_* variables).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Which environment of the file to use.
    #[arg(long)]
    pub environment: Option<String>,
}

impl EnvironmentArgs {
    pub fn load(&self) -> Result<EnvironmentConfig> {
        load(self.config.as_deref(), self.environment.as_deref())
    }

    /// Every environment of `--config` (or the one `--environment` picks, or the variables').
    pub fn load_all(&self) -> Result<Vec<EnvironmentConfig>> {
        load_all(self.config.as_deref(), self.environment.as_deref())
    }
}

fn load(config: Option<&Path>, name: Option<&str>) -> Result<EnvironmentConfig> {
    let Some(path) = config else {
        if name.is_some() {
            bail!(
                "--environment needs --config FILE.toml: the ACTIVATOR_* variables describe one environment"
            );
        }
        return dataverse::config::from_vars(|k| std::env::var(k).ok()).map_err(anyhow::Error::msg);
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let envs = dataverse::config::from_toml(&text)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("in {}", path.display()))?;
    let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
    match name {
        Some(n) => envs.iter().find(|e| e.name == n).cloned().with_context(|| {
            format!("no environment '{n}' in {}: it has {}", path.display(), names.join(", "))
        }),
        None if envs.len() == 1 => Ok(envs[0].clone()),
        None => bail!(
            "{} has several environments ({}): choose one with --environment",
            path.display(),
            names.join(", ")
        ),
    }
}

/// Every environment of the file (or the one `name` picks), or the one of the variables.
fn load_all(config: Option<&Path>, name: Option<&str>) -> Result<Vec<EnvironmentConfig>> {
    match (config, name) {
        (Some(path), None) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            dataverse::config::from_toml(&text)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("in {}", path.display()))
        }
        _ => Ok(vec![load(config, name)?]),
    }
}
