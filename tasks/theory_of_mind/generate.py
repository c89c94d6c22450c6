"""Generate the Sally-Anne false-belief ("theory of mind") dataset.

The dataset is built by pure enumeration (no RNG) so that the committed
``theory_of_mind.jsonl`` is byte-identical on every run and every Python
version; ``--check`` lets tests assert the committed file is up to date.

Usage::

    python tasks/theory_of_mind/generate.py          # rewrite the JSONL
    python tasks/theory_of_mind/generate.py --check  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import permutations
from pathlib import Path
from typing import Any

OUTPUT_PATH = Path(__file__).resolve().parent / "theory_of_mind.jsonl"

NUM_SCENARIOS = 40

# (protagonist, mover) pairs; names only, so stories never need pronouns.
NAME_PAIRS: list[tuple[str, str]] = [
    ("Sally", "Anne"),
    ("Tom", "Maria"),
    ("Liam", "Priya"),
    ("Noah", "Chen"),
    ("Emma", "Omar"),
    ("Zoe", "Lucas"),
    ("Aisha", "Ben"),
    ("Mia", "Kenji"),
    ("Oliver", "Fatima"),
    ("Sofia", "Daniel"),
    ("Hannah", "Mateo"),
]
OBJECTS: list[str] = [
    "marble",
    "key",
    "coin",
    "ring",
    "toy car",
    "pencil",
    "sock",
    "letter",
    "watch",
    "spoon",
    "chocolate bar",
    "hair clip",
]
# All start with a consonant so the indefinite article is always "a"; no name
# is a substring of another, so "the box" never matches inside another target.
CONTAINERS: list[str] = [
    "basket",
    "box",
    "drawer",
    "cupboard",
    "backpack",
    "suitcase",
    "toy chest",
    "handbag",
    "cookie tin",
    "pencil case",
]
ROOMS: list[str] = [
    "kitchen",
    "living room",
    "bedroom",
    "classroom",
    "garage",
    "playroom",
    "office",
    "library",
    "attic",
]
CONTAINER_PAIRS: list[tuple[str, str]] = list(permutations(CONTAINERS, 2))

# Cycle of scenario kinds; false belief is the core condition, so it is doubled.
KINDS: list[str] = [
    "false_belief",
    "true_belief",
    "false_belief",
    "secret_witness",
    "informed",
]

# Story templates per kind. Placeholders: a (protagonist), b (mover), obj,
# c1 (start container), c2 (end container), room.
STORIES: dict[str, list[str]] = {
    "false_belief": [
        "{a} and {b} are in the {room}. There is a {c1} and a {c2} in the "
        "{room}. {a} puts the {obj} in the {c1} and then leaves the {room}. "
        "While {a} is away, {b} takes the {obj} out of the {c1} and puts it "
        "in the {c2}. Later, {a} comes back to the {room}.",
        "In the {room} there is a {c1} and a {c2}. {a} hides the {obj} in "
        "the {c1} while {b} watches. {a} goes out for a walk. Without "
        "telling anyone, {b} moves the {obj} from the {c1} to the {c2}. Then "
        "{a} returns to the {room}.",
    ],
    "true_belief": [
        "{a} and {b} are in the {room}. There is a {c1} and a {c2} in the "
        "{room}. {a} puts the {obj} in the {c1}. While {a} is watching, {b} "
        "takes the {obj} out of the {c1} and puts it in the {c2}. {a} sees "
        "the whole thing.",
        "In the {room} there is a {c1} and a {c2}. {a} hides the {obj} in "
        "the {c1} while {b} watches. {a} stays in the {room}. Right in front "
        "of {a}, {b} moves the {obj} from the {c1} to the {c2}.",
    ],
    "secret_witness": [
        "{a} and {b} are in the {room}. There is a {c1} and a {c2} in the "
        "{room}. {a} puts the {obj} in the {c1} and leaves the {room}. "
        "Through the window, {a} secretly watches {b} move the {obj} from "
        "the {c1} to the {c2}. {b} does not notice {a} watching. Later, {a} "
        "comes back to the {room}.",
        "In the {room} there is a {c1} and a {c2}. {a} hides the {obj} in "
        "the {c1} while {b} watches. {a} says goodbye and walks out of the "
        "{room}. {b} moves the {obj} from the {c1} to the {c2}, but {a} is "
        "peeking through the keyhole and sees everything. {b} has no idea "
        "that {a} saw the move. Then {a} returns to the {room}.",
    ],
    "informed": [
        "{a} and {b} are in the {room}. There is a {c1} and a {c2} in the "
        "{room}. {a} puts the {obj} in the {c1} and leaves the {room}. While "
        "{a} is away, {b} moves the {obj} from the {c1} to the {c2}. Then "
        "{b} phones {a} and says that the {obj} is now in the {c2}. Later, "
        "{a} comes back to the {room}.",
        "In the {room} there is a {c1} and a {c2}. {a} hides the {obj} in "
        "the {c1} while {b} watches. {a} goes out for a walk. {b} moves the "
        "{obj} from the {c1} to the {c2} and then shouts to {a} through the "
        "open window that the {obj} is in the {c2} now. Then {a} returns to "
        "the {room}.",
    ],
}

# Whether each role's belief ends up at the end container (True) or the
# start container (False):
#   protagonist    - where the protagonist believes the object is;
#   mover_on_prot  - where the mover thinks the protagonist believes it is;
#   prot_on_mover  - where the protagonist thinks the mover believes it is.
BELIEFS: dict[str, dict[str, bool]] = {
    "false_belief": {"protagonist": False, "mover_on_prot": False, "prot_on_mover": False},
    "true_belief": {"protagonist": True, "mover_on_prot": True, "prot_on_mover": True},
    "secret_witness": {"protagonist": True, "mover_on_prot": False, "prot_on_mover": True},
    "informed": {"protagonist": True, "mover_on_prot": True, "prot_on_mover": True},
}


def _scenario(index: int) -> dict[str, str]:
    """Pick the ingredients of scenario ``index`` by coprime strides.

    Strides coprime to each list length spread the combinations evenly
    without an RNG, keeping the output stable across Python versions.
    """
    a, b = NAME_PAIRS[index % len(NAME_PAIRS)]
    if (index // len(NAME_PAIRS)) % 2:
        a, b = b, a
    c1, c2 = CONTAINER_PAIRS[(index * 7) % len(CONTAINER_PAIRS)]
    kind = KINDS[index % len(KINDS)]
    templates = STORIES[kind]
    return {
        "id": f"s{index + 1:03d}",
        "kind": kind,
        "a": a,
        "b": b,
        "obj": OBJECTS[(index * 5) % len(OBJECTS)],
        "c1": c1,
        "c2": c2,
        "room": ROOMS[(index * 4) % len(ROOMS)],
        "template": templates[(index // len(KINDS)) % len(templates)],
    }


def _questions(index: int, sc: dict[str, str]) -> list[tuple[str, str, str]]:
    """Return (question_type, question, answer container) for one scenario.

    Every scenario gets a first-order, a second-order and a reality question
    (so false-belief answers can be compared with reality), plus either a
    second first-order phrasing or a memory question, alternating.
    """
    a, b, obj, c1, c2 = sc["a"], sc["b"], sc["obj"], sc["c1"], sc["c2"]
    beliefs = BELIEFS[sc["kind"]]

    def where(at_end: bool) -> str:
        return c2 if at_end else c1

    qs = [
        (
            "first_order_belief",
            f"Where will {a} look for the {obj}?",
            where(beliefs["protagonist"]),
        )
    ]
    # The secret witness case only differs from reality in the mover's view.
    if sc["kind"] == "secret_witness" or index % 2 == 0:
        qs.append(
            (
                "second_order_belief",
                f"Where does {b} think {a} will look for the {obj}?",
                where(beliefs["mover_on_prot"]),
            )
        )
    else:
        qs.append(
            (
                "second_order_belief",
                f"Where does {a} think {b} believes the {obj} is?",
                where(beliefs["prot_on_mover"]),
            )
        )
    qs.append(("reality", f"Where is the {obj} really?", c2))
    if (index // 2) % 2 == 0:
        qs.append(
            (
                "first_order_belief",
                f"Where does {a} think the {obj} is?",
                where(beliefs["protagonist"]),
            )
        )
    else:
        qs.append(("memory", f"Where was the {obj} at the beginning?", c1))
    return qs


def generate() -> list[dict[str, Any]]:
    """Build every dataset item in a fixed order."""
    items: list[dict[str, Any]] = []
    for index in range(NUM_SCENARIOS):
        sc = _scenario(index)
        story = sc["template"].format(**sc)
        for qtype, question, answer in _questions(index, sc):
            items.append(
                {
                    "id": f"tom-{len(items) + 1:03d}",
                    "input": f"{story}\n{question}",
                    "target": f"the {answer}",
                    "metadata": {
                        "question_type": qtype,
                        "scenario": sc["id"],
                        "scenario_kind": sc["kind"],
                        "true_belief": BELIEFS[sc["kind"]]["protagonist"],
                        "protagonist": sc["a"],
                        "mover": sc["b"],
                        "object": sc["obj"],
                        "room": sc["room"],
                        "start_container": f"the {sc['c1']}",
                        "end_container": f"the {sc['c2']}",
                    },
                }
            )
    return items


def serialize(items: list[dict[str, Any]]) -> str:
    """One sorted-key JSON object per line, UTF-8, trailing newline."""
    return "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in items)


def check(path: Path = OUTPUT_PATH) -> bool:
    """Return True if ``path`` holds exactly the current generator output."""
    if not path.is_file():
        return False
    return path.read_bytes() == serialize(generate()).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write the dataset, or with ``--check`` report whether it is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the committed JSONL differs from the generated output",
    )
    args = parser.parse_args(argv)
    if args.check:
        if check():
            return 0
        print(f"{OUTPUT_PATH} is out of date; rerun {Path(__file__).name}", file=sys.stderr)
        return 1
    OUTPUT_PATH.write_bytes(serialize(generate()).encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
