"""The six variants and where their drivers live; imported lazily so one broken driver names itself."""
from __future__ import annotations

import importlib
from typing import Dict, Type

from .base import Driver

__all__ = ["VARIANTS", "driver_class"]

#: variant name -> "module:Class" under tests/conformance/drivers/
VARIANTS: Dict[str, str] = {
    "dispatcher": "dispatcher:DispatcherDriver",
    "dispatcher@asyncio": "dispatcher:BridgedDispatcherDriver",
    "callbacks": "callbacks:CallbacksDriver",
    "yieldfrom": "yieldfrom:YieldFromDriver",
    "yieldfrom@asyncio": "yieldfrom:YieldFromOnAsyncioDriver",
    "aio": "aio:AioDriver",
}


def driver_class(variant: str) -> Type[Driver]:
    module_name, class_name = VARIANTS[variant].split(":")
    module = importlib.import_module(f".{module_name}", __name__)
    return getattr(module, class_name)
