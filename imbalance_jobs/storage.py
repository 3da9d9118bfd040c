"""Object storage over boto3: AWS S3, MinIO, SeaweedFS, anything that speaks S3 at an endpoint URL.

This module is the single boundary where botocore errors become :class:`StorageError` naming the object.
Transient failures (5xx, throttling, dropped connections) are retried by botocore's "standard" mode with
exponential backoff and jitter; a 403 is reported as access denied, never as "missing".

Time is bounded: connecting gives up after ``connect_timeout`` (5 s), a silent server after ``read_timeout``
(30 s), and one call with all its retries after ``deadline`` (60 s), so a hanging endpoint fails a command in
about a minute with the object named, not in a quarter of an hour. Each retry is logged as a warning while waiting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from imbalance_jobs.errors import StorageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ConditionalWriteFailed",
    "DeadlineExceeded",
    "ObjectInfo",
    "ObjectStore",
    "StorageSettings",
    "join_uri",
    "split_uri",
]

logger = logging.getLogger(__name__)
_STARTED = "imbalance_jobs_started"
PARQUET = "application/vnd.apache.parquet"
MULTIPART_BYTES = 64 * 2**20
"""Objects larger than this are uploaded in parts of this size (S3 refuses single PUTs over 5 GB)."""
_CHUNK = 8 * 2**20


class ConditionalWriteFailed(StorageError):
    """An If-Match / If-None-Match write lost: somebody else changed the object first."""


@dataclass(frozen=True)
class StorageSettings:
    """How to reach the object store. ``None`` fields fall back to boto3's own chain (env, profile, role)."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region_name: str = "us-east-1"
    max_attempts: int = 3
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 60.0

    @classmethod
    def from_env(cls) -> StorageSettings:
        """``IMBALANCE_S3_ENDPOINT_URL`` (or boto3's ``AWS_ENDPOINT_URL``) plus the usual AWS_* variables;
        ``IMBALANCE_S3_{CONNECT_TIMEOUT,READ_TIMEOUT,DEADLINE,MAX_ATTEMPTS}`` override the time bounds."""
        return cls(
            endpoint_url=os.environ.get("IMBALANCE_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL"),
            access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            max_attempts=int(_env_number("IMBALANCE_S3_MAX_ATTEMPTS", cls.max_attempts)),
            connect_timeout=_env_number("IMBALANCE_S3_CONNECT_TIMEOUT", cls.connect_timeout),
            read_timeout=_env_number("IMBALANCE_S3_READ_TIMEOUT", cls.read_timeout),
            deadline=_env_number("IMBALANCE_S3_DEADLINE", cls.deadline),
        )


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:
        raise StorageError(f"environment variable {name}: must be a number of seconds in (0, 3600]; got {raw!r}")
    return value


class DeadlineExceeded(StorageError):
    """One store call, retries included, ran past ``StorageSettings.deadline``."""


@dataclass(frozen=True)
class ObjectInfo:
    uri: str
    etag: str
    size: int
    modified: dt.datetime | None = None


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    if not uri.startswith("s3://"):
        raise StorageError(f"{uri}: not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise StorageError(f"{uri}: no bucket in URI")
    return bucket, key


def join_uri(base: str, *parts: str) -> str:
    """Join URI segments with single slashes; a trailing slash on the last part is kept."""
    out = base.rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}" if part.strip("/") else out
    if parts and parts[-1].endswith("/"):
        out += "/"
    return out


