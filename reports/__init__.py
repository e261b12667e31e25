"""Report writers (JSON, HTML, …) and their templates and schema."""
