//! The binary end to end: exit codes, usage errors, train-intent's determinism and
//! eval-intent's JSON shape, on a small synthetic Taobao file.

use std::path::PathBuf;
use std::process::{Command, Output};

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cartsense-lab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cartsense-lab-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// 60 visitors over 3 days: browsing sessions, some with cart adds, some ending in a purchase
/// (more likely after re-views), deterministic.
fn taobao_fixture() -> String {
    let mut out = String::new();
    // 2018-11-25: a year after the Taobao window the shipped default model records, so
    // scoring that model on this fixture is out of sample.
    let t0 = 1_543_104_000u64;
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % 1000
    };
    for user in 1..=60u64 {
        let mut t = t0 + user * 311;
        for _session in 0..6 {
            let events = 2 + next() % 8;
            let item = 1000 + next() % 50;
            let buys = next() % 100 < 10 + 3 * events;
            for e in 0..events {
                let behavior = match next() % 10 {
                    0 => "cart",
                    1 => "fav",
                    _ => "pv",
                };
                out.push_str(&format!("{user},{},{},{behavior},{t}\n", item + e % 3, item % 7));
                t += 30 + next() % 120;
            }
            if buys {
                out.push_str(&format!("{user},{item},{},buy,{t}\n", item % 7));
            }
            t += 3600 + next() * 20;
        }
    }
    out
}

#[test]
fn help_and_usage_errors() {
    let help = lab(&["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("train-intent"));
    let bad = lab(&["eval-intent", "--data", "x.csv", "--format", "parquet"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--format `parquet` is not one of taobao, rees46, otto, ndjson"),
        "{stderr}"
    );
    assert!(stderr.contains("usage:"), "{stderr}");
    assert_eq!(lab(&[]).status.code(), Some(2));
}

#[test]
fn bad_data_exits_1_naming_the_line_unless_skipped() {
    let data = temp("bad.csv");
    std::fs::write(&data, format!("{}1,2,3,click,1511568000\n", taobao_fixture())).unwrap();
    let line = taobao_fixture().lines().count() + 1;
    let path = data.to_str().unwrap();
    let out = temp("bad-model.json");
    let stopped = lab(&[
        "train-intent",
        "--data",
        path,
        "--format",
        "taobao",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(stopped.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        stderr.contains(&format!("line {line}: unknown behavior `click`")),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written");
    let skipped = lab(&[
        "train-intent",
        "--data",
        path,
        "--format",
        "taobao",
        "--on-error",
        "skip",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(skipped.status.success(), "{}", String::from_utf8_lossy(&skipped.stderr));
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(stderr.contains("skipped 1 malformed row(s)"), "{stderr}");
    assert!(out.exists());
}

#[test]
fn train_intent_is_deterministic_and_its_model_loads() {
    let data = temp("fixture.csv");
    std::fs::write(&data, taobao_fixture()).unwrap();
    let out = temp("model.json");
    let args = [
        "train-intent",
        "--data",
        data.to_str().unwrap(),
        "--format",
        "taobao",
        "--out",
        out.to_str().unwrap(),
    ];
    let first = lab(&args);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let a = std::fs::read(&out).unwrap();
    assert!(lab(&args).status.success());
    let b = std::fs::read(&out).unwrap();
    assert_eq!(a, b, "byte-identical");
    let text = String::from_utf8(a).unwrap();
    let model = cartsense::core::intent::Model::parse(&text).unwrap();
    assert!(model.intent.weights.iter().any(|w| *w != 0.0));
    assert!(text.contains("Command: cartsense-lab train-intent --data"), "{text}");
    assert!(text.contains("fixture.csv"));

    // and eval-intent scores it as it is, in the documented JSON shape
    let eval = lab(&[
        "eval-intent",
        "--data",
        data.to_str().unwrap(),
        "--format",
        "taobao",
        "--model",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    // Scored on the very data it learnt from: the figures are in-sample, and the lab says so.
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(
        stderr.starts_with("cartsense-lab: IN-SAMPLE FIGURES: the model was trained on fixture.csv over "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let json = cartsense::core::json::parse(String::from_utf8(eval.stdout).unwrap().trim()).unwrap();
    let warning = json.get("in_sample_warning").and_then(|w| w.as_str()).unwrap();
    assert!(warning.starts_with("IN-SAMPLE FIGURES"), "{warning}");
    assert_eq!(
        json.get("bootstrap")
            .and_then(|b| b.get("resamples"))
            .and_then(|r| r.as_f64()),
        Some(1000.0)
    );
    for task in ["intent", "abandonment"] {
        let t = json.get(task).unwrap();
        let model = t.get("model").unwrap();
        for metric in ["roc_auc", "pr_auc", "log_loss", "brier", "ece"] {
            assert!(model.get(metric).is_some(), "{task}.model.{metric}");
            for baseline in ["base_rate", "cart_nonempty"] {
                assert!(
                    t.get("baselines")
                        .and_then(|b| b.get(baseline))
                        .and_then(|b| b.get(metric))
                        .is_some(),
                    "{task}.baselines.{baseline}.{metric}"
                );
            }
        }
        assert_eq!(
            model.get("roc_auc_ci").and_then(|c| c.as_array()).map(<[_]>::len),
            Some(2)
        );
        // Taobao has no prices: the cart-value baseline is not scored as if it meant something.
        assert_eq!(
            t.get("baselines").and_then(|b| b.get("cart_value")),
            Some(&cartsense::core::json::Value::Null),
            "{task}"
        );
    }
    assert!(json.get("n_sessions").and_then(|n| n.as_f64()).unwrap() > 0.0);
    assert!(json.get("n_events").and_then(|n| n.as_f64()).unwrap() > 0.0);
}

#[test]
fn eval_intent_defaults_to_the_compiled_in_model_and_fit_is_out_of_sample() {
    let data = temp("other-shop.csv");
    std::fs::write(&data, taobao_fixture()).unwrap();
    let path = data.to_str().unwrap();
    let default = lab(&["eval-intent", "--data", path, "--format", "taobao"]);
    assert!(default.status.success(), "{}", String::from_utf8_lossy(&default.stderr));
    let text = String::from_utf8_lossy(&default.stdout);
    assert!(text.contains("model: given: the compiled-in default model"), "{text}");
    // The default model was trained on another file, over another window.
    assert!(!text.contains("IN-SAMPLE"), "{text}");
    assert!(
        default.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&default.stderr)
    );

    let fit = lab(&["eval-intent", "--data", path, "--format", "taobao", "--model", "fit"]);
    assert!(fit.status.success(), "{}", String::from_utf8_lossy(&fit.stderr));
    let text = String::from_utf8_lossy(&fit.stdout);
    assert!(text.contains("model: fitted on the training part"), "{text}");
    assert!(text.contains("n/a (no prices)"), "{text}");
    assert!(!text.contains("IN-SAMPLE"), "{text}");
}
