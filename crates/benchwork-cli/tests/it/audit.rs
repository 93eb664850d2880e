//! The audit trail: every change and read leaves an event, and the hash
//! chain (with the head kept outside the database) names the first event
//! that someone with direct database access edited, deleted, inserted,
//! reordered, truncated or rewrote.
//!
//! The tamper tests play an attacker who can run SQL: they drop the
//! append-only triggers first, then change rows, then run the real
//! `benchwork audit verify`.

use benchwork_domain::audit::{AuditAction, AuditOutcome, ChainHead, SealedEvent};
use benchwork_store::AuditFilter;

use crate::both_engines;
use crate::helpers::{Engine, TestApp, client, spawn_app};

/// Lower-case hexadecimal of `bytes`.
fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A byte-string literal for `app`'s engine.
fn bytes_sql(app: &TestApp, bytes: &[u8]) -> String {
    match app.engine {
        Engine::Sqlite => format!("X'{}'", hex_of(bytes)),
        Engine::Postgres => format!("'\\x{}'::bytea", hex_of(bytes)),
    }
}

/// A UUID literal for `app`'s engine (SQLite stores ids as 16-byte blobs).
fn uuid_sql(app: &TestApp, id: uuid::Uuid) -> String {
    match app.engine {
        Engine::Sqlite => format!("X'{}'", id.simple()),
        Engine::Postgres => format!("'{id}'::uuid"),
    }
}

/// What an attacker with database access does first: removes the
/// append-only triggers.
async fn drop_audit_triggers(app: &TestApp) {
    match app.engine {
        Engine::Sqlite => {
            app.sql("DROP TRIGGER audit_event_seal_once; DROP TRIGGER audit_event_no_delete;")
                .await
        }
        Engine::Postgres => {
            app.sql("DROP TRIGGER audit_event_append_only ON audit_event;")
                .await
        }
    };
}

/// Seeds the demo department, seals it, checks that the untouched chain
/// verifies, and returns the head.
async fn sealed_demo(app: &TestApp) -> ChainHead {
    app.seed_demo().await;
    let n_sealed = app.seal().await;
    assert!(
        n_sealed >= 10,
        "the demo should leave a chain of some length, got {n_sealed}"
    );
    let output = app.cli(&["audit", "verify"]);
    assert!(
        output.status.success(),
        "the untouched chain verifies: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let head = app
        .ctx
        .store
        .audit_head()
        .await
        .unwrap()
        .expect("a sealed chain");
    assert_eq!(head.seq, n_sealed as u64);
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!(
        "audit trail intact: {n_sealed} events, head {head}"
    )));
    head
}

