"""The ``system`` option every protocol that runs agent systems shares (``--system``, suites).

Given as names or paths (``--system medagents,debate:3x2,my.yaml``), it is stored resolved: each
system's full declaration, with its parameters, goes into the run's options, so the manifest holds
every prompt the run used, the configuration hash changes when a prompt does, and ``rescore`` or
``report`` never need the YAML file again.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from medevals.protocols.base import ProtocolOptions, comma_list
from medevals.systems.spec import SystemSpec


def resolve_systems(value: Any) -> list[SystemSpec]:
    """Names, paths, declarations (a manifest's) or specs -> specs, with distinct variant names."""
    from medevals.errors import ConfigError
    from medevals.systems.spec import SpecProblem, check, resolve

    out: list[SystemSpec] = []
    for v in comma_list(value) or []:
        if isinstance(v, SystemSpec):
            spec = v
        elif isinstance(v, str):
            spec = resolve(v)
        elif isinstance(v, dict):
            spec = SystemSpec.model_validate(v)
            try:
                check(spec)
            except SpecProblem as e:
                raise ConfigError(f"agent system '{spec.name}': field '{'.'.join(e.loc)}': {e}") from None
        else:
            raise ConfigError(f"an agent system is a name or a .yaml path, not {type(v).__name__}")
        if any(s.variant == spec.variant for s in out):
            raise ConfigError(f"agent system '{spec.variant}' given twice")
        out.append(spec)
    return out


class SystemOptions(ProtocolOptions):
    system: list[SystemSpec] = Field(
        default_factory=list,
        description="agent systems run as variants beside the strategies: bundled names (medagents, "
        "mdagents, debate, debate:AxR, voteN) or .yaml paths",
    )

    @field_validator("system", mode="before")
    @classmethod
    def _resolve(cls, v: Any) -> list[SystemSpec]:
        return resolve_systems(v)

    def system_variants(self) -> list[str]:
        return [s.variant for s in self.system]

    def system_for(self, variant: str) -> SystemSpec:
        from medevals.errors import ConfigError

        for s in self.system:
            if s.variant == variant:
                return s
        raise ConfigError(f"variant '{variant}' names no agent system of this run")
