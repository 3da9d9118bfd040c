"""ObjectStore against the real local S3 server: errors name the object, conditional writes really race."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from imbalance_jobs.storage import ConditionalWriteFailed, ObjectStore, StorageError, join_uri, split_uri

pytestmark = pytest.mark.integration


def test_split_uri_rejects_non_s3() -> None:
    with pytest.raises(StorageError, match="not an s3:// URI"):
        split_uri("/tmp/x")


def test_join_uri_keeps_single_slashes() -> None:
    assert join_uri("s3://b/", "a/", "/c.json") == "s3://b/a/c.json"
    assert join_uri("s3://b", "", "runs/") == "s3://b/runs/"


def test_put_get_round_trip(store: ObjectStore, buckets: dict[str, str]) -> None:
    uri = f"s3://{buckets['artifacts']}/x/y.json"
    etag = store.put_json(uri, {"a": 1})
    assert store.get_json(uri) == {"a": 1}
    assert store.head(uri).etag == etag


def test_frame_round_trip_keeps_dtypes(store: ObjectStore, buckets: dict[str, str]) -> None:
    frame = pd.DataFrame({"a": [1.5, None], "b": ["x", "y"], "c": [1, 2]})
    uri = f"s3://{buckets['artifacts']}/f.parquet"
    store.put_frame(uri, frame)
    back = store.get_frame(uri)
    pd.testing.assert_frame_equal(back, frame)


def test_missing_bucket_is_named(store: ObjectStore) -> None:
    with pytest.raises(StorageError, match=r"s3://no-such-bucket-\w+/k: bucket 'no-such-bucket-\w+' does not exist"):
        store.get_bytes(f"s3://no-such-bucket-{uuid.uuid4().hex[:6]}/k")


def test_missing_object_is_named(store: ObjectStore, buckets: dict[str, str]) -> None:
    uri = f"s3://{buckets['artifacts']}/nothing-here"
    with pytest.raises(StorageError, match=rf"{uri}: object not found"):
        store.get_bytes(uri)
    assert store.head(uri) is None
    assert store.get_with_etag(uri) is None


def test_corrupt_parquet_is_named(store: ObjectStore, buckets: dict[str, str]) -> None:
    uri = f"s3://{buckets['artifacts']}/bad.parquet"
    store.put_bytes(uri, b"not parquet at all")
    with pytest.raises(StorageError, match=rf"{uri}: cannot read parquet"):
        store.get_frame(uri)


def test_if_none_match_refuses_second_create(store: ObjectStore, buckets: dict[str, str]) -> None:
    uri = f"s3://{buckets['artifacts']}/pointer.json"
    store.put_json(uri, {"v": 1}, if_none_match=True)
    with pytest.raises(ConditionalWriteFailed, match="conditional write lost"):
        store.put_json(uri, {"v": 2}, if_none_match=True)
    assert store.get_json(uri) == {"v": 1}


def test_if_match_refuses_stale_etag(store: ObjectStore, buckets: dict[str, str]) -> None:
    uri = f"s3://{buckets['artifacts']}/pointer.json"
    first = store.put_json(uri, {"v": 1})
    store.put_json(uri, {"v": 2}, if_match=first)
    with pytest.raises(ConditionalWriteFailed):
        store.put_json(uri, {"v": 3}, if_match=first)
    assert store.get_json(uri) == {"v": 2}


def test_concurrent_if_match_writes_have_one_winner(store: ObjectStore, buckets: dict[str, str]) -> None:
    uri = f"s3://{buckets['artifacts']}/race.json"
    etag = store.put_json(uri, {"v": 0})

    def attempt(i: int) -> bool:
        try:
            store.put_json(uri, {"v": i}, if_match=etag)
        except ConditionalWriteFailed:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(attempt, range(1, 9)))
    assert sum(wins) == 1
    assert store.get_json(uri)["v"] == wins.index(True) + 1


def test_list_and_delete_prefix(store: ObjectStore, buckets: dict[str, str]) -> None:
    base = f"s3://{buckets['artifacts']}/runs/r1/"
    for name in ("a", "b/c"):
        store.put_bytes(base + name, b"1")
    store.put_bytes(f"s3://{buckets['artifacts']}/runs/r10/a", b"1")
    assert [o.uri for o in store.list(base)] == [base + "a", base + "b/c"]
    assert store.delete_prefix(base) == 2
    assert store.list(base) == []
    assert len(store.list(f"s3://{buckets['artifacts']}/runs/")) == 1


def test_storage_settings_bound_time_by_default_and_from_env(monkeypatch) -> None:
    """Issue 12 item 5: a hanging endpoint took 728 s; calls are now bounded (connect 5 s, read 30 s, 60 s)."""
    from imbalance_jobs.storage import StorageSettings

    default = StorageSettings()
    assert (default.connect_timeout, default.read_timeout, default.deadline, default.max_attempts) == (5, 30, 60, 3)
    monkeypatch.setenv("IMBALANCE_S3_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("IMBALANCE_S3_MAX_ATTEMPTS", "1")
    settings = StorageSettings.from_env()
    assert (settings.read_timeout, settings.max_attempts) == (2.5, 1)
    monkeypatch.setenv("IMBALANCE_S3_DEADLINE", "soon")
    with pytest.raises(
        StorageError, match=r"IMBALANCE_S3_DEADLINE: must be a number of seconds in \(0, 3600\]; got 'soon'"
    ):
        StorageSettings.from_env()


def test_deadline_ends_retries_against_a_silent_server() -> None:
    import socket
    import time

    from imbalance_jobs.storage import DeadlineExceeded, StorageSettings

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = ObjectStore(StorageSettings(endpoint_url=endpoint, access_key_id="a", secret_access_key="b",
                                            read_timeout=0.5, deadline=1.2, max_attempts=10))  # fmt: skip
        start = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"s3://b/k: cannot read: GetObject: no answer .* 1.2s deadline"):
            store.get_bytes("s3://b/k")
        assert time.monotonic() - start < 5


def test_large_objects_go_up_in_parts_and_come_down_in_chunks(store, buckets, tmp_path, monkeypatch) -> None:
    import imbalance_jobs.storage as storage

    monkeypatch.setattr(storage, "MULTIPART_BYTES", 5 * 2**20)  # S3's smallest part size, so the test stays small
    payload = os.urandom(11 * 2**20 + 123)  # two full parts and a short last one
    source, back = tmp_path / "up.bin", tmp_path / "down.bin"
    source.write_bytes(payload)
    uri = f"s3://{buckets['artifacts']}/big/object.bin"
    etag = store.upload(uri, source)
    assert etag.strip('"').endswith("-3")  # S3 names a multipart ETag by its part count
    assert store.download(uri, back) == len(payload)
    assert back.read_bytes() == payload
    assert not store.client.list_multipart_uploads(Bucket=buckets["artifacts"]).get("Uploads")


def test_a_refused_multipart_upload_names_the_object(store, tmp_path, monkeypatch) -> None:
    import imbalance_jobs.storage as storage

    monkeypatch.setattr(storage, "MULTIPART_BYTES", 5 * 2**20)
    source = tmp_path / "up.bin"
    source.write_bytes(os.urandom(6 * 2**20))
    uri = "s3://missing-bucket-for-parts/big.bin"
    with pytest.raises(StorageError, match=r"s3://missing-bucket-for-parts/big\.bin: .*write"):
        store.upload(uri, source)
