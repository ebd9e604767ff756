"""Cost accounting: token usage x a configurable price table (USD per million tokens).

Prices change and differ per provider, so medevals ships no hosted-model prices: the user
gives them (``--price-in/--price-out`` or a TOML table via ``--prices``). Local and builtin
models cost 0 in money, and so does replaying recorded outputs (``replay:``). An unknown price is reported as unknown, never as 0.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel

from medevals.errors import ConfigError
from medevals.schema import Usage


def check_price(value: object, label: str) -> float:
    """A price in USD per 1M tokens: a finite number >= 0, or a ConfigError naming ``label``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{label}: expected a number of USD per 1M tokens, got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{label}: expected a finite number >= 0 (USD per 1M tokens), got {value!r}")
    return float(value)


class Price(BaseModel):
    input_per_mtok: float
    output_per_mtok: float


class PriceTable(BaseModel):
    prices: dict[str, Price] = {}

    @classmethod
    def load(cls, path: Path | str) -> PriceTable:
        """TOML: one table per model name (or backend:name), ``input`` and ``output`` in USD per 1M tokens.

        A price that is not a finite non-negative number is an error naming file, line and key: a
        silently coerced price would put a wrong cost on every report.
        """
        from medevals.tomlfile import read_toml, where

        p = Path(path)
        data, text = read_toml(p, "price table")
        table: dict[str, Price] = {}
        for name, entry in data.items():
            if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
                raise ConfigError(
                    f"{where(p, text, [name])}: [{name}] needs 'input' and 'output' (USD per 1M tokens)"
                )
            unknown = sorted(set(entry) - {"input", "output"})
            if unknown:
                raise ConfigError(
                    f"{where(p, text, [name, unknown[0]])}: [{name}] unknown key '{unknown[0]}' "
                    "(a price has 'input' and 'output', USD per 1M tokens)"
                )
            for key in ("input", "output"):
                try:
                    check_price(entry[key], f"[{name}] {key}")
                except ConfigError as e:
                    raise ConfigError(f"{where(p, text, [name, key])}: {e}") from None
            table[name] = Price(input_per_mtok=float(entry["input"]), output_per_mtok=float(entry["output"]))
        return cls(prices=table)

    def set(self, model: str, input_per_mtok: float, output_per_mtok: float) -> None:
        self.prices[model] = Price(input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok)

    def price_for(self, backend: str, name: str) -> Price | None:
        if backend in ("builtin", "hf", "vllm", "replay"):
            return Price(input_per_mtok=0.0, output_per_mtok=0.0)
        return self.prices.get(f"{backend}:{name}") or self.prices.get(name)

    def cost(self, backend: str, name: str, usage: Usage) -> float | None:
        price = self.price_for(backend, name)
        if price is None:
            return None
        return (
            usage.prompt_tokens * price.input_per_mtok + usage.completion_tokens * price.output_per_mtok
        ) / 1e6
