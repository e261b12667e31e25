"""Stage 3, the measure stage: typed, versioned measurement records (``records``), which pages the
browser measurements visit (``sampling``), what the accessibility and 适老化 measurements share with
their judges (``axe``, ``elderly``) and scheduled availability probing (``monitor``)."""
