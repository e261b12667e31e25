"""The plugin manager: loads built-in and third-party plugins from the ``govaudit`` entry points.

(Named ``pluginmanager`` because ``auditor.plugins`` is the package of built-in non-check plugins.)"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import pluggy

from auditor import hookspecs
from auditor.model import Parameter, Rule

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
        for name, plugin in _entry_point_plugins():
            if not (pm.get_plugin(name) or pm.is_blocked(name)):
                pm.register(plugin, name=name)
    plugins = list(extra_plugins or [])
    for name in filter(None, (n.strip() for n in os.environ.get("GOVAUDIT_PLUGINS", "").split(","))):
        plugins.append(load_plugin_module(name))
    for plugin in plugins:
        if pm.is_registered(plugin):
            continue
        pm.register(plugin, name=getattr(plugin, "__name__", None))
    check_declared(pm)
    return pm


@functools.cache
def _entry_point_plugins() -> tuple[tuple[str, Any], ...]:
    """The ``govaudit`` entry points, loaded once per process (what pluggy's
    ``load_setuptools_entrypoints`` does, minus re-reading every installed distribution's metadata —
    ≈0.3 s — each time a plugin manager is built: a fleet's forked audits inherit the list from
    their forkserver). A plugin installed later is seen by the next process."""

    seen: dict[str, Any] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in seen:
            seen[ep.name] = ep.load()
    return tuple(seen.items())


def check_declared(pm: pluggy.PluginManager) -> None:
    """Refuse a ``@hookimpl`` with no spec in :mod:`auditor.hookspecs` (a typo'd hook never runs)."""

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"插件 {name} 实现了未声明的钩子 / plugin {name} implements an undeclared hook: {exc}") from exc


def load_plugin_module(name: str) -> Any:
    """Import a plugin module named at runtime (``--plugin`` / ``GOVAUDIT_PLUGINS``)."""

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise PluginError(f"无法加载插件 / cannot import plugin module {name!r}: {exc}") from exc


class PluginHooks:
    """Per-plugin callers of one hook, through ``pm.hook`` so hook wrappers still apply.

    pluggy calls all implementations of a hook in one go and the first exception aborts the rest.
    The engine wants each plugin's answer on its own (one raising plugin becomes an error record,
    the others still run), so for every plugin that implements the hook this builds, once, a
    :meth:`pluggy.PluginManager.subset_hook_caller` that leaves out every *other* plain
    implementation — but keeps all wrappers (``wrapper=True`` / ``hookwrapper=True``), which then
    wrap each plugin's call. Order is pluggy's (LIFO, ``tryfirst``/``trylast`` honoured).
    """

    def __init__(self, pm: pluggy.PluginManager, hook_name: str, enabled: Callable[[str], bool] | None = None):
        self.name = hook_name
        impls = getattr(pm.hook, hook_name).get_hookimpls()
        plain = [i for i in impls if not (i.hookwrapper or i.wrapper)]
        self.callers: list[tuple[str, pluggy.HookCaller]] = []
        for impl in reversed(plain):  # get_hookimpls() is in reverse call order
            if enabled is not None and not enabled(impl.plugin_name):
                continue
            others = [i.plugin for i in plain if i is not impl]
            self.callers.append((impl.plugin_name, pm.subset_hook_caller(hook_name, others)))

    def __bool__(self) -> bool:
        return bool(self.callers)

    def __iter__(self) -> Iterator[tuple[str, pluggy.HookCaller]]:
        return iter(self.callers)

    @staticmethod
    def one(caller: pluggy.HookCaller, **kwargs: Any) -> Any:
        """Call one plugin's caller; its single answer (None when it answered None)."""

        results = caller(**kwargs)
        return results[0] if results else None

    def each(self, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """``(plugin name, answer)`` for each plugin, unguarded: callers that isolate failures use
        :meth:`one` on each caller inside their own guard."""

        for name, caller in self.callers:
            yield name, self.one(caller, **kwargs)


def collect_rules(pm: pluggy.PluginManager) -> dict[str, Rule]:
    """Every declared rule by id; a duplicate id from two plugins is a plugin error."""

    rules: dict[str, Rule] = {}
    for plugin_name, answer in PluginHooks(pm, "govaudit_rules").each():
        for rule in answer or []:
            if not rule.plugin:
                object.__setattr__(rule, "plugin", _short_name(plugin_name))
            if rule.id in rules and rules[rule.id].plugin != rule.plugin:
                raise PluginError(f"rule {rule.id} declared by both {rules[rule.id].plugin} and {rule.plugin}")
            rules[rule.id] = rule
    return dict(sorted(rules.items()))


def core_parameters() -> list[Parameter]:
    """Parameters the engine itself reads (``score.*`` by scoring, ``links.*`` by the link stage)."""

    from auditor.declarations import load_declarations

    return load_declarations("auditor", "rules/core.json").parameters


def collect_parameters(pm: pluggy.PluginManager) -> dict[str, Parameter]:
    """Every declared pack parameter by key: the engine's and each plugin's ``govaudit_parameters``.

    The same key from two plugins must have the same type (a family's parameter read by another
    plugin, e.g. ``interpretation.scope_exclude_title_patterns`` by the document enricher)."""

    out: dict[str, Parameter] = {p.key: p for p in core_parameters()}
    for plugin_name, answer in PluginHooks(pm, "govaudit_parameters").each():
        for param in answer or []:
            if not param.plugin:
                object.__setattr__(param, "plugin", _short_name(plugin_name))
            prev = out.get(param.key)
            if prev is not None and (prev.types != param.types or prev.schema != param.schema):
                raise PluginError(f"parameter {param.key} declared as {prev.type_label()} by {prev.plugin or 'core'} "
                                  f"and as {param.type_label()} by {param.plugin}")
            out.setdefault(param.key, param)
    return dict(sorted(out.items()))


def _short_name(plugin_name: str) -> str:
    return plugin_name.removeprefix("auditor.checks.").removeprefix("auditor.plugins.")
