"""TF-IDF features over normalised text: word n-grams and character n-grams."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = ["build_features"]


def build_features(*, max_word_features: int = 150_000, max_char_features: int = 250_000,
                   min_df: int = 2) -> FeatureUnion:
    """An unfitted feature extractor; its input is text already normalised."""
    # Text arrives normalised (lower-cased, de-obfuscated), so the vectorisers
    # must not lower-case again. Word unigrams keep one-letter tokens out; the
    # character n-grams inside word boundaries catch partial obfuscations.
    words = TfidfVectorizer(lowercase=False, ngram_range=(1, 2), min_df=min_df,
                            max_features=max_word_features, sublinear_tf=True,
                            token_pattern=r"(?u)\b\w\w+\b", dtype=np.float32)
    chars = TfidfVectorizer(lowercase=False, analyzer="char_wb", ngram_range=(2, 5),
                            min_df=min_df, max_features=max_char_features, sublinear_tf=True,
                            dtype=np.float32)
    return FeatureUnion([("word", words), ("char", chars)])