/// Every sealed event, in sequence order.
async fn sealed_events(app: &TestApp) -> Vec<SealedEvent> {
    let mut events = Vec::new();
    app.ctx
        .store
        .for_each_sealed_audit_event(|event| {
            events.push(event);
            Ok::<(), ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    events
}

/// Asserts that `benchwork audit verify` reported a broken trail (exit code
/// 2) with a message containing every one of `needles`; returns stderr.
#[track_caller]
fn assert_broken(output: &std::process::Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "verify should fail with exit code 2; stdout: {} stderr: {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(stderr.contains("audit trail broken: "), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
    stderr
}

both_engines!(audit_verify_names_an_edited_row, |app| {
    sealed_demo(&app).await;
    let events = sealed_events(&app).await;
    drop_audit_triggers(&app).await;
    assert_eq!(
        app.sql("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 5")
            .await,
        1
    );

    let output = app.cli(&["audit", "verify"]);
    assert_broken(
        &output,
        &[
            &format!("audit event 5 (id {})", events[4].event.id),
            "does not match its hash: it was changed after it was sealed",
        ],
    );
});

both_engines!(audit_verify_names_a_deleted_row, |app| {
    sealed_demo(&app).await;
    let events = sealed_events(&app).await;
    drop_audit_triggers(&app).await;
    assert_eq!(app.sql("DELETE FROM audit_event WHERE seq = 4").await, 1);

    let output = app.cli(&["audit", "verify"]);
    assert_broken(
        &output,
        &[
            &format!(
                "audit event 4 is missing (the next event found is 5, id {})",
                events[4].event.id
            ),
            "an event was deleted",
        ],
    );
});

both_engines!(audit_verify_names_an_inserted_row, |app| {
    sealed_demo(&app).await;
    let events = sealed_events(&app).await;
    drop_audit_triggers(&app).await;
    // Make room at 6 in two steps (seq is UNIQUE, checked row by row), then
    // insert a forged row that claims to follow event 5.
    app.sql(
        "UPDATE audit_event SET seq = seq + 1000000 WHERE seq >= 6; \
         UPDATE audit_event SET seq = seq - 999999 WHERE seq >= 1000000;",
    )
    .await;
    let forged_id = uuid::Uuid::new_v4();
    let mut forged_hash = Vec::new();
    forged_hash.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    forged_hash.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let inserted = app
        .sql(&format!(
            "INSERT INTO audit_event (id, seq, prev_hash, hash, sealed_at, recorded, action, event_type, outcome, \
             actor_name, actor_roles, detail) \
             SELECT {}, 6, hash, {}, sealed_at, recorded, 'U', 'user.update', 0, 'mallory', 'administrator', \
             'granted myself every role' FROM audit_event WHERE seq = 5",
            uuid_sql(&app, forged_id),
            bytes_sql(&app, &forged_hash),
        ))
        .await;
    assert_eq!(inserted, 1);
    // The chain is one longer and the genuine event 6 now sits at 7.
    let tampered = sealed_events(&app).await;
    assert_eq!(tampered.len(), events.len() + 1);
    assert_eq!(tampered[6].event.id, events[5].event.id);

    let output = app.cli(&["audit", "verify"]);
    assert_broken(&output, &[&format!("audit event 6 (id {forged_id})")]);
});

both_engines!(audit_verify_names_reordered_rows, |app| {
    sealed_demo(&app).await;
    let events = sealed_events(&app).await;
    drop_audit_triggers(&app).await;
    app.sql(
        "UPDATE audit_event SET seq = -3 WHERE seq = 3; \
         UPDATE audit_event SET seq = 3 WHERE seq = 4; \
         UPDATE audit_event SET seq = 4 WHERE seq = -3;",
    )
    .await;
    let tampered = sealed_events(&app).await;
    assert_eq!(
        tampered[2].event.id, events[3].event.id,
        "the swap took place"
    );

    let output = app.cli(&["audit", "verify"]);
    assert_broken(
        &output,
        &[
            &format!(
                "audit event 3 (id {}) does not follow event 2",
                events[3].event.id
            ),
            "an event was inserted or events were reordered",
        ],
    );
});

both_engines!(audit_verify_detects_truncation_with_the_head, |app| {
    let head = sealed_demo(&app).await;
    // The head file written by sealing, and what `benchwork audit head` prints, agree.
    let head_file = app.config.audit_head_file();
    let recorded = std::fs::read_to_string(&head_file).unwrap();
    assert_eq!(recorded.trim(), head.to_string());
    let printed = app.cli(&["audit", "head"]);
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout).trim(),
        head.to_string()
    );
    // Keep a copy elsewhere, as an operator would.
    let kept = app.data_dir.path().join("kept-head.txt");
    std::fs::copy(&head_file, &kept).unwrap();

    drop_audit_triggers(&app).await;
    let deleted = app
        .sql(&format!(
            "DELETE FROM audit_event WHERE seq > {}",
            head.seq - 3
        ))
        .await;
    assert_eq!(deleted, 3);

    // Without the head the shorter chain is internally consistent: that is
    // why the head is kept outside the database.
    let blind = app.cli(&["audit", "verify"]);
    assert!(
        blind.status.success(),
        "{}",
        String::from_utf8_lossy(&blind.stderr)
    );
    assert!(
        String::from_utf8_lossy(&blind.stdout)
            .contains(&format!("audit trail intact: {} events", head.seq - 3)),
        "{}",
        String::from_utf8_lossy(&blind.stdout)
    );

    let message = format!(
        "the audit trail ends at event {} but the recorded head is event {}: events were removed from the end",
        head.seq - 3,
        head.seq
    );
    let with_file = app.cli(&["audit", "verify", "--head-file", kept.to_str().unwrap()]);
    assert_broken(&with_file, &[&message]);
    let with_text = app.cli(&["audit", "verify", "--expect-head", &head.to_string()]);
    assert_broken(&with_text, &[&message]);
});

