"""`Model`, what solvers and scorers call: a provider's client with its connection pool, the
response cache and, in batch mode, a batcher; `ModelHub` makes them and shares their pools.

It sits above `engine.providers`, `engine.cache` and `engine.batch`, which it puts together, so
none of them needs to know the others.
"""

from engine.models._model import HubCache, Model, ModelHub
from engine.models._structured import RESPONSE_SCHEMA_KEY, validate_reply

__all__ = ["RESPONSE_SCHEMA_KEY", "HubCache", "Model", "ModelHub", "validate_reply"]
