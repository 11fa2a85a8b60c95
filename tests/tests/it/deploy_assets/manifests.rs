//! The compose file and the Kubernetes manifests.

use super::*;

#[test]
fn the_compose_file_runs_redis_with_aof_the_api_two_workers_the_simulator_and_monitoring() {
    let compose = yaml("compose.yaml");
    let services = compose["services"].as_object().unwrap();
    for name in ["redis", "api", "worker", "simulator", "prometheus", "grafana"] {
        assert!(services.contains_key(name), "compose.yaml has no service {name}");
    }
    let redis = serde_json::to_string(&services["redis"]["command"]).unwrap();
    assert!(redis.contains(r#""--appendonly","yes""#), "{redis}");
    assert!(services["redis"]["volumes"].as_array().is_some_and(|v| !v.is_empty()));
    assert_eq!(services["simulator"]["profiles"][0], "simulator");
    assert!(str_at(&compose, "/services/worker/deploy/replicas").contains('2'));
    assert_eq!(services["api"]["command"][0], "api");
    assert_eq!(services["worker"]["command"][0], "worker");
    for (name, service) in services {
        // Every bind mount of the stack is a file or folder of deploy/.
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with("./") {
                assert!(deploy().join(source).exists(), "service {name} mounts {source}, which is missing");
            }
        }
        assert!(service["healthcheck"]["test"].is_array(), "service {name} has no healthcheck");
    }
    // The simulator's env file points the api and workers at the simulator.
    let sim_env = read("simulator.env");
    assert!(sim_env.contains("COMPOSE_PROFILES=simulator"));
    assert!(sim_env.contains("ACTIVATOR_DATAVERSE_URL=http://simulator:8090"));
    assert_eq!(read("secrets/sim-client-secret").trim(), "sim-secret");
}

/// The containers of a Deployment's pod template.
fn containers(deployment: &Value) -> &Vec<Value> {
    deployment["spec"]["template"]["spec"]["containers"].as_array().unwrap()
}

#[test]
fn the_kubernetes_manifests_are_secure_probed_bounded_and_give_workers_time_to_stop() {
    let kustomization = yaml("k8s/kustomization.yaml");
    let listed: Vec<&str> =
        kustomization["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(!listed.contains(&"secret.example.yaml"), "applying the folder must not apply placeholders");
    let mut objects = Vec::new();
    let mut files: Vec<String> = std::fs::read_dir(deploy().join("k8s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    for file in &files {
        for doc in yaml_docs(&format!("k8s/{file}")) {
            assert!(doc["metadata"]["namespace"].is_null(), "k8s/{file}: manifests name no namespace");
            objects.push(doc);
        }
    }
    for resource in &listed {
        assert!(files.iter().any(|f| f == resource), "kustomization lists {resource}, which is missing");
    }
    let by_kind = |kind: &'static str| objects.iter().filter(move |o| o["kind"] == kind);
    assert!(by_kind("ConfigMap").count() >= 1 && by_kind("Secret").count() == 1);
    let deployments: BTreeMap<&str, &Value> =
        by_kind("Deployment").map(|d| (str_at(d, "/metadata/name"), d)).collect();
    let api = deployments["activator-api"];
    let worker = deployments["activator-worker"];
    assert_eq!(api["spec"]["replicas"], 2);
    assert_eq!(str_at(&containers(api)[0], "/livenessProbe/httpGet/path"), "/healthz");
    assert_eq!(str_at(&containers(api)[0], "/readinessProbe/httpGet/path"), "/readyz");
    // The worker's grace period: --grace-secs, 20 s by default.
    let args: Vec<&str> =
        containers(worker)[0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let grace: u64 =
        args.iter().position(|a| *a == "--grace-secs").map_or(20, |i| args[i + 1].parse().unwrap());
    let termination = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination > grace,
        "terminationGracePeriodSeconds {termination} must exceed the worker's grace {grace}"
    );
    for (name, d) in &deployments {
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        for c in containers(d) {
            assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{name}");
            assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(str_at(c, "/livenessProbe/httpGet/path"), "/healthz", "{name}");
            assert!(c["readinessProbe"].is_object(), "{name} has no readiness probe");
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(c["resources"][bound][resource].is_string(), "{name}: no {bound}.{resource}");
                }
            }
        }
        // A PodDisruptionBudget selects this Deployment's pods.
        let labels = &d["spec"]["template"]["metadata"]["labels"];
        let covered = by_kind("PodDisruptionBudget").any(|pdb| {
            pdb["spec"]["selector"]["matchLabels"]
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| &labels[k.as_str()] == v)
        });
        assert!(covered, "no PodDisruptionBudget covers {name}");
    }
    assert!(by_kind("Service").any(|s| str_at(s, "/metadata/name") == "activator-api"));
}
