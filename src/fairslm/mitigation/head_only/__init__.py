"""Head-only mode: a frozen encoder's embeddings, computed once, and a fast trainable head.

Offers fairslm's fairness losses (penalty, constraint target, adversary) on a linear or MLP
head, and two comparators that reuse their libraries: Fairlearn's ``ExponentiatedGradient``
and LEACE concept erasure.
"""

from fairslm.mitigation.head_only._comparators import (
    EG_CONSTRAINTS,
    ExponentiatedGradientHead,
    LeaceHead,
)
from fairslm.mitigation.head_only._embeddings import embed_texts
from fairslm.mitigation.head_only._head import FAIRNESS_MODES, HEAD_CONSTRAINTS, HeadOnlyClassifier
from fairslm.mitigation.head_only._pipeline import EmbeddingPipeline

__all__ = [
    "EG_CONSTRAINTS",
    "FAIRNESS_MODES",
    "HEAD_CONSTRAINTS",
    "EmbeddingPipeline",
    "ExponentiatedGradientHead",
    "HeadOnlyClassifier",
    "LeaceHead",
    "embed_texts",
]
