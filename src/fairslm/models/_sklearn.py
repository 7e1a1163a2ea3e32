"""scikit-learn text pipelines (e.g. TF-IDF + logistic regression), stored with skops."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm._optional import import_optional
from fairslm.exceptions import ModelLoadError, UnsafeModelError
from fairslm.models._base import ModelAdapter
from fairslm.models._cache import ScoreCache
from fairslm.models._source import PICKLE_SUFFIXES

__all__ = ["SklearnAdapter", "save_sklearn_model"]


def save_sklearn_model(pipeline: Any, path: str | os.PathLike[str]) -> Path:
    """Save a fitted scikit-learn pipeline with skops (not pickle); returns the path.

    The file is written to a temporary name first and renamed, so a crash never leaves a
    half-written model behind.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> import tempfile, os
    >>> pipe = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> pipe = pipe.fit(["good nurse", "bad surgeon", "good surgeon", "bad nurse"], [1, 0, 1, 0])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     saved = save_sklearn_model(pipe, os.path.join(d, "model.skops"))
    ...     SklearnAdapter.from_file(saved).predict(["good nurse"]).tolist()
    [1]
    """
    sio = import_optional("skops.io", purpose="saving scikit-learn models")
    if not hasattr(pipeline, "predict_proba"):
        raise ModelLoadError(
            f"expected a fitted scikit-learn classifier or pipeline with predict_proba, got "
            f"{type(pipeline).__name__}"
        )
    path = Path(path)
    if path.suffix != ".skops":
        path = (
            path.with_name(path.name + ".skops")
            if path.suffix == ""
            else path.with_suffix(".skops")
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sio.dump(pipeline, tmp)
    os.replace(tmp, path)
    return path


class SklearnAdapter(ModelAdapter):
    """A fitted scikit-learn estimator whose ``predict_proba`` takes raw texts.

    Parameters
    ----------
    estimator
        Fitted pipeline (e.g. ``make_pipeline(TfidfVectorizer(), LogisticRegression())``).
    cache, cache_dir, metadata
        As for the other adapters.
    """

    kind = "sklearn"

    def __init__(
        self,
        estimator: Any,
        *,
        cache: bool | ScoreCache = True,
        cache_dir: str | Path | None = None,
        metadata: dict[str, Any] | None = None,
        source_digest: str | None = None,
    ) -> None:
        if not hasattr(estimator, "predict_proba") or not hasattr(estimator, "classes_"):
            raise ModelLoadError(
                f"expected a fitted scikit-learn classifier with predict_proba and classes_, "
                f"got {type(estimator).__name__}; fit it first"
            )
        classes = [c.item() if hasattr(c, "item") else c for c in estimator.classes_]
        super().__init__(classes, metadata=metadata, cache=cache, cache_dir=cache_dir)
        self.estimator = estimator
        self._source_digest = source_digest
        # An in-memory estimator may be refitted: hash it afresh on every call.
        self.static_fingerprint = source_digest is not None

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, trusted: Sequence[str] | None = None, **kwargs: Any
    ) -> SklearnAdapter:
        """Load a ``.skops`` file, refusing types outside skops' default trusted set.

        Parameters
        ----------
        trusted : list of str, optional
            Extra type names (as listed in the error) you have checked and trust.
        """
        sio = import_optional("skops.io", purpose="loading scikit-learn models")
        path = Path(path)
        if path.suffix in PICKLE_SUFFIXES or path.suffix == ".joblib":
            raise UnsafeModelError(
                f"{path} is a pickle/joblib file; loading it can run arbitrary code. Re-save "
                "the pipeline with fairslm.models.save_sklearn_model (skops format)"
            )
        data = path.read_bytes()
        try:
            untrusted = sio.get_untrusted_types(data=data)
        except Exception as exc:  # noqa: BLE001 - skops raises zipfile/JSON errors
            raise ModelLoadError(
                f"{path} is not a valid skops file ({type(exc).__name__}: {exc}); save the "
                "pipeline with fairslm.models.save_sklearn_model"
            ) from exc
        unknown = sorted(set(untrusted) - set(trusted or ()))
        if unknown:
            raise UnsafeModelError(
                f"{path} contains types that are not trusted by default: {unknown}. Loading "
                "them could run their code; if you trust them, pass trusted=[...] with these "
                "names"
            )
        estimator = sio.loads(data, trusted=list(untrusted) or None)
        return cls(estimator, source_digest=hashlib.sha256(data).hexdigest(), **kwargs)

    def _fingerprint(self) -> str:
        if self._source_digest is not None:
            return self._source_digest
        sio = import_optional("skops.io", purpose="fingerprinting scikit-learn models")
        return hashlib.sha256(sio.dumps(self.estimator)).hexdigest()

    def _score(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(texts), dtype=np.float64)
