"""Saving and loading fitted scoring pipelines without pickle.

scikit-learn pipelines are stored with skops (``model.skops``). Loading never trusts the artifact: the types it
needs beyond skops' own safe set are listed with ``skops.io.get_untrusted_types`` and compared with
:data:`ALLOWED_TYPES`, a fixed list kept here; anything else is refused before a single object is built. A torch
final step (``imbalance_jobs.torch_models``) is stored by ``imbalance_jobs.torch_models.persist`` (safetensors
weights + JSON) next to the skops file of its preprocessing.

``model.files.json`` lists every file with its SHA-256 and is written last, so a half-written model has no
manifest and a changed byte is caught on load. It guards against corruption and partial writes; the allow-list
is what guards against hostile artifacts (whoever can rewrite the files can rewrite the digests too).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import json
import re
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from imbalance_jobs.errors import ModelArtifactError
from imbalance_jobs.storage import ObjectStore, join_uri

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = [
    "ALLOWED_TYPES",
    "FORMAT",
    "MANIFEST",
    "dump_model",
    "load_model",
    "load_model_files",
    "save_model",
]

FORMAT = "imbalance_jobs.model"
FORMAT_VERSION = 1
MANIFEST = "model.files.json"
SKOPS_FILE = "model.skops"
PREPROCESS_FILE = "preprocess.skops"
TORCH_PACKAGE = "imbalance_jobs.torch_models"

ALLOWED_TYPES: tuple[str, ...] = (
    # Listed by fitting every sklearn model x preprocessing layout (numeric only, one-hot, codes + encode, native
    # categories, PCA) on binary and multi-class labels and collecting skops.io.get_untrusted_types; everything
    # else in those pipelines is in skops' default trusted set. tests/model_io keeps this list sufficient.
    "functools.partial",  # HistGradientBoosting's categorical preprocessor wraps check_array
    "imbalance_jobs.blend.BlendClassifier",  # holds fitted member pipelines and their names, nothing else
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.utils.validation.check_array",
)
"""Types a stored pipeline may need beyond skops' defaults; an artifact needing any other type is refused."""

_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def dump_model(pipeline: Pipeline) -> dict[str, bytes]:
    """File name -> bytes for a fitted scoring pipeline, ``model.files.json`` included.

    The pipeline must hold no sampler (see :func:`imbalance_jobs.models.scoring_pipeline`) and must load back
    under :data:`ALLOWED_TYPES`; both are checked here, so a model that could not be loaded is never stored.
    """
    samplers = [name for name, step in pipeline.steps if hasattr(step, "fit_resample")]
    if samplers:
        raise ModelArtifactError(
            f"pipeline step(s) {samplers} are samplers; save scoring_pipeline(fitted), which leaves them out"
        )
    final = pipeline.steps[-1][1]
    if type(final).__module__.startswith(TORCH_PACKAGE):
        from imbalance_jobs.torch_models import persist

        files = {PREPROCESS_FILE: _dumps(_head(pipeline)), **persist.to_files(final)}
        kind = "torch"
    else:
        files = {SKOPS_FILE: _dumps(pipeline)}
        kind = "sklearn"
    return {**files, MANIFEST: _manifest(files, kind=kind, final_step=pipeline.steps[-1][0])}


def load_model_files(files: dict[str, bytes], *, source: str) -> Pipeline:
    """Rebuild a scoring pipeline from the files of :func:`dump_model`; ``source`` names it in errors.

    Raises
    ------
    ModelArtifactError
        When the manifest is missing or unknown, a file is missing or its digest differs, the artifact needs a
        type outside :data:`ALLOWED_TYPES`, or it cannot be rebuilt.
    """
    manifest = _read_manifest(files, source)
    _verify(files, manifest, source)
    if manifest["kind"] == "torch":
        from sklearn.pipeline import Pipeline as SkPipeline

        from imbalance_jobs.torch_models import persist

        head = _loads(files[PREPROCESS_FILE], _where(source, PREPROCESS_FILE))
        weights = {name: files[name] for name in manifest["files"] if not name.endswith(".skops")}
        try:
            final = persist.from_files(weights)
        except ModelArtifactError:
            raise
        except Exception as exc:  # the torch side may fail in several ways on a damaged artifact
            raise ModelArtifactError(f"{source}: cannot rebuild the torch model ({exc})") from exc
        return SkPipeline([*head.steps, (manifest["final_step"], final)])
    return _loads(files[SKOPS_FILE], _where(source, SKOPS_FILE))


