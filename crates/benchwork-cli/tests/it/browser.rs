//! Browser tests: Debian's Chromium, headless, driven through chromedriver
//! (WebDriver) by fantoccini. `scripts/test` installs both; with
//! `BENCHWORK_TEST_REQUIRE_BROWSER=1` a missing browser fails the test
//! instead of skipping it.

use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{Engine, spawn_app};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    process: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Starts chromedriver, or returns `None` (skipping) when the browser is not
/// installed and not required.
async fn start_browser() -> Option<(Driver, Client)> {
    let installed =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !installed {
        assert!(
            std::env::var("BENCHWORK_TEST_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "BENCHWORK_TEST_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: run scripts/ensure-chromium"
        );
        eprintln!(
            "browser test skipped: chromium or chromedriver is not installed (scripts/test installs them)"
        );
        return None;
    }
    let port = free_port();
    let process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let profile = tempfile::tempdir().expect("a browser profile folder");
    let driver = Driver {
        process,
        port,
        _profile: profile,
    };
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                format!("--user-data-dir={}", driver._profile.path().display()),
                "--window-size=1280,1000",
            ]
        }),
    );
    // chromedriver takes a moment to listen.
    let mut last_error = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(error) => {
                last_error = Some(error.to_string());
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    panic!("could not connect to chromedriver: {last_error:?}");
}

