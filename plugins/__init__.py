"""Built-in plugins that are not checks: network probes, sources (new-media platforms,
registries), report extensions and integrations."""