def save_model(store: ObjectStore, prefix_uri: str, pipeline: Pipeline) -> list[str]:
    """Write the model files under ``prefix_uri`` (manifest last); returns the URIs written."""
    files = dump_model(pipeline)
    manifest = files.pop(MANIFEST)
    uris = []
    for name, data in files.items():
        uris.append(join_uri(prefix_uri, name))
        store.put_bytes(uris[-1], data)
    uris.append(join_uri(prefix_uri, MANIFEST))
    store.put_bytes(uris[-1], manifest, content_type="application/json")
    return uris


def load_model(store: ObjectStore, prefix_uri: str) -> Pipeline:
    """Read the files listed in ``<prefix_uri>/model.files.json`` and rebuild the pipeline."""
    manifest_uri = join_uri(prefix_uri, MANIFEST)
    if store.head(manifest_uri) is None:
        raise ModelArtifactError(f"{manifest_uri}: no model here (the manifest is missing; was the save interrupted?)")
    raw = store.get_bytes(manifest_uri)
    manifest = _read_manifest({MANIFEST: raw}, prefix_uri)
    files = {name: store.get_bytes(join_uri(prefix_uri, name)) for name in manifest["files"]}
    return load_model_files({**files, MANIFEST: raw}, source=prefix_uri)


def _dumps(pipeline: Pipeline) -> bytes:
    sio = _skops_io()

    data = sio.dumps(pipeline, compression=zipfile.ZIP_DEFLATED)
    extra = sorted(set(sio.get_untrusted_types(data=data)) - set(ALLOWED_TYPES))
    if extra:
        raise ModelArtifactError(f"pipeline needs types outside the allow-list {extra}; it could not be loaded back")
    return data


def _loads(data: bytes, source: str) -> Pipeline:
    sio = _skops_io()
    from sklearn.pipeline import Pipeline as SkPipeline

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a damaged zip/schema fails in several ways inside skops
        raise ModelArtifactError(f"{source}: not a readable skops file ({exc})") from exc
    refused = sorted(set(untrusted) - set(ALLOWED_TYPES))
    if refused:
        raise ModelArtifactError(f"{source}: refused; the artifact needs types outside the allow-list: {refused}")
    try:
        pipeline = sio.loads(data, trusted=list(ALLOWED_TYPES))
    except Exception as exc:
        raise ModelArtifactError(f"{source}: cannot rebuild the pipeline ({exc})") from exc
    if not isinstance(pipeline, SkPipeline):
        raise ModelArtifactError(f"{source}: holds a {type(pipeline).__name__}, not a scikit-learn Pipeline")
    return pipeline


def _where(source: str, name: str) -> str:
    return f"{source.rstrip('/')}/{name}"


def _head(pipeline: Pipeline) -> Pipeline:
    from sklearn.pipeline import Pipeline as SkPipeline

    return SkPipeline(pipeline.steps[:-1])


def _manifest(files: dict[str, bytes], *, kind: str, final_step: str) -> bytes:
    import sklearn
    import skops

    body = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "final_step": final_step,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in files.items()
        },
        "library_versions": {"scikit-learn": sklearn.__version__, "skops": skops.__version__},
    }
    return json.dumps(body, indent=2, sort_keys=True).encode()


