"""Option groups: one dataclass of Typer options shared by several commands and handed to each as a
single parameter. Typer has no option groups: it builds a command's options from the signature of its
function. `grouped` spreads the dataclass's fields into that signature, where Typer reads them, and
gathers the parsed values back into the dataclass for the call; the command line is unchanged."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, get_type_hints

F = TypeVar("F", bound=Callable[..., Any])
_KIND = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _spread(group: type) -> list[inspect.Parameter]:
    """The group's fields as the parameters Typer reads: name, `Annotated[type, typer.Option]`, default."""
    hints = get_type_hints(group, include_extras=True)
    return [
        inspect.Parameter(field.name, _KIND, default=field.default, annotation=hints[field.name])
        for field in dataclasses.fields(group)
    ]


def grouped(**groups: type) -> Callable[[F], F]:
    """`@grouped(plan=PlanOptions)`: the command's parameter `plan` becomes PlanOptions' options on the
    command line and a PlanOptions in the call. Put grouped parameters after those without defaults."""

    def decorate(command: F) -> F:
        own = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in own.parameters.values():
            group = groups.get(parameter.name)
            parameters.extend(_spread(group) if group is not None else [parameter])
        names = {name: [field.name for field in dataclasses.fields(group)] for name, group in groups.items()}

        @functools.wraps(command)
        def call(**values: Any) -> Any:
            for name, group in groups.items():
                values[name] = group(**{field: values.pop(field) for field in names[name]})
            return command(**values)

        call.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
        call.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": own.return_annotation}
        return call  # type: ignore[return-value]

    return decorate