/// Saves a screenshot to `$BENCHWORK_SCREENSHOTS/NAME.png` when that
/// variable is set, for people reviewing the pages.
async fn save_screenshot(browser: &Client, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(folder) = std::env::var("BENCHWORK_SCREENSHOTS") {
        std::fs::create_dir_all(&folder)?;
        std::fs::write(
            std::path::Path::new(&folder).join(format!("{name}.png")),
            browser.screenshot().await?,
        )?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_signs_in_and_sees_the_home_page() {
    let app = spawn_app(Engine::Sqlite).await;
    app.seed_demo().await;
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    let outcome = async {
        browser.goto(&format!("{}/", app.address)).await?;
        // Not signed in: sent to the sign-in page.
        assert!(browser.current_url().await?.path().starts_with("/sign-in"));
        let heading = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(heading, "Sign in to Benchwork");

        // A wrong password shows the refusal and keeps the username.
        browser.find(Locator::Id("username")).await?.send_keys("associate").await?;
        browser.find(Locator::Id("password")).await?.send_keys("not the password").await?;
        browser.find(Locator::Id("sign-in")).await?.click().await?;
        let refused = browser.find(Locator::Id("sign-in-refused")).await?.text().await?;
        assert!(refused.contains("Enter a correct username and password"), "{refused}");
        let kept = browser.find(Locator::Id("username")).await?.prop("value").await?;
        assert_eq!(kept.as_deref(), Some("associate"));

        // The right password, submitted from the keyboard.
        let password = browser.find(Locator::Id("password")).await?;
        password.send_keys("benchwork-demo\u{E007}").await?;
        let heading = browser.wait().for_element(Locator::Css("h1.nhsuk-heading-l")).await?.text().await?;
        assert_eq!(heading, "Your work queue");
        let user = browser.find(Locator::Id("signed-in-user")).await?.text().await?;
        assert!(user.contains("Asha Associate"), "{user}");
        save_screenshot(&browser, "home").await?;
        // The NHS.UK stylesheet loaded (the header is NHS blue).
        let header_colour = browser
            .execute("return getComputedStyle(document.querySelector('.nhsuk-header')).backgroundColor", vec![])
            .await?;
        assert_eq!(header_colour.as_str(), Some("rgb(0, 94, 184)"));
        // Every form control on the page has a label or an accessible name.
        let unlabelled = browser
            .execute(
                "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length",
                vec![],
            )
            .await?;
        assert_eq!(unlabelled.as_i64(), Some(0));

        // Signing out returns to the sign-in page.
        browser.find(Locator::Id("sign-out")).await?.click().await?;
        browser.wait().for_url(&url::Url::parse(&format!("{}/sign-in", app.address))?).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_form_shows_an_error_summary_and_keeps_the_entry() {
    let app = spawn_app(Engine::Sqlite).await;
    app.seed_demo().await;
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    let outcome = async {
        browser.goto(&format!("{}/sign-in", app.address)).await?;
        browser
            .find(Locator::Id("username"))
            .await?
            .send_keys("associate")
            .await?;
        browser
            .find(Locator::Id("password"))
            .await?
            .send_keys("benchwork-demo\u{E007}")
            .await?;
        browser
            .wait()
            .for_element(Locator::Id("signed-in-user"))
            .await?;
        browser
            .goto(&format!("{}/incidents/new", app.address))
            .await?;
        browser
            .find(Locator::Id("description"))
            .await?
            .send_keys("Sample arrived leaking in the pod")
            .await?;
        browser
            .find(Locator::Id("submit-incident"))
            .await?
            .click()
            .await?;
        let summary = browser
            .wait()
            .for_element(Locator::Css(".nhsuk-error-summary"))
            .await?;
        let text = summary.text().await?;
        assert!(text.contains("There is a problem"), "{text}");
        assert!(text.contains("Enter a short title"), "{text}");
        save_screenshot(&browser, "incident-errors").await?;
        // The title says there is an error, and what was typed is kept.
        assert!(browser.title().await?.starts_with("Error: "));
        let kept = browser
            .find(Locator::Id("description"))
            .await?
            .prop("value")
            .await?;
        assert_eq!(kept.as_deref(), Some("Sample arrived leaking in the pod"));
        // The summary links to the fields.
        let link = summary.find(Locator::Css("a[href='#title']")).await?;
        link.click().await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.unwrap();
}

/// Signs `username` in through the sign-in page, submitting with the Enter key.
async fn sign_in(
    browser: &Client,
    app: &crate::helpers::TestApp,
    username: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    browser.goto(&format!("{}/sign-in", app.address)).await?;
    browser
        .find(Locator::Id("username"))
        .await?
        .send_keys(username)
        .await?;
    browser
        .find(Locator::Id("password"))
        .await?
        .send_keys("benchwork-demo\u{E007}")
        .await?;
    browser
        .wait()
        .for_element(Locator::Id("signed-in-user"))
        .await?;
    Ok(())
}

/// Clicks the element with `id` and waits for the next page's heading.
async fn click_and_wait(browser: &Client, id: &str) -> Result<String, Box<dyn std::error::Error>> {
    let old = browser.find(Locator::Css("html")).await?;
    browser.find(Locator::Id(id)).await?.click().await?;
    // Wait until the old page is gone, then read the new heading.
    for _ in 0..100 {
        if old.text().await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(browser
        .wait()
        .for_element(Locator::Css("h1"))
        .await?
        .text()
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_booked_resulted_verified_and_authorised_in_the_browser() {
    let app = spawn_app(Engine::Sqlite).await;
    app.seed_demo().await;
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    let outcome = async {
        // The associate finds Daniel Hughes by NHS number and books potassium.
        sign_in(&browser, &app, "associate").await?;
        browser.goto(&format!("{}/patients", app.address)).await?;
        browser
            .find(Locator::Id("nhs_number"))
            .await?
            .send_keys("999 000 0026")
            .await?;
        click_and_wait(&browser, "search").await?;
        browser
            .find(Locator::LinkText("HUGHES, Daniel"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .for_element(Locator::Id("book-request"))
            .await?;
        let heading = click_and_wait(&browser, "book-request").await?;
        assert_eq!(heading, "Book in a request");
        browser
            .find(Locator::Id("nhs_number"))
            .await?
            .send_keys("9990000026")
            .await?;
        browser
            .find(Locator::Id("date_of_birth"))
            .await?
            .send_keys("02/11/1988")
            .await?;
        browser
            .find(Locator::Id("requester_name"))
            .await?
            .send_keys("Dr A Patel")
            .await?;
        browser
            .find(Locator::Id("requester_code"))
            .await?
            .send_keys("C1234567")
            .await?;
        browser
            .find(Locator::Id("location"))
            .await?
            .send_keys("Ward 7")
            .await?;
        browser.find(Locator::Id("inv-K")).await?.click().await?;
        click_and_wait(&browser, "book-request").await?;
        let path = browser.current_url().await?.path().to_owned();
        let accession = path
            .strip_prefix("/requests/")
            .expect("on the request page")
            .to_owned();
        assert!(accession.starts_with("BW"), "{accession}");
        save_screenshot(&browser, "request-booked").await?;

        // The specimen is collected and received from its page.
        let specimen = browser
            .find(Locator::Css("#specimens a[href^='/specimens/']"))
            .await?
            .attr("href")
            .await?
            .unwrap();
        browser.goto(&format!("{}{specimen}", app.address)).await?;
        click_and_wait(&browser, "step-collected").await?;
        click_and_wait(&browser, "step-received").await?;
        let status = browser
            .find(Locator::Id("specimen-status"))
            .await?
            .text()
            .await?;
        assert_eq!(status, "Received");

        // The result is typed and submitted from the keyboard.
        browser
            .goto(&format!("{}/requests/{accession}", app.address))
            .await?;
        browser
            .find(Locator::Id("value-K"))
            .await?
            .send_keys("6.1\u{E007}")
            .await?;
        browser.wait().for_element(Locator::Id("result-K")).await?;
        let flag = browser.find(Locator::Id("flag-K")).await?.text().await?;
        assert_eq!(flag, "H");
        save_screenshot(&browser, "result-entered").await?;
        browser.find(Locator::Id("sign-out")).await?.click().await?;

        // A practitioner verifies it; a scientist authorises and releases it.
        sign_in(&browser, &app, "practitioner").await?;
        browser
            .goto(&format!("{}/requests/{accession}", app.address))
            .await?;
        click_and_wait(&browser, "verify-K").await?;
        let status = browser.find(Locator::Id("status-K")).await?.text().await?;
        assert!(
            status.starts_with("Verified, awaiting authorisation"),
            "{status}"
        );
        browser.find(Locator::Id("sign-out")).await?.click().await?;
        sign_in(&browser, &app, "scientist").await?;
        browser
            .goto(&format!("{}/requests/{accession}", app.address))
            .await?;
        click_and_wait(&browser, "authorise-K").await?;
        let status = browser.find(Locator::Id("status-K")).await?.text().await?;
        assert!(status.starts_with("Authorised"), "{status}");
        save_screenshot(&browser, "result-authorised").await?;

        // The report shows the released value, its flag and who authorised it.
        click_and_wait(&browser, "report-link").await?;
        let value = browser.find(Locator::Id("value-K")).await?.text().await?;
        assert!(value.contains("6.1"), "{value}");
        let flag = browser.find(Locator::Id("flag-K")).await?.text().await?;
        assert_eq!(flag, "H");
        let status = browser.find(Locator::Id("status-K")).await?.text().await?;
        assert!(status.contains("Authorised by Sam Scientist"), "{status}");
        let nhs = browser
            .find(Locator::Id("nhs-number"))
            .await?
            .text()
            .await?;
        assert_eq!(nhs, "999 000 0026");
        let pdf = browser
            .find(Locator::Id("download-pdf"))
            .await?
            .attr("href")
            .await?;
        assert_eq!(
            pdf.as_deref(),
            Some(format!("/requests/{accession}/report.pdf").as_str())
        );
        save_screenshot(&browser, "report").await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.unwrap();
}

/// QC charts (issue 4): the chart form is filled and sent from the
/// keyboard alone; the Levey–Jennings SVG is drawn with its title and the
/// data table below it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qc_chart_form_works_from_the_keyboard_and_draws_the_chart_and_table() {
    let app = spawn_app(Engine::Sqlite).await;
    crate::qc_charts::fixture(&app).await;
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    let outcome = async {
        sign_in(&browser, &app, "associate").await?;
        browser.goto(&format!("{}/qc/charts", app.address)).await?;
        // Type into each field and Tab to the next, as a keyboard user does.
        browser
            .find(Locator::Id("instrument"))
            .await?
            .send_keys("Chemistry")
            .await?;
        for (id, keys) in [
            ("investigation", "Urea"),
            ("level", "Level 1"),
            ("from", "2026-10-01"),
            ("to", "2026-11-30"),
        ] {
            browser
                .active_element()
                .await?
                .send_keys("\u{E004}")
                .await?;
            let focused = browser.active_element().await?;
            assert_eq!(focused.attr("id").await?.as_deref(), Some(id));
            focused.send_keys(keys).await?;
        }
        // Enter in the last field sends the form.
        browser
            .active_element()
            .await?
            .send_keys("\u{E007}")
            .await?;
        let svg = browser
            .wait()
            .for_element(Locator::Css("svg#lj-chart"))
            .await?;
        assert_eq!(svg.attr("role").await?.as_deref(), Some("img"));
        let title = browser
            .find(Locator::Css("#lj-chart title#lj-title"))
            .await?
            .prop("textContent")
            .await?
            .unwrap_or_default();
        assert_eq!(
            title,
            "Levey–Jennings chart: Urea (UREA), level 1, Chemistry analyser 1"
        );
        let points = browser
            .find_all(Locator::Css("#lj-chart .lj-point"))
            .await?;
        assert_eq!(points.len(), 14);
        let rows = browser.find_all(Locator::Css("#lj-table tbody tr")).await?;
        assert_eq!(rows.len(), 14);
        save_screenshot(&browser, "qc-chart").await?;
        // The entry is kept in the form.
        let level = browser
            .find(Locator::Id("level"))
            .await?
            .prop("value")
            .await?;
        assert_eq!(level.as_deref(), Some("1"));
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.unwrap();
}
