"""What a solver chain works on, one per sample and epoch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, overload

from engine.datasets import Sample
from engine.errors import InspectRunError
from engine.messages import ChatMessage, ModelOutput, user
from engine.models import Model


class RoleUnboundError(InspectRunError, LookupError):
    """A role was asked for, but neither it nor a model under test is configured."""


class Target(Sequence[str]):
    """A sample's target: one or more strings (Inspect's `Target`); `text` joins them."""

    def __init__(self, target: str | Sequence[str]) -> None:
        self.target = [target] if isinstance(target, str) else list(target)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self.target[index]

    def __len__(self) -> int:
        return len(self.target)

    def __iter__(self) -> Iterator[str]:
        return iter(self.target)

    @property
    def text(self) -> str:
        return "".join(self.target)

    def __repr__(self) -> str:
        return f"Target({self.target!r})"


@dataclass(slots=True)
class TaskState:
    sample: Sample
    epoch: int
    model: Model | None
    """The model under test (None for `model=none` tasks that only use roles)."""
    roles: Mapping[str, Model]
    messages: list[ChatMessage]
    output: ModelOutput | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    selected_choices: list[str] | None = None
    """The letters (in the sample's own choice order) a `multiple_choice` solver read back."""
    role_lists: Mapping[str, list[Model]] = field(default_factory=dict)
    """Roles bound to several models (`roles` holds the first of each)."""

    @classmethod
    def start(
        cls,
        sample: Sample,
        epoch: int,
        model: Model | None,
        roles: Mapping[str, Model],
        role_lists: Mapping[str, list[Model]] | None = None,
    ) -> TaskState:
        messages = [user(sample.input)] if isinstance(sample.input, str) else list(sample.input)
        metadata = dict(sample.metadata or {})
        return cls(
            sample, epoch, model, roles, messages, None, metadata, role_lists=dict(role_lists or {})
        )

    @property
    def target(self) -> Target:
        """What the sample expects (its `target`, as a list of strings)."""
        return Target(self.sample.targets)

    @property
    def input_text(self) -> str:
        """The sample's input as text (the text of its messages, for a chat input)."""
        return self.sample.input_text

    def role(self, name: str) -> Model:
        """The model bound to `name`; an unbound role falls back to the model under test.

        Either way its calls are logged under the role (Inspect does the same).
        """
        bound = self.roles.get(name)
        if bound is not None:
            return bound.as_role(name)
        if self.model is None:
            raise RoleUnboundError(f"role '{name}' is not bound and there is no model under test")
        return self.model.as_role(name)

    def role_models(self, name: str) -> list[Model]:
        """Every model playing `name` (a role bound to a list of models, e.g. several graders,
        gives several); scorers that vote use this, everything else uses `role` (the first)."""
        listed = self.role_lists.get(name)
        if not listed:
            return [self.role(name)]
        return [model.as_role(name) for model in listed]

    def require_model(self) -> Model:
        if self.model is None:
            raise RoleUnboundError("this solver needs a model under test, but model=none")
        return self.model

    @property
    def user_prompt(self) -> ChatMessage:
        for message in reversed(self.messages):
            if message.role == "user":
                return message
        raise ValueError("no user message in the conversation")


Solver = Callable[[TaskState], Awaitable[TaskState]]

current_state: ContextVar[TaskState | None] = ContextVar("current_state", default=None)
"""The sample being solved or scored (set by the runner): what `get_model` reads."""


def get_model(role: str | None = None) -> Model:
    """The model under test, or the model playing `role` (an unbound role falls back to the model
    under test, as in Inspect), for the sample being run. Only inside a solver or scorer."""
    state = current_state.get()
    if state is None:
        raise RuntimeError("get_model() is available only while a solver or scorer runs")
    return state.require_model() if role is None else state.role(role)
