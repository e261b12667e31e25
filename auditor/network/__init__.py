"""Network access shared by the crawl and the measure stage: name resolution (``resolve``:
``--resolve`` pins and ``--dns-server``). Checks never import this package (layer contract)."""
