"""bank-py: the bank of the article essim started from, written in Python.

Accounts are opened, receive deposits in a currency and pay withdrawals,
never below zero in any currency. FundsDeposited gained its currency in v2;
v1 deposits (written before) were in the home currency. The `balances`
projection keeps each account's balances and is idempotent; its buggy twin
`balances-buggy` adds and subtracts, so a redelivered event counts twice.

    python3 examples/python-bank/bank.py        # speaks essim's protocol on stdin/stdout
"""

import pathlib
import sys
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "sdk" / "python"))

import essim  # noqa: E402

HOME_CURRENCY = "USD"
ACCOUNTS = 4

bank = essim.Domain("bank-py", "accounts with deposits and withdrawals, never overdrawn")
# A rare path worth knowing a sweep reached (the scenario requires it).
bank.declare_probe("bank-py.overdraft-refused", "a withdrawal was refused for want of funds")


# ---- events

@bank.event("AccountOpened")
@dataclass(frozen=True)
class AccountOpened:
    owner: str


@bank.event("FundsDeposited", version=2)
@dataclass(frozen=True)
class FundsDeposited:
    amount: int  # cents
    currency: str


@bank.event("FundsDeposited", version=1)
@dataclass(frozen=True)
class FundsDepositedV1:
    amount: int  # cents of the home currency


@bank.event("FundsWithdrawn")
@dataclass(frozen=True)
class FundsWithdrawn:
    amount: int
    currency: str


@bank.upcaster(FundsDepositedV1)
def add_home_currency(old: FundsDepositedV1) -> FundsDeposited:
    return FundsDeposited(old.amount, HOME_CURRENCY)


@bank.old_writer(FundsDepositedV1)
def write_v1(deposit: FundsDeposited) -> FundsDepositedV1 | None:
    """How v1's writer wrote a deposit; it knew no other currency."""
    return FundsDepositedV1(deposit.amount) if deposit.currency == HOME_CURRENCY else None


# ---- the account

@bank.aggregate
class Account(essim.Aggregate):
    initial = {"open": False, "balances": {}}
    handles = [AccountOpened, FundsDeposited, FundsWithdrawn]

    def decide(self, state, command):
        p = command.payload
        if command.kind == "open":
            return essim.Refused("already open") if state["open"] else [AccountOpened(p["owner"])]
        if not state["open"]:
            return essim.Refused("no such account")
        if command.kind == "deposit":
            return [FundsDeposited(p["amount"], p["currency"])]
        if command.kind == "withdraw":
            if state["balances"].get(p["currency"], 0) < p["amount"]:
                essim.probe("bank-py.overdraft-refused")
                return essim.Refused("insufficient funds")
            return [FundsWithdrawn(p["amount"], p["currency"])]
        raise ValueError(f"unknown command {command.kind}")

    def evolve(self, state, event):
        balances = state["balances"]
        match event.data:
            case AccountOpened():
                state["open"] = True
            case FundsDeposited(amount=amount, currency=currency):
                balances[currency] = balances.get(currency, 0) + amount
            case FundsWithdrawn(amount=amount, currency=currency):
                balances[currency] = balances.get(currency, 0) - amount
        return state


@bank.decision_model
class AccountRules(essim.DecisionModel):
    """The rules again, over commands only: what each account can pay."""
    kinds = ["open", "deposit", "withdraw"]

    def accepts(self, state, command):
        if command.kind == "open":
            return state is None
        if state is None:
            return False
        if command.kind == "withdraw":
            return command.payload["amount"] <= state.get(command.payload["currency"], 0)
        return True

    def apply(self, state, command):
        state = {} if state is None else state
        currency = command.payload.get("currency")
        if command.kind == "deposit":
            state[currency] = state.get(currency, 0) + command.payload["amount"]
        if command.kind == "withdraw":
            state[currency] -= command.payload["amount"]
        return state


@bank.invariant("no_overdraft", "no balance of an account goes below zero", stream_prefix="acct-")
def no_overdraft(state):
    return all(cents >= 0 for cents in state["balances"].values())


@bank.log_invariant("holdings_never_negative",
                   "what the bank holds in each currency, summed over the raw log, never goes "
                   "below zero")
def holdings_never_negative(memory, event):
    """A second fold of the same facts, apart from evolve: memory is currency -> cents."""
    if event.type == "AccountOpened":
        return ""
    sign = 1 if event.type == "FundsDeposited" else -1
    currency = event.payload["currency"]
    memory[currency] = memory.get(currency, 0) + sign * event.payload["amount"]
    return f"the bank holds {memory[currency]} {currency}" if memory[currency] < 0 else ""


# ---- projections

@bank.handler("balances", "account -> balance per currency, and the last version applied",
              handles=[AccountOpened, FundsDeposited, FundsWithdrawn])
def balances(model, event):
    row = model.get(event.stream)
    if row is not None and event.version <= row["version"]:
        return  # applied already: a redelivery
    row = row or {"balances": {}, "version": 0}
    _move(row["balances"], event.data)
    row["version"] = event.version
    model[event.stream] = row


@balances.reference
def balances_reference(log):
    """Sums every account's amounts over the whole log."""
    model = {}
    for e in log:
        row = model.setdefault(e.stream, {"balances": {}, "version": 0})
        row["version"] = e.version
        if e.type != "AccountOpened":
            sign = 1 if e.type == "FundsDeposited" else -1
            currency = e.payload["currency"]
            row["balances"][currency] = row["balances"].get(currency, 0) + sign * e.payload["amount"]
    return model


@bank.read_model_invariant("balances_not_negative", "no balance in the read model is negative",
                           handler="balances", at_checkpoints=True)
def balances_not_negative(model):
    negative = [f"{stream} {currency} {cents}" for stream, row in sorted(model.items())
                for currency, cents in sorted(row["balances"].items()) if cents < 0]
    return "negative balances: " + ", ".join(negative) if negative else ""


@bank.handler("balances-buggy", "account -> balance per currency, counted again on redelivery",
              handles=[AccountOpened, FundsDeposited, FundsWithdrawn])
def balances_buggy(model, event):
    row = model.get(event.stream, {})
    _move(row, event.data)
    model[event.stream] = row


@balances_buggy.reference
def balances_buggy_reference(log):
    return {stream: row["balances"] for stream, row in balances_reference(log).items()}


def _move(balances, data):
    match data:
        case FundsDeposited(amount=amount, currency=currency):
            balances[currency] = balances.get(currency, 0) + amount
        case FundsWithdrawn(amount=amount, currency=currency):
            balances[currency] = balances.get(currency, 0) - amount


# ---- the workload

def _account(rng):
    return f"acct-{rng.below(ACCOUNTS)}"


def _currency(rng):
    return HOME_CURRENCY if rng.chance(3, 4) else "EUR"


@bank.work("open", weight=1)
def open_account(rng):
    return essim.Command("open", _account(rng), {"owner": rng.pick(["ada", "grace", "edsger"])})


@bank.work("deposit", weight=4)
def deposit(rng):
    return essim.Command("deposit", _account(rng),
                         {"amount": rng.between(1, 50_000), "currency": _currency(rng)})


@bank.work("withdraw", weight=3)
def withdraw(rng):
    return essim.Command("withdraw", _account(rng),
                         {"amount": rng.between(1, 30_000), "currency": _currency(rng)})


if __name__ == "__main__":
    bank.serve()