both_engines!(
    audit_verify_detects_rewrite_and_rehash_with_the_head,
    |app| {
        let head = sealed_demo(&app).await;
        let kept = app.data_dir.path().join("kept-head.txt");
        std::fs::copy(app.config.audit_head_file(), &kept).unwrap();

        // Rewrite event 2 and re-hash everything from there, as someone who
        // knows the (unkeyed) hash would.
        let original = sealed_events(&app).await;
        assert_eq!(original.len() as u64, head.seq);
        let mut events: Vec<_> = original.iter().map(|sealed| sealed.event.clone()).collect();
        assert_ne!(events[1].actor_name, "mallory");
        events[1].actor_name = "mallory".into();
        let rehashed = benchwork_domain::audit::seal(None, events);
        let mut sql = String::new();
        for (before, after) in original.iter().zip(&rehashed) {
            assert_eq!(before.seq, after.seq);
            if before.hash == after.hash && before.prev_hash == after.prev_hash {
                continue;
            }
            let edit = if after.seq == 2 {
                ", actor_name = 'mallory'"
            } else {
                ""
            };
            sql.push_str(&format!(
                "UPDATE audit_event SET prev_hash = {}, hash = {}{edit} WHERE seq = {};\n",
                bytes_sql(&app, &after.prev_hash),
                bytes_sql(&app, &after.hash),
                after.seq
            ));
        }
        assert!(
            sql.contains("WHERE seq = 2;"),
            "event 1 is untouched, event 2 on are re-hashed"
        );
        drop_audit_triggers(&app).await;
        app.sql(&sql).await;
        let tampered = sealed_events(&app).await;
        assert_eq!(tampered[1].event.actor_name, "mallory");
        assert_eq!(tampered, rehashed);

        // The re-hashed chain is internally consistent.
        let new_head = ChainHead {
            seq: head.seq,
            hash: rehashed.last().unwrap().hash,
        };
        assert_ne!(new_head, head);
        let blind = app.cli(&["audit", "verify"]);
        assert!(
            blind.status.success(),
            "{}",
            String::from_utf8_lossy(&blind.stderr)
        );
        assert!(String::from_utf8_lossy(&blind.stdout).contains(&format!("head {new_head}")));

        // Against the head kept outside the database it is not.
        let message = format!(
            "audit event {} has hash {} but the recorded head says {}: the trail was rewritten and re-hashed",
            head.seq,
            hex_of(&new_head.hash),
            hex_of(&head.hash)
        );
        let with_file = app.cli(&["audit", "verify", "--head-file", kept.to_str().unwrap()]);
        assert_broken(&with_file, &[&message]);
        let with_text = app.cli(&["audit", "verify", "--expect-head", &head.to_string()]);
        assert_broken(&with_text, &[&message]);
    }
);

