"""Built-in checks, one module per rule family; each is a pluggy plugin registered through the
``govaudit`` entry-point group (see pyproject.toml), the same way third-party checks register."""
