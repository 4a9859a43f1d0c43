//! What an exported stack needs to work as `up`'s does, beyond the goldens: moto shares the
//! gateway's network namespace (its Step Functions tasks call `localhost:$MOTO_PORT`, the
//! gateway), the fake cell's index servers are reachable at the `marqoEndpoint` it advertises,
//! and the seed job gets the team's `[[lambdas]]` / `[[state_machines]]` (or the export says
//! which it could not ship).

use std::process::Command;

use orchestrator::export::{compose, k8s, model};

use super::{EXAMPLE, WORKFLOW, export_all, file_of, orchestrator, project, resolved};
use crate::harness::BIN;

#[test]
fn moto_shares_the_gateways_network_namespace() {
    let dir = project(EXAMPLE);
    let r = resolved(dir.path(), 0);
    let opts = model::Options {
        image: "hippodrome:latest".into(),
        seed: 42,
    };
    let stack = model::build(&r, &opts).expect("stack");
    let unit = |h: &str| stack.units.iter().find(|u| u.host == h).expect(h);
    let (moto, gw) = (unit("moto"), unit("aws-gateway"));
    assert_eq!(moto.netns.as_deref(), Some("aws-gateway"));
    // Step Functions' localhost:$MOTO_PORT is then the gateway.
    assert_eq!(
        moto.env.get("MOTO_PORT").map(String::as_str),
        Some(gw.port.expect("gateway port").to_string().as_str())
    );
    let moto_port = moto.port.expect("moto port");
    // The gateway reaches moto on loopback; everyone else at the gateway's name.
    let gw_cmd = gw.command.as_ref().expect("gateway command").join(" ");
    assert!(
        gw_cmd.contains(&format!("--moto-url http://127.0.0.1:{moto_port}")),
        "{gw_cmd}"
    );
    let files = export_all(dir.path());
    assert!(
        !files.iter().any(|(f, _)| f == "k8s/base/moto.yaml"),
        "moto has no workload of its own"
    );
    let gw_yaml = file_of(&files, "k8s/base/aws-gateway.yaml");
    let docs: Vec<serde_json::Value> = k8s::documents(&stack, "hippodrome")
        .into_iter()
        .filter(|(f, _)| f == "aws-gateway.yaml")
        .flat_map(|(_, d)| d)
        .collect();
    let deploy = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("Deployment");
    let names: Vec<&str> = deploy["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["aws-gateway", "moto"], "{gw_yaml}");
    let svc = docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("Service");
    let ports: Vec<u64> = svc["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["port"].as_u64())
        .collect();
    assert_eq!(ports, [9003, u64::from(moto_port)]);
    // Layer 1 waits for moto at the address it now has.
    let controller = file_of(&files, "k8s/base/controller.yaml");
    assert!(
        controller.contains(&format!("http://aws-gateway:{moto_port}/moto-api/")),
        "{controller}"
    );
    let compose_doc = compose::document(&stack);
    let m = &compose_doc["services"]["moto"];
    assert_eq!(m["network_mode"], "service:aws-gateway");
    assert!(m.get("ports").is_none(), "published on the gateway: {m}");
    let published = compose_doc["services"]["aws-gateway"]["ports"].to_string();
    assert!(
        published.contains(&format!("127.0.0.1:{moto_port}:{moto_port}")),
        "{published}"
    );
}

#[test]
fn the_cells_index_servers_are_reachable_under_the_name_it_advertises() {
    let dir = project(EXAMPLE);
    let files = export_all(dir.path());
    let cell = file_of(&files, "k8s/base/fake-cell.yaml");
    // marqoEndpoint names fake-cell, whose Service carries every index port.
    assert!(
        cell.contains("\"--public-host\"\n            - \"fake-cell\""),
        "{cell}"
    );
    for p in [9100, 9150, 9199] {
        assert!(
            cell.contains(&format!("name: \"index-{p}\"\n      port: {p}\n")),
            "index port {p} on the Service"
        );
    }
    assert!(!cell.contains("port: 9200\n"));
    let compose_text = file_of(&files, "compose.yaml");
    assert!(compose_text.contains("\"--public-host\"\n      - \"fake-cell\""));
    // With an offset, the range and the Service move together.
    let r = resolved(dir.path(), 100);
    let opts = model::Options {
        image: "hippodrome:latest".into(),
        seed: 1,
    };
    let stack = model::build(&r, &opts).expect("stack");
    let docs = k8s::documents(&stack, "hippodrome");
    let (_, cell_docs) = docs
        .iter()
        .find(|(f, _)| f == "fake-cell.yaml")
        .expect("fake-cell.yaml");
    let svc = cell_docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("Service");
    let ports: Vec<u64> = svc["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["port"].as_u64())
        .collect();
    assert_eq!(ports.len(), 101, "the cell's port and 100 index ports");
    assert_eq!((ports[0], ports[1], ports[100]), (9101, 9200, 9299));
}

#[test]
fn the_seed_job_gets_the_teams_lambdas_and_state_machines() {
    let dir = project(EXAMPLE);
    let files = export_all(dir.path());
    let job = file_of(&files, "k8s/base/seed-job.yaml");
    for want in [
        "kind: \"ConfigMap\"",
        "name: \"hippodrome-seed-team\"",
        "IndexExportFlow.asl.json: ",
        "mountPath: \"/etc/hippodrome/seed\"",
        "name: \"HIPPODROME_SEED_TEAM\"",
    ] {
        assert!(job.contains(want), "{want} missing in {job}");
    }
    let compose_text = file_of(&files, "compose.yaml");
    let doc: serde_json::Value = {
        let r = resolved(dir.path(), 0);
        let opts = model::Options {
            image: "hippodrome:latest".into(),
            seed: 42,
        };
        compose::document(&model::build(&r, &opts).expect("stack"))
    };
    let content = doc["configs"]["seed-IndexExportFlow.asl.json"]["content"]
        .as_str()
        .expect("the definition as a config");
    // Compose would interpolate `${lambda:…}`: written `$${lambda:…}`, read back as the file.
    assert_eq!(content.replace("$$", "$"), WORKFLOW);
    assert!(compose_text.contains("/etc/hippodrome/seed/team.json"));
    // What the seed job reads back from the mount: the team's function and machine.
    let team_dir = dir.path().join("team");
    std::fs::create_dir_all(&team_dir).expect("team dir");
    let index = doc["configs"]["seed-team.json"]["content"]
        .as_str()
        .expect("team.json");
    std::fs::write(team_dir.join("team.json"), index.replace("$$", "$")).expect("write");
    let (lambdas, machines) =
        orchestrator::export::team::load(&team_dir).expect("the seed job reads it");
    assert_eq!(lambdas[0].name, "admin_lambda");
    assert_eq!(
        (lambdas[0].timeout_s, lambdas[0].target.as_str()),
        (30, "service admin_lambda")
    );
    assert_eq!(machines[0].name, "IndexExportFlow");
    assert_eq!(
        machines[0].definition,
        team_dir.join("IndexExportFlow.asl.json")
    );
}

#[test]
fn an_unreadable_state_machine_is_listed_as_skipped_and_doctor_warns() {
    let dir = project(EXAMPLE);
    std::fs::remove_file(dir.path().join("workflows/index_export.asl.json")).expect("rm");
    let out = orchestrator(dir.path(), &["export", "compose"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("skipped state machine IndexExportFlow: cannot read"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# skipped state machine IndexExportFlow"));
    assert!(
        !text.contains("IndexExportFlow.asl.json"),
        "nothing shipped for it"
    );
    let doctor = Command::new(BIN)
        .args(["doctor", "--json", "--target", "compose", "--project-root"])
        .arg(dir.path().join("project"))
        .output()
        .expect("run doctor");
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        report.contains("state machine IndexExportFlow cannot be shipped"),
        "{report}"
    );
}

#[test]
fn the_seed_job_fails_when_the_team_files_it_was_promised_are_missing() {
    let dir = project(EXAMPLE);
    let out = Command::new(BIN)
        .args(["seed-job", "--out"])
        .arg(dir.path().join("seed-out"))
        .arg("--project-root")
        .arg(dir.path().join("project"))
        // Never contacted: the team files are read before any service is.
        .env("COGNITO_URL", "http://127.0.0.1:1")
        .env("TABLE_PREFIX", "t-")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .env("MARQO_URL", "http://127.0.0.1:1")
        .env(
            orchestrator::export::team::ENV,
            dir.path().join("no-such-mount"),
        )
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read") && err.contains("no-such-mount/team.json"),
        "{err}"
    );
}
