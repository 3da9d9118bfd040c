"""Every config makes a DAG; DAG files parse fast, import nothing heavy, and wire the tasks the issue asks for."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.dags.conftest import load_bag
from tests.dags.pipelines import example_config

pytestmark = pytest.mark.airflow

HEAVY = (
    "pandas",
    "numpy",
    "pyarrow",
    "sklearn",
    "imblearn",
    "scipy",
    "torch",
    "great_expectations",
    "boto3",
    "matplotlib",
)
DAG_FILES = sorted(p.name for p in (REPO / "dags").glob("*.py"))
PARSE_SCRIPT = """
import json, sys, time
from pathlib import Path
import airflow.sdk  # the dag-processor has this loaded before it parses a file
from airflow.dag_processing.dagbag import BundleDagBag
heavy = {heavy!r}
before = {{m for m in heavy if m in sys.modules}}
path = Path(sys.argv[1])
start = time.perf_counter()
bag = BundleDagBag(str(path), bundle_path=path.parent, bundle_name="dags-folder")
seconds = time.perf_counter() - start
added = sorted(m for m in heavy if m in sys.modules and m not in before)
print(json.dumps({{"seconds": seconds, "dags": sorted(bag.dag_ids), "errors": list(bag.import_errors), "heavy": added}}))
"""


@pytest.fixture(scope="module")
def repo_bag() -> Any:
    """The DAG bag of the repository's own dags/ and configs/."""
    return load_bag()


@pytest.fixture
def bag_for(write_config: Callable[..., Path]) -> Callable[..., Any]:
    """Write configs into a fresh configs folder, then parse the repository's dags/ against it."""

    def build(**configs: dict[str, Any] | str) -> Any:
        for filename, data in configs.items():
            write_config(f"{filename}.yaml", data)
        return load_bag()

    return build


def retrain_dags(bag: Any) -> dict[str, Any]:
    """The retraining DAGs of a bag (the example champion consumers are tested on their own)."""
    return {dag_id: dag for dag_id, dag in bag.dags.items() if dag_id.startswith("retrain_")}


def _candidates(mapped: Any) -> list[str]:
    return mapped.op_kwargs_expand_input.value["candidate"]


def test_every_config_makes_a_dag(repo_bag: Any) -> None:
    names = sorted(p.stem for p in (REPO / "configs").glob("*.yaml"))
    assert repo_bag.import_errors == {}
    assert sorted(retrain_dags(repo_bag)) == [f"retrain_{n}" for n in names]
    assert sorted(set(repo_bag.dag_ids) - set(retrain_dags(repo_bag))) == [f"on_new_champion_{n}" for n in names]


