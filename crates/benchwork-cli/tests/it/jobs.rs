//! The job runner: jobs run once, survive a crashed runner through lease
//! expiry, retry with back-off, and recur.

use std::sync::atomic::{AtomicUsize, Ordering};

use benchwork_app::jobs::{JobRegistry, enqueue, run_due_jobs};
use jiff::SignedDuration;

use crate::both_engines;

static N_COUNTED: AtomicUsize = AtomicUsize::new(0);

fn registry() -> JobRegistry {
    let mut registry = JobRegistry::standard();
    registry.register("test.count", |_ctx, _job| {
        Box::pin(async {
            N_COUNTED.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    });
    registry.register("test.flaky", |_ctx, job| {
        Box::pin(async move {
            // Fails on its first attempt only.
            if job.attempts == 1 {
                anyhow::bail!("the first attempt fails");
            }
            Ok(())
        })
    });
    registry
}

both_engines!(a_due_job_runs_once_and_a_future_job_waits, |app| {
    let registry = registry();
    let before = N_COUNTED.load(Ordering::SeqCst);
    let now = app.ctx.now();
    enqueue(&app.ctx, "test.count", serde_json::json!({}), now)
        .await
        .unwrap();
    enqueue(
        &app.ctx,
        "test.count",
        serde_json::json!({}),
        now.checked_add(SignedDuration::from_mins(10)).unwrap(),
    )
    .await
    .unwrap();
    // The recurring session purge is due too (scheduled at start-up).
    assert_eq!(run_due_jobs(&app.ctx, &registry).await.unwrap(), 2);
    assert_eq!(
        run_due_jobs(&app.ctx, &registry).await.unwrap(),
        0,
        "nothing runs twice"
    );
    app.clock.advance(SignedDuration::from_mins(11));
    assert_eq!(run_due_jobs(&app.ctx, &registry).await.unwrap(), 1);
    assert!(N_COUNTED.load(Ordering::SeqCst) >= before + 2);
    // The recurring purge comes back an hour after it last ran.
    app.clock.advance(SignedDuration::from_mins(50));
    assert_eq!(app.run_due_jobs().await, 1);
});

both_engines!(a_failed_job_is_retried_with_back_off, |app| {
    let registry = registry();
    // Let the start-up purge run first so that only the flaky job is counted.
    app.run_due_jobs().await;
    enqueue(&app.ctx, "test.flaky", serde_json::json!({}), app.ctx.now())
        .await
        .unwrap();
    assert_eq!(run_due_jobs(&app.ctx, &registry).await.unwrap(), 1);
    // Not retried at once...
    assert_eq!(run_due_jobs(&app.ctx, &registry).await.unwrap(), 0);
    // ...but after the back-off delay, and then it succeeds for good.
    app.clock.advance(SignedDuration::from_secs(11));
    assert_eq!(run_due_jobs(&app.ctx, &registry).await.unwrap(), 1);
    app.clock.advance(SignedDuration::from_mins(5));
    assert_eq!(run_due_jobs(&app.ctx, &registry).await.unwrap(), 0);
});

both_engines!(
    a_job_held_by_a_dead_runner_is_taken_over_after_its_lease,
    |app| {
        app.run_due_jobs().await;
        enqueue(&app.ctx, "test.count", serde_json::json!({}), app.ctx.now())
            .await
            .unwrap();
        // Another app server claims the job and dies without reporting.
        let now = app.ctx.now();
        let claimed = app
            .ctx
            .store
            .claim_job(
                "dead-node",
                now,
                now.checked_add(SignedDuration::from_mins(5)).unwrap(),
            )
            .await
            .unwrap()
            .expect("the job is claimed");
        // While the lease holds, nobody else runs it.
        assert_eq!(run_due_jobs(&app.ctx, &registry()).await.unwrap(), 0);
        app.clock.advance(SignedDuration::from_mins(6));
        assert_eq!(run_due_jobs(&app.ctx, &registry()).await.unwrap(), 1);
        // The dead runner's late report is refused: the completion is recorded once.
        let late = app
            .ctx
            .store
            .complete_job(&claimed, None, app.ctx.now())
            .await;
        assert!(late.is_err());
        let job = app.ctx.store.get_job(claimed.job.id).await.unwrap();
        assert_eq!(job.status, "succeeded");
    }
);

both_engines!(expired_sessions_are_purged_by_the_job, |app| {
    app.seed_demo().await;
    let session = app.sign_in_demo("associate").await;
    let user = app
        .ctx
        .store
        .get_user_by_username("associate")
        .await
        .unwrap();
    assert_eq!(app.ctx.store.count_sessions(user.id).await.unwrap(), 1);
    app.run_due_jobs().await;
    assert_eq!(app.ctx.store.count_sessions(user.id).await.unwrap(), 1);
    app.clock.advance(SignedDuration::from_mins(61));
    assert_eq!(app.run_due_jobs().await, 1);
    assert_eq!(app.ctx.store.count_sessions(user.id).await.unwrap(), 0);
    drop(session);
});
