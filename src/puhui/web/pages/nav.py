"""The console's sections: each page area names its entries; the layout shows those allowed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from puhui.services.security.permissions import Permission, Principal, Role
from puhui.web.pages.i18n import translations

if TYPE_CHECKING:
    from puhui.web.dependencies import ApiDependencies

WaitingCount = Callable[["ApiDependencies", Principal], int]
"""How many things in a section wait for the user (a blocking call, run like a service's)."""


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for a deferred message
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class NavItem:
    """One console section: its path, its label (an English msgid) and who may open it."""

    path: str
    label: str
    description: str
    permission: Permission | None = None
    """Shown to whoever holds it (None: to every staff user)."""
    roles: frozenset[Role] | None = None
    """Or, when set, only to these roles."""
    order: int = 100
    area: str | None = None
    """The page area that defines it (set when the areas are installed): its catalog words
    the label, as the same English may read differently in another area."""
    waiting: WaitingCount | None = None
    """What waits for the user there, counted for the console's home (None: not counted)."""
    waiting_label: str = ""
    """How the home says it: an English msgid with ``%(count)s``."""

    def visible_to(self, principal: Principal) -> bool:
        if self.roles is not None and principal.role not in self.roles:
            return False
        return self.permission is None or principal.can(self.permission)


def visible(items: Iterable[NavItem], principal: Principal) -> list[NavItem]:
    return sorted((i for i in items if i.visible_to(principal)), key=lambda i: (i.order, i.path))


@dataclass(frozen=True, slots=True)
class ShownNavItem:
    path: str
    label: str
    description: str


def shown(items: Iterable[NavItem], principal: Principal, locale: str) -> list[ShownNavItem]:
    """The entries ``principal`` may open, worded in ``locale`` by the area that defines each."""
    out: list[ShownNavItem] = []
    for item in visible(items, principal):
        words = translations(locale, item.area)
        out.append(
            ShownNavItem(item.path, words.gettext(item.label), words.gettext(item.description))
        )
    return out
