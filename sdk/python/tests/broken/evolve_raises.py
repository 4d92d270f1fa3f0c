"""Broken: evolve raises ValueError on every Added of 7: a user exception
that essim reports as user_code_does_not_throw, naming the event evolve
was given, whether it evolves event by event or folds several in one call
(protocol.md, "Capabilities")."""

from common import tiny


def refuse_sevens(state, event):
    if event.data.n == 7:
        raise ValueError(f"evolve refuses a 7 (at version {event.version})")


if __name__ == "__main__":
    tiny(before_evolve=refuse_sevens).serve()
