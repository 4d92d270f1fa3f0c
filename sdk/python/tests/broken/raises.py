"""Broken: decide raises ValueError, from a function below it, for every
amount divisible by 5 (about one command in five): a user exception with a
traceback, which essim reports as user_code_does_not_throw."""

from common import tiny


def check_amount(n):
    if n % 5 == 0:
        raise ValueError(f"the counter refuses multiples of five, such as {n}")


def raise_sometimes(state, command):
    check_amount(command.payload["n"])


if __name__ == "__main__":
    tiny(before_decide=raise_sometimes).serve()
