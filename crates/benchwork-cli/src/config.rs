//! Configuration: built-in defaults < `benchwork.toml` < `BENCHWORK_*`
//! environment variables (`__` separates sections, as in
//! `BENCHWORK_DATABASE__URL`) < command-line flags.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A database URL whose password never reaches a log or a screen.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    /// The URL itself, for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a URL was given.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The URL with any password replaced by `****`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut parsed) if parsed.password().is_some() => {
                let _ = parsed.set_password(Some("****"));
                parsed.to_string()
            }
            Ok(parsed) => {
                // Passwords can also hide in the query string.
                if parsed
                    .query_pairs()
                    .any(|(key, _)| key.eq_ignore_ascii_case("password"))
                {
                    let mut clean = parsed.clone();
                    let pairs: Vec<(String, String)> = parsed
                        .query_pairs()
                        .map(|(key, value)| {
                            let value = if key.eq_ignore_ascii_case("password") {
                                "****".to_owned()
                            } else {
                                value.into_owned()
                            };
                            (key.into_owned(), value)
                        })
                        .collect();
                    clean.query_pairs_mut().clear().extend_pairs(pairs);
                    clean.to_string()
                } else {
                    parsed.to_string()
                }
            }
            Err(_) => "(unparseable URL, not shown)".to_owned(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Every setting of the binary.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// Holds the SQLite database and the audit head file.
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Sessions and sign-in.
    pub auth: AuthConfig,
    /// The audit trail.
    pub audit: AuditConfig,
}

/// Database settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `postgres://…` for PostgreSQL; empty for SQLite in the data directory.
    pub url: DatabaseUrl,
}

/// HTTP server settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: String,
    /// Set when Benchwork is served over HTTPS (behind a proxy): cookies get
    /// the `Secure` flag.
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".into(),
            secure_cookies: false,
        }
    }
}

/// Session and password settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Minutes of inactivity that end a session.
    pub idle_timeout_minutes: i64,
    /// Hours after sign-in that end a session however active.
    pub absolute_timeout_hours: i64,
    /// argon2id memory in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
        }
    }
}

/// Audit trail settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AuditConfig {
    /// Where the chain head is written after each seal. Put it on another
    /// disk or a shipped log so that a rewrite of the database is caught.
    /// Empty: `audit-head.txt` in the data directory.
    pub head_file: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./benchwork-data"),
            database: DatabaseConfig::default(),
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            audit: AuditConfig::default(),
        }
    }
}

/// Values given on the command line, which override everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--addr`.
    pub addr: Option<String>,
}

impl Config {
    /// Loads the layers. `file` is the TOML file (by default
    /// `benchwork.toml` in the working directory, if it exists).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "the configuration file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("benchwork.toml")),
        }
        figment = figment.merge(Env::prefixed("BENCHWORK_").split("__").ignore(&[
            "test_postgres_url",
            "test_require_postgres",
            "test_require_browser",
            "log",
        ]));
        let mut config: Config = figment
            .extract()
            .map_err(|error| anyhow::anyhow!("reading the configuration: {error}"))?;
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database.url = DatabaseUrl::new(url.clone());
        }
        if let Some(addr) = &overrides.addr {
            config.server.addr = addr.clone();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.auth.idle_timeout_minutes > 0,
            "auth.idle_timeout_minutes must be positive"
        );
        anyhow::ensure!(
            self.auth.absolute_timeout_hours > 0,
            "auth.absolute_timeout_hours must be positive"
        );
        anyhow::ensure!(
            self.auth.argon2_memory_kib >= 8,
            "auth.argon2_memory_kib must be at least 8"
        );
        anyhow::ensure!(
            self.auth.argon2_iterations >= 1,
            "auth.argon2_iterations must be at least 1"
        );
        if !self.database.url.is_empty() {
            let url = self.database.url.expose();
            anyhow::ensure!(
                url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("sqlite:"),
                "database.url must start with postgres:// (or sqlite:); leave it empty for SQLite in the data directory"
            );
        }
        Ok(())
    }

    /// The URL to connect to: the configured one, or the SQLite file in the
    /// data directory.
    pub fn effective_database_url(&self) -> DatabaseUrl {
        if self.database.url.is_empty() {
            DatabaseUrl::new(format!(
                "sqlite://{}",
                self.data_dir.join("benchwork.db").display()
            ))
        } else {
            self.database.url.clone()
        }
    }

    /// Where the audit head is written.
    pub fn audit_head_file(&self) -> PathBuf {
        if self.audit.head_file.trim().is_empty() {
            self.data_dir.join("audit-head.txt")
        } else {
            PathBuf::from(&self.audit.head_file)
        }
    }

    /// The effective configuration as TOML, with secrets redacted.
    pub fn redacted_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        shown.database.url = DatabaseUrl::new(self.effective_database_url().redacted());
        Ok(toml::to_string_pretty(&shown)?)
    }
}

/// A commented example of every key, for `benchwork config example`.
pub const EXAMPLE: &str = r#"# benchwork.toml: every key, with its default.
# Layers: defaults < this file < BENCHWORK_* environment variables
# (BENCHWORK_DATABASE__URL, BENCHWORK_SERVER__ADDR, ...) < command-line flags.

# Holds the SQLite database (benchwork.db) and, by default, the audit head file.
data_dir = "./benchwork-data"

[database]
# Empty: SQLite in data_dir. For PostgreSQL 15+: "postgres://user:password@host/dbname".
url = ""

[server]
addr = "127.0.0.1:8080"
# Set to true when served over HTTPS (behind a reverse proxy).
secure_cookies = false

[auth]
idle_timeout_minutes = 30
absolute_timeout_hours = 12
# argon2id cost (OWASP baseline: 19456 KiB, 2 passes).
argon2_memory_kib = 19456
argon2_iterations = 2

[audit]
# Where the audit chain head (SEQ:HASH) is written after each seal. Keep a copy
# away from the database (another disk, a shipped log) so that a rewrite of the
# database can be detected with `benchwork audit verify --head-file ...`.
# Empty: data_dir/audit-head.txt
head_file = ""
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        let url = DatabaseUrl::new("postgres://benchwork:s3cret@db.example/benchwork");
        assert_eq!(
            url.redacted(),
            "postgres://benchwork:****@db.example/benchwork"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        let query = DatabaseUrl::new("postgres://db.example/benchwork?user=x&password=s3cret");
        assert!(!query.redacted().contains("s3cret"));
    }

    #[test]
    fn the_example_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
    }
}
