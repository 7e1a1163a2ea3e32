"""Models seen through one interface: :class:`ModelAdapter` and :func:`load_model`.

Adapters for Hugging Face sequence classifiers, causal LMs scored through label words,
scikit-learn text pipelines (skops), plain callables and predictions files, and score blends
of models; the packaged all-MiniLM-L6-v2 encoder (sentence embeddings, and a base to
fine-tune); fast, cached, length-sorted batched inference; text generation with fixed,
recorded decoding settings; GGUF files imported as model directories.
"""

from fairslm.models._base import METADATA_FILE, ModelAdapter
from fairslm.models._blend import BlendAdapter, save_blend
from fairslm.models._cache import ScoreCache
from fairslm.models._callable import CallableAdapter
from fairslm.models._decoding import DEFAULT_MAX_NEW_TOKENS, DecodingSettings, GenerationCache
from fairslm.models._generator import HFTextGenerator, load_generator
from fairslm.models._gguf import import_gguf
from fairslm.models._hf_causal import HFCausalLMAdapter
from fairslm.models._hf_classifier import HFClassifierAdapter
from fairslm.models._load import KINDS, load_model
from fairslm.models._minilm import SentenceEncoder, default_model_path, load_minilm_classifier
from fairslm.models._predictions import PredictionsFileAdapter
from fairslm.models._sklearn import SklearnAdapter, save_sklearn_model
from fairslm.models._source import quiet_transformers
from fairslm.models._spark import score_spark, spark_model
from fairslm.models._texts import check_texts

__all__ = [
    "DEFAULT_MAX_NEW_TOKENS",
    "KINDS",
    "METADATA_FILE",
    "BlendAdapter",
    "CallableAdapter",
    "DecodingSettings",
    "GenerationCache",
    "HFCausalLMAdapter",
    "HFClassifierAdapter",
    "HFTextGenerator",
    "ModelAdapter",
    "PredictionsFileAdapter",
    "ScoreCache",
    "SentenceEncoder",
    "SklearnAdapter",
    "check_texts",
    "default_model_path",
    "import_gguf",
    "load_generator",
    "load_minilm_classifier",
    "load_model",
    "quiet_transformers",
    "save_blend",
    "save_sklearn_model",
    "score_spark",
    "spark_model",
]
