//! Delta check rules per investigation (issue 3 item 5): the demo rule of
//! potassium (1.0 mmol/L within 7 days) is used instead of the default
//! 50% within a year, a result outside the window is not compared, a rule
//! edited through the form makes a new version that new results use, and
//! a bad rule is refused with the entry kept and nothing stored.

use benchwork_domain::request::AccessionNumber;
use reqwest::StatusCode;

use crate::both_engines;
use crate::flow::{DANIEL, book, enter, results_of, specimen_steps};
use crate::helpers::TestApp;

/// Books, receives and results a potassium for Daniel, signed in afresh
/// (the clock moves by days, beyond a session's lifetime).
async fn potassium(app: &TestApp, value: &str) -> (String, Option<String>) {
    let associate = &app.sign_in_demo("associate").await;
    let accession: AccessionNumber = book(app, associate, &DANIEL, "routine", &["K"]).await;
    specimen_steps(associate, &accession, &["collected", "received"]).await;
    let response = enter(associate, &accession, &[("K", value)], &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{value}");
    let result = results_of(app, &accession).await.remove(0);
    (result.delta_outcome.unwrap(), result.delta_detail)
}

fn potassium_form(delta: [(&'static str, &'static str); 3]) -> Vec<(&'static str, &'static str)> {
    let mut fields = vec![
        ("name", "Potassium"),
        ("loinc", "2823-3"),
        ("discipline", "blood-sciences"),
        ("method", "Indirect ion-selective electrode"),
        ("result_type", "numeric"),
        ("unit", "mmol/L"),
        ("decimal_places", "1"),
        ("reportable_low", "1"),
        ("reportable_high", "10"),
        ("specimen_type", "Serum"),
        ("container", "Serum gel (gold top)"),
        ("tat_routine", "240"),
        ("tat_urgent", "60"),
        ("competency_code", "BS-CHEM-AUTO"),
        ("sop_code", "SOP-BS-010"),
        ("interval_0_sex", ""),
        ("interval_0_age_from", "18y"),
        ("interval_0_age_to", ""),
        ("interval_0_low", "3.5"),
        ("interval_0_high", "5.3"),
        ("interval_0_source", "Pathology Harmony"),
        ("critical_low", "2.5"),
        ("critical_high", "6.5"),
        ("critical_source", "RCPath G158 (2017), approved locally"),
        ("based_on_version", "1"),
    ];
    fields.extend(delta);
    fields
}

both_engines!(
    potassium_uses_its_own_delta_rule_and_an_edited_rule_makes_a_new_version,
    |app| {
        // Arrange
        app.seed_demo().await;
        let day = jiff::SignedDuration::from_hours(24);

        // Act: 4.0, then 5.2 two days later (+1.2 mmol/L, +30%).
        let (first, _) = potassium(&app, "4.0").await;
        app.clock.advance(day * 2);
        let (second, detail) = potassium(&app, "5.2").await;

        // Assert: beyond potassium's 1.0 mmol/L although within the
        // default 50%.
        assert_eq!(first, "not-applicable");
        assert_eq!(second, "failed");
        let detail = detail.unwrap();
        assert!(detail.contains("1 mmol/L within 7 days"), "{detail}");
        assert!(detail.contains("this investigation's rule"), "{detail}");

        // Act: 10 days later, outside the 7-day window.
        app.clock.advance(day * 10);
        let (third, _) = potassium(&app, "4.0").await;

        // Assert: not compared with 5.2.
        assert_eq!(third, "not-applicable");

        // Act: a bad rule through the form.
        let scientist = app.sign_in_demo("scientist").await;
        let response = scientist
            .post(
                "/catalogue/K/edit",
                &potassium_form([
                    ("delta_absolute", "-1"),
                    ("delta_percent", "lots"),
                    ("delta_window_days", "0"),
                ]),
            )
            .await;

        // Assert: refused next to each field, the entry kept, nothing stored.
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        for field in ["delta_absolute", "delta_percent", "delta_window_days"] {
            assert!(page.contains(&format!("href=\"#{field}\"")), "{field}");
        }
        assert!(page.contains("value=\"lots\""));
        assert!(page.contains("value=\"-1\""));
        let current = app.ctx.store.get_investigation_by_code("K").await.unwrap();
        assert_eq!(current.version, 1);

        // Act: a good rule, 0.5 mmol/L within 7 days.
        let response = scientist
            .post(
                "/catalogue/K/edit",
                &potassium_form([
                    ("delta_absolute", "0.5"),
                    ("delta_percent", ""),
                    ("delta_window_days", "7"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);

        // Assert: version 2 carries it, the page shows it, and a new result
        // one day later (+0.7, within the old 1.0) fails the new rule.
        let current = app.ctx.store.get_investigation_by_code("K").await.unwrap();
        assert_eq!(current.version, 2);
        let rule = current.definition.parts().delta_rule.unwrap();
        assert_eq!((rule.absolute(), rule.window_days()), (Some(0.5), 7));
        let show = scientist.get("/catalogue/K").await.text().await.unwrap();
        assert!(show.contains("A change of more than 0.5 mmol/L within 7 days"));
        app.clock.advance(day);
        let (fourth, _) = potassium(&app, "4.7").await;
        assert_eq!(fourth, "failed");
    }
);
