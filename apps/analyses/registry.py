"""Every analysis kind, registered once when the app is ready (``AnalysisConfig.ready``): the job
framework, the pages, the API and ``run_analysis`` all read this list through ``kinds.base``."""
from __future__ import annotations

from apps.analyses.kinds.authorship import Authorship
from apps.analyses.kinds.base import register
from apps.analyses.kinds.behaviour import Behaviour
from apps.analyses.kinds.coaction import Coaction
from apps.analyses.kinds.coordination import Coordination
from apps.analyses.kinds.embedding_map import EmbeddingMap
from apps.analyses.kinds.hashtag_network import HashtagNetwork
from apps.analyses.kinds.hybrid import Hybrid
from apps.analyses.kinds.perplexity_matrix import PerplexityMatrix
from apps.analyses.kinds.propagation import Propagation
from apps.analyses.kinds.retweet_network import RetweetNetwork
from apps.analyses.kinds.score import Score
from apps.analyses.kinds.train_classifier import TrainClassifier
from apps.analyses.kinds.train_lm import TrainLM

KINDS = (Authorship(), Coordination(), Coaction(), Propagation(), RetweetNetwork(), HashtagNetwork(), TrainClassifier(),
         Score(), TrainLM(), PerplexityMatrix(), EmbeddingMap(), Behaviour(), Hybrid())

register(*KINDS)