@pytest.mark.parametrize("filename", DAG_FILES)
def test_dag_file_parses_fast_without_heavy_imports(filename: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = PARSE_SCRIPT.format(heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", script, str(REPO / "dags" / filename)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    with capsys.disabled():
        print(f"\n  parse time of dags/{filename}: {result['seconds']:.3f}s ({len(result['dags'])} DAG(s))")
    assert result["errors"] == []
    assert result["heavy"] == []
    assert result["seconds"] < 5.0


def test_dags_have_no_cycles(repo_bag: Any) -> None:
    for dag in retrain_dags(repo_bag).values():
        dag.check_cycle()  # raises AirflowDagCycleException on a cycle
        assert dag.roots == [dag.get_task("prepare")]


def test_dag_follows_its_config(repo_bag: Any) -> None:
    config = example_config("fraud")
    dag = repo_bag.dags["retrain_fraud"]
    assert dag.timetable.expression == config["schedule"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.dagrun_timeout == dt.timedelta(minutes=240)
    assert set(config["airflow"]["tags"]) <= set(dag.tags)
    assert "fraud.yaml" in dag.doc_md
    assert {t.owner for t in dag.tasks} == {"ml-platform"}


def test_io_tasks_retry_with_exponential_backoff(repo_bag: Any) -> None:
    dag = repo_bag.dags["retrain_fraud"]
    for task_id in ("ingest", "validate", "split", "train", "select", "evaluate", "publish", "record_rejection"):
        task = dag.get_task(task_id)
        assert task.retries == 2, task_id
        assert task.retry_exponential_backoff == 2.0, task_id
        assert task.retry_policy is not None, task_id
    assert dag.get_task("prepare").retries == 0


def test_training_is_mapped_per_candidate_with_its_name_as_label(repo_bag: Any) -> None:
    train = repo_bag.dags["retrain_fraud"].get_task("train")
    assert train.map_index_template == "{{ task.op_kwargs['candidate'] }}"
    assert _candidates(train) == [c["name"] for c in example_config("fraud")["training"]["candidates"]]


def test_torch_candidates_run_on_the_gpu_queue_and_pool(bag_for: Callable[..., Any]) -> None:
    data = example_config("fraud")
    data["training"]["candidates"].append({"name": "mlp", "model": "torch_mlp"})
    dag = bag_for(fraud=data).dags["retrain_fraud"]
    gpu, cpu = dag.get_task("train_gpu"), dag.get_task("train")
    assert (gpu.partial_kwargs["queue"], gpu.partial_kwargs["pool"]) == ("gpu", "gpu")
    assert _candidates(gpu) == ["mlp"]
    assert "mlp" not in _candidates(cpu)
    assert cpu.partial_kwargs.get("queue", "default") == "default"


def test_branch_follows_the_reduced_map(repo_bag: Any) -> None:
    dag = repo_bag.dags["retrain_fraud"]
    assert dag.get_task("decide").downstream_task_ids >= {"publish", "record_rejection"}
    assert "select" in dag.get_task("evaluate").upstream_task_ids
    assert {t.task_id for t in dag.leaves} == {"report"}


def test_every_task_alerts_on_its_own_failure_without_a_watcher_task(repo_bag: Any) -> None:
    dag = repo_bag.dags["retrain_fraud"]
    assert "alert_on_failure" not in dag.task_ids
    for task in dag.tasks:
        assert task.on_failure_callback, f"{task.task_id} has no failure alert"
    edges = sum(len(t.downstream_task_ids) for t in dag.tasks)
    assert edges <= len(dag.tasks) + 4, f"{edges} edges for {len(dag.tasks)} tasks: the graph should stay a chain"


def test_monitor_runs_after_validate_independent_of_promotion(repo_bag: Any) -> None:
    dag = repo_bag.dags["retrain_fraud"]
    monitor = dag.get_task("monitor")
    assert "validate" in monitor.upstream_task_ids
    assert not monitor.upstream_task_ids & {"split", "select", "evaluate", "decide", "publish", "record_rejection"}
    assert "report" in monitor.downstream_task_ids
    for task_id in ("monitor", "report"):
        assert dag.get_task(task_id).on_success_callback, f"{task_id} carries the alert notifiers"


def test_validate_evaluate_and_publish_carry_links_to_what_they_wrote(repo_bag: Any) -> None:
    dag = repo_bag.dags["retrain_fraud"]
    assert [link.name for link in dag.get_task("validate").operator_extra_links] == ["Validation report"]
    assert [link.name for link in dag.get_task("evaluate").operator_extra_links] == ["Verdict"]
    assert [link.name for link in dag.get_task("publish").operator_extra_links] == ["Published version"]


def test_only_the_promote_branch_updates_the_champion_asset(repo_bag: Any) -> None:
    dag = repo_bag.dags["retrain_fraud"]
    [asset] = dag.get_task("publish").outlets
    assert (asset.name, asset.group) == ("fraud_champion", "model")
    assert asset.extra["champion_pointer"].endswith("/fraud/champion.json")
    assert dag.get_task("record_rejection").outlets == []


def test_example_consumer_is_scheduled_on_the_champion_asset_only(repo_bag: Any) -> None:
    consumer = repo_bag.dags["on_new_champion_fraud"]
    [publish_asset] = repo_bag.dags["retrain_fraud"].get_task("publish").outlets
    assert list(consumer.timetable.asset_condition.objects) == [publish_asset]
    assert consumer.catchup is False
    assert consumer.task_ids == ["load_new_champion"]


def test_dags_serialize_as_the_dag_processor_stores_them(repo_bag: Any) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    for dag in retrain_dags(repo_bag).values():
        restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
        assert sorted(restored.task_ids) == sorted(dag.task_ids)
        assert restored.params["sample_fraction"] == 1.0


def test_broken_config_is_an_import_error_for_that_config_only(bag_for: Callable[..., Any]) -> None:
    broken = example_config("fraud") | {"name": "broken_one", "sedd": 7, "split": {"test_size": 0.9}}
    bag = bag_for(fraud=example_config("fraud"), broken=broken)
    assert list(retrain_dags(bag)) == ["retrain_fraud"]
    [(path, error)] = bag.import_errors.items()
    assert path.endswith("retrain_config_errors.py")
    assert "broken.yaml (DAG retrain_broken_one)" in error
    assert "sedd" in error
    assert "test_size + validation_size must leave at least 10% for training" in error


def test_unreadable_yaml_is_reported_with_its_line(bag_for: Callable[..., Any]) -> None:
    bag = bag_for(fraud=example_config("fraud"), typo="name: x\n  bad: [indent\n")
    assert list(retrain_dags(bag)) == ["retrain_fraud"]
    [error] = bag.import_errors.values()
    assert "typo.yaml" in error
    assert "not valid YAML" in error


def test_two_configs_with_one_name_break_the_second(bag_for: Callable[..., Any]) -> None:
    bag = bag_for(a_fraud=example_config("fraud"), b_fraud=example_config("fraud"))
    assert list(retrain_dags(bag)) == ["retrain_fraud"]
    [error] = bag.import_errors.values()
    assert "b_fraud.yaml" in error
    assert "already used by" in error
