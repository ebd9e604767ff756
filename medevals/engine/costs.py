"""Cost accounting: token usage x a configurable price table (USD per million tokens).

Prices change and differ per provider, so medevals ships no hosted-model prices: the user
gives them (``--price-in/--price-out`` or a TOML table via ``--prices``). Local and builtin
models cost 0 in money, and so does replaying recorded outputs (``replay:``). An unknown price is reported as unknown, never as 0.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

from medevals.errors import ConfigError
from medevals.schema import Usage


class Price(BaseModel):
    input_per_mtok: float
    output_per_mtok: float


class PriceTable(BaseModel):
    prices: dict[str, Price] = {}

    @classmethod
    def load(cls, path: Path | str) -> PriceTable:
        """TOML: one table per model name (or backend:name), ``input`` and ``output`` in USD per 1M tokens."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(f"{p}: price table not found") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: invalid TOML: {e}") from e
        table: dict[str, Price] = {}
        for name, entry in data.items():
            if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
                raise ConfigError(f"{p}: [{name}] needs 'input' and 'output' (USD per 1M tokens)")
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