class ObjectStore:
    """A thin, retrying client. Every method names the object in its errors."""

    def __init__(self, settings: StorageSettings | None = None):
        self.settings = settings or StorageSettings.from_env()

    @cached_property
    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        cfg = Config(
            retries={"total_max_attempts": self.settings.max_attempts, "mode": "standard"},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            s3={"addressing_style": "path"},
        )
        client = boto3.client(
            "s3",
            endpoint_url=self.settings.endpoint_url,
            aws_access_key_id=self.settings.access_key_id,
            aws_secret_access_key=self.settings.secret_access_key,
            region_name=self.settings.region_name,
            config=cfg,
        )
        client.meta.events.register("before-call.s3", _start_clock)
        client.meta.events.register_first("needs-retry.s3", self._before_retry)
        return client

    def _before_retry(self, **kwargs: Any) -> None:
        """Give up once the call's deadline has passed; otherwise say that we are waiting, and why."""
        response, caught = kwargs.get("response"), kwargs.get("caught_exception")
        status = response[0].status_code if response and response[0] is not None else None
        if caught is None and (status is None or status < 500) and status != 429:
            return None
        context = (kwargs.get("request_dict") or {}).get("context", {})
        elapsed = time.monotonic() - context.get(_STARTED, time.monotonic())
        reason = f"{type(caught).__name__}: {caught}" if caught is not None else f"HTTP {status}"
        name = getattr(kwargs.get("operation"), "name", "call")
        attempts = kwargs.get("attempts") or 0
        if attempts >= self.settings.max_attempts:
            return None  # botocore gives up now and the guard names the object
        if elapsed >= self.settings.deadline:
            raise DeadlineExceeded(
                f"{name}: no answer from the object store at {self.settings.endpoint_url or 'AWS'} within the "
                f"{self.settings.deadline:g}s deadline after {attempts} attempt(s) ({reason})"
            )
        logger.log(
            logging.WARNING if elapsed >= 2.0 else logging.DEBUG,  # quick refusals retry silently; waits are shown
            "object store: %s attempt %s failed after %.1fs (%s); retrying, giving up at %gs",
            name,
            attempts,
            elapsed,
            reason,
            self.settings.deadline,
        )
        return None

    # -- bytes ---------------------------------------------------------------------------------------------
    def get_bytes(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        with self._errors(uri, "read"):
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def get_with_etag(self, uri: str) -> tuple[bytes, str] | None:
        """The object and its ETag, or ``None`` when it does not exist (the bucket must exist)."""
        bucket, key = split_uri(uri)
        with self._errors(uri, "read", missing_ok=True):
            resp = self.client.get_object(Bucket=bucket, Key=key)
            return resp["Body"].read(), resp["ETag"]
        return None

    def put_bytes(
        self,
        uri: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Write an object; with ``if_match``/``if_none_match`` the write is conditional. Returns the ETag."""
        bucket, key = split_uri(uri)
        extra: dict[str, str] = {}
        if if_match is not None:
            extra["IfMatch"] = if_match
        if if_none_match:
            extra["IfNoneMatch"] = "*"
        with self._errors(uri, "write"):
            return self.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, **extra)["ETag"]

    def download(self, uri: str, path: str | os.PathLike[str]) -> int:
        """Stream an object into a local file in 8 MB chunks (memory stays flat whatever its size); bytes written."""
        bucket, key = split_uri(uri)
        written = 0
        with self._errors(uri, "read"), open(path, "wb") as out:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(_CHUNK):
                written += out.write(chunk)
        return written

    def upload(self, uri: str, path: str | os.PathLike[str], *, content_type: str = "application/octet-stream") -> str:
        """Write a local file as an object: one PUT up to 64 MB, a multipart upload above (aborted on failure)."""
        size = os.path.getsize(path)
        if size <= MULTIPART_BYTES:
            with open(path, "rb") as f:
                return self.put_bytes(uri, f.read(), content_type=content_type)
        bucket, key = split_uri(uri)
        with self._errors(uri, "write"):
            upload_id = self.client.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)[
                "UploadId"
            ]
        try:
            parts = []
            with open(path, "rb") as f:
                for number in range(1, size // MULTIPART_BYTES + 2):
                    data = f.read(MULTIPART_BYTES)
                    if not data:
                        break
                    with self._errors(uri, f"write part {number}"):
                        etag = self.client.upload_part(
                            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                        )["ETag"]
                    parts.append({"PartNumber": number, "ETag": etag})
            with self._errors(uri, "write"):
                return self.client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )["ETag"]
        except BaseException:
            with contextlib.suppress(Exception):  # the store may be the thing that failed; it expires parts itself
                self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    def head(self, uri: str) -> ObjectInfo | None:
        bucket, key = split_uri(uri)
        with self._errors(uri, "inspect", missing_ok=True):
            resp = self.client.head_object(Bucket=bucket, Key=key)
            return ObjectInfo(uri=uri, etag=resp["ETag"], size=resp["ContentLength"])
        return None

    def exists(self, uri: str) -> bool:
        return self.head(uri) is not None

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        """Every object under a prefix, sorted by key."""
        return sorted(self._iter(prefix_uri), key=lambda o: o.uri)

    def _iter(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        bucket, prefix = split_uri(prefix_uri)
        with self._errors(prefix_uri, "list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    yield ObjectInfo(
                        uri=f"s3://{bucket}/{obj['Key']}",
                        etag=obj["ETag"],
                        size=obj["Size"],
                        modified=obj.get("LastModified"),
                    )

    def delete_prefix(self, prefix_uri: str) -> int:
        """Remove every object under a staging prefix (never used on published versions)."""
        objs = self.list(prefix_uri)
        for obj in objs:
            bucket, key = split_uri(obj.uri)
            with self._errors(obj.uri, "delete"):
                self.client.delete_object(Bucket=bucket, Key=key)
        return len(objs)

    def ensure_bucket(self, bucket: str) -> None:
        with self._errors(f"s3://{bucket}", "create bucket", exists_ok=True):
            self.client.create_bucket(Bucket=bucket)

    # -- JSON and tables -----------------------------------------------------------------------------------
    def get_json(self, uri: str) -> Any:
        raw = self.get_bytes(uri)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise StorageError(f"{uri}: not valid JSON ({exc})") from exc

    def put_json(self, uri: str, obj: Any, **kwargs: Any) -> str:
        data = json.dumps(obj, indent=2, sort_keys=True, default=str).encode()
        return self.put_bytes(uri, data, content_type="application/json", **kwargs)

    def put_frame(self, uri: str, frame: pd.DataFrame) -> str:
        """Write a DataFrame as parquet (index dropped; row identity lives in a column), through a temporary
        file so a large frame is never held twice in memory and goes up in parts."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="imbalance-put-") as tmp:
            path = os.path.join(tmp, "frame.parquet")
            frame.to_parquet(path, index=False)
            return self.upload(uri, path, content_type=PARQUET)

    def get_frame(self, uri: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Read a parquet object (only ``columns`` when given) through a temporary file: the object's bytes are
        never held beside the table, and the table's buffers are released as the frame is built."""
        import tempfile

        import pyarrow.parquet as pq

        with tempfile.TemporaryDirectory(prefix="imbalance-get-") as tmp:
            path = os.path.join(tmp, "frame.parquet")
            self.download(uri, path)
            try:
                table = pq.read_table(path, columns=columns, memory_map=True)
                return table.to_pandas(self_destruct=True, split_blocks=True)
            except Exception as exc:  # pyarrow raises several unrelated types for a bad file
                raise StorageError(f"{uri}: cannot read parquet ({exc})") from exc

    # -- errors --------------------------------------------------------------------------------------------
    def _errors(self, uri: str, action: str, *, missing_ok: bool = False, exists_ok: bool = False) -> _Guard:
        return _Guard(uri, action, missing_ok=missing_ok, exists_ok=exists_ok)


def _start_clock(**kwargs: Any) -> None:
    context = kwargs.get("context")
    if context is not None:
        context[_STARTED] = time.monotonic()


class _Guard:
    """Context manager translating botocore failures for one object into StorageError."""

    _MISSING = {"NoSuchKey", "404", "NotFound"}

    def __init__(self, uri: str, action: str, *, missing_ok: bool, exists_ok: bool):
        self.uri, self.action, self.missing_ok, self.exists_ok = uri, action, missing_ok, exists_ok
        self.missing = False

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None:
            return False
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, DeadlineExceeded):
            raise DeadlineExceeded(f"{self.uri}: cannot {self.action}: {exc}") from exc
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in self._MISSING and self.missing_ok:
                self.missing = True
                return True
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists") and self.exists_ok:
                return True
            raise _client_error(self.uri, self.action, code, status) from exc
        if isinstance(exc, BotoCoreError):
            raise StorageError(f"{self.uri}: cannot {self.action}: {exc}") from exc
        if isinstance(exc, OSError | ValueError) and self.action == "read":  # a body cut off mid-stream
            raise StorageError(f"{self.uri}: cannot {self.action}: {type(exc).__name__}: {exc}") from exc
        return False


def _client_error(uri: str, action: str, code: str, status: int | None) -> StorageError:
    bucket = uri[5:].split("/", 1)[0]
    if code == "NoSuchBucket":
        return StorageError(f"{uri}: bucket '{bucket}' does not exist")
    if code in _Guard._MISSING:
        return StorageError(f"{uri}: object not found")
    if code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412:
        return ConditionalWriteFailed(f"{uri}: conditional {action} lost: the object changed in the meantime")
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return StorageError(f"{uri}: access denied while trying to {action} ({code}); check the credentials")
    return StorageError(f"{uri}: cannot {action}: {code or status}")