both_engines!(audit_rows_cannot_be_updated_or_deleted_through_sql, |app| {
    let head = sealed_demo(&app).await;
    let edited = app
        .sql_fails("UPDATE audit_event SET actor_name = 'mallory' WHERE seq = 5")
        .await;
    assert!(
        edited.contains("audit events cannot be changed"),
        "{edited}"
    );
    let resealed = app
        .sql_fails("UPDATE audit_event SET seq = 1000 WHERE seq = 5")
        .await;
    assert!(
        resealed.contains("audit events cannot be changed"),
        "{resealed}"
    );
    let rehashed = app
        .sql_fails(&format!(
            "UPDATE audit_event SET hash = {} WHERE seq = 5",
            bytes_sql(&app, &[0; 32])
        ))
        .await;
    assert!(
        rehashed.contains("audit events cannot be changed"),
        "{rehashed}"
    );
    let deleted = app.sql_fails("DELETE FROM audit_event WHERE seq = 4").await;
    assert!(
        deleted.contains("audit events cannot be deleted"),
        "{deleted}"
    );
    let deleted_all = app.sql_fails("DELETE FROM audit_event").await;
    assert!(
        deleted_all.contains("audit events cannot be deleted"),
        "{deleted_all}"
    );
    if app.engine == Engine::Postgres {
        // Row triggers do not fire for TRUNCATE; a statement trigger refuses it.
        let truncated = app.sql_fails("TRUNCATE audit_event").await;
        assert!(
            truncated.contains("audit events cannot be deleted"),
            "{truncated}"
        );
    }

    let report = benchwork_app::audit::verify_chain(&app.ctx.store, Some(head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.n_events, head.seq);
    assert_eq!(report.head, Some(head));
    let output = app.cli(&["audit", "verify", "--expect-head", &head.to_string()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
});

/// Events matching `filter`, newest first.
async fn events_where(
    app: &TestApp,
    filter: AuditFilter,
) -> Vec<benchwork_domain::audit::AuditEvent> {
    let page = app
        .ctx
        .store
        .search_audit_events(&filter, 1000, 0)
        .await
        .unwrap();
    assert!(!page.has_more);
    page.events.into_iter().map(|(_, event)| event).collect()
}

both_engines!(every_change_writes_an_audit_event, |app| {
    app.seed_demo().await;
    let admin_user = app.ctx.store.get_user_by_username("admin").await.unwrap();

    // A refused sign-in, then a successful one.
    let refused = app
        .post_sign_in(&client(), "admin", "not-the-right-password")
        .await;
    assert_ne!(refused.status(), reqwest::StatusCode::SEE_OTHER);
    let admin = app.sign_in_demo("admin").await;
    let by_admin = events_where(
        &app,
        AuditFilter {
            actor_name: Some("admin".into()),
            ..Default::default()
        },
    )
    .await;
    let sign_ins: Vec<_> = by_admin
        .iter()
        .filter(|event| event.event_type == "session.sign-in")
        .collect();
    assert!(
        sign_ins
            .iter()
            .any(|event| event.outcome == AuditOutcome::MinorFailure
                && event.action == AuditAction::Execute
                && event.actor_id == Some(admin_user.id)
                && event.detail.as_deref() == Some("refused: wrong password")),
        "a refused sign-in event: {sign_ins:#?}"
    );
    assert!(
        sign_ins
            .iter()
            .any(|event| event.outcome == AuditOutcome::Success
                && event.action == AuditAction::Execute
                && event.actor_id == Some(admin_user.id)
                && event.source_address.is_some()),
        "a successful sign-in event: {sign_ins:#?}"
    );

    // Creating an account through the web.
    let blood = app
        .ctx
        .store
        .list_departments()
        .await
        .unwrap()
        .into_iter()
        .find(|department| department.code == "BLOOD")
        .unwrap();
    let department_id = blood.id.to_string();
    let response = admin
        .post(
            "/staff",
            &[
                ("kind", "person"),
                ("username", "new.associate"),
                ("display_name", "Nova Associate"),
                ("roles", "associate"),
                ("departments", &department_id),
                ("password", "a-long-enough-password"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    let created = app
        .ctx
        .store
        .get_user_by_username("new.associate")
        .await
        .unwrap();
    let about_created = events_where(
        &app,
        AuditFilter {
            entity_id: Some(created.id.to_string()),
            ..Default::default()
        },
    )
    .await;
    let create = about_created
        .iter()
        .find(|event| event.event_type == "user.create")
        .unwrap_or_else(|| panic!("a user.create event: {about_created:#?}"));
    assert_eq!(create.action, AuditAction::Create);
    assert_eq!(create.outcome, AuditOutcome::Success);
    assert_eq!(create.actor_id, Some(admin_user.id));
    assert_eq!(create.actor_name, "admin");
    assert_eq!(create.entity_type.as_deref(), Some("User"));
    let after: serde_json::Value =
        serde_json::from_str(create.after.as_deref().expect("after-JSON")).unwrap();
    let after_text = after.to_string();
    assert!(after_text.contains("new.associate"), "{after_text}");
    assert!(after_text.contains("Nova Associate"), "{after_text}");
    assert!(
        !after_text.contains("a-long-enough-password"),
        "no password in the trail: {after_text}"
    );

    // Viewing the audit trail is itself a read event.
    let auditor = app.sign_in_demo("auditor").await;
    let page = auditor.get("/audit").await;
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(page.text().await.unwrap().contains("id=\"audit-events\""));
    let by_auditor = events_where(
        &app,
        AuditFilter {
            actor_name: Some("auditor".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(
        by_auditor
            .iter()
            .any(|event| event.event_type == "audit.search" && event.action == AuditAction::Read),
        "an audit.search read event: {by_auditor:#?}"
    );

    // All of it seals into a chain that verifies.
    app.seal().await;
    let report = benchwork_app::audit::verify_chain(&app.ctx.store, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.n_unsealed, 0);
});

#[tokio::test]
async fn a_failed_read_event_write_fails_the_request() {
    let app = spawn_app(Engine::Sqlite).await;
    app.seed_demo().await;
    let auditor = app.sign_in_demo("auditor").await;
    app.sql(
        "CREATE TRIGGER fail_reads BEFORE INSERT ON audit_event WHEN NEW.action = 'R' \
         BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .await;

    let response = auditor.get("/audit").await;
    assert_eq!(
        response.status(),
        reqwest::StatusCode::INTERNAL_SERVER_ERROR
    );
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("id=\"audit-events\""),
        "the trail must not be shown unaudited: {body}"
    );
    assert!(
        !body.contains("session.sign-in"),
        "no event data on the error page: {body}"
    );

    // Once reads can be recorded again, the page works.
    app.sql("DROP TRIGGER fail_reads").await;
    let response = auditor.get("/audit").await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("id=\"audit-events\"")
    );
}

both_engines!(
    sealing_never_moves_a_head_the_chain_no_longer_contains,
    |app| {
        let head = sealed_demo(&app).await;
        let head_file = app.config.audit_head_file();
        assert_eq!(
            benchwork_app::audit::read_head_file(&head_file).unwrap(),
            head
        );
        // Someone removes the tail, then new work is sealed.
        drop_audit_triggers(&app).await;
        app.sql(&format!(
            "DELETE FROM audit_event WHERE seq > {}",
            head.seq - 3
        ))
        .await;
        app.seed_demo().await; // no-op: the demo exists
        benchwork_app::incidents::raise_validated(
            &app.ctx,
            &benchwork_app::staff::operator("test"),
            app.ctx.store.list_departments().await.unwrap()[0].id,
            benchwork_domain::incident::NewIncident::new(
                benchwork_domain::incident::IncidentKind::Nonconformity,
                benchwork_domain::incident::IncidentCategory::Other,
                benchwork_domain::incident::Severity::NoHarm,
                "after the tampering",
                "new work",
            )
            .unwrap(),
            vec![],
        )
        .await
        .unwrap();
        let sealed = benchwork_app::audit::seal_audit(&app.ctx).await;
        let error = format!("{:#}", sealed.unwrap_err());
        assert!(error.contains("events were removed"), "{error}");
        // The head file still holds the evidence.
        assert_eq!(
            benchwork_app::audit::read_head_file(&head_file).unwrap(),
            head
        );
        let output = app.cli(&[
            "audit",
            "verify",
            "--head-file",
            head_file.to_str().unwrap(),
        ]);
        assert!(!output.status.success());
    }
);

both_engines!(a_refused_action_is_audited, |app| {
    app.seed_demo().await;
    let associate = app.sign_in_demo("associate").await;
    assert_eq!(
        associate.get("/audit").await.status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        associate.get("/staff/new").await.status(),
        reqwest::StatusCode::FORBIDDEN
    );
    let denied = events_where(
        &app,
        AuditFilter {
            actor_name: Some("associate".into()),
            ..AuditFilter::default()
        },
    )
    .await
    .into_iter()
    .filter(|event| event.event_type == "access.denied")
    .collect::<Vec<_>>();
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(
        denied
            .iter()
            .all(|event| event.outcome == AuditOutcome::MinorFailure)
    );
    assert!(
        denied.iter().any(
            |event| event.detail.as_deref() == Some("refused: needs permission ViewAuditTrail")
        )
    );
});
