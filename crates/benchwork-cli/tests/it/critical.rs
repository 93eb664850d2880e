//! Critical-result communication (issue 6 items 2-6): a critical potassium
//! opens a task at technical verification (not at entry) with a 60-minute
//! deadline, authorisation is not held back; a successful call with
//! read-back closes it, a call with no answer does not; a senior decision
//! closes it only for a clinical scientist or consultant; bad input is
//! refused with nothing stored; the escalation chain fires each step when
//! due and once, raises one incident at the final deadline and nothing
//! after closure, also with two servers on one PostgreSQL; a QC hold
//! withdrawal cancels the task; a seeded random sequence keeps the
//! invariants; the pages, the board and the API.

use benchwork_app::critical::{self, AttemptInput};
use benchwork_app::{AppError, Clock};
use benchwork_domain::request::AccessionNumber;
use benchwork_store::{AuditFilter, CriticalTaskRecord};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_engines;
use crate::flow::{DANIEL, actor, book, enter, page, results_of, specimen_steps};
use crate::helpers::{Session, TestApp, client, csrf_of};

fn minutes(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(n)
}

/// Books potassium for Daniel Hughes, enters `value` as the associate;
/// returns the accession and the result id.
async fn potassium(app: &TestApp, associate: &Session, value: &str) -> (AccessionNumber, String) {
    let accession = book(app, associate, &DANIEL, "urgent", &["K"]).await;
    specimen_steps(associate, &accession, &["collected", "received"]).await;
    let response = enter(associate, &accession, &[("K", value)], &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id = results_of(app, &accession).await.remove(0).id.to_string();
    (accession, id)
}

async fn verify(session: &Session, id: &str) {
    let response = session.post(&format!("/results/{id}/verify"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "verify {id}");
}

async fn tasks_of(app: &TestApp, accession: &AccessionNumber) -> Vec<CriticalTaskRecord> {
    let consultant = actor(app, "consultant").await;
    let request = app
        .ctx
        .store
        .get_request(&accession.to_string(), consultant.id)
        .await
        .unwrap();
    app.ctx
        .store
        .list_critical_tasks_of(Some(request.id), None)
        .await
        .unwrap()
}

async fn task_of(app: &TestApp, accession: &AccessionNumber) -> CriticalTaskRecord {
    let mut tasks = tasks_of(app, accession).await;
    assert_eq!(tasks.len(), 1, "one task");
    tasks.remove(0)
}

/// A critical potassium (6.9 mmol/L, HH) entered and verified by the
/// practitioner; returns the accession, result id and task.
async fn critical_task(app: &TestApp) -> (AccessionNumber, String, CriticalTaskRecord) {
    let associate = app.sign_in_demo("associate").await;
    let practitioner = app.sign_in_demo("practitioner").await;
    let (accession, id) = potassium(app, &associate, "6.9").await;
    verify(&practitioner, &id).await;
    let task = task_of(app, &accession).await;
    (accession, id, task)
}

fn call(outcome: &str, read_back: &str, at: jiff::Timestamp) -> AttemptInput {
    AttemptInput {
        at: at.to_string(),
        recipient_name: "Dr R Jones".into(),
        recipient_role: "FY1 doctor".into(),
        recipient_location: "Ward 7".into(),
        contact: "ext 4455".into(),
        outcome: outcome.into(),
        read_back: read_back.into(),
        note: String::new(),
    }
}

async fn n_incidents(app: &TestApp) -> i64 {
    let quality = actor(app, "quality").await;
    app.ctx
        .store
        .list_incidents(quality.id, &benchwork_store::IncidentFilter::default(), 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|incident| {
            incident
                .title
                .starts_with("Critical result not communicated")
        })
        .count() as i64
}

/// Escalation notifications of `level` in `username`'s inbox.
async fn n_escalation_notes(app: &TestApp, username: &str, level: i64) -> i64 {
    let user = actor(app, username).await;
    let title = format!("Critical result not yet communicated (escalation {level})");
    app.ctx
        .store
        .list_notifications(user.id, false, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|notification| notification.title == title)
        .count() as i64
}

both_engines!(
    a_critical_potassium_opens_a_task_at_verification_and_authorisation_is_not_held,
    |app| {
        // Arrange
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let practitioner = app.sign_in_demo("practitioner").await;
        let scientist = app.sign_in_demo("scientist").await;
        let (accession, id) = potassium(&app, &associate, "6.9").await;
        let (normal, normal_id) = potassium(&app, &associate, "4.2").await;

        // Entered but not verified: no task (a haemolysed sample rejected at
        // verification is never phoned).
        assert!(tasks_of(&app, &accession).await.is_empty());

        // Act
        let verified_at = app.clock.now();
        verify(&practitioner, &id).await;
        verify(&practitioner, &normal_id).await;

        // Assert: one open task, deadline 60 minutes after verification.
        let task = task_of(&app, &accession).await;
        assert_eq!(task.status, "open");
        assert_eq!(task.flag, "HH");
        assert_eq!(task.value_text, "6.9");
        assert_eq!(task.opened_at, verified_at);
        assert_eq!(
            task.deadline_at,
            verified_at.checked_add(minutes(60)).unwrap()
        );
        assert!(
            tasks_of(&app, &normal).await.is_empty(),
            "a normal result opens no task"
        );

        // Authorisation is not held back by the open task.
        let response = scientist
            .post(&format!("/results/{id}/authorise"), &[])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(results_of(&app, &accession).await[0].status, "final");
        assert_eq!(task_of(&app, &accession).await.status, "open");

        // The report says communication is pending.
        let report = page(&scientist, &format!("/requests/{accession}/report")).await;
        assert!(
            report.contains("critical: communication pending"),
            "{report}"
        );

        // The board on everyone's home page shows it with patient and value.
        let home = page(&associate, "/").await;
        assert!(home.contains("id=\"critical-board\""), "{home}");
        assert!(home.contains("HUGHES") && home.contains("999 000 0026"));
        assert!(home.contains("6.9") && home.contains("60 min left"));
    }
);

both_engines!(
    a_read_back_call_closes_the_task_and_no_answer_does_not,
    |app| {
        // Arrange
        app.seed_demo().await;
        let (accession, _, task) = critical_task(&app).await;
        let associate = actor(&app, "associate").await;
        let id = task.id.to_string();
        app.clock.advance(minutes(5));
        let now = app.clock.now();

        // Bad input: no recipient, no time, a time in the future; nothing stored.
        let mut bad = call("no-answer", "no", now);
        bad.recipient_name = "  ".into();
        bad.at = String::new();
        let Err(AppError::Invalid(errors)) =
            critical::record_attempt(&app.ctx, &associate, &id, &bad).await
        else {
            panic!("refused");
        };
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["at", "recipient_name"]);
        let future = call("successful", "yes", now.checked_add(minutes(5)).unwrap());
        assert!(matches!(
            critical::record_attempt(&app.ctx, &associate, &id, &future).await,
            Err(AppError::Invalid(_))
        ));
        assert!(
            app.ctx
                .store
                .list_critical_attempts(task.id)
                .await
                .unwrap()
                .is_empty()
        );

        // Act: no answer, then a successful call without read-back, then with.
        let (_, closed) =
            critical::record_attempt(&app.ctx, &associate, &id, &call("no-answer", "no", now))
                .await
                .unwrap();
        assert!(!closed);
        assert_eq!(task_of(&app, &accession).await.status, "open");
        let (_, closed) =
            critical::record_attempt(&app.ctx, &associate, &id, &call("successful", "no", now))
                .await
                .unwrap();
        assert!(!closed, "no read-back, no closure");
        let (_, closed) =
            critical::record_attempt(&app.ctx, &associate, &id, &call("successful", "yes", now))
                .await
                .unwrap();

        // Assert
        assert!(closed);
        let task = task_of(&app, &accession).await;
        assert_eq!(task.status, "closed");
        assert_eq!(task.closed_how.as_deref(), Some("read-back"));
        assert_eq!(task.communicated_at, Some(now));
        assert_eq!(
            app.ctx
                .store
                .list_critical_attempts(task.id)
                .await
                .unwrap()
                .len(),
            3
        );
        assert!(matches!(
            critical::record_attempt(&app.ctx, &associate, &id, &call("successful", "yes", now))
                .await,
            Err(AppError::Conflict(_))
        ));
        // Every change and read audited against the patient.
        app.seal().await;
        let types: Vec<String> = app
            .ctx
            .store
            .search_audit_events(
                &AuditFilter {
                    entity_type: Some("CriticalTask".into()),
                    entity_id: Some(id.clone()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .unwrap()
            .events
            .into_iter()
            .map(|(_, event)| event.event_type)
            .collect();
        assert_eq!(
            types.iter().filter(|t| *t == "critical.attempt").count(),
            3,
            "{types:?}"
        );
        assert!(types.contains(&"critical.open".to_owned()));
    }
);

both_engines!(a_senior_decision_closes_the_task_only_for_a_senior, |app| {
    // Arrange
    app.seed_demo().await;
    let (accession, _, task) = critical_task(&app).await;
    let id = task.id.to_string();
    let practitioner = actor(&app, "practitioner").await;
    let consultant = actor(&app, "consultant").await;

    // Act / Assert: a practitioner is refused, a reason is required.
    assert!(matches!(
        critical::record_decision(&app.ctx, &practitioner, &id, "patient already in ED").await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        critical::record_decision(&app.ctx, &consultant, &id, " ").await,
        Err(AppError::Invalid(_))
    ));
    assert_eq!(task_of(&app, &accession).await.status, "open");
    critical::record_decision(
        &app.ctx,
        &consultant,
        &id,
        "patient already in ED, result known",
    )
    .await
    .unwrap();
    let task = task_of(&app, &accession).await;
    assert_eq!(task.status, "closed");
    assert_eq!(task.closed_how.as_deref(), Some("senior-decision"));
    assert_eq!(
        task.closed_reason.as_deref(),
        Some("patient already in ED, result known")
    );
});

both_engines!(
    each_escalation_step_fires_when_due_once_and_not_after_closure,
    |app| {
        // Arrange
        app.seed_demo().await;
        let (accession, _, task) = critical_task(&app).await;

        // Act / Assert: one second before the deadline nothing fires.
        app.clock
            .advance(minutes(60) - jiff::SignedDuration::from_secs(1));
        app.run_due_jobs().await;
        assert_eq!(task_of(&app, &accession).await.escalation_level, 0);
        // At the deadline: step 1 (practitioners), once however often jobs run.
        app.clock.advance(jiff::SignedDuration::from_secs(1));
        app.run_due_jobs().await;
        app.run_due_jobs().await;
        assert_eq!(task_of(&app, &accession).await.escalation_level, 1);
        assert_eq!(n_escalation_notes(&app, "practitioner", 1).await, 1);
        // 30 minutes later: step 2 (clinical scientists and consultants).
        app.clock.advance(minutes(29));
        app.run_due_jobs().await;
        assert_eq!(task_of(&app, &accession).await.escalation_level, 1);
        app.clock.advance(minutes(1));
        app.run_due_jobs().await;
        app.run_due_jobs().await;
        assert_eq!(task_of(&app, &accession).await.escalation_level, 2);
        assert_eq!(n_escalation_notes(&app, "consultant", 2).await, 1);
        assert_eq!(n_escalation_notes(&app, "scientist", 2).await, 1);
        assert_eq!(n_escalation_notes(&app, "practitioner", 2).await, 0);
        assert_eq!(n_incidents(&app).await, 0);
        // The final deadline: exactly one incident.
        app.clock.advance(minutes(30));
        for _ in 0..3 {
            app.run_due_jobs().await;
        }
        assert_eq!(task_of(&app, &accession).await.escalation_level, 3);
        assert_eq!(n_incidents(&app).await, 1);
        app.clock.advance(minutes(600));
        app.run_due_jobs().await;
        assert_eq!(n_incidents(&app).await, 1);
        // The board shows the level and the overdue time.
        let associate = app.sign_in_demo("associate").await;
        let home = page(&associate, "/").await;
        assert!(home.contains("overdue by"), "{home}");
        assert_eq!(task.status, "open");

        // A task closed before its deadline never escalates.
        let (second, _, second_task) = critical_task(&app).await;
        let scientist = actor(&app, "scientist").await;
        critical::record_attempt(
            &app.ctx,
            &scientist,
            &second_task.id.to_string(),
            &call("successful", "yes", app.clock.now()),
        )
        .await
        .unwrap();
        app.clock.advance(minutes(600));
        for _ in 0..3 {
            app.run_due_jobs().await;
        }
        assert_eq!(task_of(&app, &second).await.escalation_level, 0);
        assert_eq!(n_incidents(&app).await, 1);
    }
);

both_engines!(
    a_qc_hold_withdrawal_cancels_the_task_and_tells_the_handler,
    |app| {
        // Arrange: a critical K on the analyser, verified, then a rejected QC run.
        app.seed_demo().await;
        let associate = app.sign_in_demo("associate").await;
        let token = app.token_for("associate").await;
        let practitioner = app.token_for("practitioner").await;
        let instrument = api(
            &app,
            &token,
            reqwest::Method::GET,
            "/api/v1/instruments",
            None,
        )
        .await
        .1
        .as_array()
        .unwrap()
        .iter()
        .find(|instrument| instrument["name"] == "Chemistry analyser 1")
        .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, runs) = api(
            &app,
            &token,
            reqwest::Method::GET,
            &format!("/api/v1/qc/runs?instrument={instrument}&investigation=K"),
            None,
        )
        .await;
        let lots: Vec<String> = runs[0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value["lot_id"].as_str().unwrap().to_owned())
            .collect();
        app.clock.advance(minutes(10));
        let accession = book(&app, &associate, &DANIEL, "urgent", &["K"]).await;
        specimen_steps(&associate, &accession, &["collected", "received"]).await;
        let (status, body) = api(
        &app,
        &token,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{accession}/results"),
        Some(json!({ "results": [{ "investigation": "K", "value": "7.1", "instrument": instrument }] })),
    )
    .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = results_of(&app, &accession).await.remove(0).id.to_string();
        let (status, body) = api(
            &app,
            &practitioner,
            reqwest::Method::POST,
            &format!("/api/v1/results/{id}/verify"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let task = task_of(&app, &accession).await;
        let handler = actor(&app, "associate").await;
        critical::take(&app.ctx, &handler, &task.id.to_string())
            .await
            .unwrap();
        app.clock.advance(minutes(5));
        let values = json!([{ "lot": lots[0], "value": 3.50 + 3.5 * 0.07 }, { "lot": lots[1], "value": 6.20 }]);
        let (status, rejected) = api(
            &app,
            &token,
            reqwest::Method::POST,
            "/api/v1/qc/runs",
            Some(json!({ "instrument": instrument, "investigation": "K", "values": values })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{rejected}");
        assert_eq!(rejected["decision"], "rejected");
        let (_, holds) = api(
            &app,
            &practitioner,
            reqwest::Method::GET,
            "/api/v1/qc/holds",
            None,
        )
        .await;
        let hold_id = holds
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["rejected_run_id"] == rejected["id"])
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Act
        let (status, body) = api(
        &app,
        &practitioner,
        reqwest::Method::POST,
        &format!("/api/v1/qc/holds/{hold_id}/reviews"),
        Some(json!({ "result": id, "outcome": "withdrawn", "reason": "QC failure: repeat requested" })),
    )
    .await;

        // Assert
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let task = task_of(&app, &accession).await;
        assert_eq!(task.status, "cancelled");
        assert!(task.closed_reason.unwrap().contains("withdrawn"));
        let titles: Vec<String> = app
            .ctx
            .store
            .list_notifications(handler.id, false, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.title)
            .collect();
        assert!(
            titles
                .iter()
                .any(|t| t.starts_with("Critical result cancelled")),
            "{titles:?}"
        );
        app.clock.advance(minutes(600));
        app.run_due_jobs().await;
        assert_eq!(task_of(&app, &accession).await.escalation_level, 0);
    }
);

async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client()
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Two servers (two contexts on the same PostgreSQL database) run the
/// escalation concurrently: each step fires once, one incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_do_not_double_escalate() {
    let Some(app) = crate::helpers::spawn_app_on_postgres().await else {
        return;
    };
    app.seed_demo().await;
    let mut accessions = Vec::new();
    for _ in 0..3 {
        accessions.push(critical_task(&app).await.0);
    }
    let other = benchwork_cli::open_context(&app.config, app.clock.clone())
        .await
        .unwrap();
    let registry = benchwork_app::jobs::JobRegistry::standard();
    for _ in 0..3 {
        app.clock.advance(minutes(30));
        let (a, b) = tokio::join!(
            benchwork_app::jobs::run_due_jobs(&app.ctx, &registry),
            benchwork_app::jobs::run_due_jobs(&other, &registry),
        );
        a.unwrap();
        b.unwrap();
    }
    // The final step: both servers run their jobs, and the step is also
    // run twice by hand (as after a lost lease) at the same moment.
    app.clock.advance(minutes(30));
    let task = task_of(&app, &accessions[0]).await;
    assert_eq!(task.escalation_level, 2);
    let job = benchwork_store::JobRecord {
        id: benchwork_domain::ids::JobId(uuid::Uuid::now_v7()),
        kind: critical::ESCALATE.into(),
        payload: json!({ "task": task.id.to_string(), "level": 3 }).to_string(),
        status: "running".into(),
        run_at: app.clock.now(),
        attempts: 0,
        interval_secs: None,
        last_error: None,
    };
    let (a, b, c, d) = tokio::join!(
        critical::escalate(&app.ctx, &job),
        critical::escalate(&other, &job),
        benchwork_app::jobs::run_due_jobs(&app.ctx, &registry),
        benchwork_app::jobs::run_due_jobs(&other, &registry),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    d.unwrap();
    for accession in &accessions {
        assert_eq!(task_of(&app, accession).await.escalation_level, 3);
    }
    assert_eq!(n_incidents(&app).await, 3, "one per task");
    assert_eq!(n_escalation_notes(&app, "practitioner", 1).await, 3);
    assert_eq!(n_escalation_notes(&app, "consultant", 2).await, 3);
}

/// A small deterministic generator for the random sequences.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

both_engines!(random_sequences_keep_the_task_invariants, |app| {
    // Arrange
    app.seed_demo().await;
    let associate = actor(&app, "associate").await;
    let consultant = actor(&app, "consultant").await;
    let practitioner = actor(&app, "practitioner").await;
    let mut rng = Lcg(20_261_206);
    let mut results: Vec<(AccessionNumber, String, bool)> = Vec::new();

    // Act: a random sequence of entries, verifications, calls, decisions,
    // withdrawals and clock moves.
    for _ in 0..40 {
        match rng.next(7) {
            0 => {
                let value = ["6.9", "2.1", "4.4"][rng.next(3) as usize];
                // A fresh session: the clock moves past the idle timeout.
                let associate_session = app.sign_in_demo("associate").await;
                let (accession, id) = potassium(&app, &associate_session, value).await;
                results.push((accession, id, false));
            }
            1 => {
                if let Some(entry) = results.iter_mut().find(|(_, _, verified)| !verified) {
                    let practitioner_session = app.sign_in_demo("practitioner").await;
                    verify(&practitioner_session, &entry.1).await;
                    entry.2 = true;
                }
            }
            2 | 3 => {
                let open = app
                    .ctx
                    .store
                    .list_critical_tasks(associate.id, true, app.clock.now(), 50)
                    .await
                    .unwrap();
                if let Some(task) = open.get(rng.next(open.len().max(1) as u64) as usize) {
                    let outcome = ["successful", "no-answer", "left-message"][rng.next(3) as usize];
                    let read_back = if outcome == "successful" && rng.next(2) == 0 {
                        "yes"
                    } else {
                        "no"
                    };
                    critical::record_attempt(
                        &app.ctx,
                        &associate,
                        &task.id.to_string(),
                        &call(outcome, read_back, app.clock.now()),
                    )
                    .await
                    .unwrap();
                }
            }
            4 => {
                let open = app
                    .ctx
                    .store
                    .list_critical_tasks(associate.id, true, app.clock.now(), 50)
                    .await
                    .unwrap();
                if let Some(task) = open.first() {
                    let who = if rng.next(2) == 0 {
                        &consultant
                    } else {
                        &practitioner
                    };
                    let _ = critical::record_decision(
                        &app.ctx,
                        who,
                        &task.id.to_string(),
                        "known result, patient in resus",
                    )
                    .await;
                }
            }
            5 => {
                if let Some((_, id, true)) =
                    results.get(rng.next(results.len().max(1) as u64) as usize)
                {
                    let id = benchwork_domain::result::ResultId::parse(id).unwrap();
                    critical::after_hold_review(
                        &app.ctx,
                        &practitioner,
                        id,
                        "withdrawn",
                        "QC failure",
                    )
                    .await
                    .unwrap();
                }
            }
            _ => {
                app.clock.advance(minutes(rng.next(50) as i64 + 1));
                app.run_due_jobs().await;
            }
        }

        // Assert the invariants after every step.
        let now = app.clock.now();
        for (accession, _, verified) in &results {
            let tasks = tasks_of(&app, accession).await;
            assert!(tasks.len() <= 1, "at most one task per result here");
            assert!(*verified || tasks.is_empty(), "no task before verification");
            for task in &tasks {
                let attempts = app.ctx.store.list_critical_attempts(task.id).await.unwrap();
                match task.status.as_str() {
                    "closed" => assert!(
                        (task.closed_how.as_deref() == Some("read-back")
                            && attempts
                                .iter()
                                .any(|a| a.outcome == "successful" && a.read_back))
                            || task.closed_how.as_deref() == Some("senior-decision"),
                        "closed without read-back or senior decision"
                    ),
                    "cancelled" => {
                        assert!(task.closed_reason.as_deref().unwrap().contains("withdrawn"))
                    }
                    _ => {
                        // An open task past a step's due time has escalated to it.
                        let chain = critical::chain(&app.ctx, task.department_id).await.unwrap();
                        let due = chain
                            .iter()
                            .filter(|step| step.due(task.deadline_at) <= now)
                            .count() as i64;
                        let last_jobs_run = task.escalation_level;
                        assert!(last_jobs_run <= due, "escalated early");
                    }
                }
            }
        }
    }
    // After running the jobs, no open task is past a step without it.
    app.run_due_jobs().await;
    let now = app.clock.now();
    for task in app
        .ctx
        .store
        .list_critical_tasks(associate.id, true, now, 50)
        .await
        .unwrap()
    {
        let chain = critical::chain(&app.ctx, task.department_id).await.unwrap();
        let due = chain
            .iter()
            .filter(|step| step.due(task.deadline_at) <= now)
            .count() as i64;
        assert_eq!(task.escalation_level, due, "escalated to every due step");
    }
});

both_engines!(
    the_task_page_records_a_call_and_the_api_closes_a_task,
    |app| {
        // Arrange
        app.seed_demo().await;
        let (accession, _, task) = critical_task(&app).await;
        let associate = app.sign_in_demo("associate").await;
        let path = format!("/critical/{}", task.id);
        let html = page(&associate, &path).await;
        assert!(html.contains("HUGHES") && html.contains("6.9"));
        app.clock.advance(minutes(3));

        // Act: a form without a recipient is refused, the entry kept.
        let csrf = csrf_of(&html);
        let now_london = app
            .clock
            .now()
            .to_zoned(jiff::tz::TimeZone::get("Europe/London").unwrap())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string();
        let response = associate
            .post(
                &format!("{path}/attempts"),
                &[
                    ("csrf_token", csrf.as_str()),
                    ("at", now_london.as_str()),
                    ("recipient_name", ""),
                    ("recipient_role", "Nurse in charge"),
                    ("recipient_location", "Ward 7"),
                    ("contact", "in person"),
                    ("outcome", "successful"),
                    ("read_back", "yes"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(html.contains("nhsuk-error-summary") && html.contains("Nurse in charge"));
        let response = associate
            .post(
                &format!("{path}/attempts"),
                &[
                    ("csrf_token", csrf.as_str()),
                    ("at", now_london.as_str()),
                    ("recipient_name", "Sister K Adeyemi"),
                    ("recipient_role", "Nurse in charge"),
                    ("recipient_location", "Ward 7"),
                    ("contact", "in person"),
                    ("outcome", "successful"),
                    ("read_back", "yes"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(task_of(&app, &accession).await.status, "closed");
        let report = page(&associate, &format!("/requests/{accession}/report")).await;
        assert!(
            report.contains("Sister K Adeyemi") && report.contains("read back"),
            "{report}"
        );

        // The API: list, one, take, attempt, senior decision.
        let (_, _, second) = critical_task(&app).await;
        let token = app.token_for("associate").await;
        let (status, open) = api(
            &app,
            &token,
            reqwest::Method::GET,
            "/api/v1/critical-tasks?status=open",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{open}");
        assert_eq!(open.as_array().unwrap().len(), 1);
        let base = format!("/api/v1/critical-tasks/{}", second.id);
        let (status, _) = api(
            &app,
            &token,
            reqwest::Method::POST,
            &format!("{base}/take"),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = api(&app, &token, reqwest::Method::POST, &format!("{base}/attempts"), Some(json!({ "at": app.clock.now().to_string(), "recipient_name": "", "recipient_role": "GP", "recipient_location": "Surgery", "contact": "01234 567890", "outcome": "no-answer", "read_back": "no" }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = api(
            &app,
            &token,
            reqwest::Method::POST,
            &format!("{base}/decision"),
            Some(json!({ "reason": "known result" })),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let consultant = app.token_for("consultant").await;
        let (status, body) = api(
            &app,
            &consultant,
            reqwest::Method::POST,
            &format!("{base}/decision"),
            Some(json!({ "reason": "patient already in ED, result known" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, one) = api(&app, &token, reqwest::Method::GET, &base, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["status"], "closed");
        assert_eq!(one["closed_how"], "senior-decision");
        let compliance = page(&associate, "/critical/compliance").await;
        assert!(
            compliance.contains("id=\"compliance-table\""),
            "{compliance}"
        );
    }
);
