//! The MCMC diagnostics agree with ArviZ on the same draws to 1e-6 (relative).
//! The fixture holds draws and ArviZ's values for them; it is produced by
//! `tests/fixtures/make_arviz_diagnostics.py` with arviz 0.23.4.

use sdelang::output::diagnostics::{diagnose, ess_mean};
use serde_json::Value;

fn draws(case: &Value) -> Vec<Vec<f64>> {
    case["draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= 1e-6 * theirs.abs().max(1e-12)
}

#[test]
fn rhat_ess_and_mcse_agree_with_arviz() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/arviz_diagnostics.json"
    ))
    .unwrap();
    let fixture: Value = serde_json::from_str(&text).unwrap();
    let cases = fixture.as_object().unwrap();
    assert!(cases.len() >= 7);
    let mut checked = 0;
    let mut worst: f64 = 0.0;
    for (name, case) in cases {
        let chains = draws(case);
        let d = diagnose(&chains);
        let pairs = [
            ("rhat", d.rhat),
            ("ess_bulk", d.ess_bulk),
            ("ess_tail", d.ess_tail),
            ("ess_mean", ess_mean(&chains)),
            ("mcse_mean", d.mcse_mean),
            ("mcse_sd", d.mcse_sd),
            ("mcse_q05", d.mcse_quantiles[0]),
            ("mcse_q50", d.mcse_quantiles[1]),
            ("mcse_q95", d.mcse_quantiles[2]),
            ("q05", d.quantiles[0]),
            ("q50", d.quantiles[1]),
            ("q95", d.quantiles[2]),
        ];
        for (key, ours) in pairs {
            let theirs = case[key].as_f64().unwrap();
            worst = worst.max((ours - theirs).abs() / theirs.abs().max(1e-12));
            assert!(close(ours, theirs), "{name}.{key}: ours {ours} vs ArviZ {theirs}");
            checked += 1;
        }
    }
    assert_eq!(checked, 12 * cases.len());
    println!("{checked} values agree with ArviZ; worst relative difference {worst:.2e}");
}

#[test]
fn a_stuck_chain_is_flagged() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/arviz_diagnostics.json"
    ))
    .unwrap();
    let fixture: Value = serde_json::from_str(&text).unwrap();
    assert!(diagnose(&draws(&fixture["stuck_chain"])).rhat > 1.01);
    assert!(diagnose(&draws(&fixture["ar1_mixing"])).rhat < 1.01);
}