def _read_manifest(files: dict[str, bytes], source: str) -> dict[str, Any]:
    if MANIFEST not in files:
        raise ModelArtifactError(f"{source}: {MANIFEST} is missing; not a saved model")
    try:
        manifest = json.loads(files[MANIFEST])
    except ValueError as exc:
        raise ModelArtifactError(f"{source}: {MANIFEST} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelArtifactError(f"{source}: {MANIFEST} has format {found!r}; expected {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("kind") not in ("sklearn", "torch"):
        raise ModelArtifactError(
            f"{source}: {MANIFEST} version {manifest.get('format_version')!r} / kind {manifest.get('kind')!r} "
            f"is not supported (version {FORMAT_VERSION}, kind sklearn or torch)"
        )
    names = manifest.get("files")
    if not isinstance(names, dict) or not all(isinstance(n, str) and _FILE_NAME.match(n) for n in names):
        raise ModelArtifactError(f"{source}: {MANIFEST} lists bad file names {names!r}")
    return manifest


def _verify(files: dict[str, bytes], manifest: dict[str, Any], source: str) -> None:
    required = SKOPS_FILE if manifest["kind"] == "sklearn" else PREPROCESS_FILE
    if required not in manifest["files"]:
        raise ModelArtifactError(f"{source}: {MANIFEST} does not list {required}")
    for name, entry in manifest["files"].items():
        if name not in files:
            raise ModelArtifactError(f"{source}: file {name} listed in {MANIFEST} is missing")
        digest = hashlib.sha256(files[name]).hexdigest()
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if digest != expected:
            raise ModelArtifactError(
                f"{source}: file {name} does not match its recorded SHA-256 (got {digest[:12]}, "
                f"recorded {str(expected)[:12]}); the model was modified or damaged"
            )


def _skops_io() -> Any:
    """``skops.io``, imported with scipy's ufuncs already named, so its import does not walk ``sys.modules``.

    On import, skops names every public ``scipy.special`` ufunc (its default trusted types). Ufuncs have no
    ``__module__``, so skops falls back to pickle's ``whichmodule``: it reads that name from every loaded module
    until one has it. Inside an Airflow task that reads Airflow's deprecated-module shims, each answering with a
    DeprecatedImportWarning: about 1,160 log lines per task. Naming each ufunc with the module the walk would
    find (Airflow's warning shims skipped: they hold no scipy objects) makes the walk unnecessary; the same type
    names result (tests/dags/test_task_logs.py).
    """
    import sys

    if "skops.io" not in sys.modules:
        with _without_torch_shim():
            _name_scipy_ufuncs()
            import skops.io  # noqa: F401
    import skops.io as sio

    return sio


_TORCH_SHIM = "sklearn.externals.array_api_compat.torch"


@contextlib.contextmanager
def _without_torch_shim() -> Iterator[None]:
    """Keep scikit-learn's array-API torch shim (and so torch) unimported while skops lists sklearn's estimators.

    skops builds its default trusted types from ``sklearn.utils.all_estimators()``, whose package walk imports
    every sklearn package, vendored ones included: ``array_api_compat.torch`` imports torch (1.3-1.8 s of CPU and
    180 MB of memory in every process that saves or loads a model, measured on 2 cores). The walk skips a package
    that fails to import, and that one holds no estimator: the trusted list is the same (210 sklearn types).
    Nothing changes when torch is already loaded (a torch candidate), nor for a later ``import torch``.
    """
    import sys

    if "torch" in sys.modules:
        yield
        return
    finder = _RefuseImport(_TORCH_SHIM)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _RefuseImport(importlib.abc.MetaPathFinder):
    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == self.name:
            raise ImportError(f"{fullname} is not needed to list scikit-learn's estimators")


def _name_scipy_ufuncs() -> None:
    """Give each unnamed scipy ufunc the module skops' walk would find, reading only modules that do not warn."""
    import warnings

    import numpy as np
    import scipy
    import scipy.special
    from sklearn.utils import all_estimators  # noqa: F401  imported in skops' own order, so the walk agrees
    from skops.utils._fixes import get_scipy_ufunc_wrapper_type

    kinds = tuple(t for t in (np.ufunc, get_scipy_ufunc_wrapper_type()) if t is not None)
    unnamed = {  # keyed by the object's own name, as skops looks it up (``psi`` is ``digamma``)
        obj.__name__: obj
        for name in dir(scipy.special)
        if isinstance(obj := getattr(scipy.special, name, None), kinds) and getattr(obj, "__module__", None) is None
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core's renamed attributes: skops does the same
        _walk(unnamed)


def _walk(unnamed: dict[str, Any]) -> None:
    import sys
    import warnings

    for module_name, module in list(sys.modules.items()):
        if not unnamed:
            return
        if module is None or module_name in ("__main__", "__mp_main__"):
            continue
        with warnings.catch_warnings(record=True) as probe:
            warnings.simplefilter("always")
            getattr(module, "imbalance_jobs_probe", None)
        if probe:  # a lazy shim that warns on every lookup (Airflow's deprecated modules) holds no scipy objects
            continue
        for name, obj in list(unnamed.items()):
            if getattr(module, name, None) is obj:
                obj.__module__ = module_name
                del unnamed[name]
