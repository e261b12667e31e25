"""The plugin manager: loads built-in and third-party plugins from the ``govaudit`` entry points."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pluggy

from auditor import hookspecs
from auditor.model import Rule

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "govaudit"


class PluginError(Exception):
    """A plugin could not be loaded or broke its contract."""


def get_plugin_manager(extra_plugins: list[Any] | None = None, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A plugin manager with every installed plugin registered.

    ``extra_plugins`` lets tests and embedding code register plugins at runtime (modules or
    objects), the way pytest's ``-p`` does.
    """

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins or []:
        if pm.is_registered(plugin):
            continue
        pm.register(plugin, name=getattr(plugin, "__name__", None))
    return pm


def iter_impls(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, Any]]:
    """Each implementation of a hook with its plugin name, so callers can isolate failures."""

    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        yield impl.plugin_name, impl


def call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call one hook implementation with the arguments it declares (pluggy's own convention)."""

    return impl.function(*[kwargs[name] for name in impl.argnames])


def collect_rules(pm: pluggy.PluginManager) -> dict[str, Rule]:
    """Every declared rule by id; a duplicate id from two plugins is a plugin error."""

    rules: dict[str, Rule] = {}
    for plugin_name, impl in iter_impls(pm, "govaudit_rules"):
        for rule in call_impl(impl) or []:
            if not rule.plugin:
                object.__setattr__(rule, "plugin", _short_name(plugin_name))
            if rule.id in rules and rules[rule.id].plugin != rule.plugin:
                raise PluginError(f"rule {rule.id} declared by both {rules[rule.id].plugin} and {rule.plugin}")
            rules[rule.id] = rule
    return dict(sorted(rules.items()))


def _short_name(plugin_name: str) -> str:
    return plugin_name.removeprefix("auditor.checks.").removeprefix("auditor.plugins.")
