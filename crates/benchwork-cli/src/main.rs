//! `benchwork`: the workplace system of a healthcare science service, in one
//! binary. Run `benchwork --help`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use benchwork_app::staff::{AccountInput, operator};
use benchwork_app::{AppError, Ctx, SystemClock, audit, auth, demo, staff};
use benchwork_cli::config::{Config, EXAMPLE, Overrides};
use benchwork_cli::{Application, open_context};
use benchwork_domain::audit::ChainHead;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "benchwork",
    version,
    about = "The workplace system of a healthcare science service"
)]
struct Cli {
    /// Folder holding the SQLite database and the audit head file.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://...); SQLite in the data folder when absent.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Configuration file (default: benchwork.toml in the working folder, if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application and API.
    Serve(ServeArgs),
    /// Create a demo department in the data folder, then serve it.
    Demo(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage departments.
    #[command(subcommand)]
    Department(DepartmentCommand),
    /// Check or show the audit trail's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of the SQLite database while it is in use.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    addr: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account. A person's initial password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Role code (repeat for several): apprentice, associate, practitioner, clinical-scientist,
        /// consultant, quality-manager, service-manager, auditor, administrator.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Department code (repeat for several).
        #[arg(long = "department")]
        departments: Vec<String>,
        /// A system identity for an interface or instrument (no password; use `user token`).
        #[arg(long)]
        system: bool,
    },
    /// Disable an account; its sessions end at once.
    Disable { username: String },
    /// Re-enable an account.
    Enable { username: String },
    /// Set a temporary password (read from standard input); the person must change it.
    ResetPassword { username: String },
    /// Print a new API token for that account, for machine clients.
    Token {
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "issued on the command line")]
        label: String,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
