use super::*;

/// Evaluates `runs` one at a time, as they would arrive, and returns each
/// run's rules that fired as (run number from 1, rule code).
fn fired_run_by_run(runs: &[RunZ], rules: &RuleSet) -> Vec<(usize, &'static str)> {
    let mut fired = Vec::new();
    for end in 1..=runs.len() {
        for rule in evaluate(&runs[..end], rules).rules() {
            fired.push((end, rule.code()));
        }
    }
    fired
}

fn single_level(z: &[f64]) -> Vec<RunZ> {
    z.iter().map(|z| RunZ::of(&[*z])).collect()
}

fn two_levels(pairs: &[(f64, f64)]) -> Vec<RunZ> {
    pairs.iter().map(|(a, b)| RunZ::of(&[*a, *b])).collect()
}

fn p(run: usize, level: usize) -> PointRef {
    PointRef { run, level }
}

fn set(codes: &str) -> RuleSet {
    RuleSet::parse(codes).unwrap()
}

#[test]
fn the_published_practice_scenarios_fire_where_their_authors_say() {
    // Six series from westgard-sim (MIT), one level, judged with the three
    // rules the source evaluates. Expected, worked out from the z-values:
    // - in control: every |z| <= 1.4, nothing fires;
    // - isolated warning: run 9 is +2.4, 1-2s only (run 8 is -0.4);
    // - single extreme: run 8 is -3.3, 1-3s and 1-2s; its neighbours are
    //   +1.0 and +0.6, so no 2-2s;
    // - systematic shift: runs 7 and 8 are +2.3 and +2.6: 1-2s at both and
    //   2-2s at 8; run 9 is +1.8, nothing;
    // - boundary: run 8 is exactly +2.0, which does not exceed 2 SD;
    // - distractor: runs 7 and 8 are +2.3 and -2.4, 1-2s at both, but on
    //   opposite sides, so no 2-2s (and no R-4s: that is within a run only).
    let data: serde_json::Value = serde_json::from_str(include_str!(
        "../../testdata/westgard/practice_scenarios.json"
    ))
    .unwrap();
    assert_eq!(data["mean"], 100.0);
    let expected: &[(&str, &[(usize, &str)])] = &[
        ("in-control-01", &[]),
        ("warning-1-2s-01", &[(9, "1-2s")]),
        ("reject-1-3s-01", &[(8, "1-2s"), (8, "1-3s")]),
        ("reject-2-2s-01", &[(7, "1-2s"), (8, "1-2s"), (8, "2-2s")]),
        ("boundary-exact-2s-01", &[]),
        ("distractor-opposite-01", &[(7, "1-2s"), (8, "1-2s")]),
    ];
    let scenarios = data["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), expected.len());
    for (id, fired) in expected {
        let scenario = scenarios.iter().find(|s| s["id"] == *id).unwrap();
        // The values as a laboratory would enter them: mean 100, SD 2.
        let target = QcTarget::new(100.0, 2.0).unwrap();
        let z: Vec<f64> = scenario["z_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| target.z(100.0 + 2.0 * z.as_f64().unwrap()))
            .collect();
        let got = fired_run_by_run(&single_level(&z), &set("1-2s/1-3s/2-2s"));
        assert_eq!(&got, fired, "{id}");
        // And with R-4s added, the opposite-side pair still does not fire.
        let got = fired_run_by_run(&single_level(&z), &set("1-2s/1-3s/2-2s/R-4s"));
        assert_eq!(&got, fired, "{id} with R-4s");
    }
}

#[test]
fn the_full_two_level_set_also_finds_the_shift_by_4_1s() {
    // The shift scenario's runs 6-9 are +1.2, +2.3, +2.6, +1.8: four
    // consecutive values beyond +1 SD, so 4-1s fires at run 9 (and only
    // there: run 10 is +0.4).
    let z = [0.5, -0.4, 0.7, -0.6, 0.9, 1.2, 2.3, 2.6, 1.8, 0.4];
    let got = fired_run_by_run(&single_level(&z), &RuleSet::two_level());
    assert_eq!(got, [(7, "1-2s"), (8, "1-2s"), (8, "2-2s"), (9, "4-1s")]);
}

#[test]
fn limits_are_strict() {
    // Exactly 3 SD is not beyond 3 SD; just past it is.
    let at = evaluate(&single_level(&[-3.0]), &RuleSet::two_level());
    assert_eq!(at.rules(), [Rule::OneTwoS].into());
    assert_eq!(at.decision, RunDecision::Warning);
    let past = evaluate(&single_level(&[-3.01]), &RuleSet::two_level());
    assert_eq!(past.rules(), [Rule::OneTwoS, Rule::OneThreeS].into());
    assert_eq!(past.decision, RunDecision::Reject);
}

#[test]
fn r_4s_fires_within_a_run_and_never_across_runs() {
    // One run: level 1 at +2.5 and level 2 at -2.1: a range over 4 SD.
    let within = evaluate(&two_levels(&[(2.5, -2.1)]), &RuleSet::two_level());
    let r4s: Vec<_> = within
        .violations
        .iter()
        .filter(|v| v.rule == Rule::RFourS)
        .collect();
    assert_eq!(r4s.len(), 1);
    assert_eq!(r4s[0].scope, Scope::WithinRun);
    assert_eq!(r4s[0].points, [p(0, 0), p(0, 1)]);
    assert_eq!(within.decision, RunDecision::Reject);
    // The same values in two runs of one level: only 1-2s each time.
    let across = single_level(&[2.5, -2.1]);
    assert_eq!(
        fired_run_by_run(&across, &RuleSet::two_level()),
        [(1, "1-2s"), (2, "1-2s")]
    );
}

#[test]
fn two_2s_fires_across_levels_in_a_run_and_across_runs_in_a_level() {
    // Within the run: both levels beyond +2 SD.
    let within = evaluate(&two_levels(&[(2.1, 2.2)]), &set("2-2s"));
    assert_eq!(
        within.violations,
        [Violation {
            rule: Rule::TwoTwoS,
            scope: Scope::WithinRun,
            points: vec![p(0, 0), p(0, 1)]
        }]
    );
    // Across runs in level 2: +2.1 then +2.4; level 1 stays near the mean.
    let across = evaluate(&two_levels(&[(0.0, 2.1), (0.3, 2.4)]), &set("2-2s"));
    assert_eq!(
        across.violations,
        [Violation {
            rule: Rule::TwoTwoS,
            scope: Scope::AcrossRuns { level: 1 },
            points: vec![p(0, 1), p(1, 1)]
        }]
    );
    // Level 1 beyond +2 then level 2 beyond +2 in the next run: different
    // levels in different runs are neither form.
    let neither = evaluate(&two_levels(&[(2.1, 0.0), (0.0, 2.1)]), &set("2-2s"));
    assert!(neither.violations.is_empty());
}

#[test]
fn four_1s_fires_within_a_level_and_across_levels() {
    // Level 1: +1.1, +1.5, +1.2, +1.3 over four runs; level 2 near zero.
    // Fires at run 4 within level 1, not before.
    let runs = two_levels(&[(1.1, 0.1), (1.5, -0.2), (1.2, 0.0), (1.3, 0.3)]);
    assert_eq!(fired_run_by_run(&runs, &set("4-1s")), [(4, "4-1s")]);
    let at_four = evaluate(&runs, &set("4-1s"));
    assert_eq!(at_four.violations[0].scope, Scope::AcrossRuns { level: 0 });
    assert_eq!(
        at_four.violations[0].points,
        [p(0, 0), p(1, 0), p(2, 0), p(3, 0)]
    );
    // Two runs × two levels all below -1 SD: across levels only (each level
    // alone has two).
    let runs = two_levels(&[(-1.2, -1.4), (-1.1, -1.6)]);
    let across = evaluate(&runs, &set("4-1s"));
    assert_eq!(
        across.violations,
        [Violation {
            rule: Rule::FourOneS,
            scope: Scope::AcrossRunsAndLevels,
            points: vec![p(0, 0), p(0, 1), p(1, 0), p(1, 1)]
        }]
    );
    // One of the four at exactly -1 SD: not beyond, nothing fires.
    let runs = two_levels(&[(-1.2, -1.0), (-1.1, -1.6)]);
    assert!(evaluate(&runs, &set("4-1s")).violations.is_empty());
}

#[test]
fn ten_x_fires_on_the_tenth_value_on_one_side() {
    // Level 1 at +0.5 for ten runs; level 2 alternates sides. Fires at run
    // 10 within level 1 only.
    let runs: Vec<RunZ> = (0..10)
        .map(|i| RunZ::of(&[0.5, if i % 2 == 0 { 0.4 } else { -0.4 }]))
        .collect();
    assert_eq!(fired_run_by_run(&runs, &set("10x")), [(10, "10x")]);
    // Five runs × two levels, all slightly low: across levels at run 5.
    let runs = two_levels(&[(-0.3, -0.2); 5]);
    let fired = evaluate(&runs, &set("10x"));
    assert_eq!(fired.violations.len(), 1);
    assert_eq!(fired.violations[0].scope, Scope::AcrossRunsAndLevels);
    assert_eq!(fired.violations[0].points.len(), 10);
    assert!(evaluate(&runs[..4], &set("10x")).violations.is_empty());
}

#[test]
fn a_value_exactly_at_the_mean_breaks_a_run_of_one_side() {
    // Nine values above the mean, one exactly at it, then one above: the
    // longest run ending at the last value is one long.
    let mut z = vec![0.5; 9];
    z.push(0.0);
    z.push(0.5);
    assert!(fired_run_by_run(&single_level(&z), &set("10x")).is_empty());
}

#[test]
fn an_old_violation_is_not_reported_again() {
    // Run 1 fails 1-3s; run 2 is in control and is accepted.
    let runs = two_levels(&[(3.5, 0.0), (0.1, 0.2)]);
    let second = evaluate(&runs, &RuleSet::two_level());
    assert_eq!(second.decision, RunDecision::Accept);
    assert!(second.violations.is_empty());
}

#[test]
fn a_level_missing_from_a_run_is_skipped_in_its_series() {
    // Level 1: +2.5, (not run), +2.4: consecutive values of that level.
    let runs = vec![
        RunZ {
            z: vec![Some(2.5), Some(0.1)],
        },
        RunZ {
            z: vec![None, Some(0.2)],
        },
        RunZ {
            z: vec![Some(2.4), Some(0.0)],
        },
    ];
    let third = evaluate(&runs, &set("2-2s"));
    assert_eq!(
        third.violations,
        [Violation {
            rule: Rule::TwoTwoS,
            scope: Scope::AcrossRuns { level: 0 },
            points: vec![p(0, 0), p(2, 0)]
        }]
    );
    // A run with no values judges nothing.
    let empty = vec![RunZ {
        z: vec![None, None],
    }];
    assert_eq!(
        evaluate(&empty, &RuleSet::two_level()).decision,
        RunDecision::Accept
    );
}

#[test]
fn the_three_level_forms_fire_within_runs_and_across_runs() {
    let rules = RuleSet::three_level();
    // 2of3-2s within the run: levels 1 and 3 beyond +2 SD.
    let run = evaluate(&[RunZ::of(&[2.1, 0.2, 2.3])], &rules);
    assert!(run.violations.contains(&Violation {
        rule: Rule::TwoOfThreeTwoS,
        scope: Scope::WithinRun,
        points: vec![p(0, 0), p(0, 2)]
    }));
    // 2of3-2s across runs in level 1: -2.1, -0.5, -2.2.
    let runs = [
        RunZ::of(&[-2.1, 0.0, 0.1]),
        RunZ::of(&[-0.5, 0.1, 0.0]),
        RunZ::of(&[-2.2, 0.2, -0.1]),
    ];
    let third = evaluate(&runs, &rules);
    assert!(third.violations.contains(&Violation {
        rule: Rule::TwoOfThreeTwoS,
        scope: Scope::AcrossRuns { level: 0 },
        points: vec![p(0, 0), p(2, 0)]
    }));
    // 3-1s within the run: all three levels beyond +1 SD.
    let run = evaluate(&[RunZ::of(&[1.1, 1.2, 1.3])], &rules);
    assert_eq!(
        run.violations,
        [Violation {
            rule: Rule::ThreeOneS,
            scope: Scope::WithinRun,
            points: vec![p(0, 0), p(0, 1), p(0, 2)]
        }]
    );
    // 6x across runs and levels: two runs, three levels, all above the mean.
    let runs = [RunZ::of(&[0.4, 0.2, 0.3]), RunZ::of(&[0.1, 0.5, 0.6])];
    let second = evaluate(&runs, &rules);
    assert_eq!(second.rules(), [Rule::SixX].into());
    assert_eq!(second.violations[0].scope, Scope::AcrossRunsAndLevels);
    // R-4s with three levels.
    let run = evaluate(&[RunZ::of(&[2.2, 0.0, -2.3])], &rules);
    assert!(run.rules().contains(&Rule::RFourS));
}

#[test]
fn only_1_2s_is_a_warning_and_every_rule_is_still_evaluated() {
    // +2.2 in both levels: 1-2s twice and 2-2s; the warning does not stop
    // 2-2s being found, and the run is rejected.
    let run = evaluate(&two_levels(&[(2.2, 2.2)]), &RuleSet::two_level());
    assert_eq!(run.rules(), [Rule::OneTwoS, Rule::TwoTwoS].into());
    assert_eq!(run.decision, RunDecision::Reject);
    let warn = evaluate(&two_levels(&[(2.2, 0.0)]), &RuleSet::two_level());
    assert_eq!(warn.decision, RunDecision::Warning);
}

#[test]
fn rule_codes_parse_in_the_usual_spellings() {
    assert_eq!(Rule::parse("1-3s"), Ok(Rule::OneThreeS));
    assert_eq!(Rule::parse("13s"), Ok(Rule::OneThreeS));
    assert_eq!(Rule::parse("r4s"), Ok(Rule::RFourS));
    assert_eq!(Rule::parse(" 2of3-2s "), Ok(Rule::TwoOfThreeTwoS));
    assert_eq!(Rule::parse("10x"), Ok(Rule::TenX));
    assert_eq!(Rule::parse("7x"), Err(QcError::UnknownRule("7x".into())));
    for rule in Rule::ALL {
        assert_eq!(Rule::parse(rule.code()), Ok(rule));
    }
    assert_eq!(set("1-2s/1-3s/2-2s/R-4s").codes(), "1-2s/1-3s/2-2s/R-4s");
    assert_eq!(RuleSet::parse("1-2s"), Err(QcError::NoRejectionRule));
    assert_eq!(RuleSet::parse(""), Err(QcError::NoRejectionRule));
}

#[test]
fn a_target_needs_a_positive_sd() {
    assert_eq!(QcTarget::new(5.0, 0.0), Err(QcError::InvalidSd));
    assert_eq!(QcTarget::new(5.0, -0.1), Err(QcError::InvalidSd));
    assert_eq!(QcTarget::new(5.0, f64::NAN), Err(QcError::InvalidSd));
    assert_eq!(QcTarget::new(f64::INFINITY, 0.1), Err(QcError::InvalidMean));
    let target = QcTarget::new(4.0, 0.1).unwrap();
    assert!((target.z(4.25) - 2.5).abs() < 1e-9);
}

#[test]
fn sigma_is_allowable_error_less_bias_over_cv() {
    // DOMAIN.md §3.5: TEa 10 %, bias 2 %, CV 2 % gives 4.0.
    assert_eq!(sigma_metric(10.0, 2.0, 2.0), Ok(4.0));
    assert_eq!(sigma_metric(10.0, -2.0, 2.0), Ok(4.0));
    assert_eq!(sigma_metric(10.0, 2.0, 0.0), Err(QcError::InvalidCv));
    assert_eq!(sigma_metric(f64::NAN, 2.0, 1.0), Err(QcError::InvalidGoal));
}

#[test]
fn higher_sigma_suggests_fewer_rules() {
    assert_eq!(rules_for_sigma(6.2, 2).rules.codes(), "1-3s");
    assert_eq!(rules_for_sigma(5.0, 2).rules.codes(), "1-3s/2-2s/R-4s");
    assert_eq!(rules_for_sigma(4.5, 2).rules.codes(), "1-3s/2-2s/R-4s/4-1s");
    let poor = rules_for_sigma(3.1, 2);
    assert_eq!(poor.rules.codes(), "1-3s/2-2s/R-4s/4-1s/8x");
    assert_eq!(poor.measurements_per_run, 4);
    assert_eq!(
        rules_for_sigma(3.1, 3).rules.codes(),
        "1-3s/R-4s/2of3-2s/3-1s/6x"
    );
}
