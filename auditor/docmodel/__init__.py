"""The document and listing model read off stored pages: document records (``documents``), columns
and their dated items (``listing``), Chinese dates (``dates``) and working days (``workdays``)."""
