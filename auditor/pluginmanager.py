"""The plugin manager: loads built-in and third-party plugins from the ``govaudit`` entry points.

(Named ``pluginmanager`` because ``auditor.plugins`` is the package of built-in non-check plugins.)"""

from __future__ import annotations

import importlib
import logging
import os
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
    plugins = list(extra_plugins or [])
    for name in filter(None, (n.strip() for n in os.environ.get("GOVAUDIT_PLUGINS", "").split(","))):
        plugins.append(load_plugin_module(name))
    for plugin in plugins:
        if pm.is_registered(plugin):
            continue
        pm.register(plugin, name=getattr(plugin, "__name__", None))
    return pm


def load_plugin_module(name: str) -> Any:
    """Import a plugin module named at runtime (``--plugin`` / ``GOVAUDIT_PLUGINS``)."""

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise PluginError(f"无法加载插件 / cannot import plugin module {name!r}: {exc}") from exc


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


# TEMPORARY (helper issue 4): pyproject maps the ``plugins/`` folder to the package ``auditor.plugins``,
# which this module shadows in the editable install, so ``auditor.plugins.netprobe`` could not be
# imported. Giving the module a ``__path__`` lets its submodules load from ``plugins/``. The real fix
# is renaming this module (in a wheel the ``plugins/`` package shadows this file instead).
__path__ = [str(__import__("pathlib").Path(__file__).resolve().parent.parent / "plugins")]