enum DepartmentCommand {
    /// Add a department.
    Add { code: String, name: String },
    /// List departments.
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every link of the chain. Exits 0 when intact; otherwise names the first bad event.
    Verify {
        /// The head recorded outside the database, as SEQ:SHA256HEX.
        #[arg(long)]
        expect_head: Option<String>,
        /// Read the expected head from this file (as written by the server).
        #[arg(long, conflicts_with = "expect_head")]
        head_file: Option<PathBuf>,
    },
    /// Seal pending events and print the chain head (SEQ:SHA256HEX).
    Head,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Check,
    /// Print a commented example of every key.
    Example,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BENCHWORK_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let addr = match &cli.command {
        Command::Serve(args) | Command::Demo(args) => args.addr.clone(),
        _ => None,
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        addr,
    };
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    match cli.command {
        Command::Config(ConfigCommand::Example) => {
            print!("{EXAMPLE}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Check) => {
            print!("{}", config.redacted_toml()?);
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            println!("\n# database: {}", ctx.store.describe_settings().await?);
            println!("# audit head file: {}", config.audit_head_file().display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            println!(
                "database is at migration {}",
                ctx.store
                    .known_migrations()
                    .last()
                    .map(|m| m.0)
                    .unwrap_or(0)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(_) => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            serve(&config, ctx, None).await
        }
        Command::Demo(_) => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            let created = demo::seed(&ctx).await.map_err(app_error)?;
            if created {
                demo::seed_qc_story(&ctx).await.map_err(app_error)?;
            }
            audit::seal_audit(&ctx).await?;
            serve(&config, ctx, Some(created)).await
        }
        Command::User(command) => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            let code = user_command(&ctx, command).await?;
            audit::seal_audit(&ctx).await?;
            Ok(code)
        }
        Command::Department(command) => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            match command {
                DepartmentCommand::Add { code, name } => {
                    let department =
                        staff::create_department_unchecked(&ctx, &operator("cli"), &code, &name)
                            .await
                            .map_err(app_error)?;
                    println!("added department {} ({})", department.name, department.code);
                }
                DepartmentCommand::List => {
                    for department in ctx.store.list_departments().await? {
                        println!(
                            "{}\t{}\t{}",
                            department.code, department.name, department.id
                        );
                    }
                }
            }
            audit::seal_audit(&ctx).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Head) => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            audit::seal_audit(&ctx).await?;
            match ctx.store.audit_head().await? {
                Some(head) => println!("{head}"),
                None => println!("0:{}", "0".repeat(64)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify {
            expect_head,
            head_file,
        }) => {
            let expected = match (expect_head, head_file) {
                (Some(text), _) => Some(ChainHead::parse(&text)?),
                (None, Some(path)) => Some(audit::read_head_file(&path)?),
                (None, None) => None,
            };
            // Verification only reads: it opens the database without
            // migrating, and never seals.
            let url = config.effective_database_url();
            let store = benchwork_store::Store::open(url.expose())
                .await
                .with_context(|| format!("opening the database at {}", url.redacted()))?;
            match audit::verify_chain(&store, expected).await? {
                Ok(report) => {
                    match report.head {
                        Some(head) => println!(
                            "audit trail intact: {} events, head {head}",
                            report.n_events
                        ),
                        None => println!("audit trail intact: no sealed events"),
                    }
                    if report.n_unsealed > 0 {
                        println!("{} recent events are not sealed yet", report.n_unsealed);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(fault) => {
                    eprintln!("audit trail broken: {fault}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Backup { to } => {
            let ctx = open_context(&config, Arc::new(SystemClock)).await?;
            if ctx.store.engine() == benchwork_store::Engine::Postgres {
                eprintln!("{}", benchwork_store::Store::backup_hint());
                return Ok(ExitCode::from(2));
            }
            audit::seal_audit(&ctx).await?;
            ctx.store.backup_to(&to).await?;
            println!(
                "wrote a consistent copy of the database to {}",
                to.display()
            );
            if let Some(head) = ctx.store.audit_head().await? {
                println!("audit head at the time of the copy: {head}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn app_error(error: AppError) -> anyhow::Error {
    match error {
        AppError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|error| format!("{}: {}", error.field, error.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        AppError::NotFound => anyhow::anyhow!("not found"),
        AppError::Internal(error) => error,
        other => anyhow::anyhow!("{other}"),
    }
}

fn read_password() -> anyhow::Result<String> {
    eprint!("Password (at least 12 characters), then Enter: ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user_by_name(ctx: &Ctx, username: &str) -> anyhow::Result<benchwork_store::UserRecord> {
    ctx.store
        .get_user_by_username(&username.trim().to_ascii_lowercase())
        .await
        .map_err(|error| match error {
            benchwork_store::StoreError::NotFound => {
                anyhow::anyhow!("there is no account named {username}")
            }
            other => other.into(),
        })
}

async fn user_command(ctx: &Ctx, command: UserCommand) -> anyhow::Result<ExitCode> {
    let system = operator("cli");
    match command {
        UserCommand::Add {
            username,
            name,
            roles,
            departments,
            system: is_system,
        } => {
            let known = ctx.store.list_departments().await?;
            let mut department_ids = Vec::new();
            for code in &departments {
                let department = known
                    .iter()
                    .find(|department| department.code.eq_ignore_ascii_case(code))
                    .with_context(|| format!("there is no department with code {code}; add it with `benchwork department add`"))?;
                department_ids.push(department.id.to_string());
            }
            let password = if is_system {
                String::new()
            } else {
                read_password()?
            };
            let user = staff::create_account_unchecked(
                ctx,
                &system,
                &AccountInput {
                    username,
                    display_name: name,
                    kind: if is_system {
                        "system".into()
                    } else {
                        "person".into()
                    },
                    roles,
                    departments: department_ids,
                    password,
                },
            )
            .await
            .map_err(app_error)?;
            println!("added {} ({})", user.username, user.id);
        }
        UserCommand::Disable { username } => {
            let user = user_by_name(ctx, &username).await?;
            staff::set_disabled_unchecked(ctx, &system, user.id, true)
                .await
                .map_err(app_error)?;
            println!("disabled {}; their sessions have ended", user.username);
        }
        UserCommand::Enable { username } => {
            let user = user_by_name(ctx, &username).await?;
            staff::set_disabled_unchecked(ctx, &system, user.id, false)
                .await
                .map_err(app_error)?;
            println!("enabled {}", user.username);
        }
        UserCommand::ResetPassword { username } => {
            let user = user_by_name(ctx, &username).await?;
            let password = read_password()?;
            staff::reset_password_unchecked(ctx, &system, user.id, &password)
                .await
                .map_err(app_error)?;
            println!(
                "password reset for {}; they must change it at next sign-in",
                user.username
            );
        }
        UserCommand::Token { username, label } => {
            let user = user_by_name(ctx, &username).await?;
            let issued = auth::issue_api_token(ctx, &system, user.id, &label)
                .await
                .map_err(app_error)?;
            println!("{}", issued.token);
        }
        UserCommand::List => {
            for user in ctx.store.list_users().await? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    user.username,
                    user.display_name,
                    user.kind,
                    user.roles.join(","),
                    if user.disabled_at.is_some() {
                        "\tdisabled"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: &Config, ctx: Ctx, demo_created: Option<bool>) -> anyhow::Result<ExitCode> {
    let app = Application::build(config, ctx.clone()).await?;
    let addr = app.local_addr()?;
    tracing::info!(database = %ctx.store.describe_settings().await?, "database ready");
    if let Some(created) = demo_created {
        println!();
        println!(
            "Benchwork demo {} in {}",
            if created { "created" } else { "reused" },
            config.data_dir.display()
        );
        println!(
            "Sign in at http://{addr}/ with any of these accounts (password: {}):",
            demo::DEMO_PASSWORD
        );
        for account in demo::DEMO_ACCOUNTS {
            println!(
                "  {:<18} {:<22} {}",
                account.username,
                account.display_name,
                account.role.label()
            );
        }
        println!(
            "Demo data only: never use this data folder for real patients. Press Ctrl+C to stop."
        );
        println!();
    } else {
        println!("Benchwork is listening on http://{addr}/ (Ctrl+C to stop)");
    }
    app.run(true, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
