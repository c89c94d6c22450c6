"""Every sample's score values, kept compact until the metrics and reductions are made.

A run's metrics and reductions need each sample's value per scorer and epoch at the end; a dict of
lists of floats keyed by sample id costs about 250 bytes a sample and fragments the heap as the
run goes (the single largest thing that grew with N). Here a sample is a place in the selection
(the order the samples are run in): its id is stored as packed UTF-8 text and its values in an
`array` of doubles with a byte saying whether each was scored, about 25 bytes a sample with one
scorer and one epoch.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

__all__ = ["SampleValues", "ScoreTally"]


class SampleValues(Protocol):
    """One scorer's values: (sample id, its values across epochs), as `dict.items()` gives
    them; each call reads them afresh (a `dict[str, list[float]]` is one)."""

    def items(self) -> Iterable[tuple[Any, list[float]]]: ...
    def values(self) -> Iterable[list[float]]: ...


class _PackedTexts:
    """Texts in one buffer with their end offsets: no object per text."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode()
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        return self._data[start : self._ends[index]].decode()


class ScoreTally:
    """Per scorer, each sample's values by epoch (in epoch order, whatever order they finished
    in), with the values an interrupted run scored (`add_earlier`, moved into place by
    `take_earlier` when the run reaches their sample)."""

    def __init__(self, scorer_names: Iterable[str], epochs: int) -> None:
        self.epochs = epochs
        self._ids = _PackedTexts()
        self._values = {name: array("d") for name in scorer_names}
        self._scored = {name: bytearray() for name in self._values}
        self._earlier: dict[str, dict[tuple[str, int], float]] = {n: {} for n in self._values}
        self._blank = array("d", bytes(8 * epochs))
        self._unscored = bytes(epochs)
        self.errors = 0
        self.error_reasons: list[str] = []

    @property
    def places(self) -> int:
        """Samples placed so far."""
        return len(self._ids)

    def place(self, sample_id: str) -> int:
        """The next sample of the selection (its id as text): its place."""
        self._ids.append(sample_id)
        for name, values in self._values.items():
            values.extend(self._blank)
            self._scored[name].extend(self._unscored)
        return len(self._ids) - 1

    def add(self, place: int, epoch: int, scores: dict[str, float]) -> None:
        """The values of the sample at `place` in `epoch` (from 1)."""
        slot = place * self.epochs + epoch - 1
        for name, value in scores.items():
            if name in self._values:
                self._set(name, slot, value)

    def add_earlier(self, name: str, sample_id: str, epoch: int, value: float) -> None:
        """A value an interrupted run of this log scored (its sample is not run again)."""
        if name in self._earlier:
            self._earlier[name][(sample_id, epoch)] = value

    def take_earlier(self, place: int, sample_id: str, epoch: int) -> None:
        """The interrupted run's values of the sample at `place` in `epoch`, moved into place."""
        slot = place * self.epochs + epoch - 1
        for name, earlier in self._earlier.items():
            value = earlier.pop((sample_id, epoch), None)
            if value is not None:
                self._set(name, slot, value)

    def _set(self, name: str, slot: int, value: float) -> None:
        self._values[name][slot] = value
        self._scored[name][slot] = 1

    def scores(self) -> dict[str, SampleValues]:
        """Per scorer, each scored sample's values, for the metrics and reductions."""
        return {name: _ScorerValues(self, name) for name in self._values}

    def per_sample(self, name: str) -> Iterator[tuple[str, list[float]]]:
        """(sample id, its values by epoch) of each sample with a value: the placed samples in
        order, then those only an interrupted run scored that this one did not reach (it
        stopped early)."""
        values, scored, epochs = self._values[name], self._scored[name], self.epochs
        for place in range(len(self._ids)):
            first = place * epochs
            found = [values[slot] for slot in range(first, first + epochs) if scored[slot]]
            if found:
                yield self._ids[place], found
        left: dict[str, list[tuple[int, float]]] = {}
        for (sample_id, epoch), value in self._earlier[name].items():
            left.setdefault(sample_id, []).append((epoch, value))
        for sample_id, by_epoch in left.items():
            yield sample_id, [value for _, value in sorted(by_epoch)]


class _ScorerValues:
    """One scorer's view of a tally (`SampleValues`)."""

    def __init__(self, tally: ScoreTally, name: str) -> None:
        self._tally = tally
        self._name = name

    def items(self) -> Iterator[tuple[str, list[float]]]:
        return self._tally.per_sample(self._name)

    def values(self) -> Iterator[list[float]]:
        return (values for _, values in self._tally.per_sample(self._name))
