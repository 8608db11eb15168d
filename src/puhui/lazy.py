"""Heavy libraries imported when first used, not when a module that may use them is imported.

LightGBM (with scikit-learn, pandas and SciPy behind it), igraph, optbinning, matplotlib and
reportlab took about 2.5 s of the 4.4 s every ``puhui`` command spent importing before it did
anything, although most commands use none of them. A module that needs one writes::

    if TYPE_CHECKING:
        import lightgbm as lgb
    else:
        lgb = lazy_module("lightgbm")

Type checkers see the real module; at run time the name is a stand-in that imports the
module on its first attribute access and then hands every access on to it. Nothing is put in
``sys.modules`` before the real import, so the library's own import runs exactly as usual.
``warm`` imports a list of them ahead of time (a server does, so that no request pays for it).
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

_LOCK = threading.Lock()


class _LazyModule(ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def _lazy_load(self) -> ModuleType:
        target: ModuleType | None = self.__dict__["_lazy_target"]
        if target is None:
            # The import system's own per-module locks make a racing first use safe: every
            # thread gets the one module object from sys.modules.
            target = importlib.import_module(self.__name__)
            self.__dict__["_lazy_target"] = target
        return target

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._lazy_load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._lazy_load())

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Pickled by name, as cloudpickle pickles an imported module: a function shipped to a
        # Spark executor that uses a stand-in finds the real module there.
        return importlib.import_module, (self.__name__,)

    def __repr__(self) -> str:
        state = "loaded" if self.__dict__["_lazy_target"] is not None else "not loaded yet"
        return f"<lazy module {self.__name__!r} ({state})>"


_MODULES: dict[str, _LazyModule] = {}


def lazy_module(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first use (one per name)."""
    with _LOCK:
        module = _MODULES.get(name)
        if module is None:
            module = _MODULES[name] = _LazyModule(name)
    return module


def warm(*names: str) -> None:
    """Import these modules now, so that no later first use pays for the import."""
    for name in names:
        lazy_module(name)._lazy_load()
